#!/usr/bin/env bash
# The NVDEC device checks and benchmark, on an NVIDIA machine, from the
# archive platform/nvidia/pack.sh made (nothing is built or installed
# there). Run it in one device call:
#
#   bash platform/nvidia/check.sh [ARCHIVE]
#
# ARCHIVE defaults to target/nvidia/stills-nvidia.tar.zst; run from an
# unpacked pack (its own copy of this script), the pack is used as it is. It prints what the
# machine has (nvidia-smi, the driver's libraries incl. libcuda and
# libnvcuvid, the Vulkan loader and ICD, /dev/dri), what `stills probe`
# sees, the GPU tests (NVDEC against the software backend on the fixtures)
# and `stills
# bench` with the software backend beside NVDEC on the same requests:
# every frame of 1080p H.264 as 320-px thumbnails, 10 and 100 exact times
# on 1080p H.264 and 4K HEVC Main 10 HDR10, a cold first image and warm
# ones, peak host memory, and device memory from nvidia-smi. A missing
# piece is named and the script goes on where it can; it ends 0 unless a
# test fails.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
section() { printf '\n== %s\n' "$*"; }
have() { command -v "$1" >/dev/null 2>&1; }
status=0

section "machine"
uname -srm
if have nvidia-smi; then
  nvidia-smi
  nvidia-smi --query-gpu=name,uuid,driver_version,memory.total,memory.used,clocks.max.sm --format=csv
  nvidia-smi -q 2>/dev/null | grep -iE -A3 '^ *(Decoder|Encoder)' | head -n 12
else
  echo "nvidia-smi not found: no NVIDIA driver on this machine"
fi
ls -l /dev/dri 2>&1 || echo "no /dev/dri"
ls /dev/nvidia* 2>/dev/null || echo "no /dev/nvidia* device nodes"
echo "driver libraries (ldconfig):"
ldconfig -p | grep -E 'libcuda\.so|libnvcuvid|libvulkan|libnvidia-(glcore|encode|opticalflow)' \
  || echo "  none of libcuda, libnvcuvid, libvulkan in the linker cache"
for lib in libcuda.so.1 libnvcuvid.so.1 libvulkan.so.1; do
  found=$(ldconfig -p | awk -v l="$lib" '$1 == l {print $NF; exit}')
  [ -z "$found" ] && found=$(ls /usr/local/nvidia/lib64/$lib /usr/lib/x86_64-linux-gnu/$lib 2>/dev/null | head -n1)
  printf '  %-16s %s\n' "$lib" "${found:-MISSING}"
