// snn2ann/layer: a residual block, y = main(x) + shortcut(x). Both paths are ordinary
// layer lists (layers<...>); an empty shortcut is the identity. A ReLU or spiking layer
// after the sum is an ordinary layer after the block, so ResNets stay flat lists. Spiking
// layers inside a block (after its first conv, as in ResNet-17) step through time in the
// SNN and BPTT passes. A block whose main path starts with a spiking layer and whose
// shortcut is the identity carries the real-valued input current past the block (the
// reference SNN's ResNet); as the network's first layer that steps through time, such a
// block repeats its constant input over the T steps itself. A network must have a
// spiking layer after its last such block.
#pragma once

#include <algorithm>
#include <string>

#include "../core/error.hpp"
#include "../core/parallel.hpp"
#include "../core/shape.hpp"
#include "../core/type_list.hpp"
#include "sequence.hpp"

namespace snn2ann::inline v0 {

template <class Main, class Shortcut = layers<>>
struct residual;

template <class... Main, class... Shortcut>
struct residual<layers<Main...>, layers<Shortcut...>> {
    template <class Backend, shape In>
    struct impl {
        using main_list = typename detail::flatten_layers<Main...>::type;
        using shortcut_list = typename detail::flatten_layers<Shortcut...>::type;
        using main_path = detail::sequence<Backend, In, main_list>;
        using shortcut_path = detail::sequence<Backend, In, shortcut_list>;
        static constexpr shape main_out = detail::chain<Backend, In, main_list>::out;
        static constexpr shape shortcut_out = detail::chain<Backend, In, shortcut_list>::out;
        static_assert(main_out == shortcut_out,
                      "snn2ann::residual: the main path and the shortcut give different shapes (channels "
                      "or size); give the shortcut a 1x1 conv (and batch_norm) with the main path's "
                      "channels and stride");
        static constexpr bool has_spiking = main_path::first_spiking >= 0 || shortcut_path::first_spiking >= 0;
        static constexpr bool has_leaky_neurons = main_path::has_leaky_neurons || shortcut_path::has_leaky_neurons;
        static std::string describe() {
            return "residual<" + main_path::describe_layers() + " | " + shortcut_path::describe_layers() + ">";
        }
        static constexpr shape out = main_out;
        static constexpr std::size_t param_count = main_path::param_count + shortcut_path::param_count;
        static constexpr std::size_t state_count = main_path::state_count + shortcut_path::state_count;

        static void init(float* params, float* state, const detail::counter_rng& rng) {
            const std::uint64_t s = rng.bits(0);
            main_path::init(params, state, s, 1);
            shortcut_path::init(params + main_path::param_count, state + main_path::state_count, s, 2);
        }
        void forward(const float* x, float* y, const detail::layer_context& outer) {
            const detail::layer_context c = inner_context(outer);
            if (repeats_input(outer)) x = repeat_over_steps(x, outer);
            shortcut_.in_size_ = In.size();
            main_.forward(x, c.at(0, 0, 0));
            shortcut_.forward(x, c.at(main_path::param_count, main_path::state_count, 1));
            const float* a = main_.output();
            const float* b = shortcut_.output();
            detail::for_range(c.batch * out.size(), 1 << 14, [&](std::size_t i0, std::size_t i1) {
                for (std::size_t i = i0; i < i1; ++i) y[i] = a[i] + b[i];
            });
        }
        void backward(const float* x, const float*, const float* dy, float* dx, const detail::layer_context& outer) {
            const detail::layer_context c = inner_context(outer);
            const bool repeated = repeats_input(outer);
            if (repeated) x = repeated_.data();
            // With a repeated input, the gradients of the T copies are summed into dx below.
            float* dmain = dx ? (repeated ? drepeated_.ensure(c.batch * In.size()) : dx) : nullptr;
            main_.backward(x, dy, dmain, c.at(0, 0, 0));
            float* dshort = dx ? dshort_.ensure(c.batch * In.size()) : nullptr;
            shortcut_.backward(x, dy, dshort, c.at(main_path::param_count, main_path::state_count, 1));
            if (!dx) return;
            detail::for_range(c.batch * In.size(), 1 << 14, [&](std::size_t i0, std::size_t i1) {
                for (std::size_t i = i0; i < i1; ++i) dmain[i] += dshort[i];
            });
            if (repeated) {
                const std::size_t n = outer.batch * In.size(), steps = static_cast<std::size_t>(outer.timesteps);
                detail::for_range(n, 1 << 14, [&](std::size_t i0, std::size_t i1) {
                    for (std::size_t i = i0; i < i1; ++i) {
                        float sum = 0.0f;
                        for (std::size_t t = 0; t < steps; ++t) sum += dmain[t * n + i];
                        dx[i] = sum;
                    }
                });
            }
        }

        /// f(layer, index) for the layers of the main path, then of the shortcut.
        template <class F>
        void for_each_inner_layer(F& f, const detail::layer_position& self) {
            main_.for_each_layer_deep(f, self.param_offset, self.state_offset);
            shortcut_.for_each_layer_deep(f, self.param_offset + main_path::param_count,
                                          self.state_offset + main_path::state_count);
        }

    private:
        /// The block is the network's first layer that steps through time and gets the
        /// constant input of B samples: it runs on T copies of it.
        static bool repeats_input(const detail::layer_context& outer) {
            return has_spiking && outer.mode != detail::branch::ann && !outer.time_major && outer.constant_input;
        }
        const float* repeat_over_steps(const float* x, const detail::layer_context& outer) {
            const std::size_t n = outer.batch * In.size(), steps = static_cast<std::size_t>(outer.timesteps);
            float* r = repeated_.ensure(steps * n);
            for (std::size_t t = 0; t < steps; ++t) std::copy(x, x + n, r + t * n);
            return r;
        }
        static detail::layer_context inner_context(const detail::layer_context& outer) {
            // Spiking layers inside the block step through time on the T x B samples the
            // block receives after the network's first stepping layer, or on T copies of
            // the constant input when the block is that layer.
            detail::layer_context c = outer;
            c.nested = true;
            if (!has_spiking || outer.mode == detail::branch::ann || outer.time_major) return c;
            if (!outer.constant_input)
                throw invalid_argument("snn2ann::residual: a block with spiking layers inside got an input that is "
                                       "neither the constant input nor T x B samples of a T-step pass");
            c.batch = outer.batch * static_cast<std::size_t>(outer.timesteps);
            c.time_major = true;
            c.constant_input = false;
            return c;
        }

        main_path main_;
        shortcut_path shortcut_;
        detail::buffer<float> dshort_;
        detail::buffer<float> repeated_, drepeated_;  // T copies of a constant input, and their gradient
    };
};

}  // namespace snn2ann::inline v0
