// snn2ann/layer: max and average pooling, square window, no padding (floor mode).
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "../core/backend.hpp"
#include "../core/buffer.hpp"
#include "../core/error.hpp"
#include "../core/shape.hpp"
#include "../ops/cpu/pool.hpp"
#include "context.hpp"

namespace snn2ann::inline v0 {
namespace detail {

/// The window's geometry on In. A flat In is reported once, here; the geometry and the
/// output shape then stand in for valid ones, so that the checks of this and later layers
/// do not add wrong messages to the right one.
template <shape In, int Kernel, int Stride>
constexpr conv_geometry pool_geometry() {
    static_assert(!In.flat, "snn2ann::max_pool/avg_pool: its input is flat; pooling needs a C x H x W input");
    static_assert(In.flat || (In.h >= Kernel && In.w >= Kernel),
                  "snn2ann::max_pool/avg_pool: the window is larger than the input");
    constexpr int h = In.flat ? Kernel : In.h, w = In.flat ? Kernel : In.w;
    return {In.c, h, w, Kernel, Stride, 0, In.c, (h - Kernel) / Stride + 1, (w - Kernel) / Stride + 1};
}
template <shape In, conv_geometry G>
constexpr shape pool_output() {
    return In.flat ? In : image_shape(In.c, G.oh, G.ow);
}

}  // namespace detail

/// Max pooling over Kernel x Kernel windows (default stride = Kernel).
template <int Kernel, int Stride = Kernel>
struct max_pool {
    static_assert(Kernel > 0 && Stride > 0, "snn2ann::max_pool<Kernel, Stride>: both must be positive");
    template <class Backend, shape In>
    struct impl {
        static constexpr detail::conv_geometry geometry = detail::pool_geometry<In, Kernel, Stride>();
        static constexpr shape out = detail::pool_output<In, geometry>();
        static constexpr std::size_t param_count = 0, state_count = 0;
        /// Backward routes the gradient by the winners kept in forward: the input need not
        /// be kept for it (the sequence then keeps it only if its producer's backward
        /// reads it).
        static constexpr bool backward_reads_input = false;
        static std::string describe() {
            return "max_pool<" + std::to_string(Kernel) + ", stride " + std::to_string(Stride) + ">";
        }

        static void init(float*, float*, const detail::counter_rng&) {}
        void forward(const float* x, float* y, const detail::layer_context& c) {
            if (c.mode == detail::branch::snn && c.time_major && c.spiking &&
                (c.spiking->converted || c.spiking->pooling == current_pooling::accumulated))
                return running_max_forward(x, y, c);
            constexpr bool pair = detail::cpu_ops::is_pair_window(geometry);
            const std::size_t n = c.batch * out.size();
            // 2x2 winners are kept only where a backward can follow (a training pass).
            winners_kept_ = !pair || c.training;
            winners_batch_ = c.batch;
            detail::cpu_ops::max_pool_forward(Backend{}, geometry, c.batch, x, y, pair ? nullptr : argmax_.ensure(n),
                                          pair && c.training ? corners_.ensure(n) : nullptr);
        }
        void backward(const float*, const float*, const float* dy, float* dx, const detail::layer_context& c) {
            if (!dx) return;
            if (!winners_kept_ || winners_batch_ != c.batch)
                throw invalid_argument("max_pool: backward needs a training forward of the same batch just before");
            detail::cpu_ops::max_pool_backward(Backend{}, geometry, c.batch, dy, argmax_.data(), corners_.data(), dx);
        }

