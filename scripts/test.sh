#!/usr/bin/env bash
# Runs Tessera's whole test suite. Installs by itself whatever the tests need.
set -euo pipefail
cd "$(dirname "$0")/.."
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --profile ci "$@"
else
  echo "cargo-nextest not found; running cargo test" >&2
  cargo test --workspace "$@"
fi
