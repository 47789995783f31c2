#!/usr/bin/env bash
# Sets everything up, builds every test (Release) and runs them with ctest.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/scripts/common.sh"
bash "$root/scripts/install_deps.sh" test
# Every optional part ON: a missing package fails the configuration with its name,
# instead of leaving a smaller suite that passes. CUDA stays AUTO (nvcc is not a Debian
# package): its host execution's tests run either way.
configure "$root/build/test" Release -DSNN2ANN_BUILD_EXAMPLES=ON -DSNN2ANN_BUILD_BENCHMARKS=ON \
    -DSNN2ANN_WITH_MPI=ON -DSNN2ANN_WITH_HDF5=ON -DSNN2ANN_WITH_IMAGES=ON -DSNN2ANN_WITH_DOCS=ON \
    -DSNN2ANN_BUILD_FUZZERS=ON
cmake --build "$root/build/test" -j2
ctest --test-dir "$root/build/test" --output-on-failure -j2 "$@"
