// snn2ann/ops/cuda: max and average pooling, square window, no padding. Max pooling keeps
// the first maximum of each window (row-major scan, as the CPU path) for backward.
#pragma once

#include <cstddef>
#include <cstdint>

#include "../cpu/im2col.hpp"
#include "elementwise.cuh"

namespace snn2ann::inline v0::detail::cuda_ops {

__global__ void max_pool_kernel(conv_geometry g, std::size_t batch, const float* x, float* y, std::int32_t* argmax) {
    const std::size_t total = batch * g.c * g.out_plane();
    for (std::size_t o = first_index(); o < total; o += grid_stride()) {
        const std::size_t p = o / g.out_plane(), q = o % g.out_plane();
        const int oh = static_cast<int>(q / g.ow), ow = static_cast<int>(q % g.ow);
        const float* in = x + p * g.h * g.w;
        float best = -INFINITY;
        std::int32_t where = 0;
        for (int kh = 0; kh < g.k; ++kh)
            for (int kw = 0; kw < g.k; ++kw) {
                const int i = (oh * g.stride + kh) * g.w + ow * g.stride + kw;
                if (in[i] > best) best = in[i], where = i;
            }
        y[o] = best;
        argmax[o] = where;
    }
}
__global__ void max_pool_backward_kernel(conv_geometry g, std::size_t batch, const float* dy,
                                         const std::int32_t* argmax, float* dx) {
    const std::size_t total = batch * g.c * g.out_plane();
    for (std::size_t o = first_index(); o < total; o += grid_stride()) {
        const std::size_t p = o / g.out_plane();
        atomicAdd(dx + p * g.h * g.w + argmax[o], dy[o]);  // windows may overlap
    }
}
inline void max_pool_forward(const device_context& d, const conv_geometry& g, std::size_t batch, const float* x,
                             float* y, std::int32_t* argmax) {
    const std::size_t n = batch * g.c * g.out_plane();
    max_pool_kernel<<<blocks_for(n), threads_per_block, 0, d.stream()>>>(g, batch, x, y, argmax);
    check_launch("max_pool_kernel");
}
/// dx (overwritten) = dy routed to each window's maximum.
inline void max_pool_backward(const device_context& d, const conv_geometry& g, std::size_t batch, const float* dy,
                              const std::int32_t* argmax, float* dx) {
    check(cudaMemsetAsync(dx, 0, batch * g.in_size() * sizeof(float), d.stream()), "cudaMemsetAsync");
    const std::size_t n = batch * g.c * g.out_plane();
    max_pool_backward_kernel<<<blocks_for(n), threads_per_block, 0, d.stream()>>>(g, batch, dy, argmax, dx);
    check_launch("max_pool_backward_kernel");
}

__global__ void avg_pool_kernel(conv_geometry g, std::size_t batch, const float* x, float* y) {
    const std::size_t total = batch * g.c * g.out_plane();
    const float scale = 1.0f / static_cast<float>(g.k * g.k);
    for (std::size_t o = first_index(); o < total; o += grid_stride()) {
        const std::size_t p = o / g.out_plane(), q = o % g.out_plane();
        const int oh = static_cast<int>(q / g.ow), ow = static_cast<int>(q % g.ow);
        const float* in = x + p * g.h * g.w;
        float s = 0.0f;
        for (int kh = 0; kh < g.k; ++kh)
            for (int kw = 0; kw < g.k; ++kw) s += in[(oh * g.stride + kh) * g.w + ow * g.stride + kw];
        y[o] = s * scale;
    }
}
__global__ void avg_pool_backward_kernel(conv_geometry g, std::size_t batch, const float* dy, float* dx) {
    const std::size_t total = batch * g.c * g.out_plane();
    const float scale = 1.0f / static_cast<float>(g.k * g.k);
    for (std::size_t o = first_index(); o < total; o += grid_stride()) {
        const std::size_t p = o / g.out_plane(), q = o % g.out_plane();
        const int oh = static_cast<int>(q / g.ow), ow = static_cast<int>(q % g.ow);
        for (int kh = 0; kh < g.k; ++kh)
            for (int kw = 0; kw < g.k; ++kw)
                atomicAdd(dx + p * g.h * g.w + (oh * g.stride + kh) * g.w + ow * g.stride + kw, dy[o] * scale);
    }
}
inline void avg_pool_forward(const device_context& d, const conv_geometry& g, std::size_t batch, const float* x,
                             float* y) {
    const std::size_t n = batch * g.c * g.out_plane();
    avg_pool_kernel<<<blocks_for(n), threads_per_block, 0, d.stream()>>>(g, batch, x, y);
    check_launch("avg_pool_kernel");
}
inline void avg_pool_backward(const device_context& d, const conv_geometry& g, std::size_t batch, const float* dy,
                              float* dx) {
    check(cudaMemsetAsync(dx, 0, batch * g.in_size() * sizeof(float), d.stream()), "cudaMemsetAsync");
    const std::size_t n = batch * g.c * g.out_plane();
    avg_pool_backward_kernel<<<blocks_for(n), threads_per_block, 0, d.stream()>>>(g, batch, dy, dx);
    check_launch("avg_pool_backward_kernel");
}

}  // namespace snn2ann::inline v0::detail::cuda_ops
