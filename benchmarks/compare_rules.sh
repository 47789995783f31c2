#!/usr/bin/env bash
# The paper's comparison on the reference Fashion-MNIST network, measured in one run:
# SNN2ANN, spike-based BPTT and ANN-to-SNN conversion (QCFS) under the same seed, data,
# batch, epochs and learning-rate schedule (Adam 1e-3, cosine decay; compare_rules
# --schedule), each in its own process under /usr/bin/time -v; then the PyTorch BPTT
# peer on the same network (benchmarks/peer, tuned as run_peer.sh; when python3-torch is
# installed) against our BPTT on the same images, at T = 4 and T = 8. Prints the table and
# writes the logs, results.md and comparison.svg (accuracy per epoch, accuracy against T).
# More seeds ("2 3": seed 1 is always run) repeat the paper's pair, SNN2ANN T = 5 and BPTT
# T = 8, and the conversion at T = 8, so that accuracy differences are seen over seeds,
# not in one draw. The conversion's QCFS ANN has L = 8 levels: its SNN at T = L = 8 steps
# sees the quantisation it was trained with (compare_rules prints the ANN at other L).
# SNN2ANN runs with the options in the 8th argument (compare_rules' --snn2ann-* flags; the
# default below is the configuration docs/benchmarks.md reports; "" is docs/method.md's defaults), and
# once more at T = 5 with docs/method.md's defaults (snn2ann_T5_defaults), for reference.
# The 9th argument picks the convolutions' matrix product for every run of ours: fp32 (the
# default, snn2ann::cpu_matmul::fp32) or amx (cpu_matmul::amx_split_bf16, compare_rules
# --matmul amx).
#   benchmarks/compare_rules.sh [build-dir] [epochs (5)] [train-limit (0: all)] [threads (2)] [out-dir]
#                               [peer-images (10000)] [more seeds ("")] [snn2ann options (see below)]
#                               [matmul (fp32)]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build/release}
epochs=${2:-5}
limit=${3:-0}
threads=${4:-2}
out=${5:-$root/build/comparison}
peer_images=${6:-10000}
more_seeds=${7:-}
snn2ann_options=(${8---snn2ann-threshold 1 --snn2ann-reset subtract --snn2ann-dropout 0 --snn2ann-pooling accumulated})
matmul=${9:-fp32}
bin=$build/benchmarks/compare_rules
[ -x "$bin" ] || { echo "build $bin first (cmake --build $build --target compare_rules)"; exit 1; }
mkdir -p "$out"
common=(--epochs "$epochs" --threads "$threads" --batch 64 --seed 1 --train-limit "$limit" --matmul "$matmul")
run() {  # name, then the command
    local name=$1
    shift
    echo "== $name: $*"
    /usr/bin/time -v "$@" >"$out/$name.log" 2>"$out/$name.time"
    grep -E "^(epoch|result|conversion|ann|ann_levels) " "$out/$name.log" || true
}
run snn2ann_T4 "$bin" --rule snn2ann --T 4 "${snn2ann_options[@]}" "${common[@]}"
run bptt_T4 "$bin" --rule bptt --T 4 "${common[@]}"
run snn2ann_T5 "$bin" --rule snn2ann --T 5 "${snn2ann_options[@]}" "${common[@]}"
run bptt_T8 "$bin" --rule bptt --T 8 "${common[@]}"
run ann2snn_T8 "$bin" --rule ann2snn --T 8 --levels 8 "${common[@]}"
[ ${#snn2ann_options[@]} -eq 0 ] || run snn2ann_T5_defaults "$bin" --rule snn2ann --T 5 "${common[@]}"
for seed in $more_seeds; do
    again=(--epochs "$epochs" --threads "$threads" --batch 64 --seed "$seed" --train-limit "$limit" --matmul "$matmul")
    run snn2ann_T5_seed$seed "$bin" --rule snn2ann --T 5 "${snn2ann_options[@]}" "${again[@]}"
    run bptt_T8_seed$seed "$bin" --rule bptt --T 8 "${again[@]}"
    run ann2snn_T8_seed$seed "$bin" --rule ann2snn --T 8 --levels 8 "${again[@]}"
done
if dpkg -s python3-torch >/dev/null 2>&1; then
    for T in 4 8; do
        # Same work for both: one epoch over the first peer-images images, T steps, batch 64.
        run speed_ours_T$T "$bin" --rule bptt --T $T --epochs 1 --threads "$threads" --batch 64 --seed 1 \
            --train-limit "$peer_images" --test-limit 1000 --matmul "$matmul"
        run speed_peer_T$T bash "$root/benchmarks/peer/run_peer.sh" --net reference --conv1-once --T $T \
            --threads "$threads" --batch 64 --train-limit "$peer_images" --test-limit 1000
    done
else
    echo "python3-torch is not installed: the PyTorch peer is skipped (apt-get install python3-torch)"
fi
python3 "$root/benchmarks/plot_comparison.py" "$out" | tee "$out/results.md"
