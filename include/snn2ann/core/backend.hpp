// snn2ann/core: backend tags. Layers are written once against a tag; each backend adds
// overloads of the kernels in detail::ops (ops/cpu/*.hpp, later ops/cuda/*.cuh) taking
// its tag as the first argument, so a new backend adds files instead of rewriting layers.
#pragma once

namespace snn2ann::inline v0 {

/// Run on the CPU: Eigen single-threaded inside oneTBB tasks.
struct cpu {};

}  // namespace snn2ann::inline v0
