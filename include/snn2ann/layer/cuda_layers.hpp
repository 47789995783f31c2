// snn2ann/layer: the CUDA implementations of the layer specs. gpu_layer<Spec, In, Device>
// takes its shapes, parameter layout and initialisation from the CPU implementation of the
// same spec (Spec::impl<cpu, In>): a model's buffers have one layout on both backends, so
// weights move between them by plain copies. Every pointer a layer sees here is the
// device memory of the execution Device (a GPU's, or the host's: ops/cuda/execution.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "../core/error.hpp"
#include "../ops/cuda/batch_norm.hpp"
#include "../ops/cuda/buffer.hpp"
#include "../ops/cuda/conv.hpp"
#include "../ops/cuda/linear.hpp"
#include "../ops/cuda/neuron.hpp"
#include "../ops/cuda/pool.hpp"
#include "batch_norm.hpp"
#include "context.hpp"
#include "conv.hpp"
#include "elementwise.hpp"
#include "linear.hpp"
#include "pool.hpp"
#include "residual.hpp"
#include "spiking.hpp"
#include "../core/messages.hpp"

namespace snn2ann::inline v0::detail {

template <class>
inline constexpr bool unsupported_on_cuda = false;

/// The CUDA layer for Spec on input shape In (specialised below for each layer spec).
template <class Spec, shape In, class Device>
struct gpu_layer {
    static_assert(unsupported_on_cuda<Spec>,
                  "snn2ann cuda backend: this layer has no CUDA implementation yet (supported: conv, linear, "
                  "batch_norm, max_pool, avg_pool, flatten, relu, dropout, spiking; residual blocks run on the cpu "
                  "backend only)");
};

/// What every gpu_layer takes from the CPU implementation of its spec.
template <class Spec, shape In>
struct gpu_layer_base {
    using reference = typename Spec::template impl<cpu, In>;
    static constexpr shape out = reference::out;
    static constexpr std::size_t param_count = reference::param_count;
    static constexpr std::size_t state_count = reference::state_count;
};

template <int O, int K, int S, int P, bool B, class I, shape In, class Device>
struct gpu_layer<conv<O, K, S, P, B, I>, In, Device> : gpu_layer_base<conv<O, K, S, P, B, I>, In> {
    using base = gpu_layer_base<conv<O, K, S, P, B, I>, In>;
    static constexpr conv_geometry geometry = base::reference::geometry;
    static constexpr std::size_t weight_count = base::reference::weight_count;

