#!/usr/bin/env bash
# Training throughput of several builds of train_throughput on the same work, alternated
# ROUNDS rounds in one run (SNN2ANN T = 4, BPTT T = 4, the ANN; the reference network,
# 10,000 images, batch 64): each build's median and its ratio to the first build's, per
# rule. A consumer's default build against -march=native:
#   cmake -S . -B build/baseline -DCMAKE_BUILD_TYPE=Release -DSNN2ANN_NATIVE=OFF
#   cmake --build build/baseline -j2 --target train_throughput
#   ROUNDS=3 THREADS=2 RULES="snn2ann bptt ann" benchmarks/compare_builds.sh build/release build/baseline [more builds]
set -euo pipefail
rounds=${ROUNDS:-3}
threads=${THREADS:-2}
rules=${RULES:-snn2ann bptt ann}
[ $# -ge 2 ] || { echo "usage: compare_builds.sh first-build second-build [more builds]"; exit 2; }
for b in "$@"; do [ -x "$b/benchmarks/train_throughput" ] || { echo "build $b/benchmarks/train_throughput first"; exit 1; }; done
rate() { "$1/benchmarks/train_throughput" --rule "$2" --repeat 1 --threads "$threads" | awk '/median/{print $5}'; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
for rule in $rules; do
    declare -A rates=()
    for r in $(seq "$rounds"); do
        line="$rule round $r:"
        for b in "$@"; do
            x=$(rate "$b" "$rule")
            rates[$b]="${rates[$b]:-} $x"
            line="$line $b $x img/s;"
        done
        echo "$line"
    done
    first=$(median ${rates[$1]})
    for b in "$@"; do
        m=$(median ${rates[$b]})
        echo "$rule: $b median $m img/s, $(awk -v a="$first" -v b="$m" 'BEGIN{printf "%.3f", b / a}') of $1"
    done
    unset rates
done
