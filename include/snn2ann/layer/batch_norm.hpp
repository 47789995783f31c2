// snn2ann/layer: batch normalisation per channel (BatchNorm2d on images, BatchNorm1d on
// flat inputs). Training uses the batch statistics and updates the running ones
// (momentum 0.1, eps 1e-5, as PyTorch); evaluation uses the running statistics.
#pragma once

#include <algorithm>
#include <string>

#include "../core/backend.hpp"
#include "../core/buffer.hpp"
#include "../core/shape.hpp"
#include "../ops/cpu/batch_norm.hpp"
#include "context.hpp"

namespace snn2ann::inline v0 {

/// Batch normalisation per channel (per feature after a flat layer), as PyTorch's
/// BatchNorm2d: trained scale and shift, running statistics in the model's state. The SNN
/// branch folds it into the layer before (docs/method.md).
struct batch_norm {
    static constexpr float momentum = 0.1f;  ///< weight of a batch in the running statistics
    static constexpr float eps = 1e-5f;      ///< added to the variance

    /// params: gamma[C], beta[C]; state: running_mean[C], running_var[C].
    template <class Backend, shape In>
    struct impl {
        static constexpr bool is_batch_norm = true;
        static constexpr float eps_value = eps;
        static constexpr shape out = In;
        static constexpr std::size_t channels = static_cast<std::size_t>(In.c);
        static constexpr std::size_t param_count = 2 * channels;
        static constexpr std::size_t state_count = 2 * channels;
        /// Backward recomputes the normalised input from the input and the saved batch
        /// statistics: the output need not be kept for it.
        static constexpr bool backward_reads_output = false;
        static std::string describe() {
            return "batch_norm<momentum " + detail::exact_text(momentum) + ", eps " + detail::exact_text(eps) + ">";
        }

        static void init(float* params, float* state, const detail::counter_rng&) {
            std::fill(params, params + channels, 1.0f);
            std::fill(params + channels, params + 2 * channels, 0.0f);
            std::fill(state, state + channels, 0.0f);
            std::fill(state + channels, state + 2 * channels, 1.0f);
        }
        void forward(const float* x, float* y, const detail::layer_context& c) {
            const detail::cpu_ops::bn_geometry g{c.batch, channels, In.plane()};
            if (c.training) {
                trained_ = true;
                float* saved = saved_.ensure(2 * channels);
                // Synchronised BN of data-parallel training: the global batch's statistics.
                synced_ = c.group && c.group->synchronised_batch_norm();
                if (synced_)
                    detail::cpu_ops::bn_forward_train_synced(Backend{}, g, x, c.params, c.params + channels, c.state,
                                                         c.state + channels, momentum, eps, y, saved, saved + channels,
                                                         *c.group);
                else
                    detail::cpu_ops::bn_forward_train(Backend{}, g, x, c.params, c.params + channels, c.state,
                                                  c.state + channels, momentum, eps, y, saved, saved + channels);
            } else {
                trained_ = false;
                detail::cpu_ops::bn_forward_eval(Backend{}, g, x, c.params, c.params + channels, c.state,
                                             c.state + channels, eps, y, c.bias_scale);
            }
        }
        void backward(const float* x, const float*, const float* dy, float* dx, const detail::layer_context& c) {
            const detail::cpu_ops::bn_geometry g{c.batch, channels, In.plane()};
            if (trained_ && synced_)
                detail::cpu_ops::bn_backward_train_synced(Backend{}, g, x, dy, c.params, saved_.data(),
                                                      saved_.data() + channels, dx, c.grads, c.grads + channels,
                                                      *c.group);
            else if (trained_)
                detail::cpu_ops::bn_backward_train(Backend{}, g, x, dy, c.params, saved_.data(),
                                               saved_.data() + channels, dx, c.grads, c.grads + channels);
            else
                detail::cpu_ops::bn_backward_eval(Backend{}, g, x, dy, c.params, c.state, c.state + channels, eps, dx,
                                              c.grads, c.grads + channels);
        }

    private:
        detail::buffer<float> saved_;  // batch mean and 1/std of the last training forward
        bool trained_ = false;         // whether the last forward used batch statistics
        bool synced_ = false;          // ... of the global batch of a data-parallel step
    };
};

}  // namespace snn2ann::inline v0