    void forward(const float* x, float* y, const layer_context& c, const Device& d) {
        cuda_ops::conv_forward(d, geometry, c.batch, x, c.params, B ? c.params + weight_count : nullptr, y, ws_,
                          c.bias_scale);
    }
    void backward(const float* x, const float*, const float* dy, float* dx, const layer_context& c,
                  const Device& d) {
        cuda_ops::conv_backward(d, geometry, c.batch, x, c.params, dy, dx, c.grads, B ? c.grads + weight_count : nullptr, ws_);
    }

private:
    cuda_ops::conv_workspace<Device> ws_;
};

template <int O, bool B, shape In, class Device>
struct gpu_layer<linear<O, B>, In, Device> : gpu_layer_base<linear<O, B>, In> {
    static constexpr std::size_t weight_count = gpu_layer_base<linear<O, B>, In>::reference::weight_count;
    void forward(const float* x, float* y, const layer_context& c, const Device& d) {
        cuda_ops::linear_forward(d, c.batch, In.c, O, x, c.params, B ? c.params + weight_count : nullptr, y, c.bias_scale);
    }
    void backward(const float* x, const float*, const float* dy, float* dx, const layer_context& c,
                  const Device& d) {
        cuda_ops::linear_backward(d, c.batch, In.c, O, x, c.params, dy, dx, c.grads, B ? c.grads + weight_count : nullptr);
    }
};

template <shape In, class Device>
struct gpu_layer<batch_norm, In, Device> : gpu_layer_base<batch_norm, In> {
    static constexpr std::size_t channels = static_cast<std::size_t>(In.c);
    void forward(const float* x, float* y, const layer_context& c, const Device& d) {
        const cuda_ops::bn_shape s{c.batch, channels, In.plane()};
        trained_ = c.training;
        if (c.training && c.group && c.group->synchronised_batch_norm())
            throw invalid_argument(
                messages::cpu_only("synchronised batch normalisation (mpi::options::synchronised_batch_norm)"));
        if (c.training) {
            float* saved = saved_.ensure(2 * channels);
            cuda_ops::bn_forward_train(d, s, x, c.params, c.params + channels, c.state, c.state + channels,
                                  batch_norm::momentum, batch_norm::eps, y, saved, saved + channels);
        } else {
            cuda_ops::bn_forward_eval(d, s, x, c.params, c.params + channels, c.state, c.state + channels, batch_norm::eps,
                                 y, c.bias_scale);
        }
    }
    void backward(const float* x, const float*, const float* dy, float* dx, const layer_context& c,
                  const Device& d) {
        const cuda_ops::bn_shape s{c.batch, channels, In.plane()};
        if (trained_)
            cuda_ops::bn_backward_train(d, s, x, dy, c.params, saved_.data(), saved_.data() + channels, dx, c.grads,
                                   c.grads + channels);
        else
            cuda_ops::bn_backward_eval(d, s, x, dy, c.params, c.state, c.state + channels, batch_norm::eps, dx, c.grads,
                                  c.grads + channels);
    }

private:
    cuda_ops::device_buffer<float, Device> saved_;  // batch mean and 1/std of the last training forward
    bool trained_ = false;
};

template <int K, int S, shape In, class Device>
struct gpu_layer<max_pool<K, S>, In, Device> : gpu_layer_base<max_pool<K, S>, In> {
    static constexpr conv_geometry geometry = gpu_layer_base<max_pool<K, S>, In>::reference::geometry;
    void forward(const float* x, float* y, const layer_context& c, const Device& d) {
        if (c.spiking && c.spiking->converted)
            throw invalid_argument(messages::cpu_only("the converted SNN of convert::ann_to_snn"));
        // As the CPU layer: currents that change from step to step (after the first
        // spiking layer) are pooled accumulated where the rule asks for it.
        if (c.mode == branch::snn && c.time_major && c.spiking && c.spiking->pooling == current_pooling::accumulated) {
            const std::size_t steps = static_cast<std::size_t>(c.timesteps);
            kept_batch_ = 0;
            return cuda_ops::accumulated_max_pool_forward<K>(d, geometry, steps, c.batch / steps, x, y);
        }
        kept_batch_ = c.batch;
        cuda_ops::max_pool_forward(d, geometry, c.batch, x, y, argmax_.ensure(c.batch * geometry.out_size()));
    }
    void backward(const float*, const float*, const float* dy, float* dx, const layer_context& c, const Device& d) {
        if (!dx) return;
        if (kept_batch_ != c.batch)
            throw invalid_argument("max_pool: backward needs a training forward of the same batch just before");
        cuda_ops::max_pool_backward(d, geometry, c.batch, dy, argmax_.data(), dx);
    }

private:
    cuda_ops::device_buffer<std::int32_t, Device> argmax_;
    std::size_t kept_batch_ = 0;  // the batch whose winners argmax_ holds
};

template <int K, int S, shape In, class Device>
struct gpu_layer<avg_pool<K, S>, In, Device> : gpu_layer_base<avg_pool<K, S>, In> {
    static constexpr conv_geometry geometry = gpu_layer_base<avg_pool<K, S>, In>::reference::geometry;
    void forward(const float* x, float* y, const layer_context& c, const Device& d) {
        cuda_ops::avg_pool_forward(d, geometry, c.batch, x, y);
    }
    void backward(const float*, const float*, const float* dy, float* dx, const layer_context& c,
                  const Device& d) {
        if (dx) cuda_ops::avg_pool_backward(d, geometry, c.batch, dy, dx);
    }
};

template <shape In, class Device>
struct gpu_layer<flatten, In, Device> : gpu_layer_base<flatten, In> {
    void forward(const float* x, float* y, const layer_context& c, const Device& d) {
        cuda_ops::copy(d, x, y, c.batch * In.size());
    }
    void backward(const float*, const float*, const float* dy, float* dx, const layer_context& c,
                  const Device& d) {
        if (dx) cuda_ops::copy(d, dy, dx, c.batch * In.size());
    }
};

template <shape In, class Device>
struct gpu_layer<relu, In, Device> : gpu_layer_base<relu, In> {
    void forward(const float* x, float* y, const layer_context& c, const Device& d) {
        cuda_ops::relu(d, x, y, c.batch * In.size());
    }
    void backward(const float* x, const float*, const float* dy, float* dx, const layer_context& c,
                  const Device& d) {
        if (dx) cuda_ops::relu_backward(d, x, dy, dx, c.batch * In.size(), 1.0f);
    }
};

template <int N, int D, shape In, class Device>
struct gpu_layer<dropout<N, D>, In, Device> : gpu_layer_base<dropout<N, D>, In> {
    static constexpr float probability = dropout<N, D>::probability;
    void forward(const float* x, float* y, const layer_context& c, const Device& d) {
        trained_ = c.training && N > 0;
        if (!trained_) return cuda_ops::copy(d, x, y, c.batch * In.size());
        rng_ = counter_rng(c.seed, random_stream::layer(c.stream, c.step) ^ random_stream::dropout);  // the CPU path's mask
        draws_ = draw_positions(c, In.size());
        cuda_ops::dropout(d, x, y, c.batch * In.size(), rng_, probability, draws_);
    }
    void backward(const float*, const float*, const float* dy, float* dx, const layer_context& c,
                  const Device& d) {
        if (!dx) return;
        if (!trained_) return cuda_ops::copy(d, dy, dx, c.batch * In.size());
        cuda_ops::dropout(d, dy, dx, c.batch * In.size(), rng_, probability, draws_);  // same mask, same scale
    }

private:
    counter_rng rng_{0, 0};
    draw_position draws_{};
    bool trained_ = false;
};

template <class Neuron, shape In, class Device>
struct gpu_layer<spiking<Neuron>, In, Device> : gpu_layer_base<spiking<Neuron>, In> {
    static_assert(!trained_time_constant<Neuron>,
                  "snn2ann cuda backend: plif_neuron (a trained time constant) runs on the cpu backend only; "
                  "declare the network with lif_neuron<Tau> or if_neuron<...> for the GPU");
    static constexpr bool is_spiking = true;
    static constexpr std::size_t neurons = In.size();
    static constexpr bool leaky = Neuron::decay < 1.0f;  // ATA may lower (plif_neuron is refused above)

