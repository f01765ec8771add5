#!/usr/bin/env bash
# Runs every fuzz target for a bounded time (default 60 s each). Installs cargo-fuzz from
# crates.io when missing; needs the nightly toolchain (rustup's `nightly`).
# Usage: scripts/fuzz.sh [seconds per target] [target...]
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
secs="${1:-60}"; shift || true
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=($(cargo +nightly fuzz list))
for t in "${targets[@]}"; do
  echo "== $t (${secs}s)"
  cargo +nightly fuzz run "$t" -- -max_total_time="$secs" -rss_limit_mb=2048
done
