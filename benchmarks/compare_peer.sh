#!/usr/bin/env bash
# Our training throughput and peak memory against the PyTorch peer, measured in one run:
# alternates the two R times on the same work (the reference network, batch 64, the same
# first N images, loaded and trained on by both, threads) and prints the medians and their
# ratios. The peer runs in its best configuration (run_peer.sh --net reference
# --conv1-once: our network, conv1 once per image) unless the mode says naive.
#   benchmarks/compare_peer.sh ann     [build-dir] [threads] [repeats] [train-limit]
#       plain ANN against  run_peer.sh --mode ann --net reference
#   benchmarks/compare_peer.sh snn2ann [build-dir] [threads] [repeats] [train-limit] [T (ignored)] [matmul (fp32)]
#       SNN2ANN at T = 4 against the peer's BPTT at T = 4 (run_peer.sh --net reference --conv1-once --T 4)
#   benchmarks/compare_peer.sh snn2ann-naive [build-dir] [threads] [repeats] [train-limit]
#       the same against the peer's naive configuration (run_peer.sh --T 4: --net peer, neurons
#       before pooling, conv1 run T times): never the headline
#   benchmarks/compare_peer.sh bptt    [build-dir] [threads] [repeats] [train-limit] [T (4)] [matmul (fp32)]
#       our BPTT against the peer's on the reference network at the same T
#       (compare_rules --rule bptt, one epoch; run_peer.sh --net reference --conv1-once);
#       matmul amx runs ours with snn2ann::cpu_matmul::amx_split_bf16, amx-exact with
#       amx_exact_products (compare_rules and train_throughput --matmul; snn2ann's modes too)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
mode=${1:-ann}
build=${2:-$root/build/release}
threads=${3:-2}
repeats=${4:-3}
limit=${5:-10000}
T=${6:-4}
matmul=${7:-fp32}
case $mode in
    ann | snn2ann | snn2ann-naive) target=train_throughput ;;
    bptt) target=compare_rules ;;
    *) echo "mode must be ann, snn2ann, snn2ann-naive or bptt"; exit 2 ;;
esac
bin=$build/benchmarks/$target
[ -x "$bin" ] || { echo "build $bin first (cmake --build $build --target $target)"; exit 1; }
case $mode in
    ann) peer_args=(--mode ann --net reference --batch 64) ours_args=(--rule ann --repeat 1) ;;
    snn2ann) peer_args=(--net reference --conv1-once --T 4 --batch 64) ours_args=(--rule snn2ann --repeat 1 --matmul "$matmul") ;;
    snn2ann-naive) peer_args=(--mode bptt --T 4 --batch 64) ours_args=(--rule snn2ann --repeat 1 --matmul "$matmul") ;;
    bptt) peer_args=(--net reference --conv1-once --T "$T" --batch 64)
          ours_args=(--rule bptt --T "$T" --epochs 1 --batch 64 --seed 1 --test-limit 1000 --matmul "$matmul") ;;
esac
# train_throughput prints "median ... <img/s>"; compare_rules "epoch 1 ... images_per_second <img/s>".
ours_rate() { awk '/median/{print $5} /^epoch 1 /{for (i = 1; i < NF; i++) if ($i == "images_per_second") print $(i + 1)}' "$1"; }
peak() { awk '/Maximum resident/{printf "%.0f", $6 / 1024}' "$1"; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ours=() peer=() ours_mem=() peer_mem=()
for r in $(seq "$repeats"); do
    /usr/bin/time -v "$bin" "${ours_args[@]}" --threads "$threads" --train-limit "$limit" \
        >"$tmp/ours" 2>"$tmp/ours.time"
    o=$(ours_rate "$tmp/ours")
    /usr/bin/time -v bash "$root/benchmarks/peer/run_peer.sh" "${peer_args[@]}" --threads "$threads" \
        --train-limit "$limit" --test-limit 1000 >"$tmp/peer" 2>"$tmp/peer.time"
    p=$(sed -n 's/.*(\([0-9.]*\) img\/s).*/\1/p' "$tmp/peer")
    echo "round $r: ours ($mode) $o img/s, $(peak "$tmp/ours.time") MiB; peer $p img/s, $(peak "$tmp/peer.time") MiB"
    ours+=("$o") peer+=("$p") ours_mem+=("$(peak "$tmp/ours.time")") peer_mem+=("$(peak "$tmp/peer.time")")
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
mo=$(median "${ours[@]}") mp=$(median "${peer[@]}")
mm=$(median "${ours_mem[@]}") pm=$(median "${peer_mem[@]}")
label=$mode
[ "$mode" = bptt ] && label="bptt, T = $T, matmul $matmul"
[ "$mode" != bptt ] && [ "$mode" != ann ] && label="$mode, matmul $matmul"
echo "median ($label): ours $mo img/s, $mm MiB peak; PyTorch peer $mp img/s, $pm MiB peak;" \
     "speed ratio $(awk -v a="$mo" -v b="$mp" 'BEGIN{printf "%.2f", a/b}')x," \
     "memory ratio $(awk -v a="$mm" -v b="$pm" 'BEGIN{printf "%.2f", a/b}')"