    void forward(const float* x, float* y, const layer_context& c, const Device& d) {
        if (c.spiking && c.spiking->converted)
            throw invalid_argument(messages::cpu_only("the converted SNN of convert::ann_to_snn"));
        switch (c.mode) {
            case branch::snn: return snn_forward(x, y, c, d);
            case branch::bptt: return bptt_forward(x, y, c, d);
            case branch::ann: break;
        }
        if (!c.spiking || c.spiking->ann_reads_spike_counts) return ann_forward(x, y, c, d);
        if (c.spiking->activation == ann_activation::qcfs)
            throw invalid_argument(messages::cpu_only("the QCFS activation of rules::ann"));
        cuda_ops::relu(d, x, y, c.batch * neurons);
    }
    void backward(const float* x, const float*, const float* dy, float* dx, const layer_context& c,
                  const Device& d) {
        if (c.grads) d.fill_zero(c.grads, sizeof(float));
        if (c.mode == branch::bptt) return bptt_backward(dy, dx, c, d);
        if (!dx) return;
        const bool reads_counts = !c.spiking || c.spiking->ann_reads_spike_counts;
        const float k = reads_counts ? c.output_scale : 1.0f;
        const float penalty = reads_counts && c.spiking ? c.spiking->spike_penalty / static_cast<float>(c.batch) : 0.0f;
        cuda_ops::relu_backward(d, x, dy, dx, c.batch * neurons, k, penalty);
    }

    /// Spike counts of the last SNN or BPTT pass (device memory, batch x neurons).
    const float* counts() const { return counts_.data(); }
    std::size_t counted_batch() const { return counted_batch_; }
    /// Fraction of noisy neurons in the last training batch of the ANN branch (of the
    /// global batch in data-parallel training, as on the CPU); waits for the device.
    double noisy_ratio(const Device& d) const {
        if (global_noisy_ratio_ >= 0.0) return global_noisy_ratio_;
        if (!tally_total_) return 0.0;
        unsigned long long n = 0;
        d.copy_now(&n, tally_.data(), sizeof n);
        return static_cast<double>(n) / static_cast<double>(tally_total_);
    }

private:
    /// The pass that left the counts: the ANN branch reads only an SNN pass's (as the CPU layer).
    enum class pass { none, snn, bptt };

