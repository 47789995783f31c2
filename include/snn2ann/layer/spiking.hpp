// snn2ann/layer: a layer of spiking neurons, the meeting point of the two branches.
//  - SNN branch (branch::snn): runs the neuron over T steps on its input current and
//    emits spikes; keeps only the spike count c per neuron (0..T), not the spike train.
//  - ANN branch (branch::ann): a = ReLU(z), h = SMU(a, c) with the counts of the SNN pass
//    of the same batch; backward is ReLU's, dL/dz = dL/dh * 1[z > 0] (the counts get no
//    gradient). In training it also applies ATA to the thresholds. Under rules::ann the
//    layer is a plain ReLU or QCFS activation instead (for ANN-to-SNN conversion).
//  - BPTT (branch::bptt): T steps that keep V[t] of every neuron; backward runs through
//    time with the surrogate derivative of the spike function.
// The layer's one parameter is QCFS's trainable ceiling lambda; the other rules leave it
// alone (its gradient is 0).
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <type_traits>

#include "../core/buffer.hpp"
#include "../core/error.hpp"
#include "../core/messages.hpp"
#include "../core/parallel.hpp"
#include "../core/shape.hpp"
#include "../neuron/neuron.hpp"
#include "../neuron/surrogate.hpp"
#include "../ops/cpu/sigmoid_derivative.hpp"
#include "context.hpp"

