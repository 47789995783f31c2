#!/usr/bin/env bash
# Long fuzz runs of every reader: builds the libFuzzer harnesses with clang++ (tests/fuzz),
# writes their seeds, and runs each harness for RUNS executions (default 1,000,000), two
# at a time, replaying the kept regression inputs first. Each corpus grows in
# build/fuzz/corpus/<harness> and is kept from run to run; a failing input lands in
# build/fuzz/findings/<harness>/ (fix it, then keep it in tests/fuzz/regressions/<harness>/).
# Prints one line per harness: executions, coverage, corpus size, and any finding.
#   bash scripts/fuzz.sh [RUNS] [HARNESS...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/scripts/common.sh"
bash "$root/scripts/install_deps.sh" fuzz
runs=${1:-1000000}
shift || true
harnesses=("$@")
[ ${#harnesses[@]} -gt 0 ] || mapfile -t harnesses < "$root/tests/fuzz/harnesses.txt"
clang=$(command -v clang++ || true)
[ -n "$clang" ] || { echo "fuzz.sh: clang++ is needed (apt install clang)" >&2; exit 1; }
build="$root/build/fuzz"
cmake -DSOURCE_DIR="$root" -DBUILD_DIR="$build" -DCXX="$clang" -DLAUNCHER="$(command -v ccache || true)" \
      -P "$root/tests/fuzz/smoke.cmake"
mkdir -p "$build/logs"
run_one() {
    local h=$1
    mkdir -p "$build/corpus/$h" "$build/findings/$h"
    local inputs=("$build/seeds/$h")
    [ -d "$root/tests/fuzz/regressions/$h" ] && inputs+=("$root/tests/fuzz/regressions/$h")
    local rc=0
    "$build/fuzz_$h" -runs="$runs" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
        -artifact_prefix="$build/findings/$h/" "$build/corpus/$h" "${inputs[@]}" >"$build/logs/$h.log" 2>&1 || rc=$?
    local execs cov corpus
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$build/logs/$h.log" | grep -o '[0-9]*$' || echo "?")
    cov=$(grep -o 'cov: [0-9]*' "$build/logs/$h.log" | tail -1 | grep -o '[0-9]*' || echo "?")
    corpus=$(find "$build/corpus/$h" -type f | wc -l)
    if [ $rc -eq 0 ]; then
        echo "$h: $execs executions, coverage $cov, corpus $corpus inputs, no finding"
    else
        echo "$h: FINDING after $execs executions (exit $rc): $(ls "$build/findings/$h" | tr '\n' ' ') - see $build/logs/$h.log"
    fi
    return $rc
}
status=0
for ((i = 0; i < ${#harnesses[@]}; i += 2)); do
    pids=()
    for h in "${harnesses[@]:i:2}"; do
        run_one "$h" & pids+=($!)
    done
    for p in "${pids[@]}"; do wait "$p" || status=1; done
done
exit $status
