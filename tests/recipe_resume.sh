#!/usr/bin/env bash
# A recipe interrupted after an epoch and run again by the same command goes on from its
# saved state to the result of the uninterrupted run (benchmarks/recipe.sh, compare_rules
# --state / --resume): the same test accuracy, chosen epoch and spikes.
#   tests/recipe_resume.sh BUILD-DIR   (the build holding benchmarks/compare_rules)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:?"usage: recipe_resume.sh BUILD-DIR"}
data=/usr/share/datasets/fashion-mnist
if [ ! -r "$data/train-images-idx3-ubyte.gz" ] && [ ! -r "$data/train-images-idx3-ubyte" ]; then
    echo "skipped: Fashion-MNIST is not installed ($data; Debian's dataset-fashion-mnist)"
    exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# A small recipe: three epochs of 500 images, 100 for validation; a constant rate, so that
# two epochs then a third are the same run as three.
cat >"$work/tiny.toml" <<RECIPE
net = "reference"
rule = "snn2ann"
T = 2
epochs = 3
batch = 50
threads = 2
schedule = "constant"
train-limit = 600
test-limit = 300
validation = 100
RECIPE
export RECIPES_OUT=$work/out
# What recipe.sh compares: the result line without its times and memory.
outcome() { grep -E '^seed 1' | grep -oE '(accuracy|chosen_epoch|spikes_per_image|sops)=[^ ]*' | tr '\n' ' '; }
whole=$(TAG=whole bash "$root/benchmarks/recipe.sh" "$work/tiny.toml" "$build" 1 | outcome)
# The interrupted run: stopped after two epochs, its state and best epoch kept.
parts=$RECIPES_OUT/tiny-parts
stopped=$(TAG=parts bash "$root/benchmarks/recipe.sh" "$work/tiny.toml" "$build" 1 --stop-after-epoch 2)
grep -q "seed 1: stopped after epoch 2" <<<"$stopped" || { echo "FAIL: the run did not stop after epoch 2"; exit 1; }
[ -f "$parts/state-seed-1.npz" ] && [ -f "$parts/best-seed-1.ckpt" ] ||
    { echo "FAIL: the stopped run left no state or best epoch"; exit 1; }
resumed_output=$(TAG=parts bash "$root/benchmarks/recipe.sh" "$work/tiny.toml" "$build" 1)
resumed=$(outcome <<<"$resumed_output")
grep -q "resuming from $parts/state-seed-1.npz" <<<"$resumed_output" || { echo "FAIL: recipe.sh did not resume"; exit 1; }
grep -q "# resumed from .* after 2 epochs" "$parts/seed-1.log" ||
    { echo "FAIL: compare_rules did not resume"; exit 1; }
[ "$(grep -c '^epoch ' "$parts/seed-1.log")" = 3 ] || { echo "FAIL: the log does not hold the three epochs"; exit 1; }
[ ! -e "$parts/state-seed-1.npz" ] || { echo "FAIL: the finished seed's state was left"; exit 1; }
echo "uninterrupted: $whole"
echo "resumed:       $resumed"
[ -n "$whole" ] && [ "$whole" = "$resumed" ] || { echo "FAIL: the resumed recipe's result differs"; exit 1; }
# KEEP=1 takes a finished seed's result from its log instead of training again.
kept=$(KEEP=1 TAG=parts bash "$root/benchmarks/recipe.sh" "$work/tiny.toml" "$build" 1)
grep -q "seed 1 (kept from" <<<"$kept" || { echo "FAIL: KEEP=1 ran the finished seed again"; exit 1; }
echo "passed"
