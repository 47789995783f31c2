// snn2ann/layer: 2-D convolution, square kernel, NCHW, weights (out, in, k, k) as PyTorch.
#pragma once

#include <cmath>
#include <string>
#include <type_traits>

#include "../core/backend.hpp"
#include "../core/shape.hpp"
#include "../ops/cpu/conv.hpp"
#include "context.hpp"

namespace snn2ann::inline v0 {

/// PyTorch's default initialisation: weights and bias uniform in +-1/sqrt(fan_in).
struct fan_in_uniform {};
/// Kaiming-normal weights for ReLU networks, std sqrt(2 / fan_out) with fan_out = out
/// channels x k x k (torchvision's ResNet init); zero bias.
struct kaiming_normal_fan_out {};

/// Convolution with OutChannels filters of Kernel x Kernel, stride and zero padding
/// (default: "same" padding for odd kernels), with or without bias, and an initialisation.
template <int OutChannels, int Kernel, int Stride = 1, int Padding = Kernel / 2, bool Bias = true,
          class Init = fan_in_uniform>
struct conv {
    static_assert(OutChannels > 0 && Kernel > 0 && Stride > 0 && Padding >= 0,
                  "snn2ann::conv<OutChannels, Kernel, Stride, Padding>: channels, kernel and stride must "
                  "be positive and padding non-negative");

    template <class Backend, shape In>
    struct impl {
        static_assert(!In.flat,
                      "snn2ann::conv: its input is flat (it follows flatten or linear); a convolution "
                      "needs a C x H x W input");
        static constexpr detail::conv_geometry geometry{
            In.c, In.h, In.w, Kernel, Stride, Padding, OutChannels,
            (In.h + 2 * Padding - Kernel) / Stride + 1, (In.w + 2 * Padding - Kernel) / Stride + 1};
        static_assert(In.h + 2 * Padding >= Kernel && In.w + 2 * Padding >= Kernel,
                      "snn2ann::conv: the kernel is larger than the padded input");
        static constexpr shape out = image_shape(OutChannels, geometry.oh, geometry.ow);
        static constexpr std::size_t weight_count = geometry.col_rows() * OutChannels;
        static constexpr bool has_bias = Bias;
        static constexpr std::size_t out_channels = OutChannels;
        static constexpr std::size_t param_count = weight_count + (Bias ? OutChannels : 0);
        static constexpr std::size_t state_count = 0;
        /// Multiply-accumulates per sample (for synaptic-operation and energy accounting).
        static constexpr std::size_t macs = geometry.col_rows() * geometry.out_size();
        /// What the weights mean (checkpoints record it): the initialisation does not count.
        static std::string describe() {
            return "conv<" + std::to_string(OutChannels) + ", " + std::to_string(Kernel) + ", stride " +
                   std::to_string(Stride) + ", padding " + std::to_string(Padding) + (Bias ? ", bias>" : ", no bias>");
        }

        static void init(float* params, float*, const detail::counter_rng& rng) {
            if constexpr (std::is_same_v<Init, kaiming_normal_fan_out>) {
                const float sd = std::sqrt(2.0f / static_cast<float>(OutChannels * Kernel * Kernel));
                for (std::size_t i = 0; i < weight_count; ++i) params[i] = sd * rng.normal(i);
                for (std::size_t i = weight_count; i < param_count; ++i) params[i] = 0.0f;
            } else {
                static_assert(std::is_same_v<Init, fan_in_uniform>,
                              "snn2ann::conv: Init must be fan_in_uniform or kaiming_normal_fan_out");
                detail::init_uniform_fan_in(params, param_count, geometry.col_rows(), rng, 0);
            }
        }
        void forward(const float* x, float* y, const detail::layer_context& c) {
            // The SNN and BPTT passes step through time past the first spiking layer (or on
            // event frames), where the input is spikes: sparse images run event-driven. An
            // image run once for all steps runs dense.
            const bool steps = (c.mode == detail::branch::snn || c.mode == detail::branch::bptt) && c.time_major;
            const double event_below = steps && c.spiking ? c.spiking->event_driven_below : 0.0;
            detail::cpu_ops::conv_forward(Backend{}, geometry, c.batch, x, c.params,
                                      Bias ? c.params + weight_count : nullptr, y, workspace(c), c.bias_scale,
                                      event_below);
        }
        void backward(const float* x, const float*, const float* dy, float* dx, const detail::layer_context& c) {
            detail::cpu_ops::conv_backward(Backend{}, geometry, c.batch, x, c.params, dy, dx, c.grads,
                                       Bias ? c.grads + weight_count : nullptr, workspace(c));
        }

    private:
        /// The model's shared scratch where there is one (see layer_context).
        detail::cpu_ops::conv_workspace<Backend>& workspace(const detail::layer_context& c) {
            if constexpr (std::is_same_v<Backend, cpu>)
                if (c.shared_conv_scratch) return *c.shared_conv_scratch;
            return ws_;
        }

        detail::cpu_ops::conv_workspace<Backend> ws_;
    };
};

}  // namespace snn2ann::inline v0
