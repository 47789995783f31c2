#!/usr/bin/env bash
# Our training throughput and peak memory against the tuned PyTorch peer, measured in one
# run: alternates the two R times on the same work (network shape, batch 64, images,
# threads) and prints the medians and their ratios.
#   benchmarks/compare_peer.sh ann     [build-dir] [threads] [repeats] [train-limit]
#       plain ANN against  run_peer.sh --mode ann
#   benchmarks/compare_peer.sh snn2ann [build-dir] [threads] [repeats] [train-limit]
#       SNN2ANN at T = 4 against the peer's BPTT at T = 4 (run_peer.sh --T 4)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
mode=${1:-ann}
build=${2:-$root/build/release}
threads=${3:-2}
repeats=${4:-3}
limit=${5:-10000}
bin=$build/benchmarks/train_throughput
[ -x "$bin" ] || { echo "build $bin first (cmake --build $build --target train_throughput)"; exit 1; }
case $mode in
    ann) peer_args=(--mode ann) ;;
    snn2ann) peer_args=(--mode bptt --T 4) ;;
    *) echo "mode must be ann or snn2ann"; exit 2 ;;
esac
peak() { awk '/Maximum resident/{printf "%.0f", $6 / 1024}' "$1"; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ours=() peer=() ours_mem=() peer_mem=()
for r in $(seq "$repeats"); do
    /usr/bin/time -v "$bin" --rule "$mode" --threads "$threads" --train-limit "$limit" --repeat 1 \
        >"$tmp/ours" 2>"$tmp/ours.time"
    o=$(awk '/median/{print $5}' "$tmp/ours")
    /usr/bin/time -v bash "$root/benchmarks/peer/run_peer.sh" "${peer_args[@]}" --threads "$threads" \
        --train-limit "$limit" --test-limit 1000 >"$tmp/peer" 2>"$tmp/peer.time"
    p=$(sed -n 's/.*(\([0-9.]*\) img\/s).*/\1/p' "$tmp/peer")
    echo "round $r: snn2ann $o img/s, $(peak "$tmp/ours.time") MiB; peer $p img/s, $(peak "$tmp/peer.time") MiB"
    ours+=("$o") peer+=("$p") ours_mem+=("$(peak "$tmp/ours.time")") peer_mem+=("$(peak "$tmp/peer.time")")
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
mo=$(median "${ours[@]}") mp=$(median "${peer[@]}")
mm=$(median "${ours_mem[@]}") pm=$(median "${peer_mem[@]}")
echo "median ($mode): snn2ann $mo img/s, $mm MiB peak; PyTorch peer $mp img/s, $pm MiB peak;" \
     "speed ratio $(awk -v a="$mo" -v b="$mp" 'BEGIN{printf "%.2f", a/b}')x," \
     "memory ratio $(awk -v a="$mm" -v b="$pm" 'BEGIN{printf "%.2f", a/b}')"