    void snn_forward(const float* x, float* y, const layer_context& c, const Device& d) {
        const std::size_t offset = c.sample_offset, total = c.total_samples ? c.total_samples : c.batch;
        if (offset == 0) counts_.ensure(total * neurons);
        else if (counted_batch_ != total || counted_by_ != pass::snn)
            throw invalid_argument(messages::snn_chunks_of_different_batches);
        counted_batch_ = total;
        counted_by_ = pass::snn;
        // Draws are indexed in a data-parallel step's global batch (layer_context).
        cuda_ops::snn_run r{c.batch,
                            neurons,
                            static_cast<std::size_t>(c.timesteps),
                            c.global_first + offset,
                            c.global_batch ? c.global_batch : total,
                            c.constant_input,
                            c.collapse_output,
                            c.snn_training && Neuron::membrane_dropout > 0.0f,
                            1.0f / (1.0f - Neuron::membrane_dropout),
                            counter_rng(c.seed, random_stream::layer(c.stream, c.step) ^ random_stream::membrane_dropout)};
        cuda_ops::snn_steps<Neuron>(d, r, x, c.state, y, counts_.data() + offset * neurons);
    }
    void bptt_forward(const float* x, float* y, const layer_context& c, const Device& d) {
        const std::size_t steps = static_cast<std::size_t>(c.timesteps);
        float* counts = counts_.ensure(c.batch * neurons);
        float* kept = c.training ? potentials_.ensure(steps * c.batch * neurons) : nullptr;
        counted_batch_ = c.batch;
        counted_by_ = pass::bptt;
        kept_for_backward_ = c.training;
        cuda_ops::bptt_forward<Neuron>(d, c.batch, neurons, steps, c.constant_input, x, c.state, y, counts, kept);
    }
    void bptt_backward(const float* dy, float* dx, const layer_context& c, const Device& d) {
        if (!dx) return;
        if (!kept_for_backward_ || counted_batch_ != c.batch)
            throw invalid_argument(messages::bptt_backward_without_forward);
        const std::size_t steps = static_cast<std::size_t>(c.timesteps);
        visit_surrogate(c.spiking->gradient.kind, [&](auto sg) {
            cuda_ops::bptt_backward<Neuron, decltype(sg)>(d, c.batch, neurons, steps, c.constant_input,
                                                          c.spiking->detach_reset, c.spiking->gradient.alpha,
                                                          potentials_.data(), c.state, dy, dx);
        });
    }
    void ann_forward(const float* z, float* h, const layer_context& c, const Device& d) {
        if (counted_batch_ != c.batch || counted_by_ != pass::snn || !c.spiking)
            throw invalid_argument(messages::ann_branch_without_counts);
        const ata& a = c.spiking->threshold_adjustment;
        const bool lowering = c.training && a.may_lower(leaky);
        unsigned long long* tally = c.training ? tally_.ensure(3) : nullptr;
        if (c.training) tally_total_ = c.batch * neurons, global_noisy_ratio_ = -1.0;
        // Data-parallel: ATA counts the global batch's noisy and silent neurons (through the host).
        const bool global = c.training && c.group;
        cuda_ops::mapping_forward(d, z, counts_.data(), h, c.batch, neurons, c.spiking->unit == mapping_unit::resu,
                                  c.output_scale, tally, lowering, c.state, global ? nullptr : &a, leaky);
        if (global) {
            unsigned long long mine[3] = {0, 0, 0};
            d.copy_now(mine, tally, sizeof mine);
            std::int64_t counts[4] = {static_cast<std::int64_t>(mine[0]), static_cast<std::int64_t>(tally_total_),
                                      static_cast<std::int64_t>(mine[1]), static_cast<std::int64_t>(mine[2])};
            c.group->sum(counts, lowering ? 4 : 2);
            global_noisy_ratio_ = static_cast<double>(counts[0]) / static_cast<double>(counts[1]);
            const double silent = counts[2] > 0 ? static_cast<double>(counts[3]) / static_cast<double>(counts[2]) : 0.0;
            cuda_ops::ata_update(d, c.state, neurons, a.adjustment(global_noisy_ratio_, silent, leaky), a);
        }
    }

    cuda_ops::device_buffer<float, Device> counts_, potentials_;
    cuda_ops::device_buffer<unsigned long long, Device> tally_;  // noisy, ANN-active, silent (mapping_body)
    std::size_t counted_batch_ = 0, tally_total_ = 0;
    pass counted_by_ = pass::none;
    double global_noisy_ratio_ = -1.0;  // data-parallel training: the global batch's ratio
    bool kept_for_backward_ = false;
};

}  // namespace snn2ann::inline v0::detail
