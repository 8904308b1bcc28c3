#!/usr/bin/env bash
# Installs everything stills needs to build, test and run on Debian 12:
# FFmpeg (libraries for the build, the CLI for the test references), the
# Vulkan loader and Mesa's lavapipe (the GPU pipeline runs on it when there
# is no GPU), libva (the VA-API backend), clang (bindgen), pkg-config and
# g++ (libFuzzer's runtime, for the fuzz targets in tests/fuzz).
# Idempotent: packages already present are not fetched again. apt-get only.
#
# Mesa comes from bookworm-backports (25.x): its lavapipe imports DMA-BUFs
# (VK_EXT_external_memory_dma_buf), so the VA-API import path runs in the
# tests, and it renders the pipeline as fast or faster than Debian 12's
# 22.3 (cargo bench --bench pipeline, both side by side).
set -euo pipefail

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi

packages=(
  pkg-config clang libclang-dev g++
  ffmpeg libavcodec-dev libavformat-dev libavutil-dev libswscale-dev
  libavfilter-dev libavdevice-dev libswresample-dev
  libva-dev
  libvulkan1
  python3 time
)
# From bookworm-backports: Mesa's Vulkan drivers and the libdrm they need.
backports=(mesa-vulkan-drivers libdrm2 libdrm-amdgpu1)
backports_list=/etc/apt/sources.list.d/stills-bookworm-backports.list

installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

missing=()
for p in "${packages[@]}"; do
  installed "$p" || missing+=("$p")
done
mesa_version=$(dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || true)
need_mesa=0
case "$mesa_version" in
  2[5-9].*|[3-9][0-9].*) ;;
  *) need_mesa=1 ;;
esac

if [ ${#missing[@]} -gt 0 ] || [ "$need_mesa" -eq 1 ]; then
  if [ "$need_mesa" -eq 1 ] && ! grep -rqs "bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
    echo "setup: adding bookworm-backports for Mesa 25"
    echo "deb http://deb.debian.org/debian bookworm-backports main" | $sudo tee "$backports_list" >/dev/null
  fi
  $sudo apt-get update -qq
  if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
  if [ "$need_mesa" -eq 1 ]; then
    echo "setup: installing ${backports[*]} from bookworm-backports"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
      -t bookworm-backports "${backports[@]}"
  fi
else
  echo "setup: system packages already installed"
fi

# Rust comes from rustup, not apt: Debian 12's rustc (1.63) is too old for
# the crates stills uses.
need="1.86"
if ! command -v cargo >/dev/null 2>&1; then
  echo "setup: cargo not found. Install Rust $need or newer with rustup (https://rustup.rs), then re-run." >&2
  exit 1
fi
have=$(rustc --version | awk '{print $2}')
if [ "$(printf '%s\n%s\n' "$need" "$have" | sort -V | head -n1)" != "$need" ]; then
  echo "setup: rustc $have is older than $need; run 'rustup update'." >&2
  exit 1
fi
echo "setup: ready (rustc $have, $(ffmpeg -version | head -n1 | cut -d' ' -f1-3), Mesa $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers))"
