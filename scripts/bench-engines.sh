#!/usr/bin/env bash
# Runs the storage engine benchmark against RocksDB and fjall in one run.
# Installs what the RocksDB build needs (libclang, a C++ compiler) when missing.
# Usage: scripts/bench-engines.sh [engine-bench args, e.g. --n 1000000]
set -euo pipefail
cd "$(dirname "$0")/.."
# bindgen loads libclang.so or libclang-N.so; libclang-cpp (which some packages bring) is not it.
if ! ls /usr/lib/llvm-*/lib/libclang.so* /usr/lib/llvm-*/lib/libclang-[0-9]*.so* >/dev/null 2>&1 &&
  ! ldconfig -p | grep -Eq 'libclang(-[0-9.]+)?\.so'; then
  echo "installing libclang-dev for the rocksdb crate's bindgen" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq libclang-dev g++ >/dev/null
fi
cargo build --release -p engine-bench --features peers
exec ./target/release/engine-bench "$@"
