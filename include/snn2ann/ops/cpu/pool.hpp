// snn2ann/ops/cpu: max and average pooling over NCHW batches (square window, no padding).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>

#include "../../core/backend.hpp"
#include "../../core/parallel.hpp"
#include "im2col.hpp"

namespace snn2ann::inline v0::detail::ops {

/// 2x2 windows with stride 2 keep no argmax: backward finds the winner again by comparing
/// the input with the output, which costs less than writing and reading the indices.
constexpr bool is_pair_window(const conv_geometry& g) { return g.k == 2 && g.stride == 2; }

/// Floats per block of line pairs in the even-plane 2x2 paths (stack arrays; wider planes
/// take the general path).
inline constexpr std::size_t pool_block_floats = 1024;

/// 2x2/2 windows on even planes that fit a block: every input line pairs with its
/// neighbour across all planes of the batch, the layout the blocked paths rely on.
constexpr bool tiles_into_line_pairs(const conv_geometry& g) {
    return is_pair_window(g) && g.h % 2 == 0 && g.w % 2 == 0 && static_cast<std::size_t>(g.w) <= pool_block_floats;
}

/// y = max over each window; argmax[i] is the input index (within the channel plane) that
/// won, except for 2x2/2 windows (argmax may then be null).
inline void max_pool_forward(cpu, const conv_geometry& g, std::size_t batch, const float* x, float* y,
                             std::int32_t* argmax) {
    const std::size_t planes = batch * static_cast<std::size_t>(g.c);
    if (tiles_into_line_pairs(g)) {
        // Even planes tile into pairs of input lines, one per output line, across every
        // plane of the batch: take the maxima of line pairs for a block of them, then of
        // neighbouring columns, which (w being even) are neighbours in the block too. Two
        // long loops that vectorise, instead of a short one per output line (rows here
        // are 7 to 14 outputs); the same comparisons in the same order as below.
        const std::size_t w = static_cast<std::size_t>(g.w), ow = static_cast<std::size_t>(g.ow);
        const std::size_t lines_per_block = std::max<std::size_t>(1, pool_block_floats / w);
        for_range(planes * g.oh, 64, [&](std::size_t l0, std::size_t l1) {
            float pair_max[pool_block_floats];
            for (std::size_t l = l0; l < l1; l += lines_per_block) {
                const std::size_t n = std::min(lines_per_block, l1 - l);
                const float* in = x + 2 * l * w;
                for (std::size_t i = 0; i < n; ++i)
                    for (std::size_t k = 0; k < w; ++k)
                        pair_max[i * w + k] = std::max(in[2 * i * w + k], in[(2 * i + 1) * w + k]);
                float* out = y + l * ow;
                for (std::size_t j = 0; j < n * ow; ++j) out[j] = std::max(pair_max[2 * j], pair_max[2 * j + 1]);
            }
        });
        return;
    }
    for_range(planes, 16, [&](std::size_t p0, std::size_t p1) {
        for (std::size_t p = p0; p < p1; ++p) {
            const float* in = x + p * g.h * g.w;
            float* out = y + p * g.out_plane();
            std::int32_t* arg = argmax ? argmax + p * g.out_plane() : nullptr;
            if (is_pair_window(g)) {  // the common case: no argmax, vectorisable row maxima
                for (int oh = 0; oh < g.oh; ++oh) {
                    const float* r0 = in + 2 * oh * g.w;
                    const float* r1 = r0 + g.w;
                    float* o = out + oh * g.ow;
                    for (int ow = 0; ow < g.ow; ++ow) {
                        const float a = std::max(r0[2 * ow], r1[2 * ow]);
                        const float b = std::max(r0[2 * ow + 1], r1[2 * ow + 1]);
                        o[ow] = std::max(a, b);
                    }
                }
                continue;
            }
            for (int oh = 0; oh < g.oh; ++oh)
                for (int ow = 0; ow < g.ow; ++ow) {
                    float best = -std::numeric_limits<float>::infinity();
                    std::int32_t where = 0;
                    for (int kh = 0; kh < g.k; ++kh)
                        for (int kw = 0; kw < g.k; ++kw) {
                            const int i = (oh * g.stride + kh) * g.w + ow * g.stride + kw;
                            if (in[i] > best) best = in[i], where = i;
                        }
                    out[oh * g.ow + ow] = best;
                    if (arg) arg[oh * g.ow + ow] = where;
                }
        }
    });
}

/// dx = dy routed to each window's maximum (the first one on ties); dx is overwritten.
inline void max_pool_backward(cpu, const conv_geometry& g, std::size_t batch, const float* x, const float* y,
                              const float* dy, const std::int32_t* argmax, float* dx) {
    const std::size_t planes = batch * static_cast<std::size_t>(g.c);
    if (tiles_into_line_pairs(g)) {
        // As in the forward pass: blocks of line pairs across planes. The top and bottom
        // lines of a block are gathered into two contiguous arrays, where the four
        // entries of window j sit at 2j and 2j + 1 of each: one long loop picks the first
        // maximum of every window (same rule as below) and writes its gradient, and the
        // lines are scattered back.
        const std::size_t w = static_cast<std::size_t>(g.w), ow = static_cast<std::size_t>(g.ow);
        const std::size_t lines_per_block = std::max<std::size_t>(1, pool_block_floats / w);
        for_range(planes * g.oh, 64, [&](std::size_t l0, std::size_t l1) {
            float top[pool_block_floats], bottom[pool_block_floats];
            for (std::size_t l = l0; l < l1; l += lines_per_block) {
                const std::size_t n = std::min(lines_per_block, l1 - l);
                const float* in = x + 2 * l * w;
                for (std::size_t i = 0; i < n; ++i)
                    for (std::size_t k = 0; k < w; ++k) {
                        top[i * w + k] = in[2 * i * w + k];
                        bottom[i * w + k] = in[(2 * i + 1) * w + k];
                    }
                const float* m = y + l * ow;
                const float* d = dy + l * ow;
                for (std::size_t j = 0; j < n * ow; ++j) {
                    const float v = m[j], grad = d[j];
                    const bool w0 = top[2 * j] == v;
                    const bool w1 = !w0 & (top[2 * j + 1] == v);
                    const bool w2 = !(w0 | w1) & (bottom[2 * j] == v);
                    const bool w3 = !(w0 | w1 | w2);
                    top[2 * j] = w0 ? grad : 0.0f;
                    top[2 * j + 1] = w1 ? grad : 0.0f;
                    bottom[2 * j] = w2 ? grad : 0.0f;
                    bottom[2 * j + 1] = w3 ? grad : 0.0f;
                }
                float* out = dx + 2 * l * w;
                for (std::size_t i = 0; i < n; ++i)
                    for (std::size_t k = 0; k < w; ++k) {
                        out[2 * i * w + k] = top[i * w + k];
                        out[(2 * i + 1) * w + k] = bottom[i * w + k];
                    }
            }
        });
        return;
    }
    for_range(planes, 16, [&](std::size_t p0, std::size_t p1) {
        for (std::size_t p = p0; p < p1; ++p) {
            float* out = dx + p * g.h * g.w;
            const float* d = dy + p * g.out_plane();
            if (is_pair_window(g)) {
                const float* in = x + p * g.h * g.w;
                const float* m = y + p * g.out_plane();
                if (g.h % 2 || g.w % 2) std::fill(out, out + static_cast<std::size_t>(g.h) * g.w, 0.0f);
                for (int oh = 0; oh < g.oh; ++oh)
                    for (int ow = 0; ow < g.ow; ++ow) {
                        const std::size_t i0 = static_cast<std::size_t>(2 * oh) * g.w + 2 * ow, o = oh * g.ow + ow;
                        const float v = m[o], grad = d[o];
                        const bool w0 = in[i0] == v;
                        const bool w1 = !w0 & (in[i0 + 1] == v);
                        const bool w2 = !(w0 | w1) & (in[i0 + g.w] == v);
                        const bool w3 = !(w0 | w1 | w2);
                        out[i0] = w0 ? grad : 0.0f;
                        out[i0 + 1] = w1 ? grad : 0.0f;
                        out[i0 + g.w] = w2 ? grad : 0.0f;
                        out[i0 + g.w + 1] = w3 ? grad : 0.0f;
                    }
                continue;
            }
            std::fill(out, out + static_cast<std::size_t>(g.h) * g.w, 0.0f);
            const std::int32_t* arg = argmax + p * g.out_plane();
            for (std::size_t i = 0; i < g.out_plane(); ++i) out[arg[i]] += d[i];
        }
    });
}

inline void avg_pool_forward(cpu, const conv_geometry& g, std::size_t batch, const float* x, float* y) {
    const std::size_t planes = batch * static_cast<std::size_t>(g.c);
    const float scale = 1.0f / static_cast<float>(g.k * g.k);
    for_range(planes, 16, [&](std::size_t p0, std::size_t p1) {
        for (std::size_t p = p0; p < p1; ++p) {
            const float* in = x + p * g.h * g.w;
            float* out = y + p * g.out_plane();
            for (int oh = 0; oh < g.oh; ++oh)
                for (int ow = 0; ow < g.ow; ++ow) {
                    float s = 0.0f;
                    for (int kh = 0; kh < g.k; ++kh)
                        for (int kw = 0; kw < g.k; ++kw) s += in[(oh * g.stride + kh) * g.w + ow * g.stride + kw];
                    out[oh * g.ow + ow] = s * scale;
                }
        }
    });
}

inline void avg_pool_backward(cpu, const conv_geometry& g, std::size_t batch, const float* dy, float* dx) {
    const std::size_t planes = batch * static_cast<std::size_t>(g.c);
    const float scale = 1.0f / static_cast<float>(g.k * g.k);
    for_range(planes, 16, [&](std::size_t p0, std::size_t p1) {
        for (std::size_t p = p0; p < p1; ++p) {
            float* out = dx + p * g.h * g.w;
            std::fill(out, out + static_cast<std::size_t>(g.h) * g.w, 0.0f);
            const float* d = dy + p * g.out_plane();
            for (int oh = 0; oh < g.oh; ++oh)
                for (int ow = 0; ow < g.ow; ++ow)
                    for (int kh = 0; kh < g.k; ++kh)
                        for (int kw = 0; kw < g.k; ++kw)
                            out[(oh * g.stride + kh) * g.w + ow * g.stride + kw] += d[oh * g.ow + ow] * scale;
        }
    });
}

}  // namespace snn2ann::inline v0::detail::ops
