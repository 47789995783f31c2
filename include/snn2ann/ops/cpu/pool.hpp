// snn2ann/ops/cpu: max and average pooling over NCHW batches (square window, no padding).
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <limits>

#include "../../core/backend.hpp"
#include "../../core/parallel.hpp"
#include "im2col.hpp"

namespace snn2ann::inline v0::detail::cpu_ops {

/// 2x2 windows with stride 2 keep, instead of an int32 argmax, the corner that won as one
/// byte (0 top left, 1 top right, 2 bottom left, 3 bottom right): backward then needs
/// neither the input nor the output, so the input need not be kept for it.
constexpr bool is_pair_window(const conv_geometry& g) { return g.k == 2 && g.stride == 2; }

/// Floats per block of line pairs in the even-plane 2x2 paths (stack arrays; wider planes
/// take the general path).
inline constexpr std::size_t pool_block_floats = 1024;

/// 2x2/2 windows on even planes that fit a block: every input line pairs with its
/// neighbour across all planes of the batch, the layout the blocked paths rely on.
constexpr bool tiles_into_line_pairs(const conv_geometry& g) {
    return is_pair_window(g) && g.h % 2 == 0 && g.w % 2 == 0 && static_cast<std::size_t>(g.w) <= pool_block_floats;
}

/// The maximum of a 2x2 window and the corner of its first maximum in window order
/// (top left, top right, bottom left, bottom right); the maximum is taken in the order
/// max(max(tl, bl), max(tr, br)) everywhere, so every path gives the same bits.
struct pair_winner {
    float value;
    std::uint8_t corner;
};
inline pair_winner pair_max(float tl, float tr, float bl, float br) {
    const float v = std::max(std::max(tl, bl), std::max(tr, br));
    // The corner as arithmetic on the comparisons, not a chain of branches, keeps the
    // blocked loop below vectorised.
    const int past0 = tl != v, past1 = tr != v, past2 = bl != v;
    return {v, static_cast<std::uint8_t>(past0 * (1 + past1 * (1 + past2)))};
}

/// The gradient a window's input at `at` receives: grad where the window's winning corner
/// is `at`, else +0; an exact select done on the bits, which vectorises.
inline float routed_gradient(float grad, std::uint32_t corner, std::uint32_t at) {
    return std::bit_cast<float>(std::bit_cast<std::uint32_t>(grad) & (0u - (corner == at)));
}

/// y = max over each window. General windows write argmax[i], the input index (within the
/// channel plane) that won; 2x2/2 windows write corners[i] (see is_pair_window) when
/// corners is not null (a forward that no backward follows can skip them).
inline void max_pool_forward(cpu, const conv_geometry& g, std::size_t batch, const float* x, float* y,
                             std::int32_t* argmax, std::uint8_t* corners) {
    const std::size_t planes = batch * static_cast<std::size_t>(g.c);
    if (tiles_into_line_pairs(g)) {
        // Even planes tile into pairs of input lines, one per output line, across every
        // plane of the batch. A block of them is gathered into two contiguous arrays of
        // top and bottom lines, where window j's four inputs sit at 2j and 2j + 1 of
        // each (w is even): one long loop that vectorises, instead of a short one per
        // output line (rows here are 7 to 14 outputs).
        const std::size_t w = static_cast<std::size_t>(g.w), ow = static_cast<std::size_t>(g.ow);
        const std::size_t lines_per_block = std::max<std::size_t>(1, pool_block_floats / w);
        for_range(planes * g.oh, 64, [&](std::size_t l0, std::size_t l1) {
            float top[pool_block_floats], bottom[pool_block_floats];
            for (std::size_t l = l0; l < l1; l += lines_per_block) {
                const std::size_t n = std::min(lines_per_block, l1 - l);
                const float* in = x + 2 * l * w;
                float* out = y + l * ow;
                if (!corners) {  // the maxima of line pairs, then of neighbouring columns
                    for (std::size_t i = 0; i < n; ++i)
                        for (std::size_t k = 0; k < w; ++k)
                            top[i * w + k] = std::max(in[2 * i * w + k], in[(2 * i + 1) * w + k]);
                    for (std::size_t j = 0; j < n * ow; ++j) out[j] = std::max(top[2 * j], top[2 * j + 1]);
                    continue;
                }
                for (std::size_t i = 0; i < n; ++i)
                    for (std::size_t k = 0; k < w; ++k) {
                        top[i * w + k] = in[2 * i * w + k];
                        bottom[i * w + k] = in[(2 * i + 1) * w + k];
                    }
                std::uint8_t* corner = corners + l * ow;
                const std::size_t count = n * ow;  // a local bound: byte stores may alias a captured one
                for (std::size_t j = 0; j < count; ++j) {
                    const auto m = pair_max(top[2 * j], top[2 * j + 1], bottom[2 * j], bottom[2 * j + 1]);
                    out[j] = m.value;
                    corner[j] = m.corner;
                }
            }
        });
        return;
    }
    for_range(planes, 16, [&](std::size_t p0, std::size_t p1) {
        for (std::size_t p = p0; p < p1; ++p) {
            const float* in = x + p * g.h * g.w;
            float* out = y + p * g.out_plane();
            if (is_pair_window(g)) {
                std::uint8_t* corner = corners ? corners + p * g.out_plane() : nullptr;
                for (int oh = 0; oh < g.oh; ++oh) {
                    const float* r0 = in + 2 * oh * g.w;
                    const float* r1 = r0 + g.w;
                    for (int ow = 0; ow < g.ow; ++ow) {
                        const auto m = pair_max(r0[2 * ow], r0[2 * ow + 1], r1[2 * ow], r1[2 * ow + 1]);
                        out[oh * g.ow + ow] = m.value;
                        if (corner) corner[oh * g.ow + ow] = m.corner;
                    }
                }
                continue;
            }
            std::int32_t* arg = argmax + p * g.out_plane();
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
                    arg[oh * g.ow + ow] = where;
                }
        }
    });
}

