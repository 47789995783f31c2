// snn2ann/ops/cuda: batch normalisation per channel of an NCHW batch (flat: plane 1), with
// the CPU path's formulas: statistics in double per channel (one block per channel,
// fixed reduction order), running variance unbiased (momentum 0.1, as PyTorch).
#pragma once

#include <cstddef>

#include "elementwise.cuh"
#include "reduce.cuh"

namespace snn2ann::inline v0::detail::cuda_ops {

struct bn_shape {
    std::size_t batch, channels, plane;
    constexpr std::size_t size() const { return batch * channels * plane; }
};

__global__ void bn_statistics_kernel(bn_shape s, const float* x, float* running_mean, float* running_var,
                                     float momentum, float eps, float* saved_mean, float* saved_invstd) {
    const std::size_t c = blockIdx.x, count = s.batch * s.plane;
    double sum = 0.0;
    for (std::size_t j = threadIdx.x; j < count; j += blockDim.x) sum += x[channel_element(j, c, s.channels, s.plane)];
    const double m = static_cast<double>(count), mean = block_sum(sum) / m;
    const float meanf = static_cast<float>(mean);
    double ss = 0.0;
    for (std::size_t j = threadIdx.x; j < count; j += blockDim.x) {
        const float dev = x[channel_element(j, c, s.channels, s.plane)] - meanf;
        ss += static_cast<double>(dev * dev);
    }
    ss = block_sum(ss);
    if (threadIdx.x == 0) {
        const double var = ss / m, unbiased = m > 1 ? ss / (m - 1) : var;
        saved_mean[c] = meanf;
        saved_invstd[c] = static_cast<float>(1.0 / sqrt(var + eps));
        running_mean[c] = (1 - momentum) * running_mean[c] + momentum * meanf;
        running_var[c] = (1 - momentum) * running_var[c] + momentum * static_cast<float>(unbiased);
    }
}

/// y = x a + b per channel with a = gamma * invstd and b = shift_scale (beta - mean a).
__global__ void bn_apply_kernel(bn_shape s, const float* x, const float* gamma, const float* beta, const float* mean,
                                const float* invstd, bool invstd_is_var, float eps, float shift_scale, float* y) {
    for (std::size_t i = first_index(); i < s.size(); i += grid_stride()) {
        const std::size_t c = (i / s.plane) % s.channels;
        // evaluation: a = gamma / sqrt(var + eps), as the CPU path rounds it
        const float a = invstd_is_var ? gamma[c] / sqrtf(invstd[c] + eps) : gamma[c] * invstd[c];
        const float b = (beta[c] - mean[c] * a) * shift_scale;
        y[i] = x[i] * a + b;
    }
}

inline void bn_forward_train(const device_context& d, const bn_shape& s, const float* x, const float* gamma,
                             const float* beta, float* running_mean, float* running_var, float momentum, float eps,
                             float* y, float* saved_mean, float* saved_invstd) {
    bn_statistics_kernel<<<static_cast<unsigned>(s.channels), threads_per_block, 0, d.stream()>>>(
        s, x, running_mean, running_var, momentum, eps, saved_mean, saved_invstd);
    check_launch("bn_statistics_kernel");
    bn_apply_kernel<<<blocks_for(s.size()), threads_per_block, 0, d.stream()>>>(s, x, gamma, beta, saved_mean,
                                                                                saved_invstd, false, eps, 1.0f, y);
    check_launch("bn_apply_kernel");
}

/// Evaluation: the running statistics; shift_scale spreads the shift over the SNN's T steps.
inline void bn_forward_eval(const device_context& d, const bn_shape& s, const float* x, const float* gamma,
                            const float* beta, const float* running_mean, const float* running_var, float eps,
                            float* y, float shift_scale) {
    bn_apply_kernel<<<blocks_for(s.size()), threads_per_block, 0, d.stream()>>>(s, x, gamma, beta, running_mean,
                                                                                running_var, true, eps, shift_scale, y);
    check_launch("bn_apply_kernel");
}

/// Per channel: dbeta = sum dy, dgamma = sum dy (x - mean) invstd; invstd from the saved
/// value or (evaluation) from the running variance.
__global__ void bn_gradient_sums_kernel(bn_shape s, const float* x, const float* dy, const float* mean,
                                        const float* invstd_or_var, bool is_var, float eps, float* dgamma,
                                        float* dbeta) {
    const std::size_t c = blockIdx.x, count = s.batch * s.plane;
    const float m = mean[c];
    const float invstd = is_var ? 1.0f / sqrtf(invstd_or_var[c] + eps) : invstd_or_var[c];
    double sdy = 0.0, sdyx = 0.0;
    for (std::size_t j = threadIdx.x; j < count; j += blockDim.x) {
        const std::size_t i = channel_element(j, c, s.channels, s.plane);
        sdy += dy[i];
        sdyx += static_cast<double>(dy[i] * (x[i] - m));
    }
    sdy = block_sum(sdy);
    sdyx = block_sum(sdyx);
    if (threadIdx.x == 0) {
        dgamma[c] = static_cast<float>(sdyx * invstd);
        dbeta[c] = static_cast<float>(sdy);
    }
}

/// Training backward: dx = gamma invstd (dy - mean(dy) - (x - mean) invstd mean(dy xhat)).
__global__ void bn_backward_train_kernel(bn_shape s, const float* x, const float* dy, const float* gamma,
                                         const float* mean, const float* invstd, const float* dgamma,
                                         const float* dbeta, float* dx) {
    const float count = static_cast<float>(s.batch * s.plane);
    for (std::size_t i = first_index(); i < s.size(); i += grid_stride()) {
        const std::size_t c = (i / s.plane) % s.channels;
        const float k = gamma[c] * invstd[c];
        const float mdy = dbeta[c] / count, mdyx = dgamma[c] / count * invstd[c];
        dx[i] = k * (dy[i] - mdy - (x[i] - mean[c]) * mdyx);
    }
}
__global__ void bn_backward_eval_kernel(bn_shape s, const float* dy, const float* gamma, const float* running_var,
                                        float eps, float* dx) {
    for (std::size_t i = first_index(); i < s.size(); i += grid_stride()) {
        const std::size_t c = (i / s.plane) % s.channels;
        dx[i] = dy[i] * gamma[c] * (1.0f / sqrtf(running_var[c] + eps));
    }
}

/// dgamma, dbeta and dx (if not null) are overwritten.
inline void bn_backward_train(const device_context& d, const bn_shape& s, const float* x, const float* dy,
                              const float* gamma, const float* saved_mean, const float* saved_invstd, float* dx,
                              float* dgamma, float* dbeta) {
    bn_gradient_sums_kernel<<<static_cast<unsigned>(s.channels), threads_per_block, 0, d.stream()>>>(
        s, x, dy, saved_mean, saved_invstd, false, 0.0f, dgamma, dbeta);
    check_launch("bn_gradient_sums_kernel");
    if (!dx) return;
    bn_backward_train_kernel<<<blocks_for(s.size()), threads_per_block, 0, d.stream()>>>(s, x, dy, gamma, saved_mean,
                                                                                         saved_invstd, dgamma, dbeta, dx);
    check_launch("bn_backward_train_kernel");
}
inline void bn_backward_eval(const device_context& d, const bn_shape& s, const float* x, const float* dy,
                             const float* gamma, const float* running_mean, const float* running_var, float eps,
                             float* dx, float* dgamma, float* dbeta) {
    bn_gradient_sums_kernel<<<static_cast<unsigned>(s.channels), threads_per_block, 0, d.stream()>>>(
        s, x, dy, running_mean, running_var, true, eps, dgamma, dbeta);
    check_launch("bn_gradient_sums_kernel");
    if (!dx) return;
    bn_backward_eval_kernel<<<blocks_for(s.size()), threads_per_block, 0, d.stream()>>>(s, dy, gamma, running_var, eps,
                                                                                        dx);
    check_launch("bn_backward_eval_kernel");
}

}  // namespace snn2ann::inline v0::detail::cuda_ops
