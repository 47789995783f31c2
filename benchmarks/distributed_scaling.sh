#!/usr/bin/env bash
# Data-parallel scaling on this machine, measured in one run: the reference network trained
# by SNN2ANN at the same global batch as 1 rank x 1 thread, 2 ranks x 1 thread and 1 rank x
# 2 threads, in turn, `repeats` times; prints every run, the medians and the ratios, with
# the gradient average's time a step and the part of it hidden behind backward.
#   benchmarks/distributed_scaling.sh [build-dir (build/release)] [repeats (3)] [train-limit (6400)] [batch (64)]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build/release}
repeats=${2:-3}
limit=${3:-6400}
batch=${4:-64}
program=$build/benchmarks/distributed_scaling
[ -x "$program" ] || { echo "distributed_scaling.sh: $program not built (needs MPI: snn2ann::mpi)" >&2; exit 1; }
mpi=(mpiexec --oversubscribe)
[ "$(id -u)" -eq 0 ] && mpi+=(--allow-run-as-root)
lscpu | grep -m1 "Model name" || true
log=$(mktemp)
for r in $(seq "$repeats"); do
    for config in "1 1" "2 1" "1 2"; do
        set -- $config
        # --bind-to none: Open MPI would otherwise pin a single rank's threads to one core.
        "${mpi[@]}" --bind-to none -n "$1" "$program" --threads "$2" --batch "$batch" --train-limit "$limit" | tee -a "$log"
    done
done
python3 - "$log" <<'PY'
import re, statistics, sys
runs = {}
for line in open(sys.argv[1]):
    m = re.search(r"ranks (\d+) threads (\d+) .*img/s ([\d.]+) step_ms ([\d.]+) average_exposed_ms ([\d.]+) "
                  r"average_after_backward_ms ([\d.]+) hidden ([-\d.]+)", line)
    if m:
        runs.setdefault((int(m[1]), int(m[2])), []).append([float(m[i]) for i in range(3, 8)])
med = {k: [statistics.median(c) for c in zip(*v)] for k, v in runs.items()}
for (ranks, threads), (ips, step, exposed, full, hidden) in sorted(med.items()):
    print(f"median {ranks} rank(s) x {threads} thread(s): {ips:.1f} img/s, {step:.2f} ms a step, gradient average "
          f"{full:.3f} ms after backward, {exposed:.3f} ms left with overlap ({100 * hidden:.0f}% hidden)")
if (1, 1) in med and (2, 1) in med:
    print(f"2 ranks x 1 thread / 1 rank x 1 thread: {med[(2, 1)][0] / med[(1, 1)][0]:.2f}x")
if (1, 2) in med and (2, 1) in med:
    print(f"2 ranks x 1 thread / 1 rank x 2 threads: {med[(2, 1)][0] / med[(1, 2)][0]:.2f}x")
PY
rm -f "$log"
