#!/usr/bin/env bash
# The CUDA backend's checks on a machine with an NVIDIA GPU, in one run: what the host
# execution (ctest -L cuda, every build) cannot check. Configure and build the CUDA tests
# and benchmark with nvcc, run the runtime test, the GPU test (every kernel against the
# CPU path, whole models, training, resume, the NaN guard, a fault named by its kernel;
# data-parallel training where the machine has MPI), the benchmark (VGG-13 SNN2ANN T=5 vs
# BPTT T=8 at batch 128, then the reference network trained on Fashion-MNIST), and the
# PyTorch peer of the VGG-13 step; every log goes to $OUT (default build/gpu-logs).
# On a bare machine without Debian's packages, first run scripts/gather_gpu_deps.sh where
# they are installed and bring .deps along (the device tool: carry [".deps"]).
#   bash scripts/gpu_check.sh            EPOCHS=6 BATCH=128 (the defaults)
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${OUT:-$root/build/gpu-logs}
mkdir -p "$out"
deps=$root/.deps/root/usr
prefix=()
data=/usr/share/datasets/fashion-mnist
if [ -d "$deps" ]; then
    prefix=(-DCMAKE_PREFIX_PATH="$deps" -DZLIB_ROOT="$deps")
    export LD_LIBRARY_PATH="$deps/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}"
    data=$deps/share/datasets/fashion-mnist
fi
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
status=0
verdicts=()
step() {  # step <log name> <command...>: runs it, keeps its output, remembers a failure
    local log=$1
    shift
    echo "== $*" | tee "$out/$log"
    "$@" 2>&1 | tee -a "$out/$log"
    local rc=${PIPESTATUS[0]}
    echo "== exit status $rc" | tee -a "$out/$log"
    local verdict=PASS
    [ "$rc" -eq 0 ] || verdict=FAIL
    [ "$rc" -eq 77 ] && verdict=SKIPPED
    verdicts+=("$verdict ${log%.log} (exit status $rc, log $out/$log)")
    [ "$rc" -eq 0 ] || status=1
    return "$rc"
}
summary() {  # one verdict line per check, last, where a reader looks first
    echo "== verdicts"
    printf '%s\n' "${verdicts[@]}" | tee "$out/verdicts.txt"
}
trap summary EXIT
nvidia-smi >"$out/nvidia-smi.txt" 2>&1 || true
step configure.log cmake -S "$root" -B "$root/build/gpu" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
    -DSNN2ANN_WITH_CUDA=ON -DSNN2ANN_BUILD_EXAMPLES=OFF "${prefix[@]}" || exit 1
step build.log cmake --build "$root/build/gpu" --target test_cuda test_cuda_runtime cuda_benchmark -j "$(nproc)" || exit 1
step test_cuda_runtime.log "$root/build/gpu/tests/test_cuda_runtime"
step test_cuda.log "$root/build/gpu/tests/test_cuda"
# Data-parallel training of the CUDA model on 2 ranks, where the machine has MPI (Open MPI
# is too large to carry in .deps).
if command -v mpiexec >/dev/null && cmake --build "$root/build/gpu" --target test_cuda_distributed -j "$(nproc)"         >"$out/build_distributed.log" 2>&1; then
    step test_cuda_distributed.log mpiexec -n 2 --oversubscribe --allow-run-as-root \
        "$root/build/gpu/tests/test_cuda_distributed"
else
    echo "test_cuda_distributed: skipped (no mpiexec or no snn2ann::mpi on this machine)" | tee "$out/test_cuda_distributed.log"
    verdicts+=("SKIPPED test_cuda_distributed (no mpiexec or no snn2ann::mpi on this machine)")
fi
step benchmark.log "$root/build/gpu/benchmarks/cuda_benchmark" --batch "${BATCH:-128}" --repeat 5 \
    --fashion-mnist "$data" --epochs "${EPOCHS:-6}"
step peer.log python3 "$root/benchmarks/peer/vgg13_step_torch.py" --batch "${BATCH:-128}" --T 8
exit $status