/// dx = dy routed to each window's maximum (the first one on ties), from the argmax or
/// corners of the forward pass; dx is overwritten.
inline void max_pool_backward(cpu, const conv_geometry& g, std::size_t batch, const float* dy,
                              const std::int32_t* argmax, const std::uint8_t* corners, float* dx) {
    const std::size_t planes = batch * static_cast<std::size_t>(g.c);
    if (tiles_into_line_pairs(g)) {
        // As in the forward pass: blocks of line pairs across planes, the gradients of a
        // block's top and bottom lines made in two contiguous arrays and scattered back.
        const std::size_t w = static_cast<std::size_t>(g.w), ow = static_cast<std::size_t>(g.ow);
        const std::size_t lines_per_block = std::max<std::size_t>(1, pool_block_floats / w);
        for_range(planes * g.oh, 64, [&](std::size_t l0, std::size_t l1) {
            float top[pool_block_floats], bottom[pool_block_floats];
            for (std::size_t l = l0; l < l1; l += lines_per_block) {
                const std::size_t n = std::min(lines_per_block, l1 - l);
                const std::uint8_t* corner = corners + l * ow;
                const float* d = dy + l * ow;
                const std::size_t count = n * ow;
                for (std::size_t j = 0; j < count; ++j) {
                    const float grad = d[j];
                    const std::uint32_t k = corner[j];
                    top[2 * j] = routed_gradient(grad, k, 0);
                    top[2 * j + 1] = routed_gradient(grad, k, 1);
                    bottom[2 * j] = routed_gradient(grad, k, 2);
                    bottom[2 * j + 1] = routed_gradient(grad, k, 3);
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
                const std::uint8_t* corner = corners + p * g.out_plane();
                if (g.h % 2 || g.w % 2) std::fill(out, out + static_cast<std::size_t>(g.h) * g.w, 0.0f);
                for (int oh = 0; oh < g.oh; ++oh)
                    for (int ow = 0; ow < g.ow; ++ow) {
                        const std::size_t i0 = static_cast<std::size_t>(2 * oh) * g.w + 2 * ow, o = oh * g.ow + ow;
                        const float grad = d[o];
                        const std::uint32_t k = corner[o];
                        out[i0] = routed_gradient(grad, k, 0);
                        out[i0 + 1] = routed_gradient(grad, k, 1);
                        out[i0 + g.w] = routed_gradient(grad, k, 2);
                        out[i0 + g.w + 1] = routed_gradient(grad, k, 3);
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
            if (g.k == 2 && g.stride == 2) {
                // The common window, written out: the same sum in the same order, vectorised.
                for (int oh = 0; oh < g.oh; ++oh) {
                    const float* __restrict r0 = in + 2 * oh * g.w;
                    const float* __restrict r1 = r0 + g.w;
                    float* __restrict o = out + oh * g.ow;
                    for (int ow = 0; ow < g.ow; ++ow)
                        o[ow] = (((r0[2 * ow] + r0[2 * ow + 1]) + r1[2 * ow]) + r1[2 * ow + 1]) * scale;
                }
                continue;
            }
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

}  // namespace snn2ann::inline v0::detail::cpu_ops