namespace snn2ann::inline v0 {

namespace detail {
/// g[i] = G's derivative at v[i] - vth[i] for n neurons. The sigmoid's runs in the widest
/// vector instructions the CPU has, whatever the program was compiled for (its exp would
/// otherwise keep the loop scalar, or in a default build in SSE2: a tenth of BPTT's time);
/// the other surrogates vectorise as written.
template <class G>
void surrogate_derivatives(const float* v, const float* vth, float a, float* g, std::size_t n) {
    if constexpr (std::is_same_v<G, surrogate_function<surrogate_kind::sigmoid>>) {
        cpu_ops::sigmoid_derivatives(v, vth, a, g, n);
    } else {
        for (std::size_t i = 0; i < n; ++i) g[i] = G::derivative(v[i] - vth[i], a);
    }
}

/// f(std::bool_constant<a>{}, std::bool_constant<b>{}): two run-time flags as compile-time
/// ones, so the loops f runs have no per-element branch on them.
template <class F>
void with_flags(bool a, bool b, F&& f) {
    if (a) {
        if (b) f(std::true_type{}, std::true_type{});
        else f(std::true_type{}, std::false_type{});
    } else {
        if (b) f(std::false_type{}, std::true_type{});
        else f(std::false_type{}, std::false_type{});
    }
}

/// Neurons whose dropout draws are single bits, a set bit keeping the membrane (p = 0.5).
template <class Neuron>
inline constexpr bool one_bit_keep_mask = Neuron::dropout_draw_bits == 1 && Neuron::dropout_drop_below == 1;

/// byte_bits[b][k] = bit k of b, as a float factor.
inline constexpr auto byte_bits = [] {
    std::array<std::array<float, 8>, 256> t{};
    for (std::size_t b = 0; b < 256; ++b)
        for (std::size_t k = 0; k < 8; ++k) t[b][k] = static_cast<float>((b >> k) & 1u);
    return t;
}();

/// Membrane dropout on one sample's row of `neurons` membranes u, whose first draw is
/// `first`: u[i] = Neuron::membrane_dropped(rng, first + i) ? 0 : u[i] * keep_scale. Each
/// hash is computed once for the per_word draws it holds (the RNG is the dearest part of
/// the SNN pass's neurons), in blocks the compiler vectorises; the row's ends, not aligned
/// to a word, go one by one.
template <class Neuron>
void drop_membranes(float* u, std::size_t neurons, std::size_t first, const counter_rng& rng, float keep_scale) {
    constexpr std::size_t per_word = Neuron::dropout_draws_per_word;
    auto one_by_one = [&](std::size_t i) {
        u[i] = Neuron::membrane_dropped(rng, first + i) ? 0.0f : u[i] * keep_scale;
    };
    const std::size_t head = std::min<std::size_t>(neurons, (per_word - first % per_word) % per_word);
    const std::size_t groups = (neurons - head) / per_word;
    for (std::size_t i = 0; i < head; ++i) one_by_one(i);
    constexpr std::size_t block = 64;
    std::uint64_t words[block];
    const std::size_t group0 = (first + head) / per_word;
    for (std::size_t g0 = 0; g0 < groups; g0 += block) {
        const std::size_t n = std::min(block, groups - g0);
        for (std::size_t g = 0; g < n; ++g) words[g] = rng.bits(group0 + g0 + g);
        for (std::size_t g = 0; g < n; ++g) {
            float* ui = u + head + per_word * (g0 + g);  // field k of the word: draw first + (ui - u) + k
            if constexpr (one_bit_keep_mask<Neuron>) {
                // A set bit keeps: eight membranes per byte of the word, scaled by a row of
                // 0/1 factors (vectorises; testing the bits one by one does not).
                for (std::size_t byte = 0; byte < 8; ++byte) {
                    const auto& bits = byte_bits[(words[g] >> (8 * byte)) & 0xffu];
                    for (std::size_t k = 0; k < 8; ++k) ui[8 * byte + k] *= bits[k] * keep_scale;
                }
            } else {
                for (std::size_t k = 0; k < per_word; ++k)
                    ui[k] = Neuron::dropout_field_drops(words[g], k) ? 0.0f : ui[k] * keep_scale;
            }
        }
    }
    for (std::size_t i = head + per_word * groups; i < neurons; ++i) one_by_one(i);
}
}  // namespace detail

/// A spiking layer of neurons `Model` (if_neuron<>, lif_neuron<>, plif_neuron<>), one per
/// element of its input. What it computes depends on the rule: T steps of the neuron
/// (SNN branch, BPTT), the mapping unit on the counts (ANN branch), ReLU or QCFS (ann).
template <class Model = if_neuron<>>
struct spiking {
    static_assert(detail::neuron<Model>,
                  "snn2ann::spiking<Neuron>: the argument is not a neuron model; write spiking<if_neuron<...>> or "
                  "spiking<lif_neuron<Tau, ...>> (a reset mode or firing rule is an argument of the neuron: "
                  "spiking<if_neuron<reset::by_subtraction>>)");
    /// The neuron the layer runs (a stand-in after a refused argument, so that the
    /// sentence above is the only message).
    using Neuron = std::conditional_t<detail::neuron<Model>, Model, if_neuron<>>;

    /// params: lambda (QCFS), then w of a trained time constant (plif_neuron: tau =
    /// 1 + exp(-w)); state: one threshold per neuron.
    template <class Backend, shape In>
    struct impl {
        static constexpr bool is_spiking = true;
        static constexpr bool trains_tau = detail::trained_time_constant<Neuron>;
        /// Whether the neuron leaks (ATA's lowering, docs/method.md "Leaky neurons").
        static constexpr bool leaky = trains_tau || Neuron::decay < 1.0f;
        static constexpr shape out = In;
        static constexpr std::size_t neurons = In.size();
        static constexpr std::size_t param_count = trains_tau ? 2 : 1, state_count = neurons;
        static constexpr float initial_lambda = 4.0f;  // QCFS ceiling: BN-normalised currents rarely exceed 4
        using neuron = Neuron;
        static std::string describe() { return "spiking<" + Neuron::describe() + ">"; }

        static void init(float* params, float* state, const detail::counter_rng& rng) {
            params[0] = initial_lambda;
            if constexpr (trains_tau) params[1] = detail::plif_initial_w(Neuron::initial_tau);
            for (std::size_t i = 0; i < neurons; ++i) state[i] = Neuron::threshold::initial(rng, i);
        }

