#!/usr/bin/env bash
# SNN2ANN at T = 5 against BPTT at T = 8 on the emulated event Fashion-MNIST, measured in
# one run: each rule in its own process under /usr/bin/time -v, the same seed, data
# (emulated once, integrated into 5 and 8 frames, cached in the events folder), batch,
# epochs and schedule (Adam 1e-3, cosine). SNN2ANN runs compare_rules' tuned configuration
# (thresholds 1, reset by subtraction, no membrane dropout, accumulated max pooling) and
# docs/method.md's defaults. Prints the table (accuracy, seconds per epoch, the library's
# training memory and the process's peak memory, the ratios).
#   benchmarks/compare_events.sh [build-dir] [epochs (5)] [train-limit (10000)] [test-limit (2000)] [threads (2)] [out-dir]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build/release}
epochs=${2:-5}
train=${3:-10000}
test=${4:-2000}
threads=${5:-2}
out=${6:-$root/build/compare_events}
bin=$build/benchmarks/compare_events
[ -x "$bin" ] || { echo "build $bin first (cmake --build $build --target compare_events)"; exit 1; }
mkdir -p "$out"
common=(--epochs "$epochs" --threads "$threads" --batch 64 --seed 1 --train-limit "$train" --test-limit "$test"
        --events "$out/events")
run() {
    local name=$1
    shift
    echo "== $name: $*"
    /usr/bin/time -v "$@" >"$out/$name.log" 2>"$out/$name.time"
    grep -E "^(emulated|Train|Test|epoch|result) " "$out/$name.log" || true
}
"$bin" --prepare "${common[@]}" | tee "$out/prepare.log"  # emulation and integration, outside the timed runs
run snn2ann_T5 "$bin" --rule snn2ann --snn2ann-config tuned "${common[@]}"
run snn2ann_T5_defaults "$bin" --rule snn2ann --snn2ann-config defaults "${common[@]}"
run bptt_T8 "$bin" --rule bptt "${common[@]}"
python3 - "$out" <<'PY'
import re, sys, pathlib
out = pathlib.Path(sys.argv[1])
def result(name):
    text = (out / f"{name}.log").read_text()
    r = dict(kv.split("=") for kv in re.search(r"^result (.*)$", text, re.M).group(1).split())
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", (out / f"{name}.time").read_text())
    r["rss_MiB"] = int(rss.group(1)) / 1024 if rss else float("nan")
    return r
a, d, b = result("snn2ann_T5"), result("snn2ann_T5_defaults"), result("bptt_T8")
print("| rule | T | test accuracy | s / epoch | training memory (library) | peak RSS | spikes / sample |")
print("|---|---|---|---|---|---|---|")
for name, r in (("SNN2ANN (tuned)", a), ("SNN2ANN (defaults)", d), ("BPTT", b)):
    print(f"| {name} | {r['T']} | {100 * float(r['accuracy']):.2f}% | {float(r['sec_per_epoch']):.1f} | "
          f"{float(r['workspace_peak_MiB']):.1f} MiB | {r['rss_MiB']:.0f} MiB | {float(r['spikes_per_image']):.0f} |")
print(f"| SNN2ANN (tuned) / BPTT | | {100 * (float(a['accuracy']) - float(b['accuracy'])):+.2f} points | "
      f"{float(a['sec_per_epoch']) / float(b['sec_per_epoch']):.3f}x | "
      f"{float(a['workspace_peak_MiB']) / float(b['workspace_peak_MiB']):.3f}x | {a['rss_MiB'] / b['rss_MiB']:.3f}x | |")
PY
