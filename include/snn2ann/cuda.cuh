// snn2ann/cuda.cuh: the CUDA backend on a GPU. Include it (instead of, or after,
// snn2ann.hpp) in files compiled by nvcc with --expt-relaxed-constexpr (CMake: link
// snn2ann::cuda, which sets that and links CUDA::cudart and CUDA::cublas), then
//   snn2ann::model<net, snn2ann::timesteps<5>, snn2ann::cuda> m{snn2ann::seed{1}};
// trains with rules::snn2ann, rules::bptt and rules::ann (ReLU) on the GPU, through the
// same trainer. Any number of a program's files may include it. The same model runs on
// the CPU as model<net, T, cuda_on_host> (<snn2ann/cuda_on_host.hpp>, no nvcc needed),
// which is how the backend is tested without a GPU. Residual blocks, QCFS, ANN-to-SNN
// conversion, Poisson input and the spike metrics run on the cpu backend (copy_to() gives
// a CPU model with the same weights). A process of an MPI job uses the GPU of its rank on
// its node; SNN2ANN_CUDA_DEVICE=N picks GPU N instead.
#pragma once

#ifndef __CUDACC__
#error "snn2ann/cuda.cuh holds CUDA kernels: compile this file with nvcc (CMake: link snn2ann::cuda), or include <snn2ann/cuda_on_host.hpp> to run the CUDA backend on the CPU"
#endif

#include "cuda_on_host.hpp"
#include "ops/cuda/runtime.cuh"

namespace snn2ann::inline v0::detail {
template <>
struct cuda_execution<cuda> {
    using type = cuda_ops::gpu_device;
};
}  // namespace snn2ann::inline v0::detail
