// snn2ann/layer: fully connected layer on a flat input; weight (out, in) as PyTorch.
#pragma once

#include <string>

#include "../core/backend.hpp"
#include "../core/shape.hpp"
#include "../ops/cpu/linear.hpp"
#include "context.hpp"

namespace snn2ann::inline v0 {

/// y = W x + b with Out outputs.
template <int Out, bool Bias = true>
struct linear {
    static_assert(Out > 0, "snn2ann::linear<Out>: the number of outputs must be positive");

    template <class Backend, shape In>
    struct impl {
        static_assert(In.flat,
                      "snn2ann::linear: its input is not flat; put snn2ann::flatten before a linear "
                      "layer that follows a convolution or pooling layer");
        static constexpr shape out = flat_shape(Out);
        static constexpr std::size_t weight_count = static_cast<std::size_t>(Out) * In.c;
        static constexpr bool has_bias = Bias;
        static constexpr std::size_t out_channels = Out;
        static constexpr std::size_t param_count = weight_count + (Bias ? Out : 0);
        static constexpr std::size_t state_count = 0;
        /// Multiply-accumulates per sample (for synaptic-operation and energy accounting).
        static constexpr std::size_t macs = weight_count;
        static std::string describe() { return "linear<" + std::to_string(Out) + (Bias ? ", bias>" : ", no bias>"); }

        static void init(float* params, float*, const detail::counter_rng& rng) {
            detail::init_uniform_fan_in(params, param_count, static_cast<std::size_t>(In.c), rng, 0);
        }
        void forward(const float* x, float* y, const detail::layer_context& c) {
            detail::cpu_ops::linear_forward(Backend{}, c.batch, In.c, Out, x, c.params,
                                        Bias ? c.params + weight_count : nullptr, y, c.bias_scale, &ws_,
                                        c.params_as_before);
        }
        void backward(const float* x, const float*, const float* dy, float* dx, const detail::layer_context& c) {
            detail::cpu_ops::linear_backward(Backend{}, c.batch, In.c, Out, x, c.params, dy, dx, c.grads,
                                         Bias ? c.grads + weight_count : nullptr, &ws_);
        }

    private:
        detail::cpu_ops::linear_workspace ws_;  // the GEMM kernel's packed operands
    };
};

}  // namespace snn2ann::inline v0
