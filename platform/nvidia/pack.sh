#!/usr/bin/env bash
# Packs what platform/nvidia/check.sh needs on an NVIDIA machine that has
# a driver and CUDA but no FFmpeg, no Rust and no package registry: the
# release `stills` binary, the NVDEC test binary and the fixtures it
# read, two benchmark inputs (1080p H.264, 4K HEVC Main 10 HDR10) and every
# shared library the binaries load that is not glibc or the NVIDIA driver's
# own (about 51 MiB of the archive: the inputs are encoded small to fit) (the `ldd` closure, plus the Vulkan loader, which wgpu opens with
# dlopen and so `ldd` does not list). Run here (Debian 12 after
# platform/debian/setup.sh), from anywhere:
#
#   bash platform/nvidia/pack.sh [OUT]
#
# OUT defaults to target/nvidia/stills-nvidia.tar.zst; it must stay under
# the 64 MiB a device run carries, which the script checks and prints.
set -euo pipefail

cd "$(dirname "$0")/../.."
root=$(pwd)
out=${1:-$root/target/nvidia/stills-nvidia.tar.zst}
limit=$((64 * 1024 * 1024))
stage=$root/target/nvidia/stage
pack=$stage/stills-nvidia

section() { printf '\n== %s\n' "$*"; }

section "build (release)"
cargo build --release --locked --bin stills
# The NVDEC device tests as a binary. (The library's unit tests would add
# about 3 MiB, which with the working tree that travels too would pass the
# 64 MiB limit; `stills probe` shows the CUDA devices and their UUIDs.)
tests_json=$(cargo test --release --locked --no-run --test nvdec --message-format=json 2>/dev/null)
executables=$(printf '%s\n' "$tests_json" | python3 -c '
import json, sys
for line in sys.stdin:
    try:
        msg = json.loads(line)
    except ValueError:
        continue
    if msg.get("reason") == "compiler-artifact" and msg.get("executable") and msg["profile"]["test"]:
        target = msg["target"]
        print(target["name"], msg["executable"])
')

rm -rf "$stage"
mkdir -p "$pack/bin" "$pack/lib" "$pack/tests" "$pack/media"
cp target/release/stills "$pack/bin/"
while read -r name path; do
  [ -n "$name" ] || continue
  cp "$path" "$pack/bin/test-$name"
done <<<"$executables"
ls -l "$pack/bin"
cp -r tests/fixtures "$pack/tests/fixtures"
# The test binaries find the fixtures under the directory they were built
# in; check.sh links that path to the pack.
printf '%s\n' "$root" >"$pack/manifest_dir"

section "benchmark inputs"
media=$root/target/nvidia/media
mkdir -p "$media"
h264=$media/h264_1080p.mp4
hevc=$media/hevc10_hdr10_2160p.mp4
[ -s "$h264" ] || ffmpeg -v error -f lavfi -i testsrc2=size=1920x1080:rate=30:duration=10 \
  -c:v libx264 -preset veryfast -crf 30 -pix_fmt yuv420p "$h264"
[ -s "$hevc" ] || ffmpeg -v error -f lavfi -i testsrc2=size=3840x2160:rate=30:duration=3 \
  -c:v libx265 -preset ultrafast -crf 32 -pix_fmt yuv420p10le \
  -color_primaries bt2020 -color_trc smpte2084 -colorspace bt2020nc \
  -x265-params "log-level=error:hdr10=1:master-display=G(13250,34500)B(7500,3000)R(34000,16000)WP(15635,16450)L(10000000,1):max-cll=1000,400" \
  "$hevc"
cp "$h264" "$hevc" "$pack/media/"
ls -l "$pack/media"

section "shared libraries (ldd closure minus glibc and the NVIDIA driver, plus the Vulkan loader)"
# glibc's own libraries and the loader come from the machine; so do the
# driver's (libcuda, libnvcuvid, the Vulkan ICD), which must match its
# kernel module.
skip='^(linux-vdso|ld-linux|libc|libm|libdl|libpthread|librt|libresolv|libutil|libcuda|libnvcuvid|libnvidia)[.-]'
libs=$( { ldd "$pack"/bin/*; ldconfig -p | awk '/libvulkan\.so\.1 /{print "x => "$NF}' | head -n1; } \
  | awk '/=> \//{print $3}' | sort -u)
for lib in $libs; do
  base=$(basename "$lib")
  if [[ $base =~ $skip ]]; then
    continue
  fi
  cp -L "$lib" "$pack/lib/$base"
done
missing=$(LD_LIBRARY_PATH=$pack/lib ldd "$pack"/bin/* | grep 'not found' || true)
[ -z "$missing" ] || { echo "unresolved: $missing"; exit 1; }
echo "$(ls "$pack/lib" | wc -l) libraries, $(du -sh "$pack/lib" | cut -f1) uncompressed"
cp platform/nvidia/check.sh "$pack/"

section "zstd for the device (its Ubuntu userland may lack one)"
unzstd=$(dirname "$out")/zstd
rm -rf "$unzstd" && mkdir -p "$unzstd"
cp "$(command -v zstd)" "$unzstd/"
for lib in $(ldd "$unzstd/zstd" | awk '/=> \//{print $3}'); do
  [[ $(basename "$lib") =~ $skip ]] || cp -L "$lib" "$unzstd/"
done
du -sh "$unzstd"

section "archive"
mkdir -p "$(dirname "$out")"
tar -C "$stage" -cf - stills-nvidia | zstd -19 -T0 --long=27 -q -f -o "$out"
size=$(stat -c %s "$out")
awk -v f="$out" -v s="$size" -v l="$limit" 'BEGIN { printf "%s: %d bytes (%.1f MiB) of %d allowed\n", f, s, s / 1048576, l }'
du -sh "$pack"/* | sort -h
if [ "$size" -ge "$limit" ]; then
  echo "too large for a device run"
  exit 1
fi
