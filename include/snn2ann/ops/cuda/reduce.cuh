// snn2ann/ops/cuda: per-channel sums over an NCHW batch, one block per channel. Each
// thread sums a fixed stride of the channel in double and the block adds the partial
// sums in a fixed tree: the result does not depend on scheduling (no atomics).
#pragma once

#include <cstddef>

#include "context.cuh"

namespace snn2ann::inline v0::detail::cuda_ops {

/// The sum of v over the block (threads_per_block threads); valid in thread 0.
__device__ inline double block_sum(double v) {
    __shared__ double partial[threads_per_block];
    partial[threadIdx.x] = v;
    __syncthreads();
    for (unsigned half = threads_per_block / 2; half > 0; half /= 2) {
        if (threadIdx.x < half) partial[threadIdx.x] += partial[threadIdx.x + half];
        __syncthreads();
    }
    const double total = partial[0];
    __syncthreads();  // partial[] is reused by the caller's next block_sum
    return total;
}

/// Index of element j (0 .. batch*plane) of channel c in an NCHW batch.
__device__ inline std::size_t channel_element(std::size_t j, std::size_t c, std::size_t channels, std::size_t plane) {
    const std::size_t n = j / plane;
    return (n * channels + c) * plane + (j - n * plane);
}

/// out[c] = sum of x over channel c (bias gradients of conv and linear layers).
__global__ void channel_sum_kernel(const float* x, std::size_t batch, std::size_t channels, std::size_t plane,
                                   float* out) {
    const std::size_t c = blockIdx.x, count = batch * plane;
    double s = 0.0;
    for (std::size_t j = threadIdx.x; j < count; j += blockDim.x) s += x[channel_element(j, c, channels, plane)];
    s = block_sum(s);
    if (threadIdx.x == 0) out[c] = static_cast<float>(s);
}

inline void channel_sum(const device_context& d, const float* x, std::size_t batch, std::size_t channels,
                        std::size_t plane, float* out) {
    channel_sum_kernel<<<static_cast<unsigned>(channels), threads_per_block, 0, d.stream()>>>(x, batch, channels,
                                                                                              plane, out);
    check_launch("channel_sum_kernel");
}

}  // namespace snn2ann::inline v0::detail::cuda_ops
