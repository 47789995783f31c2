#!/usr/bin/env bash
# The README's performance table, measured on the machine at hand in one run: prints the
# CPU model, the compiler and the date, then the table in Markdown. Every ratio against
# PyTorch is against the peer's best configuration (run_peer.sh --net reference
# --conv1-once: our network, conv1 once per image); SNN2ANN runs docs/method.md's
# defaults unless a row says tuned. Rows that need what this CPU lacks (AMX) say so.
# Each row's program is the one named in its "command" line below; the logs stay in OUT.
#   benchmarks/readme_table.sh [build-dir (build/release)] [repeats (3)] [epochs (5)] [out-dir (build/readme_table)]
# Builds nothing: configure with `cmake --preset release` and build the targets
# train_throughput compare_rules distributed_scaling compare_events first.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build/release}
repeats=${2:-3}
epochs=${3:-5}
out=${4:-$root/build/readme_table}
for t in train_throughput compare_rules distributed_scaling compare_events; do
    [ -x "$build/benchmarks/$t" ] || { echo "readme_table.sh: build $build/benchmarks/$t first" >&2; exit 1; }
done
dpkg -s python3-torch >/dev/null 2>&1 || { echo "readme_table.sh: the PyTorch peer needs python3-torch" >&2; exit 1; }
mkdir -p "$out"
cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
cores=$(nproc)
amx=no
grep -qw amx_tile /proc/cpuinfo && amx=yes
compiler=$(sed -n 's/^CMAKE_CXX_COMPILER:[A-Z]*=//p' "$build/CMakeCache.txt")
compiler="$($compiler --version | head -1)"
started=$(date -u +%Y-%m-%d)
step() {  # name, then the command: its output in OUT/name.log
    local name=$1
    shift
    echo "== $name: $*" >&2
    "$@" >"$out/$name.log" 2>&1 || { echo "readme_table.sh: $name failed (see $out/$name.log)" >&2; exit 1; }
}
# compare_peer.sh's last line: "median (...): ours O img/s, M MiB peak; PyTorch peer P img/s,
# PM MiB peak; speed ratio Rx, memory ratio Q".
peer() {  # name: "ours peer ratio ours_mib peer_mib memratio"
    awk '/^median/{gsub(/[;,]/, ""); for (i = 1; i <= NF; i++) {
        if ($i == "ours") o = $(i + 1); if ($i == "peer") p = $(i + 1);
        if ($i == "peak" && !om) om = $(i - 2); else if ($i == "peak") pm = $(i - 2);
        if ($i == "ratio" && $(i - 1) == "speed") r = $(i + 1); if ($i == "ratio" && $(i - 1) == "memory") q = $(i + 1) }
        sub(/x$/, "", r); print o, p, r, om, pm, q}' "$out/$1.log"
}

step snn2ann_peer bash "$root/benchmarks/compare_peer.sh" snn2ann "$build" 2 "$repeats" 10000
[ $amx = yes ] && step snn2ann_peer_amx_exact bash "$root/benchmarks/compare_peer.sh" snn2ann "$build" 2 "$repeats" 10000 4 amx-exact
step snn2ann_peer_naive bash "$root/benchmarks/compare_peer.sh" snn2ann-naive "$build" 2 "$repeats" 10000
step ann_peer bash "$root/benchmarks/compare_peer.sh" ann "$build" 2 "$repeats" 10000
for T in 4 8; do
    step bptt_peer_T$T bash "$root/benchmarks/compare_peer.sh" bptt "$build" 2 "$repeats" 10000 $T fp32
    [ $amx = yes ] && step bptt_peer_amx_T$T bash "$root/benchmarks/compare_peer.sh" bptt "$build" 2 "$repeats" 10000 $T amx
    [ $amx = yes ] && step bptt_peer_amx_exact_T$T bash "$root/benchmarks/compare_peer.sh" bptt "$build" 2 "$repeats" 10000 $T amx-exact
done
common=(--epochs "$epochs" --threads 2 --batch 64 --seed 1)
step rules_snn2ann "$build/benchmarks/compare_rules" --rule snn2ann --T 4 "${common[@]}"
step rules_bptt "$build/benchmarks/compare_rules" --rule bptt --T 4 "${common[@]}"
step scaling bash "$root/benchmarks/distributed_scaling.sh" "$build" "$repeats" 6400 64
step events bash "$root/benchmarks/compare_events.sh" "$build" "$epochs" 20000 5000 2 "$out/events"

