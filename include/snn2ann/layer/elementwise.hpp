// snn2ann/layer: layers that act element by element: flatten, ReLU, dropout.
#pragma once

#include <cstring>
#include <string>

#include "../core/backend.hpp"
#include "../core/parallel.hpp"
#include "../core/shape.hpp"
#include "context.hpp"

namespace snn2ann::inline v0 {
namespace detail {
inline constexpr std::size_t elementwise_grain = 1 << 14;
}

/// C x H x W -> flat C*H*W (row-major, as torch.flatten).
struct flatten {
    template <class Backend, shape In>
    struct impl {
        static constexpr shape out = flat_shape(static_cast<int>(In.size()));
        static constexpr std::size_t param_count = 0, state_count = 0;
        /// The output is the input's memory as it is (the SNN pass copies nothing).
        static constexpr bool reshapes_only = true;
        static std::string describe() { return "flatten"; }
        static void init(float*, float*, const detail::counter_rng&) {}
        void forward(const float* x, float* y, const detail::layer_context& c) {
            std::memcpy(y, x, sizeof(float) * c.batch * In.size());
        }
        void backward(const float*, const float*, const float* dy, float* dx, const detail::layer_context& c) {
            if (dx) std::memcpy(dx, dy, sizeof(float) * c.batch * In.size());
        }
    };
};

/// max(x, 0).
struct relu {
    template <class Backend, shape In>
    struct impl {
        static constexpr shape out = In;
        static constexpr std::size_t param_count = 0, state_count = 0;
        static std::string describe() { return "relu"; }
        static void init(float*, float*, const detail::counter_rng&) {}
        void forward(const float* x, float* y, const detail::layer_context& c) {
            detail::for_range(c.batch * In.size(), detail::elementwise_grain, [&](std::size_t b, std::size_t e) {
                for (std::size_t i = b; i < e; ++i) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
            });
        }
        void backward(const float*, const float* y, const float* dy, float* dx, const detail::layer_context& c) {
            if (!dx) return;
            detail::for_range(c.batch * In.size(), detail::elementwise_grain, [&](std::size_t b, std::size_t e) {
                for (std::size_t i = b; i < e; ++i) dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
            });
        }
    };
};

/// Inverted dropout with probability Numerator/Denominator (default: percent), active in
/// training only. The mask is a function of (seed, step, layer, element): reproducible.
template <int Numerator, int Denominator = 100>
struct dropout {
    static_assert(Numerator >= 0 && Denominator > 0 && Numerator < Denominator,
                  "snn2ann::dropout<Numerator, Denominator>: the probability must lie in [0, 1)");
    /// The probability that an element is dropped.
    static constexpr float probability = static_cast<float>(Numerator) / static_cast<float>(Denominator);

    template <class Backend, shape In>
    struct impl {
        static constexpr shape out = In;
        static constexpr std::size_t param_count = 0, state_count = 0;
        static std::string describe() {
            return "dropout<" + std::to_string(Numerator) + "/" + std::to_string(Denominator) + ">";
        }
        static void init(float*, float*, const detail::counter_rng&) {}
        void forward(const float* x, float* y, const detail::layer_context& c) {
            const std::size_t n = c.batch * In.size();
            trained_ = c.training && Numerator > 0;
            if (!trained_) {
                std::memcpy(y, x, sizeof(float) * n);
                return;
            }
            const detail::counter_rng rng(c.seed, detail::random_stream::layer(c.stream, c.step) ^ detail::random_stream::dropout);
            const float scale = 1.0f / (1.0f - probability);
            draws_ = detail::draw_positions(c, In.size());
            detail::for_range(n, detail::elementwise_grain, [&](std::size_t b, std::size_t e) {
                for (std::size_t i = b; i < e; ++i)
                    y[i] = rng.uniform(draws_(i)) < probability ? 0.0f : x[i] * scale;
            });
            rng_ = rng;
        }
        void backward(const float*, const float*, const float* dy, float* dx, const detail::layer_context& c) {
            if (!dx) return;
            const std::size_t n = c.batch * In.size();
            if (!trained_) {
                std::memcpy(dx, dy, sizeof(float) * n);
                return;
            }
            const float scale = 1.0f / (1.0f - probability);
            detail::for_range(n, detail::elementwise_grain, [&](std::size_t b, std::size_t e) {
                for (std::size_t i = b; i < e; ++i)
                    dx[i] = rng_.uniform(draws_(i)) < probability ? 0.0f : dy[i] * scale;
            });
        }

    private:
        detail::draw_position draws_{};
        detail::counter_rng rng_{0, 0};  // the mask of the last training forward, redrawn in backward
        bool trained_ = false;
    };
};

}  // namespace snn2ann::inline v0
