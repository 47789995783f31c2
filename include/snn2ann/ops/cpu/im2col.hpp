// snn2ann/ops/cpu: im2col and col2im for one NCHW image, so a convolution is one GEMM.
// col has (C*K*K) rows of (OH*OW) columns; row (c*K + kh)*K + kw holds input pixel
// (c, oh*S - P + kh, ow*S - P + kw) for every output pixel (oh, ow), zero outside.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>

namespace snn2ann::inline v0::detail {

/// Geometry of a 2-D convolution or pooling window over one NCHW image.
struct conv_geometry {
    int c, h, w;          // input
    int k, stride, pad;   // square kernel
    int oc, oh, ow;       // output (oc: output channels; pooling keeps c)

    constexpr std::size_t col_rows() const { return static_cast<std::size_t>(c) * k * k; }
    constexpr std::size_t out_plane() const { return static_cast<std::size_t>(oh) * ow; }
    constexpr std::size_t in_size() const { return static_cast<std::size_t>(c) * h * w; }
    constexpr std::size_t out_size() const { return static_cast<std::size_t>(oc) * oh * ow; }
    /// A 1x1, stride-1, unpadded convolution reads its input as the column matrix itself.
    constexpr bool is_pointwise() const { return k == 1 && stride == 1 && pad == 0; }
};

namespace ops {

/// Valid output columns [lo, hi) for kernel offset `off` (= kw - pad): those with
/// 0 <= ow*S + off < w.
inline void valid_span(int off, int stride, int w, int ow, int& lo, int& hi) {
    lo = off >= 0 ? 0 : (-off + stride - 1) / stride;
    hi = w - off <= 0 ? 0 : std::min(ow, (w - off - 1) / stride + 1);
    if (hi < lo) hi = lo;
}

inline void im2col(const conv_geometry& g, const float* x, float* col) {
    const int ow = g.ow;
    for (int c = 0; c < g.c; ++c)
        for (int kh = 0; kh < g.k; ++kh)
            for (int kw = 0; kw < g.k; ++kw) {
                float* row = col + ((static_cast<std::size_t>(c) * g.k + kh) * g.k + kw) * g.out_plane();
                int lo, hi;
                valid_span(kw - g.pad, g.stride, g.w, ow, lo, hi);
                for (int oh = 0; oh < g.oh; ++oh) {
                    float* out = row + static_cast<std::size_t>(oh) * ow;
                    const int ih = oh * g.stride - g.pad + kh;
                    if (ih < 0 || ih >= g.h) {
                        std::fill(out, out + ow, 0.0f);
                        continue;
                    }
                    const float* in = x + (static_cast<std::size_t>(c) * g.h + ih) * g.w + (kw - g.pad);
                    std::fill(out, out + lo, 0.0f);
                    // Rows are short (a few dozen floats): an inline loop beats a memcpy call.
                    if (g.stride == 1)
                        for (int o = lo; o < hi; ++o) out[o] = in[o];
                    else
                        for (int o = lo; o < hi; ++o) out[o] = in[o * g.stride];
                    std::fill(out + hi, out + ow, 0.0f);
                }
            }
}

/// dx += col2im(dcol): every column entry is added back to the pixel it was read from.
inline void col2im_add(const conv_geometry& g, const float* col, float* dx) {
    const int ow = g.ow;
    for (int c = 0; c < g.c; ++c)
        for (int kh = 0; kh < g.k; ++kh)
            for (int kw = 0; kw < g.k; ++kw) {
                const float* row = col + ((static_cast<std::size_t>(c) * g.k + kh) * g.k + kw) * g.out_plane();
                int lo, hi;
                valid_span(kw - g.pad, g.stride, g.w, ow, lo, hi);
                for (int oh = 0; oh < g.oh; ++oh) {
                    const int ih = oh * g.stride - g.pad + kh;
                    if (ih < 0 || ih >= g.h) continue;
                    const float* in = row + static_cast<std::size_t>(oh) * ow;
                    float* out = dx + (static_cast<std::size_t>(c) * g.h + ih) * g.w + (kw - g.pad);
                    for (int o = lo; o < hi; ++o) out[o * g.stride] += in[o];
                }
            }
}

}  // namespace ops
}  // namespace snn2ann::inline v0::detail
