// snn2ann/ops/cuda: what every kernel of a model runs on: one stream and one cuBLAS
// handle bound to it (kernels and GEMMs of a model are ordered by that stream alone).
#pragma once

#include <cstddef>

#include "error.cuh"

namespace snn2ann::inline v0::detail::cuda_ops {

inline constexpr int threads_per_block = 256;

/// Blocks for a grid-stride loop over n elements: enough to fill the GPU, never more
/// than the elements need.
inline unsigned blocks_for(std::size_t n) {
    const std::size_t b = (n + threads_per_block - 1) / threads_per_block;
    return static_cast<unsigned>(b < 1 ? 1 : (b > 65535 ? 65535 : b));
}

class device_context {
public:
    device_context() {
        require_device("snn2ann cuda backend");
        // A blocking stream: it orders itself with the legacy default stream, so plain
        // cudaMemcpy calls (setup, copies to and from CPU models) never race its kernels.
        check(cudaStreamCreate(&stream_), "cudaStreamCreate");
        check(cublasCreate(&blas_), "cublasCreate");
        check(cublasSetStream(blas_, stream_), "cublasSetStream");
    }
    device_context(const device_context&) = delete;
    device_context& operator=(const device_context&) = delete;
    ~device_context() {
        (void)cublasDestroy(blas_);
        (void)cudaStreamDestroy(stream_);
    }

    /// fp32 GEMMs (default) or TF32 tensor-core GEMMs (about 10 mantissa bits per product).
    void allow_tf32(bool on) {
        check(cublasSetMathMode(blas_, on ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH), "cublasSetMathMode");
        tf32_ = on;
    }
    bool tf32() const { return tf32_; }

    cudaStream_t stream() const { return stream_; }
    cublasHandle_t blas() const { return blas_; }
    void synchronize() const { check(cudaStreamSynchronize(stream_), "cudaStreamSynchronize"); }

private:
    cudaStream_t stream_ = nullptr;
    cublasHandle_t blas_ = nullptr;
    bool tf32_ = false;
};

}  // namespace snn2ann::inline v0::detail::cuda_ops