    private:
        /// A converted ANN's SNN (and an SNN2ANN SNN pass that asks for current_pooling::
        /// accumulated) pools currents that change from step to step. The mean of
        /// per-step maxima exceeds the max of the means (what the ANN's max pool computed),
        /// and passing the current of the input whose accumulated current leads (gating by
        /// the running rate, Rueckauer et al. 2017) still over-counts each time the lead
        /// changes. So each window passes the growth of its maximum accumulated current,
        /// M[t] - M[t-1] with M[t] = max_i sum_{s <= t} x_i[s] and M[-1] = 0: the passed
        /// currents telescope to M[T-1], so their time average is exactly the max of the
        /// mean currents, at every T and causally. The sums carry on when the pass resumes.
        void running_max_forward(const float* x, float* y, const detail::layer_context& c) {
            const std::size_t steps = static_cast<std::size_t>(c.timesteps), batch = c.batch / steps;
            constexpr std::size_t in_size = In.size(), plane = static_cast<std::size_t>(In.h) * In.w;
            // A converted pass may be resumed, so its sums outlive the call; otherwise one
            // plane of sums per task is all it needs (each plane runs through its T steps).
            const bool keep = c.spiking->converted;
            float* kept = keep ? running_.ensure(batch * in_size) : nullptr;
            if (keep && (!c.spiking->resume || running_batch_ != batch)) std::fill(kept, kept + batch * in_size, 0.0f);
            running_batch_ = keep ? batch : 0;
            constexpr detail::conv_geometry g = geometry;
            constexpr std::size_t windows = g.out_plane();
            detail::for_range(batch * static_cast<std::size_t>(In.c), 4, [&](std::size_t p0, std::size_t p1) {
                // M[t-1] and M[t] per window, swapped every step.
                std::vector<float> local(keep ? 0 : plane), maxima(2 * windows);
                float* previous = maxima.data();
                float* current = previous + windows;
                for (std::size_t p = p0; p < p1; ++p) {
                    float* sum = keep ? kept + p * plane : local.data();
                    if (!keep) std::fill(local.begin(), local.end(), 0.0f);
                    window_maxima(sum, previous);
                    for (std::size_t t = 0; t < steps; ++t) {
                        const float* in = x + t * batch * in_size + p * plane;
                        float* o = y + t * batch * out.size() + p * windows;
                        for (std::size_t i = 0; i < plane; ++i) sum[i] += in[i];
                        window_maxima(sum, current);
                        for (std::size_t j = 0; j < windows; ++j) o[j] = current[j] - previous[j];
                        std::swap(previous, current);
                    }
                }
            });
        }

        /// The maximum of every window of one plane.
        static void window_maxima(const float* plane, float* maxima) {
            constexpr detail::conv_geometry g = geometry;
            if constexpr (detail::cpu_ops::is_pair_window(g)) {
                // 2x2 windows at stride 2 (the common case): two rows at a time, which
                // the compiler vectorises.
                for (int oh = 0; oh < g.oh; ++oh) {
                    const float* r0 = plane + 2 * oh * g.w;
                    const float* r1 = r0 + g.w;
                    float* m = maxima + oh * g.ow;
                    for (int ow = 0; ow < g.ow; ++ow)
                        m[ow] = std::max(std::max(r0[2 * ow], r0[2 * ow + 1]), std::max(r1[2 * ow], r1[2 * ow + 1]));
                }
            } else {
                for (int oh = 0; oh < g.oh; ++oh)
                    for (int ow = 0; ow < g.ow; ++ow) {
                        float best = plane[(oh * g.stride) * g.w + ow * g.stride];
                        for (int kh = 0; kh < g.k; ++kh)
                            for (int kw = 0; kw < g.k; ++kw)
                                best = std::max(best, plane[(oh * g.stride + kh) * g.w + ow * g.stride + kw]);
                        maxima[oh * g.ow + ow] = best;
                    }
            }
        }

        detail::buffer<std::int32_t> argmax_;   // general windows: the input index that won
        detail::buffer<std::uint8_t> corners_;  // 2x2/2 windows: the corner that won
        bool winners_kept_ = false;
        std::size_t winners_batch_ = 0;
        detail::buffer<float> running_;  // converted SNN: accumulated input current per element
        std::size_t running_batch_ = 0;
    };
};

/// Average pooling over Kernel x Kernel windows (default stride = Kernel).
template <int Kernel, int Stride = Kernel>
struct avg_pool {
    static_assert(Kernel > 0 && Stride > 0, "snn2ann::avg_pool<Kernel, Stride>: both must be positive");
    template <class Backend, shape In>
    struct impl {
        static constexpr detail::conv_geometry geometry = detail::pool_geometry<In, Kernel, Stride>();
        static constexpr shape out = detail::pool_output<In, geometry>();
        static constexpr std::size_t param_count = 0, state_count = 0;
        static std::string describe() {
            return "avg_pool<" + std::to_string(Kernel) + ", stride " + std::to_string(Stride) + ">";
        }
        static void init(float*, float*, const detail::counter_rng&) {}
        void forward(const float* x, float* y, const detail::layer_context& c) {
            detail::cpu_ops::avg_pool_forward(Backend{}, geometry, c.batch, x, y);
        }
        void backward(const float*, const float*, const float* dy, float* dx, const detail::layer_context& c) {
            if (dx) detail::cpu_ops::avg_pool_backward(Backend{}, geometry, c.batch, dy, dx);
        }
    };
};

}  // namespace snn2ann::inline v0
