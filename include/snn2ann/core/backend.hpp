// snn2ann/core: backend tags. Layers are written once against a tag; each backend adds
// overloads of the kernels in detail::ops (ops/cpu/*.hpp, ops/cuda/*.cuh) taking its tag
// as the first argument, so a new backend adds files instead of rewriting layers.
#pragma once

namespace snn2ann::inline v0 {

/// Run on the CPU: Eigen single-threaded inside oneTBB tasks.
struct cpu {};

/// Run on an NVIDIA GPU: cuBLAS GEMMs and the library's own kernels, every buffer in
/// device memory. model<net, timesteps<T>, cuda> is defined by <snn2ann/cuda.cuh>, which
/// only nvcc compiles (CMake: link snn2ann::cuda); the tag itself costs nothing.
struct cuda {};

}  // namespace snn2ann::inline v0
