#!/usr/bin/env bash
# Installs everything stills needs to build, test and run on Debian 12:
# FFmpeg (libraries for the build, the CLI for the test references), the
# Vulkan loader and Mesa's lavapipe (the GPU pipeline runs on it when there
# is no GPU), libva (the VA-API backend), clang (bindgen) and pkg-config.
# Idempotent: packages already present are not fetched again. apt-get only.
set -euo pipefail

packages=(
  pkg-config clang libclang-dev
  ffmpeg libavcodec-dev libavformat-dev libavutil-dev libswscale-dev
  libavfilter-dev libavdevice-dev libswresample-dev
  libva-dev
  libvulkan1 mesa-vulkan-drivers
  python3 time
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  echo "setup: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
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
echo "setup: ready (rustc $have, $(ffmpeg -version | head -n1 | cut -d' ' -f1-3))"
