// snn2ann/ops/cuda: element-by-element kernels: biases, dropout masks, ReLU gradients,
// time averages, layout transposes and BN folding. Grid-stride loops throughout.
#pragma once

#include <cstddef>
#include <cstdint>

#include "../../core/rng.hpp"
#include "../../layer/context.hpp"
#include "context.cuh"

namespace snn2ann::inline v0::detail::cuda_ops {

__device__ inline std::size_t first_index() { return blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; }
__device__ inline std::size_t grid_stride() { return static_cast<std::size_t>(gridDim.x) * blockDim.x; }

/// y[n][c][p] += scale * b[c] over an NCHW batch (plane 1 for flat outputs).
__global__ void add_bias_kernel(float* y, const float* b, std::size_t total, std::size_t channels, std::size_t plane,
                                float scale) {
    for (std::size_t i = first_index(); i < total; i += grid_stride()) y[i] += scale * b[(i / plane) % channels];
}
inline void add_bias(const device_context& d, float* y, const float* b, std::size_t batch, std::size_t channels,
                     std::size_t plane, float scale) {
    const std::size_t n = batch * channels * plane;
    add_bias_kernel<<<blocks_for(n), threads_per_block, 0, d.stream()>>>(y, b, n, channels, plane, scale);
    check_launch("add_bias_kernel");
}

/// Inverted dropout with the CPU path's mask: element i is dropped when
/// rng.uniform(at(i)) < p (at: its place in a data-parallel step's global batch, else i).
__global__ void dropout_kernel(const float* x, float* y, std::size_t n, counter_rng rng, float p, float scale,
                               draw_position at) {
    for (std::size_t i = first_index(); i < n; i += grid_stride())
        y[i] = rng.uniform(at(i)) < p ? 0.0f : x[i] * scale;
}
inline void dropout(const device_context& d, const float* x, float* y, std::size_t n, const counter_rng& rng, float p,
                    const draw_position& at = {}) {
    dropout_kernel<<<blocks_for(n), threads_per_block, 0, d.stream()>>>(x, y, n, rng, p, 1.0f / (1.0f - p), at);
    check_launch("dropout_kernel");
}

/// dx = dy * k + add where x > 0, else 0 (ReLU's gradient; the mapping units use it too,
/// with their spike penalty as `add`).
__global__ void relu_backward_kernel(const float* x, const float* dy, float* dx, std::size_t n, float k, float add) {
    for (std::size_t i = first_index(); i < n; i += grid_stride()) dx[i] = x[i] > 0.0f ? dy[i] * k + add : 0.0f;
}
inline void relu_backward(const device_context& d, const float* x, const float* dy, float* dx, std::size_t n, float k,
                          float add = 0.0f) {
    relu_backward_kernel<<<blocks_for(n), threads_per_block, 0, d.stream()>>>(x, dy, dx, n, k, add);
    check_launch("relu_backward_kernel");
}
__global__ void relu_kernel(const float* x, float* y, std::size_t n) {
    for (std::size_t i = first_index(); i < n; i += grid_stride()) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}
inline void relu(const device_context& d, const float* x, float* y, std::size_t n) {
    relu_kernel<<<blocks_for(n), threads_per_block, 0, d.stream()>>>(x, y, n);
    check_launch("relu_kernel");
}

/// out[j] = mean over t of y[t * n + j] (a T-step output averaged over time).
__global__ void mean_over_steps_kernel(const float* y, std::size_t steps, std::size_t n, float* out) {
    for (std::size_t j = first_index(); j < n; j += grid_stride()) {
        float s = 0.0f;
        for (std::size_t t = 0; t < steps; ++t) s += y[t * n + j];
        out[j] = s / static_cast<float>(steps);
    }
}
inline void mean_over_steps(const device_context& d, const float* y, std::size_t steps, std::size_t n, float* out) {
    mean_over_steps_kernel<<<blocks_for(n), threads_per_block, 0, d.stream()>>>(y, steps, n, out);
    check_launch("mean_over_steps_kernel");
}
/// d[t * n + j] = dmean[j] / steps: the gradient of the time average, for every step.
__global__ void spread_over_steps_kernel(const float* dmean, std::size_t steps, std::size_t n, float* d) {
    const float k = 1.0f / static_cast<float>(steps);
    for (std::size_t i = first_index(); i < steps * n; i += grid_stride()) d[i] = dmean[i % n] * k;
}
inline void spread_over_steps(const device_context& d, const float* dmean, std::size_t steps, std::size_t n, float* out) {
    spread_over_steps_kernel<<<blocks_for(steps * n), threads_per_block, 0, d.stream()>>>(dmean, steps, n, out);
    check_launch("spread_over_steps_kernel");
}

/// [n][c][p] -> [c][n][p] (a batch of NCHW images as one channel-major matrix).
__global__ void channel_major_kernel(const float* x, float* y, std::size_t batch, std::size_t channels,
                                     std::size_t plane) {
    const std::size_t total = batch * channels * plane;
    for (std::size_t i = first_index(); i < total; i += grid_stride()) {
        const std::size_t p = i % plane, c = (i / plane) % channels, n = i / (plane * channels);
        y[(c * batch + n) * plane + p] = x[i];
    }
}
inline void channel_major(const device_context& d, const float* x, float* y, std::size_t batch, std::size_t channels,
                          std::size_t plane) {
    const std::size_t n = batch * channels * plane;
    channel_major_kernel<<<blocks_for(n), threads_per_block, 0, d.stream()>>>(x, y, batch, channels, plane);
    check_launch("channel_major_kernel");
}

/// BN folded into the layer before it with the running statistics (docs/method.md):
/// W' = a W, b' = a (b - mean) + beta per output channel, a = gamma / sqrt(var + eps).
__global__ void fold_batch_norm_kernel(const float* w, const float* b, const float* gamma, const float* beta,
                                       const float* mean, const float* var, float eps, std::size_t channels,
                                       std::size_t per_channel, float* w_out, float* b_out) {
    for (std::size_t i = first_index(); i < channels * per_channel; i += grid_stride()) {
        const std::size_t o = i / per_channel;
        const float a = gamma[o] / sqrtf(var[o] + eps);
        w_out[i] = a * w[i];
        if (i % per_channel == 0) b_out[o] = a * (b[o] - mean[o]) + beta[o];
    }
}
inline void fold_batch_norm(const device_context& d, const float* w, const float* b, const float* gamma,
                            const float* beta, const float* mean, const float* var, float eps, std::size_t channels,
                            std::size_t per_channel, float* w_out, float* b_out) {
    const std::size_t n = channels * per_channel;
    fold_batch_norm_kernel<<<blocks_for(n), threads_per_block, 0, d.stream()>>>(w, b, gamma, beta, mean, var, eps,
                                                                                channels, per_channel, w_out, b_out);
    check_launch("fold_batch_norm_kernel");
}

inline void copy(const device_context& d, const float* from, float* to, std::size_t n) {
    if (n) check(cudaMemcpyAsync(to, from, n * sizeof(float), cudaMemcpyDeviceToDevice, d.stream()), "cudaMemcpyAsync");
}

}  // namespace snn2ann::inline v0::detail::cuda_ops
