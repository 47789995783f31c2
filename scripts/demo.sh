#!/usr/bin/env bash
# Sets everything up, builds (Release) and runs the main example. Extra arguments go to it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/scripts/common.sh"
bash "$root/scripts/install_deps.sh"
configure "$root/build/release" Release -DSNN2ANN_BUILD_TESTS=OFF -DSNN2ANN_BUILD_BENCHMARKS=OFF
cmake --build "$root/build/release" -j2 --target snn2ann_fashion_mnist
"$root/build/release/examples/snn2ann_fashion_mnist" "$@"
