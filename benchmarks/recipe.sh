#!/usr/bin/env bash
# Runs a recipe (a TOML file of compare_rules options, benchmarks/recipes/) under its
# protocol once per seed, each seed in its own process under /usr/bin/time -v, and prints
# every seed's test accuracy (on the epoch its validation split chose), the mean and
# standard deviation, the training time per epoch, the spikes per image and the wall time
# of the whole run. Options after the seeds are passed to every run and override the
# recipe's (compare_rules reads the file first, then the command line).
#   benchmarks/recipe.sh RECIPE [build-dir] [seeds ("1 2 3")] [compare_rules options...]
# The program is compare_rules, or the one a line "# program: NAME" of the recipe names
# (compare_events, for event data). Logs: build/recipes/<recipe>[-<tag>]/seed-<s>.log (tag:
# $TAG, for runs with options; $RECIPES_OUT instead of build/recipes).
# A long table in parts: each seed's training state is saved after every epoch, and a seed
# whose run was interrupted (killed, or the machine's time ran out) goes on from its last
# epoch the next time the same command runs, to the same result as an uninterrupted run;
# with KEEP=1 a seed whose log holds its result already is not run again. The wall time
# printed is this invocation's; the seconds per epoch count every epoch.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
recipe=${1:?"usage: recipe.sh RECIPE [build-dir] [seeds] [compare_rules options...]"}
build=${2:-$root/build/release}
seeds=${3:-1 2 3}
shift $(($# < 3 ? $# : 3))
[ -r "$recipe" ] || { echo "recipe.sh: no recipe file $recipe" >&2; exit 1; }
program=$(sed -n 's/^# program: *//p' "$recipe")
program=${program:-compare_rules}
bin=$build/benchmarks/$program
[ -x "$bin" ] || { echo "recipe.sh: build $bin first (cmake --build $build --target $program)" >&2; exit 1; }
grep -Eq '^[[:space:]]*validation[[:space:]]*=[[:space:]]*[1-9]' "$recipe" ||
    { echo "recipe.sh: $recipe sets no validation split: a recipe chooses its epoch on one" >&2; exit 1; }
name=$(basename "$recipe" .toml)${TAG:+-$TAG}
out=${RECIPES_OUT:-$root/build/recipes}/$name
mkdir -p "$out"
echo "# recipe $recipe, seeds $seeds${*:+, options $*}; $(lscpu | sed -n 's/^Model name: *//p'); $(date -u +%F)"
start=$(date +%s)
for seed in $seeds; do
    log=$out/seed-$seed.log state=$out/state-seed-$seed.npz
    if [ "${KEEP:-0}" = 1 ] && grep -Eq "^result " "$log" 2>/dev/null; then
        grep -E "^result " "$log" | while read -r line; do echo "seed $seed (kept from $log): $line"; done
        continue
    fi
    # A checkpoint per seed and recipe, so that two recipes can run side by side.
    run=("$bin" --config "$recipe" --seed "$seed" --checkpoint "$out/best-seed-$seed.ckpt" --state "$state" "$@")
    if [ -f "$state" ]; then  # interrupted: go on, the log goes on too
        echo "seed $seed: resuming from $state"
        run+=(--resume "$state")
    else
        : >"$log"
        : >"$out/seed-$seed.time"
    fi
    /usr/bin/time -v "${run[@]}" >>"$log" 2>>"$out/seed-$seed.time" ||
        { echo "recipe.sh: seed $seed failed, see $log and .time" >&2; exit 1; }
    if ! grep -Eq "^result " "$log"; then  # stopped before its last epoch (--stop-after-epoch)
        echo "seed $seed: stopped after epoch $(grep -cE '^epoch ' "$log"); the same command goes on from $state"
        unfinished=1
        continue
    fi
    rm -f "$state"
    grep -E "^result " "$log" | sed "s/^/seed $seed: /"
done
[ -z "${unfinished:-}" ] || exit 0
wall=$(($(date +%s) - start))
for seed in $seeds; do grep -E "^result " "$out/seed-$seed.log"; done | awk -v wall="$wall" '
    {
        for (i = 2; i <= NF; ++i) { split($i, kv, "="); v[kv[1]] = kv[2] }
        n++; acc[n] = 100 * v["accuracy"]; sec += v["sec_per_epoch"]; spikes += v["spikes_per_image"]
        each = each (n > 1 ? ", " : "") sprintf("%.2f", acc[n])
        epochs = epochs (n > 1 ? ", " : "") v["chosen_epoch"]; rule = v["rule"]; T = v["T"]
    }
    END {
        for (i = 1; i <= n; ++i) mean += acc[i] / n
        for (i = 1; i <= n; ++i) ss += (acc[i] - mean) ^ 2
        sd = n > 1 ? sqrt(ss / (n - 1)) : 0
        printf "%s: test accuracy %.2f%% +- %.2f over %d seeds (per seed %s; chosen epochs %s), %.1f s/epoch, %.0f spikes/image; wall time %d s\n",
            rule (T > 0 ? " T = " T : ""), mean, sd, n, each, epochs, sec / n, spikes / n, wall
    }'
