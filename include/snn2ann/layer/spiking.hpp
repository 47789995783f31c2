// snn2ann/layer: a layer of spiking neurons, the meeting point of the two branches.
//  - SNN branch (branch::snn): runs the neuron over T steps on its input current and
//    emits spikes; keeps only the spike count c per neuron (0..T), not the spike train.
//  - ANN branch (branch::ann): a = ReLU(z), h = SMU(a, c) with the counts of the SNN pass
//    of the same batch; backward is ReLU's, dL/dz = dL/dh * 1[z > 0] (the counts get no
//    gradient). In training it also applies ATA to the thresholds.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>

#include "../core/buffer.hpp"
#include "../core/error.hpp"
#include "../core/parallel.hpp"
#include "../core/shape.hpp"
#include "../neuron/neuron.hpp"
#include "context.hpp"

namespace snn2ann::inline v0 {

template <class Neuron = if_neuron<>>
struct spiking {
    /// state: one threshold per neuron.
    template <class Backend, shape In>
    struct impl {
        static constexpr bool is_spiking = true;
        static constexpr shape out = In;
        static constexpr std::size_t neurons = In.size();
        static constexpr std::size_t param_count = 0, state_count = neurons;
        using neuron = Neuron;

        static void init(float*, float* state, const detail::counter_rng& rng) {
            for (std::size_t i = 0; i < neurons; ++i) state[i] = Neuron::threshold::initial(rng, i);
        }

        void forward(const float* x, float* y, const detail::layer_context& c) {
            if (c.mode == detail::branch::snn) snn_forward(x, y, c);
            else ann_forward(x, y, c);
        }
        void backward(const float* x, const float*, const float* dy, float* dx, const detail::layer_context& c) {
            if (!dx) return;
            const float k = c.output_scale;
            detail::for_range(c.batch * neurons, 1 << 14, [&](std::size_t b, std::size_t e) {
                for (std::size_t i = b; i < e; ++i) dx[i] = x[i] > 0.0f ? dy[i] * k : 0.0f;
            });
        }

        /// Spike counts of the last SNN pass (batch x neurons, values 0..T).
        const float* counts() const { return counts_.data(); }
        std::size_t counted_batch() const { return counted_batch_; }
        /// Fraction of noisy neurons (ANN inactive, SNN fired) in the last training batch.
        double noisy_ratio() const { return noisy_ratio_; }

    private:
        void snn_forward(const float* x, float* y, const detail::layer_context& c) {
            const std::size_t batch = c.batch, steps = static_cast<std::size_t>(c.timesteps);
            float* counts = counts_.ensure(batch * neurons);
            counted_batch_ = batch;
            const float* vth = c.state;
            const bool drop = c.snn_training && Neuron::membrane_dropout > 0.0f;
            const float keep_scale = 1.0f / (1.0f - Neuron::membrane_dropout);
            // P(draw < drop_below) = p for a uniform 16-bit draw (exact for p = k / 65536, e.g. 0.5).
            const auto drop_below = static_cast<std::uint64_t>(Neuron::membrane_dropout * 65536.0f + 0.5f);
            const detail::counter_rng rng(c.seed, c.stream ^ (c.step << 20) ^ 0x5111ULL);
            const float inv_t = 1.0f / static_cast<float>(steps);
            float* membrane = membrane_.ensure(batch * neurons);
            // Tasks take samples; within a sample, each step is one pass over contiguous
            // neurons (current, threshold, membrane, count, spikes), which vectorises.
            detail::for_range(batch, 1, [&](std::size_t b0, std::size_t b1) {
                for (std::size_t b = b0; b < b1; ++b) {
                    float* cnt = counts + b * neurons;
                    float* u = membrane + b * neurons;
                    std::fill(u, u + neurons, 0.0f);
                    std::fill(cnt, cnt + neurons, 0.0f);
                    for (std::size_t t = 0; t < steps; ++t) {
                        const std::size_t base = (t * batch + b) * neurons;
                        const float* cur = c.constant_input ? x + b * neurons : x + base;
                        float* out = y + base;
                        for (std::size_t i = 0; i < neurons; ++i) {
                            const bool spike = Neuron::step(u[i], cur[i], vth[i]);
                            cnt[i] += spike ? 1.0f : 0.0f;
                            if (!c.collapse_output) out[i] = spike ? 1.0f : 0.0f;
                        }
                        if (drop)
                            for (std::size_t i = 0; i < neurons; ++i) {
                                // Four 16-bit draws per hash: the RNG is the dearest part here.
                                const std::size_t at = base + i;
                                const auto draw = (rng.bits(at >> 2) >> (16 * (at & 3))) & 0xffffu;
                                u[i] = draw < drop_below ? 0.0f : u[i] * keep_scale;
                            }
                    }
                    if (c.collapse_output)
                        for (std::size_t i = 0; i < neurons; ++i) y[b * neurons + i] = cnt[i] * inv_t;
                }
            });
        }

        void ann_forward(const float* z, float* h, const detail::layer_context& c) {
            if (counted_batch_ != c.batch || !c.spiking)
                throw invalid_argument("spiking layer: the ANN branch needs the spike counts of an SNN pass over the "
                                       "same batch first (use rules::snn2ann)");
            const float* counts = counts_.data();
            const bool resu = c.spiking->unit == mapping_unit::resu;
            const float k = c.output_scale;
            const std::size_t n = c.batch * neurons;
            detail::for_range(n, 1 << 14, [&](std::size_t b, std::size_t e) {
                for (std::size_t i = b; i < e; ++i) h[i] = (resu && !(z[i] > 0.0f)) ? 0.0f : counts[i] * k;
            });
            if (!c.training) return;
            std::size_t noisy = 0;  // integer count: exact and order-independent
            for (std::size_t i = 0; i < n; ++i) noisy += (!(z[i] > 0.0f) && counts[i] > 0.0f);
            noisy_ratio_ = static_cast<double>(noisy) / static_cast<double>(n);
            const ata& a = c.spiking->threshold_adjustment;
            if (a.enabled && noisy_ratio_ > a.tolerance)
                for (std::size_t i = 0; i < neurons; ++i)
                    c.state[i] = a.ema * c.state[i] + (1.0f - a.ema) * (c.state[i] + a.scale);
        }

        detail::buffer<float> counts_;
        detail::buffer<float> membrane_;  // U per neuron of the running SNN pass
        std::size_t counted_batch_ = 0;
        double noisy_ratio_ = 0.0;
    };
};

}  // namespace snn2ann::inline v0
