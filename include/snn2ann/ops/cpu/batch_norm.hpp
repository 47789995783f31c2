// snn2ann/ops/cpu: batch normalisation over N x H x W per channel of an NCHW batch (a
// flat batch is the case H = W = 1). Channels are independent, so they run in parallel
// and each channel's sums are taken in a fixed order: deterministic for any thread count,
// and, through channel_passes.hpp, the same bits on every CPU and for any -march.
#pragma once

#include <cmath>
#include <cstddef>
#include <vector>

#include "../../core/backend.hpp"
#include "../../core/parallel.hpp"
#include "../../core/process_group.hpp"
#include "channel_passes.hpp"

namespace snn2ann::inline v0::detail::cpu_ops {

/// A batch norm folded with its running statistics into the convolution or linear layer
/// before it (docs/method.md), as the SNN branch runs it and deployment exports it: per
/// output channel o, a = gamma / sqrt(var + eps), W'[o] = a W[o] (per_channel weights
/// each), b'[o] = a (b[o] - mean[o]) + beta[o], with b = 0 where `b` is null.
inline void fold_batch_norm(const float* w, const float* b, std::size_t channels, std::size_t per_channel,
                            const float* gamma, const float* beta, const float* mean, const float* var, float eps,
                            float* w_out, float* b_out) {
    for (std::size_t o = 0; o < channels; ++o) {
        const float a = gamma[o] / std::sqrt(var[o] + eps);
        for (std::size_t k = 0; k < per_channel; ++k) w_out[o * per_channel + k] = a * w[o * per_channel + k];
        b_out[o] = a * ((b ? b[o] : 0.0f) - mean[o]) + beta[o];
    }
}

struct bn_geometry {
    std::size_t batch, channels, plane;
    std::size_t at(std::size_t n, std::size_t c) const { return (n * channels + c) * plane; }
    std::size_t count() const { return batch * plane; }
    /// Channel c of data laid out as this batch: its plane in every sample.
    channel_planes channel(const float* data, std::size_t c) const { return {data + at(0, c), channels * plane, batch, plane}; }
};

/// Training forward: normalise with the batch statistics, save mean and 1/std per channel
/// for backward, and update the running statistics (unbiased variance, as PyTorch does).
inline void bn_forward_train(cpu, const bn_geometry& g, const float* x, const float* gamma, const float* beta,
                             float* running_mean, float* running_var, float momentum, float eps,
                             float* y, float* saved_mean, float* saved_invstd) {
    with_channel_passes([&](auto passes) {
        for_range(g.channels, 1, [&](std::size_t c0, std::size_t c1) {
            for (std::size_t c = c0; c < c1; ++c) {
                const channel_planes xc = g.channel(x, c);
                const double m = g.count();
                const double mean = passes.sum(xc) / m;
                const double ss = passes.squared_deviation(xc, static_cast<float>(mean));
                const double var = ss / m;
                const float invstd = static_cast<float>(1.0 / std::sqrt(var + eps));
                saved_mean[c] = static_cast<float>(mean);
                saved_invstd[c] = invstd;
                const float a = gamma[c] * invstd, b = beta[c] - static_cast<float>(mean) * a;
                passes.affine(xc, a, b, y + g.at(0, c));
                const double unbiased = m > 1 ? ss / (m - 1) : var;
                running_mean[c] = (1 - momentum) * running_mean[c] + momentum * static_cast<float>(mean);
                running_var[c] = (1 - momentum) * running_var[c] + momentum * static_cast<float>(unbiased);
            }
        });
    });
}

/// Evaluation forward: y = a x + shift_scale * (beta - a running_mean) with
/// a = gamma / sqrt(running_var + eps): BN folded into an affine map (shift_scale 1/T
/// spreads the folded bias over the SNN's T steps).
inline void bn_forward_eval(cpu, const bn_geometry& g, const float* x, const float* gamma, const float* beta,
                            const float* running_mean, const float* running_var, float eps, float* y,
                            float shift_scale = 1.0f) {
    with_channel_passes([&](auto passes) {
        for_range(g.channels, 1, [&](std::size_t c0, std::size_t c1) {
            for (std::size_t c = c0; c < c1; ++c) {
                const float a = gamma[c] / std::sqrt(running_var[c] + eps);
                const float b = (beta[c] - running_mean[c] * a) * shift_scale;
                passes.affine(g.channel(x, c), a, b, y + g.at(0, c));
            }
        });
    });
}

/// Backward of the training forward. dgamma, dbeta and dx (if not null) are overwritten.
inline void bn_backward_train(cpu, const bn_geometry& g, const float* x, const float* dy, const float* gamma,
                              const float* saved_mean, const float* saved_invstd, float* dx,
                              float* dgamma, float* dbeta) {
    with_channel_passes([&](auto passes) {
        for_range(g.channels, 1, [&](std::size_t c0, std::size_t c1) {
            for (std::size_t c = c0; c < c1; ++c) {
                const float mean = saved_mean[c], invstd = saved_invstd[c];
                const channel_planes dyc = g.channel(dy, c);
                const auto [sdy, sdyx] = passes.gradient_sums(dyc, x + g.at(0, c), mean);
                const double sdyxhat = sdyx * invstd;
                dgamma[c] = static_cast<float>(sdyxhat);
                dbeta[c] = static_cast<float>(sdy);
                if (!dx) continue;
                const double m = g.count();
                const float k = gamma[c] * invstd;
                const float mdy = static_cast<float>(sdy / m);
                const float mdyx = static_cast<float>(sdyxhat / m) * invstd;
                passes.input_gradient(dyc, x + g.at(0, c), mean, k, mdy, mdyx, dx + g.at(0, c));
            }
        });
    });
}

/// Backward of the evaluation forward (statistics are constants).
inline void bn_backward_eval(cpu, const bn_geometry& g, const float* x, const float* dy, const float* gamma,
                             const float* running_mean, const float* running_var, float eps, float* dx,
                             float* dgamma, float* dbeta) {
    for_range(g.channels, 1, [&](std::size_t c0, std::size_t c1) {
        for (std::size_t c = c0; c < c1; ++c) {
            const float invstd = 1.0f / std::sqrt(running_var[c] + eps);
            double sdy = 0.0, sdyx = 0.0;
            for (std::size_t n = 0; n < g.batch; ++n)
                for (std::size_t i = 0; i < g.plane; ++i) {
                    const float d = dy[g.at(n, c) + i];
                    sdy += d;
                    sdyx += d * (x[g.at(n, c) + i] - running_mean[c]) * invstd;
                    if (dx) dx[g.at(n, c) + i] = d * gamma[c] * invstd;
                }
            dgamma[c] = static_cast<float>(sdyx);
            dbeta[c] = static_cast<float>(sdy);
        }
    });
}

// Synchronised batch normalisation (data-parallel training): the statistics of the global
// batch, whose samples are spread over the ranks of a process group. The same arithmetic
// as above in three parallel passes with the group's sums between them; the one-process
// functions keep one pass per channel, whose plane stays in cache.

/// Training forward over the global batch: each rank's per-channel sums are added over the
/// group (in rank order, so every rank normalises with the same bits).
inline void bn_forward_train_synced(cpu, const bn_geometry& g, const float* x, const float* gamma, const float* beta,
                                    float* running_mean, float* running_var, float momentum, float eps, float* y,
                                    float* saved_mean, float* saved_invstd, process_group& group) {
    with_channel_passes([&](auto passes) {
        std::vector<double> sums(g.channels + 1);
        for_range(g.channels, 1, [&](std::size_t c0, std::size_t c1) {
            for (std::size_t c = c0; c < c1; ++c) sums[c] = passes.sum(g.channel(x, c));
        });
        sums[g.channels] = static_cast<double>(g.count());
        group.sum(sums.data(), sums.size());
        const double m = sums[g.channels];
        for (std::size_t c = 0; c < g.channels; ++c) saved_mean[c] = static_cast<float>(sums[c] / m);
        std::vector<double> squares(g.channels);
        for_range(g.channels, 1, [&](std::size_t c0, std::size_t c1) {
            for (std::size_t c = c0; c < c1; ++c) squares[c] = passes.squared_deviation(g.channel(x, c), saved_mean[c]);
        });
        group.sum(squares.data(), squares.size());
        for_range(g.channels, 1, [&](std::size_t c0, std::size_t c1) {
            for (std::size_t c = c0; c < c1; ++c) {
                const double var = squares[c] / m;
                const float invstd = static_cast<float>(1.0 / std::sqrt(var + eps));
                saved_invstd[c] = invstd;
                const float a = gamma[c] * invstd, b = beta[c] - saved_mean[c] * a;
                passes.affine(g.channel(x, c), a, b, y + g.at(0, c));
                const double unbiased = m > 1 ? squares[c] / (m - 1) : var;
                running_mean[c] = (1 - momentum) * running_mean[c] + momentum * saved_mean[c];
                running_var[c] = (1 - momentum) * running_var[c] + momentum * static_cast<float>(unbiased);
            }
        });
    });
}

/// Backward of the synchronised forward. This rank's gradients are of its own mean loss
/// (a share s of the global batch's), so its sums enter the group's weighted by s and the
/// global terms come back divided by it; dgamma and dbeta stay this rank's own (the
/// gradient average weighs them).
inline void bn_backward_train_synced(cpu, const bn_geometry& g, const float* x, const float* dy, const float* gamma,
                                     const float* saved_mean, const float* saved_invstd, float* dx, float* dgamma,
                                     float* dbeta, process_group& group) {
    with_channel_passes([&](auto passes) {
        std::vector<double> sums(2 * g.channels + 1);
        for_range(g.channels, 1, [&](std::size_t c0, std::size_t c1) {
            for (std::size_t c = c0; c < c1; ++c) {
                const auto [sdy, sdyx] = passes.gradient_sums(g.channel(dy, c), x + g.at(0, c), saved_mean[c]);
                dgamma[c] = static_cast<float>(sdyx * saved_invstd[c]);
                dbeta[c] = static_cast<float>(sdy);
                sums[2 * c] = sdy, sums[2 * c + 1] = sdyx * saved_invstd[c];
            }
        });
        const double share = group.batch_share();
        for (std::size_t k = 0; k < 2 * g.channels; ++k) sums[k] *= share;
        sums[2 * g.channels] = static_cast<double>(g.count());
        group.sum(sums.data(), sums.size());
        if (!dx) return;
        const double m = sums[2 * g.channels] * share;  // the global count, divided by this rank's share
        for_range(g.channels, 1, [&](std::size_t c0, std::size_t c1) {
            for (std::size_t c = c0; c < c1; ++c) {
                const float mean = saved_mean[c], invstd = saved_invstd[c];
                const float k = gamma[c] * invstd;
                const float mdy = static_cast<float>(sums[2 * c] / m);
                const float mdyx = static_cast<float>(sums[2 * c + 1] / m) * invstd;
                passes.input_gradient(g.channel(dy, c), x + g.at(0, c), mean, k, mdy, mdyx, dx + g.at(0, c));
            }
        });
    });
}

}  // namespace snn2ann::inline v0::detail::cpu_ops
