// snn2ann/ops/cuda: im2col and col2im for a chunk of n images. The column matrix is
// [c*k*k][n * out_plane]: row r = (c, kh, kw), one column per output pixel of every image,
// so a whole chunk's weight gradient is one GEMM (conv.hpp).
#pragma once

#include <cstddef>

#include "../../core/host_device.hpp"
#include "../cpu/im2col.hpp"

namespace snn2ann::inline v0::detail::cuda_ops {

struct im2col_body {
    conv_geometry g;
    std::size_t images;
    const float* x;
    float* col;
    SNN2ANN_HOST_DEVICE void operator()(std::size_t i) const {
        const std::size_t plane = g.out_plane(), cols = images * plane;
        const std::size_t r = i / cols, j = i - r * cols;
        const std::size_t n = j / plane, p = j - n * plane;
        const int kw = static_cast<int>(r % g.k), kh = static_cast<int>((r / g.k) % g.k), c = static_cast<int>(r / (g.k * g.k));
        const int oh = static_cast<int>(p / g.ow), ow = static_cast<int>(p % g.ow);
        const int ih = oh * g.stride - g.pad + kh, iw = ow * g.stride - g.pad + kw;
        const bool inside = ih >= 0 && ih < g.h && iw >= 0 && iw < g.w;
        col[i] = inside ? x[((n * g.c + c) * g.h + ih) * static_cast<std::size_t>(g.w) + iw] : 0.0f;
    }
};
template <class Device>
void im2col(const Device& d, const conv_geometry& g, std::size_t images, const float* x, float* col) {
    d.for_each(g.col_rows() * images * g.out_plane(), im2col_body{g, images, x, col}, "im2col");
}

/// dx = col2im(dcol): each input pixel gathers the column entries read from it (one
/// index per pixel, no atomics: deterministic). dx is overwritten.
struct col2im_body {
    conv_geometry g;
    std::size_t images;
    const float* col;
    float* dx;
    SNN2ANN_HOST_DEVICE void operator()(std::size_t i) const {
        const std::size_t plane = g.out_plane(), cols = images * plane;
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
};
template <class Device>
void col2im(const Device& d, const conv_geometry& g, std::size_t images, const float* col, float* dx) {
    d.for_each(images * g.in_size(), col2im_body{g, images, col, dx}, "col2im");
}

}  // namespace snn2ann::inline v0::detail::cuda_ops
