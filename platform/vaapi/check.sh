#!/usr/bin/env bash
# The VA-API device checks and benchmark, on a machine with an Intel or AMD
# GPU (a DRM render node with a VA-API driver, a Vulkan driver that imports
# DMA-BUFs with DRM format modifiers). Run from the repository root after
# platform/debian/setup.sh:
#
#   bash platform/vaapi/check.sh [VIDEO...]
#
# VIDEO: extra inputs to benchmark besides the two it makes (1080p H.264
# and HEVC Main 10, x264/x265 defaults). Prints what the machine has, what
# `stills probe` sees, the device tests (the VA-API backend against the
# software backend on the fixtures, frame by frame), and `stills bench`
# with the software backend beside VA-API on the same requests. Nothing is
# installed; a missing piece is named and the script goes on where it can.
set -uo pipefail

cd "$(dirname "$0")/../.."
section() { printf '\n== %s\n' "$*"; }
have() { command -v "$1" >/dev/null 2>&1; }

section "machine"
uname -srm
ls -l /dev/dri 2>&1 || echo "no /dev/dri: this machine has no DRM device, so no VA-API"
for node in /dev/dri/renderD*; do
  [ -e "$node" ] || continue
  driver=$(basename "$(readlink -f "/sys/class/drm/$(basename "$node")/device/driver")" 2>/dev/null)
  printf '%s: kernel driver %s, %s\n' "$node" "${driver:-?}" \
    "$( [ -r "$node" ] && [ -w "$node" ] && echo "readable and writable" || echo "NOT accessible to $(id -un) (add it to the 'render' group)")"
done
if have vainfo; then
  vainfo 2>&1 | sed -n '1,60p'
else
  echo "vainfo not installed (apt-get install vainfo) - stills probe below says the same"
fi
if have vulkaninfo; then
  vulkaninfo 2>/dev/null | grep -E 'deviceName|driverName|driverInfo|VK_EXT_external_memory_dma_buf|VK_EXT_image_drm_format_modifier|VK_EXT_queue_family_foreign' | sort -u
else
  echo "vulkaninfo not installed (apt-get install vulkan-tools)"
fi

section "build (release)"
cargo build --release --locked 2>&1 | tail -n 3 || exit 1
stills=target/release/stills

section "stills probe: render nodes, drivers, profiles; the GPU's DMA-BUF support; backends"
$stills probe tests/fixtures/h264_bframes.mp4 | python3 -c '
import json, sys
doc = json.load(sys.stdin)
gpu = doc.get("gpu") or {}
print("GPU:", gpu.get("adapter"), "-", gpu.get("summary") or gpu.get("error"))
for d in doc.get("vaapi", []):
    print(d["render_node"], "| kernel", d.get("kernel_driver"), "|", d.get("driver") or d.get("error"))
    for p in d.get("profiles", []):
        if "VLD" in p["entrypoints"]:
            print("   decodes %-24s up to %sx%s into %s (%s)" % (p["profile"], p["max_width"], p["max_height"],
                  ",".join(p["surface_formats"]) or "?", ",".join(p["rt_formats"])))
if not doc.get("vaapi"):
    print("no render node")
for b in doc["video_tracks"][0]["backends"]:
    print("backend %-8s %s: %s" % (b["backend"], "yes" if b["available"] else "no ", b["reason"]))
'

section "device tests"
# The VA-API backend against the software backend on the fixtures (same
# frame codes and times, >= 50 dB), the render-node probe, and the DMA-BUF
# import of VA-API layouts through the pipeline (on this GPU's driver).
cargo test --release --locked --test vaapi -- --nocapture 2>&1 | grep -E 'SKIPPED|dB|VA-API on|^test |test result|panicked|error'
cargo test --release --locked --lib -- --nocapture va:: prime dma_buf 2>&1 | grep -E 'SKIPPED|renderD|  [A-Z0-9]+ |^test |test result|panicked'

section "inputs"
mkdir -p target/vaapi-bench
h264=target/vaapi-bench/h264_1080p.mp4
hevc=target/vaapi-bench/hevc10_1080p.mp4
[ -s "$h264" ] || ffmpeg -v error -f lavfi -i testsrc2=size=1920x1080:rate=30:duration=20 \
  -c:v libx264 -pix_fmt yuv420p "$h264"
[ -s "$hevc" ] || ffmpeg -v error -f lavfi -i testsrc2=size=1920x1080:rate=30:duration=20 \
  -c:v libx265 -pix_fmt yuv420p10le -x265-params log-level=error "$hevc"
ls -l "$h264" "$hevc"

section "stills bench: software and VA-API on the same requests"
for input in "$h264" "$hevc" "$@"; do
  for args in "--mode exact --count 30" "--mode keyframe --count 30" "--mode all --count 300"; do
    echo "-- $input $args"
    # shellcheck disable=SC2086
    $stills bench "$input" $args --backend each --json | python3 -c '
import json, sys
for line in sys.stdin:
    r = json.loads(line)
    if not r.get("available", True):
        print("  %-8s unavailable: %s" % (r["backend"], r["reason"]))
        continue
    t, s = r["throughput"], r["stages_ms"]
    print("  %-8s %6.1f images/s  failed %d  p50 %6.1f ms  decode %6.2f  upload %5.2f  gpu %5.2f  readback %5.2f ms/image  rss %d MiB"
          % (r["backend"], t["fps"], t["failed"], r["latency_ms"]["p50"] or 0, s["decode"], s["upload"], s["gpu"],
             s["readback"], r["peak_rss_bytes"] // (1 << 20)))
'
  done
done
