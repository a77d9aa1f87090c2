#!/usr/bin/env bash
# Builds the unit-file fuzzer with clang (libFuzzer + AddressSanitizer + UBSan) and runs it for a while.
# Fails on any crash, leak or sanitizer report. Usage: fuzz/run.sh BUILD_DIR [SECONDS]
set -euo pipefail
build=${1:?usage: fuzz/run.sh BUILD_DIR [SECONDS]}
seconds=${2:-30}
source_dir=$(cd "$(dirname "$0")/.." && pwd)

if ! command -v clang++ >/dev/null; then
    echo "FAIL: clang++ is not installed (scripts/setup-debian.sh installs it)"
    exit 1
fi
cmake -S "$source_dir" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DGITVISOR_FUZZ=ON -DBUILD_TESTING=OFF \
    -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" \
    >/dev/null
cmake --build "$build" --target unit_fuzz -j2 >/dev/null

corpus="$build/corpus"
mkdir -p "$corpus"
# Seeds: the examples and test units, prefixed by the byte that picks the unit name.
for f in "$source_dir"/examples/units/*.service "$source_dir"/tests/data/*.service; do
    [ -f "$f" ] || continue
    { printf '\000'; cat "$f"; } >"$corpus/seed-$(basename "$f")"
done

log="$build/fuzz.log"
status=0
(cd "$build" && UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    ./fuzz/unit_fuzz -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
    -print_final_stats=1 "$corpus") >"$log" 2>&1 || status=$?
grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|Done)' "$log" || true
if [ "$status" -ne 0 ] || grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:' "$log"; then
    echo "FAIL: the fuzzer found a problem (exit $status); the input is saved in $build:"
    tail -60 "$log"
    exit 1
fi
echo "PASS: no crash, leak or sanitizer report in ${seconds}s"
