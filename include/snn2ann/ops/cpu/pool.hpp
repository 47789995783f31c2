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

/// y = max over each window; argmax[i] is the input index (within the channel plane) that won.
inline void max_pool_forward(cpu, const conv_geometry& g, std::size_t batch, const float* x, float* y,
                             std::int32_t* argmax) {
    const std::size_t planes = batch * static_cast<std::size_t>(g.c);
    for_range(planes, 16, [&](std::size_t p0, std::size_t p1) {
        for (std::size_t p = p0; p < p1; ++p) {
            const float* in = x + p * g.h * g.w;
            float* out = y + p * g.out_plane();
            std::int32_t* arg = argmax ? argmax + p * g.out_plane() : nullptr;
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

/// dx = scatter of dy to the argmax positions (dx is overwritten).
inline void max_pool_backward(cpu, const conv_geometry& g, std::size_t batch, const float* dy,
                              const std::int32_t* argmax, float* dx) {
    const std::size_t planes = batch * static_cast<std::size_t>(g.c);
    for_range(planes, 16, [&](std::size_t p0, std::size_t p1) {
        for (std::size_t p = p0; p < p1; ++p) {
            float* out = dx + p * g.h * g.w;
            std::fill(out, out + static_cast<std::size_t>(g.h) * g.w, 0.0f);
            const float* d = dy + p * g.out_plane();
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
