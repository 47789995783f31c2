// snn2ann/ops/cuda: batch normalisation per channel of an NCHW batch (flat: plane 1), with
// the CPU path's formulas: statistics in double per channel (one segment per channel,
// fixed reduction order), running variance unbiased (momentum 0.1, as PyTorch).
#pragma once

#include <cmath>
#include <cstddef>

#include "../../core/host_device.hpp"
#include "execution.hpp"

namespace snn2ann::inline v0::detail::cuda_ops {

struct bn_shape {
    std::size_t batch, channels, plane;
    SNN2ANN_HOST_DEVICE constexpr std::size_t size() const { return batch * channels * plane; }
};

struct bn_statistics_body {
    bn_shape s;
    const float* x;
    float *running_mean, *running_var;
    float momentum, eps;
    float *saved_mean, *saved_invstd;
    template <class Reducer>
    SNN2ANN_HOST_DEVICE void operator()(std::size_t c, const Reducer& r) const {
        const std::size_t count = s.batch * s.plane;
        const double m = static_cast<double>(count);
        const double mean = r.sum(count, [&](std::size_t j) {
            return static_cast<double>(x[channel_element(j, c, s.channels, s.plane)]);
        }) / m;
        const float meanf = static_cast<float>(mean);
        const double ss = r.sum(count, [&](std::size_t j) {
            const float dev = x[channel_element(j, c, s.channels, s.plane)] - meanf;
            return static_cast<double>(dev * dev);
        });
        if (r.leader()) {
            const double var = ss / m, unbiased = m > 1 ? ss / (m - 1) : var;
            saved_mean[c] = meanf;
            saved_invstd[c] = static_cast<float>(1.0 / sqrt(var + eps));
            running_mean[c] = (1 - momentum) * running_mean[c] + momentum * meanf;
            running_var[c] = (1 - momentum) * running_var[c] + momentum * static_cast<float>(unbiased);
        }
    }
};

/// y = x a + b per channel with a = gamma * invstd and b = shift_scale (beta - mean a).
struct bn_apply_body {
    bn_shape s;
    const float *x, *gamma, *beta, *mean, *invstd;
    bool invstd_is_var;
    float eps, shift_scale;
    float* y;
    SNN2ANN_HOST_DEVICE void operator()(std::size_t i) const {
        const std::size_t c = (i / s.plane) % s.channels;
        // evaluation: a = gamma / sqrt(var + eps), as the CPU path rounds it
        const float a = invstd_is_var ? gamma[c] / sqrtf(invstd[c] + eps) : gamma[c] * invstd[c];
        const float b = (beta[c] - mean[c] * a) * shift_scale;
        y[i] = x[i] * a + b;
    }
};

template <class Device>
void bn_forward_train(const Device& d, const bn_shape& s, const float* x, const float* gamma, const float* beta,
                      float* running_mean, float* running_var, float momentum, float eps, float* y, float* saved_mean,
                      float* saved_invstd) {
    d.for_each_segment(s.channels,
                       bn_statistics_body{s, x, running_mean, running_var, momentum, eps, saved_mean, saved_invstd},
                       "bn_statistics");
    d.for_each(s.size(), bn_apply_body{s, x, gamma, beta, saved_mean, saved_invstd, false, eps, 1.0f, y}, "bn_apply");
}

/// Evaluation: the running statistics; shift_scale spreads the shift over the SNN's T steps.
template <class Device>
void bn_forward_eval(const Device& d, const bn_shape& s, const float* x, const float* gamma, const float* beta,
                     const float* running_mean, const float* running_var, float eps, float* y, float shift_scale) {
    d.for_each(s.size(), bn_apply_body{s, x, gamma, beta, running_mean, running_var, true, eps, shift_scale, y},
               "bn_apply");
}

/// Per channel: dbeta = sum dy, dgamma = sum dy (x - mean) invstd; invstd from the saved
/// value or (evaluation) from the running variance.
struct bn_gradient_sums_body {
    bn_shape s;
    const float *x, *dy, *mean, *invstd_or_var;
    bool is_var;
    float eps;
    float *dgamma, *dbeta;
    template <class Reducer>
    SNN2ANN_HOST_DEVICE void operator()(std::size_t c, const Reducer& r) const {
        const std::size_t count = s.batch * s.plane;
        const float m = mean[c];
        const float invstd = is_var ? 1.0f / sqrtf(invstd_or_var[c] + eps) : invstd_or_var[c];
        const double sdy = r.sum(count, [&](std::size_t j) {
            return static_cast<double>(dy[channel_element(j, c, s.channels, s.plane)]);
        });
        const double sdyx = r.sum(count, [&](std::size_t j) {
            const std::size_t i = channel_element(j, c, s.channels, s.plane);
            return static_cast<double>(dy[i] * (x[i] - m));
        });
        if (r.leader()) {
            dgamma[c] = static_cast<float>(sdyx * invstd);
            dbeta[c] = static_cast<float>(sdy);
        }
    }
};

/// Training backward: dx = gamma invstd (dy - mean(dy) - (x - mean) invstd mean(dy xhat)).
struct bn_backward_train_body {
    bn_shape s;
    const float *x, *dy, *gamma, *mean, *invstd, *dgamma, *dbeta;
    float* dx;
    SNN2ANN_HOST_DEVICE void operator()(std::size_t i) const {
        const float count = static_cast<float>(s.batch * s.plane);
        const std::size_t c = (i / s.plane) % s.channels;
        const float k = gamma[c] * invstd[c];
        const float mdy = dbeta[c] / count, mdyx = dgamma[c] / count * invstd[c];
        dx[i] = k * (dy[i] - mdy - (x[i] - mean[c]) * mdyx);
    }
};
struct bn_backward_eval_body {
    bn_shape s;
    const float *dy, *gamma, *running_var;
    float eps;
    float* dx;
    SNN2ANN_HOST_DEVICE void operator()(std::size_t i) const {
        const std::size_t c = (i / s.plane) % s.channels;
        dx[i] = dy[i] * gamma[c] * (1.0f / sqrtf(running_var[c] + eps));
    }
};

/// dgamma, dbeta and dx (if not null) are overwritten.
template <class Device>
void bn_backward_train(const Device& d, const bn_shape& s, const float* x, const float* dy, const float* gamma,
                       const float* saved_mean, const float* saved_invstd, float* dx, float* dgamma, float* dbeta) {
    d.for_each_segment(s.channels, bn_gradient_sums_body{s, x, dy, saved_mean, saved_invstd, false, 0.0f, dgamma, dbeta},
                       "bn_gradient_sums");
    if (!dx) return;
    d.for_each(s.size(), bn_backward_train_body{s, x, dy, gamma, saved_mean, saved_invstd, dgamma, dbeta, dx},
               "bn_backward_train");
}
template <class Device>
void bn_backward_eval(const Device& d, const bn_shape& s, const float* x, const float* dy, const float* gamma,
                      const float* running_mean, const float* running_var, float eps, float* dx, float* dgamma,
                      float* dbeta) {
    d.for_each_segment(s.channels, bn_gradient_sums_body{s, x, dy, running_mean, running_var, true, eps, dgamma, dbeta},
                       "bn_gradient_sums");
    if (!dx) return;
    d.for_each(s.size(), bn_backward_eval_body{s, dy, gamma, running_var, eps, dx}, "bn_backward_eval");
}

}  // namespace snn2ann::inline v0::detail::cuda_ops
