#!/usr/bin/env bash
# The field's layer benchmark (Open Neuromorphic's "SNN library benchmarks"): one
# Linear(n, n) and one LIF layer, batch 16, T = 500, the time of a forward plus a backward
# of the output's sum and the memory it takes, for each n; ours (layer_benchmark: BPTT,
# and SNN2ANN's cost for the same layer) beside the same layer in PyTorch
# (layer_benchmark_torch.py through peer/run_torch.sh) as snnTorch writes it and as
# SpikingJelly's multi-step torch backend runs it, alternated R rounds in one run. Each
# PyTorch style runs in both thread layouts (its threads 2 with one BLAS thread, its
# threads 1 with 2 BLAS threads) and the faster counts: its best configuration here.
#   benchmarks/layer_benchmark.sh [build-dir] [rounds (3)] [n list ("256 1024 4096")] [threads (2)]
# Prints each run, then one markdown table of medians: seconds per forward + backward,
# and the memory the passes added to their process (peak RSS less the RSS before them).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build/release}
rounds=${2:-3}
sizes=${3:-256 1024 4096}
threads=${4:-2}
bin=$build/benchmarks/layer_benchmark
[ -x "$bin" ] || { echo "build $bin first (cmake --build $build --target layer_benchmark)"; exit 1; }
torch_run() {  # style n torch-threads blas-threads
    BLAS_THREADS=$4 bash "$root/benchmarks/peer/run_torch.sh" "$root/benchmarks/layer_benchmark_torch.py" \
        --style "$1" --n "$2" --threads "$3"
}
field() { sed -n "s/.* $1 \([0-9.]*\).*/\1/p"; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
declare -A secs mem
for n in $sizes; do
    for r in $(seq "$rounds"); do
        for run in bptt snn2ann snntorch:$threads:1 snntorch:1:$threads spikingjelly:$threads:1 spikingjelly:1:$threads; do
            IFS=: read -r name tt bt <<<"$run"
            if [ -z "${tt:-}" ]; then line=$("$bin" --rule "$name" --n "$n" --threads "$threads")
            else line=$(torch_run "$name" "$n" "$tt" "$bt"); fi
            echo "round $r: $line${tt:+ (blas threads $bt)}"
            secs[$n,$run]="${secs[$n,$run]:-} $(field median_s <<<"$line")"
            mem[$n,$run]="${mem[$n,$run]:-} $(field passes_rss_MiB <<<"$line")"
        done
    done
done
echo
echo "| n | ours, BPTT | snnTorch-style loop | SpikingJelly-style multi-step | best PyTorch / ours | ours, SNN2ANN |"
echo "|---|---|---|---|---|---|"
for n in $sizes; do
    cell() { echo "$(median ${secs[$n,$1]}) s, $(median ${mem[$n,$1]}) MiB"; }
    best() {  # the faster thread layout of a style: "run-key"
        a=$(median ${secs[$n,$1:$threads:1]}) b=$(median ${secs[$n,$1:1:$threads]})
        awk -v a="$a" -v b="$b" -v k="$1" -v t="$threads" 'BEGIN{print (a <= b) ? k ":" t ":1" : k ":1:" t}'
    }
    st=$(best snntorch) sj=$(best spikingjelly)
    ours=$(median ${secs[$n,bptt]})
    fastest=$(printf '%s\n' "$(median ${secs[$n,$st]})" "$(median ${secs[$n,$sj]})" | sort -g | head -1)
    echo "| $n | $(cell bptt) | $(cell "$st") | $(cell "$sj") | $(awk -v f="$fastest" -v o="$ours" 'BEGIN{printf "%.2fx", f / o}') | $(cell snn2ann) |"
done
echo
echo "(PyTorch thread layouts that counted: torch threads:BLAS threads per n, snnTorch-style then SpikingJelly-style:"
for n in $sizes; do
    a=$(median ${secs[$n,snntorch:$threads:1]}) b=$(median ${secs[$n,snntorch:1:$threads]})
    c=$(median ${secs[$n,spikingjelly:$threads:1]}) d=$(median ${secs[$n,spikingjelly:1:$threads]})
    echo " n $n: snnTorch-style $a s ($threads:1) / $b s (1:$threads); SpikingJelly-style $c s ($threads:1) / $d s (1:$threads)"
done
echo ")"
