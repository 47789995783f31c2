#!/usr/bin/env bash
# Sets everything up, builds every test (Release) and runs them with ctest.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/scripts/common.sh"
bash "$root/scripts/install_deps.sh" test
configure "$root/build/test" Release -DSNN2ANN_BUILD_EXAMPLES=ON -DSNN2ANN_BUILD_BENCHMARKS=ON
cmake --build "$root/build/test" -j2
ctest --test-dir "$root/build/test" --output-on-failure -j2 "$@"
