// snn2ann/layer: max and average pooling, square window, no padding (floor mode).
#pragma once

#include <cstdint>

#include "../core/backend.hpp"
#include "../core/buffer.hpp"
#include "../core/shape.hpp"
#include "../ops/cpu/pool.hpp"
#include "context.hpp"

namespace snn2ann::inline v0 {
namespace detail {

template <shape In, int Kernel, int Stride>
constexpr conv_geometry pool_geometry() {
    static_assert(!In.flat, "snn2ann::max_pool/avg_pool: its input is flat; pooling needs a C x H x W input");
    static_assert(In.h >= Kernel && In.w >= Kernel,
                  "snn2ann::max_pool/avg_pool: the window is larger than the input");
    return {In.c, In.h, In.w, Kernel, Stride, 0, In.c, (In.h - Kernel) / Stride + 1, (In.w - Kernel) / Stride + 1};
}

}  // namespace detail

/// Max pooling over Kernel x Kernel windows (default stride = Kernel).
template <int Kernel, int Stride = Kernel>
struct max_pool {
    static_assert(Kernel > 0 && Stride > 0, "snn2ann::max_pool<Kernel, Stride>: both must be positive");
    template <class Backend, shape In>
    struct impl {
        static constexpr detail::conv_geometry geometry = detail::pool_geometry<In, Kernel, Stride>();
        static constexpr shape out = image_shape(In.c, geometry.oh, geometry.ow);
        static constexpr std::size_t param_count = 0, state_count = 0;
        static void init(float*, float*, const detail::counter_rng&) {}
        void forward(const float* x, float* y, const detail::layer_context& c) {
            detail::ops::max_pool_forward(Backend{}, geometry, c.batch, x, y,
                                          detail::ops::is_pair_window(geometry) ? nullptr
                                                                                : argmax_.ensure(c.batch * out.size()));
        }
        void backward(const float* x, const float* y, const float* dy, float* dx, const detail::layer_context& c) {
            if (dx) detail::ops::max_pool_backward(Backend{}, geometry, c.batch, x, y, dy, argmax_.data(), dx);
        }

    private:
        detail::buffer<std::int32_t> argmax_;
    };
};

/// Average pooling over Kernel x Kernel windows (default stride = Kernel).
template <int Kernel, int Stride = Kernel>
struct avg_pool {
    static_assert(Kernel > 0 && Stride > 0, "snn2ann::avg_pool<Kernel, Stride>: both must be positive");
    template <class Backend, shape In>
    struct impl {
        static constexpr detail::conv_geometry geometry = detail::pool_geometry<In, Kernel, Stride>();
        static constexpr shape out = image_shape(In.c, geometry.oh, geometry.ow);
        static constexpr std::size_t param_count = 0, state_count = 0;
        static void init(float*, float*, const detail::counter_rng&) {}
        void forward(const float* x, float* y, const detail::layer_context& c) {
            detail::ops::avg_pool_forward(Backend{}, geometry, c.batch, x, y);
        }
        void backward(const float*, const float*, const float* dy, float* dx, const detail::layer_context& c) {
            if (dx) detail::ops::avg_pool_backward(Backend{}, geometry, c.batch, dy, dx);
        }
    };
};

}  // namespace snn2ann::inline v0
