// snn2ann/cuda_on_host.hpp: the CUDA backend's code run on the CPU. Any C++20 compiler
// compiles it (no CUDA toolkit needed), and
//   snn2ann::model<net, snn2ann::timesteps<5>, snn2ann::cuda_on_host> m{snn2ann::seed{1}};
// runs what model<net, T, cuda> runs on a GPU (<snn2ann/cuda.cuh>): the same model,
// sequence, layers, kernel bodies and GEMM calls, on the host execution
// (ops/cuda/host_execution.hpp: oneTBB loops, Eigen GEMMs that check their arguments as
// cuBLAS does). It is there to test CUDA programs and the backend itself where no GPU is;
// to train fast on a CPU, use the cpu backend.
#pragma once

#include "snn2ann.hpp"

#include "net/cuda_model.hpp"
#include "ops/cuda/buffer.hpp"
#include "ops/cuda/device_choice.hpp"
#include "ops/cuda/host_execution.hpp"
