// snn2ann/core: backend tags, an option of model<>. A layer spec says what the layer is
// once (its shapes, parameters, state and CPU implementation impl<cpu, In>); the CUDA
// backend adds its implementation of the same spec (gpu_layer<Spec, In, Device>,
// layer/cuda_layers.hpp) over its kernels (detail::cuda_ops, ops/cuda/), while the CPU
// kernels are detail::cpu_ops (ops/cpu/). Both run a network by the same layout and pass
// plan (layer/pass_plan.hpp), so a backend adds layers and kernels, never pass rules.
#pragma once

namespace snn2ann::inline v0 {

/// Run on the CPU: Eigen single-threaded inside oneTBB tasks.
struct cpu {};

/// Run on an NVIDIA GPU: cuBLAS GEMMs and the library's own kernels, every buffer in
/// device memory. model<net, timesteps<T>, cuda> is defined by <snn2ann/cuda.cuh>, which
/// only nvcc compiles (CMake: link snn2ann::cuda); the tag itself costs nothing.
struct cuda {};

/// The CUDA backend's code (its model, layers, kernel bodies and GEMM calls) run on the
/// CPU: the host execution, for testing a CUDA program without a GPU. Defined by
/// <snn2ann/cuda_on_host.hpp>, which any C++20 compiler compiles (no CUDA needed). It
/// computes what model<net, T, cuda> computes, with the CPU's rounding; for speed on a
/// CPU use the cpu backend.
struct cuda_on_host {};

}  // namespace snn2ann::inline v0
