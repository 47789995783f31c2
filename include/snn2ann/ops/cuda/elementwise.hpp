// snn2ann/ops/cuda: element-by-element kernels: biases, dropout masks, ReLU gradients,
// time averages, layout transposes, BN folding and per-channel sums. Each is a body (a
// function object of one index, or of one segment) run by either execution.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "../../core/host_device.hpp"
#include "../../core/rng.hpp"
#include "../../layer/context.hpp"
#include "execution.hpp"

namespace snn2ann::inline v0::detail::cuda_ops {

/// y[n][c][p] += scale * b[c] over an NCHW batch (plane 1 for flat outputs).
struct add_bias_body {
    float* y;
    const float* b;
    std::size_t channels, plane;
    float scale;
    SNN2ANN_HOST_DEVICE void operator()(std::size_t i) const { y[i] += scale * b[(i / plane) % channels]; }
};
template <class Device>
void add_bias(const Device& d, float* y, const float* b, std::size_t batch, std::size_t channels, std::size_t plane,
              float scale) {
    d.for_each(batch * channels * plane, add_bias_body{y, b, channels, plane, scale}, "add_bias");
}

/// Inverted dropout with the CPU path's mask: element i is dropped when
/// rng.uniform(at(i)) < p (at: its place in a data-parallel step's global batch, else i).
struct dropout_body {
    const float* x;
    float* y;
    counter_rng rng;
    float p, scale;
    draw_position at;
    SNN2ANN_HOST_DEVICE void operator()(std::size_t i) const { y[i] = rng.uniform(at(i)) < p ? 0.0f : x[i] * scale; }
};
template <class Device>
void dropout(const Device& d, const float* x, float* y, std::size_t n, const counter_rng& rng, float p,
             const draw_position& at = {}) {
    d.for_each(n, dropout_body{x, y, rng, p, 1.0f / (1.0f - p), at}, "dropout");
}

/// dx = dy * k + add where x > 0, else 0 (ReLU's gradient; the mapping units use it too,
/// with their spike penalty as `add`).
struct relu_backward_body {
    const float *x, *dy;
    float* dx;
    float k, add;
    SNN2ANN_HOST_DEVICE void operator()(std::size_t i) const { dx[i] = x[i] > 0.0f ? dy[i] * k + add : 0.0f; }
};
template <class Device>
void relu_backward(const Device& d, const float* x, const float* dy, float* dx, std::size_t n, float k,
                   float add = 0.0f) {
    d.for_each(n, relu_backward_body{x, dy, dx, k, add}, "relu_backward");
}
struct relu_body {
    const float* x;
    float* y;
    SNN2ANN_HOST_DEVICE void operator()(std::size_t i) const { y[i] = x[i] > 0.0f ? x[i] : 0.0f; }
};
template <class Device>
void relu(const Device& d, const float* x, float* y, std::size_t n) {
    d.for_each(n, relu_body{x, y}, "relu");
}

/// out[j] = mean over t of y[t * n + j] (a T-step output averaged over time).
struct mean_over_steps_body {
    const float* y;
    std::size_t steps, n;
    float* out;
    SNN2ANN_HOST_DEVICE void operator()(std::size_t j) const {
        float s = 0.0f;
        for (std::size_t t = 0; t < steps; ++t) s += y[t * n + j];
        out[j] = s / static_cast<float>(steps);
    }
};
template <class Device>
void mean_over_steps(const Device& d, const float* y, std::size_t steps, std::size_t n, float* out) {
    d.for_each(n, mean_over_steps_body{y, steps, n, out}, "mean_over_steps");
}
/// d[t * n + j] = dmean[j] / steps: the gradient of the time average, for every step.
struct spread_over_steps_body {
    const float* dmean;
    std::size_t n;
    float k;
    float* out;
    SNN2ANN_HOST_DEVICE void operator()(std::size_t i) const { out[i] = dmean[i % n] * k; }
};
template <class Device>
void spread_over_steps(const Device& d, const float* dmean, std::size_t steps, std::size_t n, float* out) {
    d.for_each(steps * n, spread_over_steps_body{dmean, n, 1.0f / static_cast<float>(steps), out}, "spread_over_steps");
}

/// [n][c][p] -> [c][n][p] (a batch of NCHW images as one channel-major matrix).
struct channel_major_body {
    const float* x;
    float* y;
    std::size_t batch, channels, plane;
    SNN2ANN_HOST_DEVICE void operator()(std::size_t i) const {
        const std::size_t p = i % plane, c = (i / plane) % channels, n = i / (plane * channels);
        y[(c * batch + n) * plane + p] = x[i];
    }
};
template <class Device>
void channel_major(const Device& d, const float* x, float* y, std::size_t batch, std::size_t channels,
                   std::size_t plane) {
    d.for_each(batch * channels * plane, channel_major_body{x, y, batch, channels, plane}, "channel_major");
}

/// BN folded into the layer before it with the running statistics (docs/method.md):
/// W' = a W, b' = a (b - mean) + beta per output channel, a = gamma / sqrt(var + eps).
struct fold_batch_norm_body {
    const float *w, *b, *gamma, *beta, *mean, *var;
    float eps;
    std::size_t per_channel;
    float *w_out, *b_out;
    SNN2ANN_HOST_DEVICE void operator()(std::size_t i) const {
        const std::size_t o = i / per_channel;
        const float a = gamma[o] / sqrtf(var[o] + eps);
        w_out[i] = a * w[i];
        if (i % per_channel == 0) b_out[o] = a * (b[o] - mean[o]) + beta[o];
    }
};
template <class Device>
void fold_batch_norm(const Device& d, const float* w, const float* b, const float* gamma, const float* beta,
                     const float* mean, const float* var, float eps, std::size_t channels, std::size_t per_channel,
                     float* w_out, float* b_out) {
    d.for_each(channels * per_channel, fold_batch_norm_body{w, b, gamma, beta, mean, var, eps, per_channel, w_out, b_out},
               "fold_batch_norm");
}

/// out[c] = sum of x over channel c of an NCHW batch, in double (bias gradients).
struct channel_sum_body {
    const float* x;
    std::size_t batch, channels, plane;
    float* out;
    template <class Reducer>
    SNN2ANN_HOST_DEVICE void operator()(std::size_t c, const Reducer& r) const {
        const double s = r.sum(batch * plane, [&](std::size_t j) { return static_cast<double>(x[channel_element(j, c, channels, plane)]); });
        if (r.leader()) out[c] = static_cast<float>(s);
    }
};
template <class Device>
void channel_sum(const Device& d, const float* x, std::size_t batch, std::size_t channels, std::size_t plane,
                 float* out) {
    d.for_each_segment(channels, channel_sum_body{x, batch, channels, plane, out}, "channel_sum");
}

template <class Device>
void copy(const Device& d, const float* from, float* to, std::size_t n) {
    d.copy(to, from, n * sizeof(float));
}

}  // namespace snn2ann::inline v0::detail::cuda_ops
