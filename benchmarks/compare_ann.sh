#!/usr/bin/env bash
# Our ANN training throughput against the tuned PyTorch peer, measured in one run:
# alternates the two R times (same network shape, batch 64, images, threads) and prints
# the medians and their ratio.
#   benchmarks/compare_ann.sh [build-dir] [threads] [repeats] [train-limit]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build/release}
threads=${2:-2}
repeats=${3:-3}
limit=${4:-10000}
bin=$build/benchmarks/ann_throughput
[ -x "$bin" ] || { echo "build $bin first (cmake --build $build --target ann_throughput)"; exit 1; }
ours=() peer=()
for r in $(seq "$repeats"); do
    o=$("$bin" --threads "$threads" --train-limit "$limit" --repeat 1 | awk '/median/{print $5}')
    p=$(bash "$root/benchmarks/peer/run_peer.sh" --mode ann --threads "$threads" --train-limit "$limit" \
        --test-limit 1000 | sed -n 's/.*(\([0-9.]*\) img\/s).*/\1/p')
    echo "round $r: snn2ann $o img/s, peer $p img/s"
    ours+=("$o") peer+=("$p")
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
mo=$(median "${ours[@]}") mp=$(median "${peer[@]}")
echo "median: snn2ann $mo img/s, PyTorch peer $mp img/s, ratio $(awk -v a="$mo" -v b="$mp" 'BEGIN{printf "%.2f", a/b}')x"
