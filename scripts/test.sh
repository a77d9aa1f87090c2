#!/usr/bin/env bash
# Sets up, builds and runs every test through CTest (the last line is CTest's summary).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh "$@"
cd build
ctest --output-on-failure -j2