done
echo "Vulkan ICDs:"
icds=0
for dir in /usr/share/vulkan/icd.d /etc/vulkan/icd.d /usr/local/nvidia/share/vulkan/icd.d; do
  for icd in "$dir"/*.json; do
    [ -e "$icd" ] && echo "  $icd" && icds=$((icds + 1))
  done
done
[ "$icds" -gt 0 ] || echo "  no Vulkan ICD manifest in the usual places"

section "unpack"
# Run from inside an unpacked pack (where pack.sh puts this script), or
# from the repository with the archive.
pack=$here
[ -x "$pack/bin/stills" ] || pack=$here/stills-nvidia
if [ ! -d "$pack" ]; then
  archive=${1:-$here/../../target/nvidia/stills-nvidia.tar.zst}
  if [ ! -f "$archive" ]; then
    echo "no archive at $archive and no $pack: run platform/nvidia/pack.sh first"
    exit 1
  fi
  unzstd="zstd"
  if ! have zstd; then
    # pack.sh puts a zstd and its libraries beside the archive.
    unzstd="env LD_LIBRARY_PATH=$(dirname "$archive")/zstd $(dirname "$archive")/zstd/zstd"
  fi
  pack=$(mktemp -d)/stills-nvidia
  $unzstd -d --long=27 -c "$archive" | tar -C "$(dirname "$pack")" -xf - || { echo "unpacking failed"; exit 1; }
fi
export LD_LIBRARY_PATH=$pack/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
# The test binaries read the fixtures under the directory they were built
# in: make that path lead to the pack.
manifest=$(cat "$pack/manifest_dir")
if [ ! -e "$manifest/tests/fixtures" ]; then
  mkdir -p "$(dirname "$manifest")" && ln -sfn "$pack" "$manifest" 2>/dev/null \
    || echo "cannot link $manifest to the pack: the device tests will not find their fixtures"
fi
if [ -z "$(ldconfig -p | grep libvulkan.so.1)" ] && [ ! -e "$pack/lib/libvulkan.so.1" ]; then
  echo "no Vulkan loader: wgpu will find no adapter"
fi
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ -z "${VK_DRIVER_FILES:-}" ] && [ -f "$icd" ] && ! ls /usr/share/vulkan/icd.d/nvidia* >/dev/null 2>&1; then
  export VK_DRIVER_FILES=$icd
  echo "VK_DRIVER_FILES=$icd"
fi
stills=$pack/bin/stills
"$stills" --version 2>&1 || { echo "stills does not start here"; ldd "$stills" | grep 'not found'; exit 1; }

section "stills probe: the GPU, CUDA devices and NVDEC; backends per fixture"
for f in h264_bframes.mp4 hevc_main10_hdr10.mp4 av1.mp4; do
  "$stills" probe "$pack/tests/fixtures/$f" | python3 -c '
import json, sys
doc = json.load(sys.stdin)
print("#", doc["source"])
gpu = doc.get("gpu") or {}
print("GPU:", gpu.get("adapter"), "-", gpu.get("summary") or gpu.get("error"))
print("nvdec:", json.dumps(doc.get("nvdec")))
for b in doc["video_tracks"][0]["backends"]:
    print("backend %-8s %s: %s" % (b["backend"], "yes" if b["available"] else "no ", b["reason"]))
' || status=1
done

section "GPU tests"
# NVDEC against the software backend, exact and windowed requests (same
# frame codes and times, >= 40 dB, HDR tone mapped both ways); Auto's
# choice and reasons.
"$pack/bin/test-nvdec" --nocapture --test-threads=1 2>&1 \
  | grep -E 'skipped|dB|NVDEC on|nvdec|^test |test result|panicked|error' || status=1

section "stills bench: software and NVDEC on the same requests"
h264=$pack/media/h264_1080p.mp4
hevc=$pack/media/hevc10_hdr10_2160p.mp4
bench() {
  local label=$1
  shift
  echo "-- $label"
  /usr/bin/time -v "$stills" bench "$@" --backend each --json 2>"$pack/time.txt"
  grep -E 'Maximum resident|Elapsed' "$pack/time.txt"
  have nvidia-smi && nvidia-smi --query-gpu=memory.used --format=csv,noheader | sed 's/^/device memory used after: /'
}
have /usr/bin/time || bench() {
  local label=$1
  shift
  echo "-- $label"
  "$stills" bench "$@" --backend each --json
}
bench "1080p H.264, every frame, 320 px" "$h264" --mode all
bench "1080p H.264, 10 exact" "$h264" --mode exact --count 10
bench "1080p H.264, 100 exact" "$h264" --mode exact --count 100
bench "4K HEVC Main 10 HDR10, 10 exact" "$hevc" --mode exact --count 10
bench "4K HEVC Main 10 HDR10, 100 exact" "$hevc" --mode exact --count 100

section "cold process, first image (each backend)"
for backend in software nvdec; do
  start=$(date +%s%N)
  mkdir -p "$pack/first-$backend"
  if "$stills" grab "$h264" --at 5 --max-size 320x0 --backend "$backend" \
    --out "$pack/first-$backend" --json >"$pack/first-$backend.json" 2>&1; then
    end=$(date +%s%N)
    echo "$backend: cold process to first image $(( (end - start) / 1000000 )) ms"
  else
    echo "$backend: no image: $(tail -n 1 "$pack/first-$backend.json")"
  fi
done
exit $status
