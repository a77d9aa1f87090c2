#!/usr/bin/env bash
# Installs what is missing, then configures and builds gitvisor into build/ (warnings are errors).
# Extra arguments go to cmake's configure step, e.g. -DGITVISOR_SANITIZE=ON.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-debian.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGITVISOR_WERROR=ON "$@"
cmake --build build -j2