        void forward(const float* x, float* y, const detail::layer_context& c) {
            switch (c.mode) {
                case detail::branch::snn:
                    if (c.spiking && c.spiking->converted) converted_forward(x, y, c);
                    else snn_forward(x, y, c);
                    break;
                case detail::branch::bptt: bptt_forward(x, y, c); break;
                case detail::branch::ann:
                    if (!c.spiking || c.spiking->ann_reads_spike_counts) ann_forward(x, y, c);
                    else if (c.spiking->activation == ann_activation::qcfs) qcfs_forward(x, y, c);
                    else relu_forward(x, y, c);
                    break;
            }
        }
        void backward(const float* x, const float*, const float* dy, float* dx, const detail::layer_context& c) {
            if (c.grads) std::fill(c.grads, c.grads + param_count, 0.0f);  // BPTT sets w's below
            if (c.mode == detail::branch::bptt) return bptt_backward(dy, dx, c);
            const bool qcfs = c.spiking && !c.spiking->ann_reads_spike_counts && c.spiking->activation == ann_activation::qcfs;
            if (qcfs) return qcfs_backward(x, dy, dx, c);
            if (!dx) return;
            // ReLU's gradient, for the mapping units and for the plain activation alike; a
            // mapping unit adds the spike penalty's gradient with respect to the count
            const bool reads_counts = !c.spiking || c.spiking->ann_reads_spike_counts;
            const float k = reads_counts ? c.output_scale : 1.0f;
            const float penalty = reads_counts && c.spiking ? c.spiking->spike_penalty / static_cast<float>(c.batch) : 0.0f;
            detail::for_range(c.batch * neurons, 1 << 14, [&](std::size_t b, std::size_t e) {
                for (std::size_t i = b; i < e; ++i) dx[i] = x[i] > 0.0f ? dy[i] * k + penalty : 0.0f;
            });
        }

        /// Spike counts of the last SNN or BPTT pass (batch x neurons, values 0..T).
        const float* counts() const { return counts_.data(); }
        /// Membranes after the last SNN pass (the last chunk's samples x neurons): for tests
        /// and diagnostics.
        const float* membranes() const { return membrane_.data(); }
        std::size_t counted_batch() const { return counted_batch_; }
        /// Fraction of noisy neurons (ANN inactive, SNN fired) in the last training batch.
        double noisy_ratio() const { return noisy_ratio_; }
        /// Fraction of the ANN-active neurons that stayed silent in the SNN (count 0) in the
        /// last training batch; counted only where ATA may lower the thresholds (0 otherwise).
        double silent_ratio() const { return silent_ratio_; }

