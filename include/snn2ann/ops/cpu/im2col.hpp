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

namespace cpu_ops {

/// Valid output columns [lo, hi) for kernel offset `off` (= kw - pad): those with
/// 0 <= ow*S + off < w.
inline void valid_span(int off, int stride, int w, int ow, int& lo, int& hi) {
    lo = off >= 0 ? 0 : (-off + stride - 1) / stride;
    hi = w - off <= 0 ? 0 : std::min(ow, (w - off - 1) / stride + 1);
    if (hi < lo) hi = lo;
}

/// A stride-1 convolution whose output has the input's width (2*pad == k - 1 along the
/// width) reads every column-matrix row as the input plane shifted by one constant offset:
/// one contiguous copy per row instead of one short copy per output line, which matters
/// because im2col otherwise costs as much as a third of a small convolution.
constexpr bool is_shifted_plane(const conv_geometry& g) { return g.stride == 1 && g.ow == g.w; }

/// Where column-matrix row (kh, kw) of a shifted-plane geometry reads its input plane:
/// entry i is pixel i + shift for i in [first, last) (clipped to the plane), output lines
/// [oh_lo, oh_hi) read inside the input, and within them columns [lo, hi).
struct shifted_row {
    std::ptrdiff_t shift, first, last;
    int oh_lo, oh_hi, lo, hi;

    shifted_row(const conv_geometry& g, int kh, int kw) {
        valid_span(kh - g.pad, 1, g.h, g.oh, oh_lo, oh_hi);
        valid_span(kw - g.pad, 1, g.w, g.ow, lo, hi);
        const std::ptrdiff_t w = g.w, plane = static_cast<std::ptrdiff_t>(g.h) * g.w;
        shift = (kh - g.pad) * w + (kw - g.pad);
        first = std::max<std::ptrdiff_t>(oh_lo * w, -shift);
        last = std::min<std::ptrdiff_t>(oh_hi * w, plane - shift);
    }
};

/// Zeroes columns [0, lo) and [hi, w) of lines [oh_lo, oh_hi) of a w-wide plane: the entries
/// a shifted copy brought in from the neighbouring line. Column by column, as strided
/// stores: these runs are a pixel or two long, too short for memset calls to pay.
template <class T>
inline void clear_wrapped_columns(T* plane, int w, int oh_lo, int oh_hi, int lo, int hi) {
    for (int o = 0; o < lo; ++o)
        for (int oh = oh_lo; oh < oh_hi; ++oh) plane[static_cast<std::ptrdiff_t>(oh) * w + o] = T{};
    for (int o = hi; o < w; ++o)
        for (int oh = oh_lo; oh < oh_hi; ++oh) plane[static_cast<std::ptrdiff_t>(oh) * w + o] = T{};
}

template <class T>
inline void im2col_shifted_plane(const conv_geometry& g, const T* x, T* col, std::size_t row_stride) {
    const std::ptrdiff_t plane = static_cast<std::ptrdiff_t>(g.h) * g.w;
    for (int c = 0; c < g.c; ++c) {
        const T* in = x + c * plane;
        for (int kh = 0; kh < g.k; ++kh)
            for (int kw = 0; kw < g.k; ++kw) {
                T* row = col + ((static_cast<std::size_t>(c) * g.k + kh) * g.k + kw) * row_stride;
                const shifted_row r(g, kh, kw);
                const std::ptrdiff_t end = static_cast<std::ptrdiff_t>(g.out_plane());
                // Copy the valid rows in one run, clipped to the plane, then clear what
                // wrapped around from the neighbouring line and the rows above and below.
                std::fill(row, row + std::max<std::ptrdiff_t>(r.first, 0), T{});
                for (std::ptrdiff_t i = r.first; i < r.last; ++i) row[i] = in[i + r.shift];
                std::fill(row + std::min(std::max(r.last, r.first), end), row + end, T{});
                clear_wrapped_columns(row, g.w, r.oh_lo, r.oh_hi, r.lo, r.hi);
            }
    }
}

/// Also for bf16 bits (std::uint16_t), and for pairs of them (std::uint32_t: two channels'
/// bf16 values per entry, AMX's VNNI words): a spike input packs for AMX without
/// conversion. Rows start `row_stride` entries apart (0: out_plane(), no gap).
template <class T>
inline void im2col(const conv_geometry& g, const T* x, T* col, std::size_t row_stride = 0) {
    if (row_stride == 0) row_stride = g.out_plane();
    if (is_shifted_plane(g)) return im2col_shifted_plane(g, x, col, row_stride);
    const int ow = g.ow;
    for (int c = 0; c < g.c; ++c)
        for (int kh = 0; kh < g.k; ++kh)
            for (int kw = 0; kw < g.k; ++kw) {
                T* row = col + ((static_cast<std::size_t>(c) * g.k + kh) * g.k + kw) * row_stride;
                int lo, hi;
                valid_span(kw - g.pad, g.stride, g.w, ow, lo, hi);
                for (int oh = 0; oh < g.oh; ++oh) {
                    T* out = row + static_cast<std::size_t>(oh) * ow;
                    const int ih = oh * g.stride - g.pad + kh;
                    if (ih < 0 || ih >= g.h) {
                        std::fill(out, out + ow, T{});
                        continue;
                    }
                    const T* in = x + (static_cast<std::size_t>(c) * g.h + ih) * g.w + (kw - g.pad);
                    std::fill(out, out + lo, T{});
                    // Rows are short (a few dozen floats): an inline loop beats a memcpy call.
                    if (g.stride == 1)
                        for (int o = lo; o < hi; ++o) out[o] = in[o];
                    else
                        for (int o = lo; o < hi; ++o) out[o] = in[o * g.stride];
                    std::fill(out + hi, out + ow, T{});
                }
            }
}

/// dx += col2im(dcol): every column entry is added back to the pixel it was read from.
/// For shifted-plane geometries the entries that stand for padding are cleared in `col`
/// first (they carry no gradient), so each row is one contiguous add; the additions into
/// every pixel happen in the same order either way.
inline void col2im_add(const conv_geometry& g, float* col, float* dx) {
    const int ow = g.ow;
    if (is_shifted_plane(g)) {
        const std::ptrdiff_t plane = static_cast<std::ptrdiff_t>(g.h) * g.w;
        for (int c = 0; c < g.c; ++c) {
            float* out = dx + c * plane;
            for (int kh = 0; kh < g.k; ++kh)
                for (int kw = 0; kw < g.k; ++kw) {
                    float* row = col + ((static_cast<std::size_t>(c) * g.k + kh) * g.k + kw) * g.out_plane();
                    const shifted_row r(g, kh, kw);
                    clear_wrapped_columns(row, ow, r.oh_lo, r.oh_hi, r.lo, r.hi);
                    for (std::ptrdiff_t i = r.first; i < r.last; ++i) out[i + r.shift] += row[i];
                }
        }
        return;
    }
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

}  // namespace cpu_ops
}  // namespace snn2ann::inline v0::detail
