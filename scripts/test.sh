#!/usr/bin/env bash
# Runs Tessera's whole test suite. Installs by itself whatever the tests need.
set -euo pipefail
cd "$(dirname "$0")/.."

# The Python clients the end-to-end tests drive (cqlsh and cassandra-driver), in a venv under
# target/ so nothing is installed system-wide.
PYENV=target/pyenv
if ! "$PYENV/bin/python" -c "import cassandra, cqlshlib" >/dev/null 2>&1; then
  echo "installing cassandra-driver and cqlsh into $PYENV" >&2
  python3 -m venv "$PYENV"
  "$PYENV/bin/pip" install -q --disable-pip-version-check "cassandra-driver==3.30.1" "cqlsh==6.2.2"
fi
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --profile ci "$@"
else
  echo "cargo-nextest not found; running cargo test" >&2
  cargo test --workspace "$@"
fi