    private:
        void snn_forward(const float* x, float* y, const detail::layer_context& c) {
            const std::size_t batch = c.batch, steps = static_cast<std::size_t>(c.timesteps);
            const std::size_t offset = c.sample_offset, total = c.total_samples ? c.total_samples : batch;
            // Draws are indexed in a data-parallel step's global batch (layer_context).
            const std::size_t draw_total = c.global_batch ? c.global_batch : total, draw_first = c.global_first + offset;
            if (offset == 0) counts_.ensure(total * neurons);
            else if (counted_batch_ != total) throw invalid_argument(detail::messages::snn_chunks_of_different_batches);
            float* counts = counts_.data() + offset * neurons;
            counted_batch_ = total;
            counted_by_ = pass::snn;
            const float* vth = c.state;
            const bool drop = c.snn_training && Neuron::membrane_dropout > 0.0f;
            const float keep_scale = 1.0f / (1.0f - Neuron::membrane_dropout);
            const detail::counter_rng rng(c.seed, detail::random_stream::layer(c.stream, c.step) ^ detail::random_stream::membrane_dropout);
            const float inv_t = 1.0f / static_cast<float>(steps);
            const float decay = decay_of(c);
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
                        if (c.collapse_output) neuron_step<false, false>(cur, vth, u, cnt, nullptr, nullptr, neurons, decay);
                        else neuron_step<false, true>(cur, vth, u, cnt, out, nullptr, neurons, decay);
                        // The membrane after the last step is never read: no draws for it.
                        if constexpr (Neuron::membrane_dropout > 0.0f)
                            if (drop && t + 1 < steps)
                                detail::drop_membranes<Neuron>(u, neurons, (t * draw_total + draw_first + b) * neurons, rng,
                                                               keep_scale);
                    }
                    if (c.collapse_output)
                        for (std::size_t i = 0; i < neurons; ++i) y[b * neurons + i] = cnt[i] * inv_t;
                }
            });
        }

        /// A converted ANN's IF neurons (docs/method.md's baseline): no leak, reset by
        /// subtraction, membranes starting at Vth/2, spikes of value Vth, counts and
        /// membranes carried on when `resume` is set (a long run in chunks of steps).
        /// Conversion refuses networks of leaky neurons at compile time
        /// (model::converted_forward), so the network's own neuron adds only its firing rule.
        void converted_forward(const float* x, float* y, const detail::layer_context& c) {
            const std::size_t batch = c.batch, steps = static_cast<std::size_t>(c.timesteps);
            const bool resume = c.spiking->resume;
            if (resume && (counted_batch_ != batch || counted_by_ != pass::converted))
                throw invalid_argument("spiking layer: a resumed converted pass needs the same batch as the last one");
            float* counts = counts_.ensure(batch * neurons);
            float* membrane = membrane_.ensure(batch * neurons);
            counted_batch_ = batch;
            counted_by_ = pass::converted;
            const float* vth = c.state;
            detail::for_range(batch, 1, [&](std::size_t b0, std::size_t b1) {
                for (std::size_t b = b0; b < b1; ++b) {
                    float* cnt = counts + b * neurons;
                    float* u = membrane + b * neurons;
                    if (!resume)
                        for (std::size_t i = 0; i < neurons; ++i) u[i] = 0.5f * vth[i], cnt[i] = 0.0f;
                    for (std::size_t t = 0; t < steps; ++t) {
                        const std::size_t base = (t * batch + b) * neurons;
                        const float* cur = c.constant_input ? x + b * neurons : x + base;
                        float* out = y + base;
                        for (std::size_t i = 0; i < neurons; ++i) {
                            const float v = u[i] + cur[i];
                            const bool spike = Neuron::fires(v, vth[i]);
                            u[i] = spike ? v - vth[i] : v;
                            cnt[i] += spike ? 1.0f : 0.0f;
                            out[i] = spike ? vth[i] : 0.0f;
                        }
                    }
                }
            });
        }

        /// BPTT forward: spikes for every step (T x B x neurons); in training, V[t] of every
        /// neuron and step is kept for backward (the memory BPTT costs).
        void bptt_forward(const float* x, float* y, const detail::layer_context& c) {
            const std::size_t batch = c.batch, steps = static_cast<std::size_t>(c.timesteps);
            float* counts = counts_.ensure(batch * neurons);
            float* membrane = membrane_.ensure(batch * neurons);
            float* kept = c.training ? potentials_.ensure(steps * batch * neurons) : nullptr;
            counted_batch_ = batch;
            counted_by_ = pass::bptt;
            kept_for_backward_ = c.training;
            const float* vth = c.state;
            const float decay = decay_of(c);
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
                        if (kept) neuron_step<true, true>(cur, vth, u, cnt, out, kept + base, neurons, decay);
                        else neuron_step<false, true>(cur, vth, u, cnt, out, nullptr, neurons, decay);
                    }
                }
            });
        }

        /// BPTT backward, from the last step to the first, with g(x) the surrogate derivative
        /// at x = V[t] - Vth:
        ///   dL/dV[t] = dL/ds[t] g + dL/dU[t] dU[t]/dV[t],   dL/dI[t] = dL/dV[t],
        ///   dL/dU[t-1] = decay dL/dV[t];
        ///   dU/dV = (1 - s) - V g (to zero) or 1 - Vth g (by subtraction); a detached reset
        ///   drops the g terms. A constant input (the first spiking layer) sums dI over t.
        void bptt_backward(const float* dy, float* dx, const detail::layer_context& c) {
            const std::size_t batch = c.batch, steps = static_cast<std::size_t>(c.timesteps);
            if (!kept_for_backward_ || counted_batch_ != batch)
                throw invalid_argument(detail::messages::bptt_backward_without_forward);
            const bool constant = c.constant_input;
            if (!dx) {  // the input needs no gradient; a trained time constant still needs the recurrence
                if constexpr (!trains_tau) return;
                else dx = unused_input_gradient_.ensure((constant ? 1 : steps) * batch * neurons);
            }
            const float* kept = potentials_.data();
            const float* vth = c.state;
            const float alpha = c.spiking->gradient.alpha;
            const bool detach = c.spiking->detach_reset;
            float* carried = carried_.ensure(batch * neurons);  // dL/dU[t] per neuron
            const float decay = decay_of(c);
            // dL/d decay per sample, added in sample order: the same sum for any thread count.
            double* ddecay = trains_tau ? ddecay_.ensure(batch) : nullptr;
            detail::visit_surrogate(c.spiking->gradient.kind, [&](auto sg) {
                using g_of = decltype(sg);
                detail::for_range(batch, 1, [&](std::size_t b0, std::size_t b1) {
                    // The surrogate derivatives of a block of neurons first (vectorised,
                    // exp included), then the step's recurrence over the block, branch-free.
                    alignas(64) std::array<float, surrogate_block> g;
                    for (std::size_t b = b0; b < b1; ++b) {
                        float* du = carried + b * neurons;
                        std::fill(du, du + neurons, 0.0f);
                        double sample_ddecay = 0.0;
                        for (std::size_t t = steps; t-- > 0;) {
                            const std::size_t base = (t * batch + b) * neurons;
                            float* di = constant ? dx + b * neurons : dx + base;
                            const bool accumulate = constant && t + 1 < steps;
                            for (std::size_t i0 = 0; i0 < neurons; i0 += surrogate_block) {
                                const std::size_t n = std::min(surrogate_block, neurons - i0);
                                const float* v = kept + base + i0;
                                const float* previous = t > 0 ? kept + base - batch * neurons + i0 : nullptr;
                                detail::surrogate_derivatives<g_of>(v, vth + i0, alpha, g.data(), n);
                                const auto step = [&](auto accumulated, auto detached) {
                                    sample_ddecay +=
                                        bptt_backward_step<decltype(accumulated)::value, decltype(detached)::value>(
                                            v, previous, vth + i0, g.data(), dy + base + i0, du + i0, di + i0, n, decay);
                                };
                                detail::with_flags(accumulate, detach, step);
                            }
                        }
                        if (ddecay) ddecay[b] = sample_ddecay;
                    }
                });
            });
            if constexpr (trains_tau) {
                double total = 0.0;
                for (std::size_t b = 0; b < batch; ++b) total += ddecay[b];
                if (c.grads) c.grads[1] = static_cast<float>(total * detail::plif_decay_derivative(c.params[1]));
            }
        }

        /// The decay of this pass: the neuron's constant, or PLIF's from its trained w.
        static float decay_of(const detail::layer_context& c) {
            if constexpr (trains_tau) return detail::plif_decay(c.params[1]);
            else return Neuron::decay;
        }

        static constexpr std::size_t surrogate_block = 256;

        /// One step of n neurons: V = decay U + I, spikes, reset, counts; the spikes written
        /// to `out` if Emit, V to `keep` if Keep (BPTT). The arrays never overlap; saying so
        /// (restrict) lets the compiler vectorise the loop, which it otherwise ran scalar
        /// with a branch per spike.
        template <bool Keep, bool Emit>
        static void neuron_step(const float* __restrict cur, const float* __restrict vth, float* __restrict u,
                                float* __restrict cnt, float* __restrict out, float* __restrict keep, std::size_t n,
                                float decay) {
            for (std::size_t i = 0; i < n; ++i) {
                const float v = decay * u[i] + cur[i];
                const bool spike = Neuron::fires(v, vth[i]);
                if constexpr (Keep) keep[i] = v;
                u[i] = Neuron::after_spike(v, spike, vth[i]);
                cnt[i] += spike ? 1.0f : 0.0f;
                if constexpr (Emit) out[i] = spike ? 1.0f : 0.0f;
            }
        }

        /// One step of BPTT backward over n neurons, g the surrogate derivatives at V - Vth.
        /// With a trained time constant, returns the step's dL/d decay = sum of dL/dV[t]
        /// U[t-1], U[t-1] recomputed from the kept V[t-1] (`previous`; null at t = 0).
        template <bool Accumulate, bool Detach>
        static float bptt_backward_step(const float* v, const float* previous, const float* vth, const float* g,
                                        const float* ds, float* du, float* di, std::size_t n, float decay) {
            float ddecay = 0.0f;
            for (std::size_t i = 0; i < n; ++i) {
                const float du_dv = Neuron::reset_derivative(v[i], vth[i], g[i], Detach);
                const float dv = ds[i] * g[i] + du[i] * du_dv;
                if constexpr (Accumulate) di[i] += dv;
                else di[i] = dv;
                du[i] = decay * dv;
                if constexpr (trains_tau)
                    if (previous)
                        ddecay += dv * Neuron::after_spike(previous[i], Neuron::fires(previous[i], vth[i]), vth[i]);
            }
            return ddecay;
        }

    public:
        /// The activations of the last plain ANN pass (ReLU or QCFS), batch x neurons, for
        /// the calibration of ANN-to-SNN conversion.
        const float* last_activations() const { return activations_; }
        std::size_t last_activation_count() const { return activation_count_; }

    private:
        void relu_forward(const float* z, float* h, const detail::layer_context& c) {
            activations_ = h, activation_count_ = c.batch * neurons;
            detail::for_range(c.batch * neurons, 1 << 14, [&](std::size_t b, std::size_t e) {
                for (std::size_t i = b; i < e; ++i) h[i] = z[i] > 0.0f ? z[i] : 0.0f;
            });
        }

        /// QCFS (Bu et al. 2022): h = lambda clip(floor(z L / lambda + 1/2) / L, 0, 1).
        void qcfs_forward(const float* z, float* h, const detail::layer_context& c) {
            activations_ = h, activation_count_ = c.batch * neurons;
            const float lambda = c.params[0], levels = static_cast<float>(c.spiking->qcfs_levels);
            detail::for_range(c.batch * neurons, 1 << 14, [&](std::size_t b, std::size_t e) {
                for (std::size_t i = b; i < e; ++i)
                    h[i] = lambda * std::clamp(std::floor(z[i] * levels / lambda + 0.5f) / levels, 0.0f, 1.0f);
            });
        }
        /// QCFS backward as its authors train it: the floor passes the gradient straight
        /// through, the clip passes it inside [0, 1]; with q = clip(...):
        ///   dh/dz = 1[0 <= q_raw <= 1],  dh/dlambda = q - (z / lambda) 1[0 <= q_raw <= 1].
        void qcfs_backward(const float* z, const float* dy, float* dx, const detail::layer_context& c) {
            const float lambda = c.params[0], levels = static_cast<float>(c.spiking->qcfs_levels);
            const std::size_t n = c.batch * neurons;
            double dlambda = 0.0;  // one serial sum: deterministic whatever the thread count
            for (std::size_t i = 0; i < n; ++i) {
                const float raw = std::floor(z[i] * levels / lambda + 0.5f) / levels;
                const bool inside = raw >= 0.0f && raw <= 1.0f;
                const float q = std::clamp(raw, 0.0f, 1.0f);
                dlambda += static_cast<double>(dy[i]) * (q - (inside ? z[i] / lambda : 0.0f));
                if (dx) dx[i] = inside ? dy[i] : 0.0f;
            }
            if (c.grads) c.grads[0] = static_cast<float>(dlambda);
        }

        void ann_forward(const float* z, float* h, const detail::layer_context& c) {
            if (counted_batch_ != c.batch || counted_by_ != pass::snn || !c.spiking)
                throw invalid_argument(detail::messages::ann_branch_without_counts);
            const float* counts = counts_.data();
            const bool resu = c.spiking->unit == mapping_unit::resu;
            const float k = c.output_scale;
            const std::size_t n = c.batch * neurons;
            const ata& a = c.spiking->threshold_adjustment;
            // The noisy neurons (ANN inactive, SNN fired) are counted in the same sweep,
            // without a branch (inactive is about a coin flip), per chunk: integer counts,
            // exact and independent of the split. Where ATA may lower this layer's
            // thresholds, the ANN-active neurons and the silent ones among them too.
            const bool lowering = c.training && a.may_lower(leaky);
            const std::size_t chunks = detail::chunk_count(n, 1 << 14);
            std::array<std::array<std::int64_t, 3>, detail::max_chunks> tally_in{};
            detail::for_chunks(n, chunks, [&](std::size_t chunk, std::size_t b, std::size_t e) {
                const auto sweep = [&](auto with_silent) {
                    std::int64_t noisy = 0, active = 0, silent = 0;
                    for (std::size_t i = b; i < e; ++i) {
                        const bool inactive = !(z[i] > 0.0f);
                        h[i] = resu && inactive ? 0.0f : counts[i] * k;
                        noisy += static_cast<std::int64_t>(inactive & (counts[i] > 0.0f));
                        if constexpr (decltype(with_silent)::value) {
                            active += static_cast<std::int64_t>(!inactive);
                            silent += static_cast<std::int64_t>(!inactive & (counts[i] == 0.0f));
                        }
                    }
                    tally_in[chunk] = {noisy, active, silent};
                };
                if (lowering) sweep(std::true_type{});
                else sweep(std::false_type{});
            });
            if (!c.training) return;
            // In data-parallel training the counts are the global batch's, so every replica
            // adjusts the same thresholds.
            std::int64_t tally[4] = {0, static_cast<std::int64_t>(n), 0, 0};  // noisy, all, active, silent
            for (std::size_t chunk = 0; chunk < chunks; ++chunk)
                tally[0] += tally_in[chunk][0], tally[2] += tally_in[chunk][1], tally[3] += tally_in[chunk][2];
            if (c.group) c.group->sum(tally, lowering ? 4 : 2);
            noisy_ratio_ = static_cast<double>(tally[0]) / static_cast<double>(tally[1]);
            silent_ratio_ = tally[2] > 0 ? static_cast<double>(tally[3]) / static_cast<double>(tally[2]) : 0.0;
            const ata_step step = a.adjustment(noisy_ratio_, silent_ratio_, leaky);  // silent: 0 where not counted
            if (step != ata_step::keep)
                for (std::size_t i = 0; i < neurons; ++i) c.state[i] = a.adjusted(c.state[i], step);
        }

        /// The pass that left the counts: the ANN branch reads only an SNN2ANN SNN pass's.
        enum class pass { none, snn, converted, bptt };
        detail::buffer<float> counts_;
        pass counted_by_ = pass::none;
        detail::buffer<float> membrane_;  // U per neuron of the running SNN pass
        detail::buffer<float> potentials_;  // BPTT: V[t] per step and neuron, for backward
        detail::buffer<float> carried_;     // BPTT backward: dL/dU per neuron
        detail::buffer<double> ddecay_;     // BPTT backward, PLIF: dL/d decay per sample
        detail::buffer<float> unused_input_gradient_;  // BPTT backward, PLIF, where the input needs none
        std::size_t counted_batch_ = 0;
        bool kept_for_backward_ = false;
        const float* activations_ = nullptr;  // output of the last ReLU/QCFS forward
        std::size_t activation_count_ = 0;
        double noisy_ratio_ = 0.0, silent_ratio_ = 0.0;
    };
};

}  // namespace snn2ann::inline v0