read -r so sp sr som spm smr <<<"$(peer snn2ann_peer)"
read -r no np nr _ _ _ <<<"$(peer snn2ann_peer_naive)"
read -r ao ap ar _ _ _ <<<"$(peer ann_peer)"
read -r b4o b4p b4r _ _ _ <<<"$(peer bptt_peer_T4)"
read -r b8o b8p b8r _ _ _ <<<"$(peer bptt_peer_T8)"
result() { sed -n 's/^result .*accuracy=\([0-9.]*\) sec_per_epoch=\([0-9.]*\).*/\1 \2/p' "$out/$1.log"; }
read -r rsa rss <<<"$(result rules_snn2ann)"
read -r rba rbs <<<"$(result rules_bptt)"
scaling_ratio=$(sed -n 's/^2 ranks x 1 thread \/ 1 rank x 1 thread: \(.*\)x/\1/p' "$out/scaling.log")
rate() { sed -n "s/^median $1 rank(s) x $2 thread(s): \([0-9.]*\) img\/s.*/\1/p" "$out/scaling.log"; }
# compare_events.sh's table: | rule | T | accuracy | s / epoch | training memory | peak RSS | spikes |
event_row() { grep -F "| $1 |" "$out/events.log" | head -1 | awk -F'|' '{gsub(/ /, "", $4); gsub(/ /, "", $5); gsub(/ MiB| /, "", $6); print $4, $5, $6}'; }
read -r eta ets etm <<<"$(event_row "SNN2ANN (tuned)")"
read -r eda eds edm <<<"$(event_row "SNN2ANN (defaults)")"
read -r eba ebs ebm <<<"$(event_row "BPTT")"
pct() { awk -v a="$1" 'BEGIN{printf "%.2f%%", 100 * a}'; }
div() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", a / b}'; }

echo "CPU: $cpu ($cores cores, AMX: $amx); compiler: $compiler; Release, -march=native; date: $started"
echo "repeats: $repeats (medians of alternated rounds where a row compares speed); epochs: $epochs; logs: $out"
echo
echo "| measure (reference network, Fashion-MNIST, batch 64, 2 threads) | ours | baseline | ratio |"
echo "|---|---|---|---|"
echo "| SNN2ANN T = 4 against the PyTorch peer's BPTT T = 4, best configuration, img/s | $so | $sp | ${sr}x |"
echo "| the same, peak memory (both hold the 10,000 images they train on) | $som MiB | $spm MiB | ${smr}x |"
if [ $amx = yes ]; then
    read -r eo ep er _ _ _ <<<"$(peer snn2ann_peer_amx_exact)"
    echo "| the same with the exact AMX products (opt-in, \`amx_exact_products\`: no accuracy given up) | $eo | $ep | ${er}x |"
else
    echo "| the same with the exact AMX products | needs AMX: not on this CPU | | |"
fi
echo "| (the same against the peer's naive configuration, \`--net peer\`: neurons before pooling, conv1 T times) | $no | $np | ${nr}x |"
echo "| our BPTT T = 4 / T = 8 against the peer's best configuration, fp32, img/s | $b4o / $b8o | $b4p / $b8p | ${b4r}x / ${b8r}x |"
if [ $amx = yes ]; then
    read -r x4o x4p x4r _ _ _ <<<"$(peer bptt_peer_amx_T4)"
    read -r x8o x8p x8r _ _ _ <<<"$(peer bptt_peer_amx_T8)"
    echo "| the same with the AMX product (opt-in, \`amx_split_bf16\`: within 2^-17 of fp32) | $x4o / $x8o | $x4p / $x8p | ${x4r}x / ${x8r}x |"
    read -r e4o e4p e4r _ _ _ <<<"$(peer bptt_peer_amx_exact_T4)"
    read -r e8o e8p e8r _ _ _ <<<"$(peer bptt_peer_amx_exact_T8)"
    echo "| the same with the exact AMX products (opt-in, \`amx_exact_products\`) | $e4o / $e8o | $e4p / $e8p | ${e4r}x / ${e8r}x |"
else
    echo "| the same with the AMX products | needs AMX: not on this CPU | | |"
fi
echo "| ANN training against the PyTorch peer on the same network, img/s | $ao | $ap | ${ar}x |"
echo "| SNN2ANN T = 4 (defaults) against our BPTT T = 4, $epochs epochs: s/epoch, test accuracy | $rss s, $(pct "$rsa") | $rbs s, $(pct "$rba") | $(div "$rss" "$rbs")x |"
echo "| data-parallel, 2 ranks x 1 thread against 1 rank x 1 thread, img/s | $(rate 2 1) | $(rate 1 1) | ${scaling_ratio}x |"
echo "| event Fashion-MNIST (emulated): SNN2ANN T = 5, defaults, against BPTT T = 8, $epochs epochs: s/epoch, test accuracy | $eds s, $eda | $ebs s, $eba | $(div "$eds" "$ebs")x |"
echo "| the same, SNN2ANN tuned (thresholds 1, reset by subtraction, no membrane dropout, accumulated max pooling) | $ets s, $eta | $ebs s, $eba | $(div "$ets" "$ebs")x |"
echo "| the same, training memory (the library's), tuned | $etm MiB | $ebm MiB | $(div "${etm% MiB}" "${ebm% MiB}")x |"
