#!/usr/bin/env bash
# Training throughput of two builds of train_throughput on the same work, alternated R
# rounds in one run (SNN2ANN T = 4, BPTT T = 4, the ANN; the reference network, 10,000
# images, batch 64): medians and the ratio second / first per rule. For a consumer's
# default build against -march=native:
#   cmake -S . -B build/baseline -DCMAKE_BUILD_TYPE=Release -DSNN2ANN_NATIVE=OFF
#   cmake --build build/baseline -j2 --target train_throughput
#   benchmarks/compare_builds.sh build/release build/baseline [rounds (3)] [threads (2)] [rules ("snn2ann bptt ann")]
set -euo pipefail
first=$1/benchmarks/train_throughput
second=$2/benchmarks/train_throughput
rounds=${3:-3}
threads=${4:-2}
rules=${5:-snn2ann bptt ann}
for b in "$first" "$second"; do [ -x "$b" ] || { echo "build $b first"; exit 1; }; done
rate() { "$1" --rule "$2" --repeat 1 --threads "$threads" | awk '/median/{print $5}'; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
for rule in $rules; do
    a=() b=()
    for r in $(seq "$rounds"); do
        a+=("$(rate "$first" "$rule")") b+=("$(rate "$second" "$rule")")
        echo "$rule round $r: $1 ${a[-1]} img/s, $2 ${b[-1]} img/s"
    done
    ma=$(median "${a[@]}") mb=$(median "${b[@]}")
    echo "$rule: medians $ma and $mb img/s, ratio $(awk -v a="$ma" -v b="$mb" 'BEGIN{printf "%.3f", b / a}')"
done
