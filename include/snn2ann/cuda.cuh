// snn2ann/cuda.cuh: the CUDA backend. Include it (instead of, or after, snn2ann.hpp) in a
// file compiled by nvcc with --expt-relaxed-constexpr (CMake: link snn2ann::cuda, which
// sets that and links CUDA::cudart and CUDA::cublas), then
//   snn2ann::model<net, snn2ann::timesteps<5>, snn2ann::cuda> m{snn2ann::seed{1}};
// trains with rules::snn2ann, rules::bptt and rules::ann (ReLU) on the GPU, through the
// same trainer. Residual blocks, QCFS, ANN-to-SNN conversion, Poisson input and the spike
// metrics run on the cpu backend (copy_to() gives a CPU model with the same weights).
#pragma once

#ifndef __CUDACC__
#error "snn2ann/cuda.cuh holds CUDA kernels: compile this file with nvcc (CMake: link snn2ann::cuda)"
#endif

#include "snn2ann.hpp"

#include "ops/cuda/buffer.cuh"
#include "ops/cuda/error.cuh"
#include "net/cuda_model.cuh"
