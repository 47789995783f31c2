// snn2ann/ops/cuda: im2col and col2im for a chunk of n images. The column matrix is
// [c*k*k][n * out_plane]: row r = (c, kh, kw), one column per output pixel of every image,
// so a whole chunk's weight gradient is one GEMM (conv.cuh).
#pragma once

#include <cstddef>

#include "../cpu/im2col.hpp"
#include "context.cuh"
#include "elementwise.cuh"

namespace snn2ann::inline v0::detail::cuda_ops {

__global__ void im2col_kernel(conv_geometry g, std::size_t images, const float* x, float* col) {
    const std::size_t plane = g.out_plane(), cols = images * plane, total = g.col_rows() * cols;
    for (std::size_t i = first_index(); i < total; i += grid_stride()) {
        const std::size_t r = i / cols, j = i - r * cols;
        const std::size_t n = j / plane, p = j - n * plane;
        const int kw = static_cast<int>(r % g.k), kh = static_cast<int>((r / g.k) % g.k), c = static_cast<int>(r / (g.k * g.k));
        const int oh = static_cast<int>(p / g.ow), ow = static_cast<int>(p % g.ow);
        const int ih = oh * g.stride - g.pad + kh, iw = ow * g.stride - g.pad + kw;
        const bool inside = ih >= 0 && ih < g.h && iw >= 0 && iw < g.w;
        col[i] = inside ? x[((n * g.c + c) * g.h + ih) * static_cast<std::size_t>(g.w) + iw] : 0.0f;
    }
}
inline void im2col(const device_context& d, const conv_geometry& g, std::size_t images, const float* x, float* col) {
    const std::size_t n = g.col_rows() * images * g.out_plane();
    im2col_kernel<<<blocks_for(n), threads_per_block, 0, d.stream()>>>(g, images, x, col);
    check_launch("im2col_kernel");
}

/// dx = col2im(dcol): each input pixel gathers the column entries read from it (one
/// thread per pixel, no atomics: deterministic). dx is overwritten.
__global__ void col2im_kernel(conv_geometry g, std::size_t images, const float* col, float* dx) {
    const std::size_t plane = g.out_plane(), cols = images * plane, total = images * g.in_size();
    for (std::size_t i = first_index(); i < total; i += grid_stride()) {
        const int iw = static_cast<int>(i % g.w), ih = static_cast<int>((i / g.w) % g.h);
        const std::size_t c = (i / (static_cast<std::size_t>(g.w) * g.h)) % g.c, n = i / g.in_size();
        float s = 0.0f;
        for (int kh = 0; kh < g.k; ++kh) {
            const int th = ih + g.pad - kh;  // = oh * stride
            if (th < 0 || th % g.stride) continue;
            const int oh = th / g.stride;
            if (oh >= g.oh) continue;
            for (int kw = 0; kw < g.k; ++kw) {
                const int tw = iw + g.pad - kw;
                if (tw < 0 || tw % g.stride) continue;
                const int ow = tw / g.stride;
                if (ow >= g.ow) continue;
                const std::size_t r = (c * g.k + kh) * g.k + kw;
                s += col[r * cols + n * plane + static_cast<std::size_t>(oh) * g.ow + ow];
            }
        }
        dx[i] = s;
    }
}
inline void col2im(const device_context& d, const conv_geometry& g, std::size_t images, const float* col, float* dx) {
    const std::size_t n = images * g.in_size();
    col2im_kernel<<<blocks_for(n), threads_per_block, 0, d.stream()>>>(g, images, col, dx);
    check_launch("col2im_kernel");
}

}  // namespace snn2ann::inline v0::detail::cuda_ops
