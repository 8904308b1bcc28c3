#!/usr/bin/env bash
# Builds the fuzz targets with libFuzzer's coverage instrumentation and runs
# each for SECONDS (default 25), seeded from tests/fixtures:
#
#   tests/fuzz/run.sh [SECONDS] [TARGET...]
#
# Stable Rust: the flags are the ones cargo-fuzz passes (sancov coverage,
# 8-bit counters, compare tracing, debug assertions) without its default
# AddressSanitizer, which needs nightly; the code fuzzed is safe Rust, where
# ASan would find nothing that a panic does not already report. A crash,
# a leak of time (-timeout) or of memory (-rss_limit_mb) stops the run with
# a non-zero status and leaves the input in tests/fuzz/target/fuzz/artifacts/.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
fixtures="$here/../fixtures"
seconds="${1:-25}"
[ $# -gt 0 ] && shift
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(mp4_boxes parameter_sets time_text plan)

host="$(rustc -vV | sed -n 's/^host: //p')"
# --target keeps the flags off build scripts and proc macros, as cargo-fuzz.
RUSTFLAGS="-Cpasses=sancov-module \
 -Cllvm-args=-sanitizer-coverage-level=4 \
 -Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
 -Cllvm-args=-sanitizer-coverage-pc-table \
 -Cllvm-args=-sanitizer-coverage-trace-compares \
 --cfg fuzzing" \
  cargo build --locked --release --quiet --manifest-path "$here/Cargo.toml" \
  --target "$host" --bins

# Where cargo put them: tests/fuzz/target, or $CARGO_TARGET_DIR.
target_dir=$(cargo metadata --format-version 1 --no-deps --manifest-path "$here/Cargo.toml" \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
work="$target_dir/fuzz"
seed_dir() {
  local target="$1" dir="$work/seeds/$1"
  rm -rf "$dir" && mkdir -p "$dir"
  case "$target" in
    mp4_boxes) cp "$fixtures"/*.mp4 "$dir"/ ;;
    parameter_sets)
      cp "$fixtures"/*.ts "$dir"/
      # Annex B H.264, as a raw stream or a TS payload carries it.
      for f in h264_bframes bt709_tagged_hd odd_161x121_yuv444p; do
        ffmpeg -v error -y -i "$fixtures/$f.mp4" -c:v copy -bsf:v h264_mp4toannexb \
          -f h264 "$dir/$f.h264"
      done ;;
    time_text) cp "$here"/seeds/time_text/* "$dir"/ ;;
    plan) head -c 4096 "$fixtures/h264_bframes.mp4" >"$dir/bytes" ;;
  esac
  echo "$dir"
}

for target in "${targets[@]}"; do
  corpus="$work/corpus/$target"
  artifacts="$work/artifacts/$target"
  mkdir -p "$corpus" "$artifacts"
  seeds="$(seed_dir "$target")"
  echo "fuzz: $target for ${seconds}s"
  "$target_dir/$host/release/$target" "$corpus" "$seeds" \
    -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$artifacts/" -print_final_stats=1 2>"$work/$target.log" || {
      tail -n 40 "$work/$target.log" >&2
      echo "fuzz: $target failed; the input is in $artifacts/" >&2
      exit 1
    }
  grep -aE "DONE|stat::number_of_executed_units|stat::peak_rss_mb" "$work/$target.log" || true
  echo "fuzz: $target: $(ls "$corpus" | wc -l) inputs in the corpus, no crash"
done
