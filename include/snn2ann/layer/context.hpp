// snn2ann/layer: what a layer sees of the model while it runs, and how it is described.
//
// A layer spec (conv<32, 3>, batch_norm, ...) is an empty tag; its nested
// `impl<Backend, In>` is the layer for input shape In, with
//   static constexpr shape out;                     output shape of one sample
//   static constexpr std::size_t param_count;       trainable floats in the model buffer
//   static constexpr std::size_t state_count;       non-trained floats (BN running stats...)
//   static void init(float* params, float* state, const detail::counter_rng&);
//   void forward(const float* x, float* y, const layer_context&);
//   void backward(const float* x, const float* y, const float* dy, float* dx, const layer_context&);
// backward overwrites the gradients of the layer's parameters (each parameter belongs to
// one layer, so a full backward sets every gradient and no zeroing pass is needed) and
// sets dx (dx may be null: the input needs none).
#pragma once

#include <cstddef>
#include <cmath>
#include <cstdint>

#include "../core/rng.hpp"

namespace snn2ann::inline v0::detail {

struct layer_context {
    float* params = nullptr;  ///< this layer's slice of the parameter buffer
    float* grads = nullptr;   ///< same layout as params
    float* state = nullptr;   ///< this layer's slice of the state buffer
    std::size_t batch = 0;
    bool training = false;
    std::uint64_t seed = 0;   ///< model seed, for stochastic layers
    std::uint64_t step = 0;   ///< training step, for stochastic layers
    std::uint64_t stream = 0; ///< unique per layer position in the network

    layer_context at(std::size_t param_offset, std::size_t state_offset, std::uint64_t child) const {
        layer_context c = *this;
        c.params = params ? params + param_offset : nullptr;
        c.grads = grads ? grads + param_offset : nullptr;
        c.state = state ? state + state_offset : nullptr;
        c.stream = stream * 131 + child + 1;
        return c;
    }
};

/// PyTorch's default initialisation of conv and linear layers: weights and biases
/// uniform in [-1/sqrt(fan_in), 1/sqrt(fan_in)).
inline void init_uniform_fan_in(float* p, std::size_t n, std::size_t fan_in, const counter_rng& rng,
                                std::uint64_t counter0) {
    const float bound = 1.0f / static_cast<float>(std::sqrt(static_cast<double>(fan_in)));
    for (std::size_t i = 0; i < n; ++i) p[i] = (2.0f * rng.uniform(counter0 + i) - 1.0f) * bound;
}

}  // namespace snn2ann::inline v0::detail
