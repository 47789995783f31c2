// snn2ann/ops/cuda: max and average pooling, square window, no padding. Max pooling keeps
// the first maximum of each window (row-major scan, as the CPU path) for backward. The
// backward passes are gathers: each input pixel adds the gradients of the windows that
// hold it, in window order (the CPU path's order of additions), so overlapping windows
// give the same bits on every run and on either execution.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "../../core/host_device.hpp"
#include "../cpu/im2col.hpp"

namespace snn2ann::inline v0::detail::cuda_ops {

/// The windows [first, last) of one axis that hold input position `at`.
struct window_span {
    int first, last;
    SNN2ANN_HOST_DEVICE static window_span of(int at, int k, int stride, int windows) {
        const int lo = at - k + 1 <= 0 ? 0 : (at - k + 1 + stride - 1) / stride;
        const int hi = at / stride + 1;
        return {lo, hi < windows ? hi : windows};
    }
};

/// Output o of a batch of planes: its plane, and the offset in that plane of its window's
/// top-left input (window element (kh, kw) is at corner + kh w + kw).
struct pool_window {
    std::size_t plane;
    int corner;
    SNN2ANN_HOST_DEVICE static pool_window of(const conv_geometry& g, std::size_t o) {
        const std::size_t p = o / g.out_plane(), q = o - p * g.out_plane();
        const int oh = static_cast<int>(q / g.ow), ow = static_cast<int>(q % g.ow);
        return {p, oh * g.stride * g.w + ow * g.stride};
    }
};

/// Input i of a batch of planes: its plane, its place in it, and the windows that hold it.
struct pooled_input {
    std::size_t plane;
    int at;
    window_span rows, cols;
    SNN2ANN_HOST_DEVICE static pooled_input of(const conv_geometry& g, std::size_t i) {
        const std::size_t size = static_cast<std::size_t>(g.h) * g.w, p = i / size;
        const int at = static_cast<int>(i - p * size);
        return {p, at, window_span::of(at / g.w, g.k, g.stride, g.oh), window_span::of(at % g.w, g.k, g.stride, g.ow)};
    }
    /// The index of window (oh, ow) of this input's plane.
    SNN2ANN_HOST_DEVICE std::size_t window(const conv_geometry& g, int oh, int ow) const {
        return plane * g.out_plane() + static_cast<std::size_t>(oh) * g.ow + ow;
    }
};

struct max_pool_body {
    conv_geometry g;
    const float* x;
    float* y;
    std::int32_t* argmax;
    SNN2ANN_HOST_DEVICE void operator()(std::size_t o) const {
        const pool_window window = pool_window::of(g, o);
        const float* in = x + window.plane * g.h * g.w;
        float best = -INFINITY;
        std::int32_t where = 0;
        for (int kh = 0; kh < g.k; ++kh)
            for (int kw = 0; kw < g.k; ++kw) {
                const int i = window.corner + kh * g.w + kw;
                if (in[i] > best) best = in[i], where = i;
            }
        y[o] = best;
        argmax[o] = where;
    }
};
/// dx[i] = the sum of dy over the windows whose maximum was input i.
struct max_pool_backward_body {
    conv_geometry g;
    const float* dy;
    const std::int32_t* argmax;
    float* dx;
    SNN2ANN_HOST_DEVICE void operator()(std::size_t i) const {
        const pooled_input in = pooled_input::of(g, i);
        float s = 0.0f;
        for (int oh = in.rows.first; oh < in.rows.last; ++oh)
            for (int ow = in.cols.first; ow < in.cols.last; ++ow) {
                const std::size_t o = in.window(g, oh, ow);
                if (argmax[o] == in.at) s += dy[o];
            }
        dx[i] = s;
    }
};
template <class Device>
void max_pool_forward(const Device& d, const conv_geometry& g, std::size_t batch, const float* x, float* y,
                      std::int32_t* argmax) {
    d.for_each(batch * g.c * g.out_plane(), max_pool_body{g, x, y, argmax}, "max_pool");
}
/// dx (overwritten) = dy routed to each window's maximum.
template <class Device>
void max_pool_backward(const Device& d, const conv_geometry& g, std::size_t batch, const float* dy,
                       const std::int32_t* argmax, float* dx) {
    d.for_each(batch * g.in_size(), max_pool_backward_body{g, dy, argmax, dx}, "max_pool_backward");
}

/// Max pooling of currents accumulated over the SNN's steps (current_pooling::accumulated,
/// layer/pool.hpp): each window passes M[t] - M[t-1], M[t] the largest of its inputs'
/// currents summed over steps 0..t. One index per window of a plane, through all steps,
/// its inputs' sums in registers: the CPU path's additions and maxima, the same bits.
template <int K>
struct accumulated_max_pool_body {
    conv_geometry g;
    std::size_t planes, steps;  // planes of one step: batch x channels
    const float* x;             // steps x planes x h x w, time-major
    float* y;                   // steps x planes x oh x ow
    SNN2ANN_HOST_DEVICE void operator()(std::size_t o) const {
        const std::size_t windows = g.out_plane(), p = o / windows, q = o % windows;
        const std::size_t plane = static_cast<std::size_t>(g.h) * g.w;
        const int oh = static_cast<int>(q / g.ow), ow = static_cast<int>(q % g.ow);
        float sum[K * K] = {};
        float previous = 0.0f;  // M[-1]: the maximum of sums that are all 0
        for (std::size_t t = 0; t < steps; ++t) {
            const float* in = x + (t * planes + p) * plane;
            float best = 0.0f;
            for (int kh = 0; kh < K; ++kh)
                for (int kw = 0; kw < K; ++kw) {
                    float& s = sum[kh * K + kw];
                    s += in[(oh * g.stride + kh) * g.w + ow * g.stride + kw];
                    best = kh == 0 && kw == 0 ? s : (s > best ? s : best);
                }
            y[(t * planes + p) * windows + q] = best - previous;
            previous = best;
        }
    }
};
template <int K, class Device>
void accumulated_max_pool_forward(const Device& d, const conv_geometry& g, std::size_t steps, std::size_t batch,
                                  const float* x, float* y) {
    const std::size_t planes = batch * static_cast<std::size_t>(g.c);
    d.for_each(planes * g.out_plane(), accumulated_max_pool_body<K>{g, planes, steps, x, y}, "accumulated_max_pool");
}

struct avg_pool_body {
    conv_geometry g;
    const float* x;
    float* y;
    SNN2ANN_HOST_DEVICE void operator()(std::size_t o) const {
        const float scale = 1.0f / static_cast<float>(g.k * g.k);
        const pool_window window = pool_window::of(g, o);
        const float* in = x + window.plane * g.h * g.w;
        float s = 0.0f;
        for (int kh = 0; kh < g.k; ++kh)
            for (int kw = 0; kw < g.k; ++kw) s += in[window.corner + kh * g.w + kw];
        y[o] = s * scale;
    }
};
/// dx[i] = the sum of dy * scale over the windows that hold input i.
struct avg_pool_backward_body {
    conv_geometry g;
    const float* dy;
    float* dx;
    SNN2ANN_HOST_DEVICE void operator()(std::size_t i) const {
        const float scale = 1.0f / static_cast<float>(g.k * g.k);
        const pooled_input in = pooled_input::of(g, i);
        float s = 0.0f;
        for (int oh = in.rows.first; oh < in.rows.last; ++oh)
            for (int ow = in.cols.first; ow < in.cols.last; ++ow) s += dy[in.window(g, oh, ow)] * scale;
        dx[i] = s;
    }
};
template <class Device>
void avg_pool_forward(const Device& d, const conv_geometry& g, std::size_t batch, const float* x, float* y) {
    d.for_each(batch * g.c * g.out_plane(), avg_pool_body{g, x, y}, "avg_pool");
}
template <class Device>
void avg_pool_backward(const Device& d, const conv_geometry& g, std::size_t batch, const float* dy, float* dx) {
    d.for_each(batch * g.in_size(), avg_pool_backward_body{g, dy, dx}, "avg_pool_backward");
}

}  // namespace snn2ann::inline v0::detail::cuda_ops
