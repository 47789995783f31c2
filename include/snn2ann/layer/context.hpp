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
// sets dx (dx may be null: the input needs none). Optionally,
//   static constexpr bool backward_reads_output = false;  // backward ignores y
//   static constexpr bool backward_reads_input = false;   // backward ignores x
// let the sequence drop an output that no backward reads (it is then passed as null).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>

#include "../core/backend.hpp"
#include "../core/exact_text.hpp"
#include "../core/process_group.hpp"
#include "../core/rng.hpp"
#include "../neuron/surrogate.hpp"

namespace snn2ann::inline v0 {

/// Spiking mapping unit of SNN2ANN: how the ANN branch takes the SNN's spike counts.
enum class mapping_unit {
    resu,  ///< h = c * 1[a > 0]: spikes of neurons the ANN holds inactive are dropped (default)
    stsu,  ///< h = c
};

/// How the SNN branch turns an image into input current over its T steps.
enum class encoding {
    direct,   ///< the (normalised) image is the input current at every step (default)
    poisson,  ///< at each step, pixel i spikes with probability clamp(x_i, 0, 1)
};

/// How max pooling treats the time-varying input currents of an SNN pass (layers before the
/// first spiking layer see a constant current, where both are the same).
enum class current_pooling {
    per_step,     ///< the max of each step's currents (docs/method.md; its mean exceeds the max of means)
    accumulated,  ///< the growth of the largest accumulated current: its mean is the max of means
};

/// What a spiking layer computes in a plain ANN pass (rules::ann, for ANN-to-SNN conversion).
enum class ann_activation {
    relu,  ///< h = max(z, 0)
    qcfs,  ///< h = lambda clip(floor(z L / lambda + 1/2) / L, 0, 1), lambda trained (QCFS)
};

/// Which spiking layers ATA may also lower the thresholds of (ata::lowering).
enum class ata_lowering {
    never,          ///< thresholds only rise (the reference's ATA)
    leaky_neurons,  ///< layers of leaky neurons (lif_neuron, plif_neuron) only (default)
    always,         ///< every spiking layer
};

/// What ATA does to a layer's thresholds after one training batch (ata::adjustment).
enum class ata_step { keep, raise, lower };

/// Adaptive threshold adjustment, once per training batch and spiking layer:
///  - raise: if more than `tolerance` of the neurons are noisy (ANN inactive, SNN fired),
///    every threshold becomes ema Vth + (1 - ema)(Vth + scale);
///  - lower (layers `lowering` names; docs/method.md, "Leaky neurons"): otherwise, if more
///    than `silent_tolerance` of the neurons the ANN holds active stayed silent in the SNN
///    (count 0), every threshold becomes max(0, ema Vth + (1 - ema)(Vth - scale)).
/// A leaky neuron fed a constant current fires only above its rheobase (1 - decay) Vth per
/// step, a summed input of T (1 - decay) Vth where an IF neuron needs Vth: thresholds that
/// suit an IF layer silence a leaky one, and only the lowering brings it back.
struct ata {
    float scale = 0.1f;      ///< added to (subtracted from) the threshold before the average
    float tolerance = 0.1f;  ///< fraction of noisy neurons that triggers a raise
    float ema = 0.9f;        ///< weight of the old threshold
    bool enabled = true;     ///< false: thresholds stay fixed
    /// Fraction of the ANN-active neurons silent in the SNN that triggers a lowering.
    float silent_tolerance = 0.5f;
    ata_lowering lowering = ata_lowering::leaky_neurons;  ///< which layers' thresholds may fall

    /// Whether a batch with this fraction of noisy neurons raises the thresholds.
    constexpr bool raises_at(double noisy_ratio) const { return enabled && noisy_ratio > tolerance; }
    /// Whether the thresholds of a layer of neurons that leak (or not) may fall.
    constexpr bool may_lower(bool leaky) const {
        return enabled && (lowering == ata_lowering::always || (lowering == ata_lowering::leaky_neurons && leaky));
    }
    /// What a batch does to a layer of neurons that leak (or not), with `noisy_ratio` of its
    /// neurons noisy and `silent_ratio` of its ANN-active neurons silent: a raise first,
    /// else a lowering (the one decision of both backends).
    constexpr ata_step adjustment(double noisy_ratio, double silent_ratio, bool leaky) const {
        if (raises_at(noisy_ratio)) return ata_step::raise;
        if (may_lower(leaky) && silent_ratio > silent_tolerance) return ata_step::lower;
        return ata_step::keep;
    }
    /// A threshold after a raise (the one formula of both backends).
    constexpr float raised(float vth) const { return ema * vth + (1.0f - ema) * (vth + scale); }
    /// A threshold after a lowering, never below 0.
    constexpr float lowered(float vth) const {
        const float v = ema * vth + (1.0f - ema) * (vth - scale);
        return v > 0.0f ? v : 0.0f;
    }
    /// vth after `step`.
    constexpr float adjusted(float vth, ata_step step) const {
        return step == ata_step::raise ? raised(vth) : step == ata_step::lower ? lowered(vth) : vth;
    }
    /// No threshold adjustment.
    static ata off() { return ata{0.1f, 0.1f, 0.9f, false}; }
};

}  // namespace snn2ann::inline v0

namespace snn2ann::inline v0::detail {

/// Which pass of a model runs: the ANN (one pass, with gradient), the SNN (T steps, no
/// gradient) or BPTT (T steps with a gradient through time: every layer from the first
/// spiking one on sees T x B samples, and spiking layers keep their membranes for backward).
enum class branch { ann, snn, bptt };

/// The SNN pass's default crossover from event-driven to dense convolutions (the fraction of
/// an image's inputs that are nonzero): measured by benchmarks/train_throughput
/// --event-driven-below (docs/benchmarks.md).
inline constexpr double default_event_driven_below = 0.5;

/// What the spiking layers do in one pass. The rule that runs the pass builds these
/// (rule.options()) and hands them to it; the model keeps none, so no call can change
/// what a later call computes. The defaults are rules::snn2ann's.
struct spiking_options {
    // SNN2ANN (spiking layers as mapping units in the ANN branch)
    /// The ANN pass maps the SNN pass's spike counts through `unit` (SNN2ANN); false: it
    /// applies `activation` to its own input (rules::ann, conversion).
    bool ann_reads_spike_counts = true;
    mapping_unit unit = mapping_unit::resu;
    ata threshold_adjustment{};
    /// Added to the gradient of every ANN-active neuron's spike count, per sample (see
    /// rules::snn2ann::spike_penalty); 0: none.
    float spike_penalty = 0.0f;
    current_pooling pooling = current_pooling::per_step;  ///< SNN pass (converted SNNs: always accumulated)
    encoding input = encoding::direct;  ///< how the SNN pass sees the image
    /// SNN pass (CPU): a convolution runs an image event-driven where at most this fraction
    /// of its inputs is nonzero (ops/cpu/event_driven.hpp), dense otherwise; 0: always dense.
    double event_driven_below = default_event_driven_below;
    // rules::ann
    ann_activation activation = ann_activation::relu;
    int qcfs_levels = 8;
    // rules::bptt
    surrogate gradient{};
    bool detach_reset = false;
    // A converted ANN's SNN pass: reset by subtraction, membranes start at Vth/2, a spike
    // carries the value Vth, every step receives the full bias, nothing is averaged.
    bool converted = false;
    bool resume = false;  ///< converted: continue the membranes of the previous pass
    // Every rule's training pass
    /// The loss's label smoothing (softmax_cross_entropy; a GPU model's loss on the device
    /// reads it here); 0: one-hot targets.
    float label_smoothing = 0.0f;
};

namespace cpu_ops {
template <class Backend>
struct conv_workspace;
}  // namespace cpu_ops


struct layer_context {
    float* params = nullptr;  ///< this layer's slice of the parameter buffer
    float* grads = nullptr;   ///< same layout as params
    float* state = nullptr;   ///< this layer's slice of the state buffer
    std::size_t batch = 0;
    bool training = false;
    std::uint64_t seed = 0;   ///< model seed, for stochastic layers
    std::uint64_t step = 0;   ///< training step, for stochastic layers
    std::uint64_t stream = 0; ///< unique per layer position in the network

    branch mode = branch::ann;
    int timesteps = 1;
    /// Factor on biases and BN shifts: 1/T in the SNN before its last spiking layer, where
    /// each of the T steps receives a T-th of the folded bias b'.
    float bias_scale = 1.0f;
    bool constant_input = false;  ///< SNN: the input is the same at every step (B samples)
    bool time_varying_input = false; ///< SNN: the network's input holds T x B samples (encoded)
    bool collapse_output = false; ///< SNN: output the mean firing rate (B samples), not spikes
    /// SNN and BPTT: a stateless layer's batch is T x B samples, step by step (a residual
    /// block passes this on to the spiking layers inside it, which then step through time).
    bool time_major = false;
    bool nested = false;          ///< inside a residual block: not the network's own layer list
    /// SNN: this pass covers samples [sample_offset, sample_offset + batch) of a batch of
    /// total_samples (0: batch); spike counts and random draws are indexed in the whole batch.
    std::size_t sample_offset = 0, total_samples = 0;
    bool snn_training = false;    ///< SNN pass of a training step: membrane dropout on
    /// SNN pass: a chunk after the first of one pass. The parameters are those of the
    /// chunk before (nothing changes them within a pass), so whatever a layer derived
    /// from them alone then (BN folded into weights, packed weights) still holds.
    bool params_as_before = false;
    float output_scale = 1.0f;    ///< ANN: factor on a spiking layer's output (1/T for the last)
    const spiking_options* spiking = nullptr;
    /// Data-parallel training (distributed.hpp): the processes that train the model
    /// together, set in the passes of a training step only; null otherwise. Through it
    /// ATA counts the noisy neurons of the global batch, synchronised BN takes its
    /// statistics over it, and the network's backward reports finished gradients.
    process_group* group = nullptr;
    /// Data-parallel training: this rank's samples start at global_first of the step's
    /// global batch of global_batch samples (0: the pass is not part of one). Random draws
    /// are indexed in the global batch, so they do not depend on the number of ranks.
    std::size_t global_first = 0, global_batch = 0;
    /// The model's one convolution scratch (column matrices, per-chunk weight-gradient
    /// partials), which every CPU convolution of the model shares: layers run one at a
    /// time, so one set sized for the largest layer serves them all. Null: each layer
    /// uses its own (a layer run alone).
    cpu_ops::conv_workspace<cpu>* shared_conv_scratch = nullptr;

    layer_context at(std::size_t param_offset, std::size_t state_offset, std::uint64_t child) const {
        layer_context c = *this;
        c.params = params ? params + param_offset : nullptr;
        c.grads = grads ? grads + param_offset : nullptr;
        c.state = state ? state + state_offset : nullptr;
        c.stream = stream * 131 + child + 1;
        return c;
    }
};

/// Which random draw element i of a pass takes: its own index, or in a data-parallel step
/// its place in the global batch (in a T x B pass, step-major), so that a stochastic
/// layer's masks are those of one process training on the whole batch (CPU and CUDA).
struct draw_position {
    std::size_t per_sample = 1, local = 0, global = 0, first = 0;
    constexpr std::size_t operator()(std::size_t i) const {
        if (global == 0) return i;
        const std::size_t sample = i / per_sample, t = sample / local, b = sample - t * local;
        return (t * global + first + b) * per_sample + (i - sample * per_sample);
    }
};
inline draw_position draw_positions(const layer_context& c, std::size_t per_sample) {
    if (c.global_batch == 0) return {};
    const std::size_t local = c.time_major ? c.batch / static_cast<std::size_t>(c.timesteps) : c.batch;
    return {per_sample, local, c.global_batch, c.global_first};
}

/// The data-parallel training step a model takes part in (model::join_step), which every
/// pass of the step carries in its context; empty outside one.
struct data_parallel_step {
    process_group* group = nullptr;
    std::size_t global_first = 0, global_batch = 0;
    void mark(layer_context& c) const {
        c.group = group;
        c.global_first = global_first;
        c.global_batch = global_batch;
    }
};

/// The context a model hands its executor for one pass: the model's buffers, seed, time
/// steps and spiking options, and the pass's batch, mode and step (the CPU and the CUDA
/// model both start every pass here).
inline layer_context model_pass_context(float* params, float* grads, float* state, const spiking_options* spiking,
                                        std::uint64_t seed, int timesteps, std::size_t batch, bool training,
                                        std::uint64_t step) {
    layer_context c;
    c.params = params;
    c.grads = grads;
    c.state = state;
    c.batch = batch;
    c.training = training;
    c.seed = seed;
    c.step = step;
    c.timesteps = timesteps;
    c.spiking = spiking;
    return c;
}

/// PyTorch's default initialisation of conv and linear layers: weights and biases
/// uniform in [-1/sqrt(fan_in), 1/sqrt(fan_in)).
inline void init_uniform_fan_in(float* p, std::size_t n, std::size_t fan_in, const counter_rng& rng,
                                std::uint64_t counter0) {
    const float bound = 1.0f / static_cast<float>(std::sqrt(static_cast<double>(fan_in)));
    for (std::size_t i = 0; i < n; ++i) p[i] = (2.0f * rng.uniform(counter0 + i) - 1.0f) * bound;
}

}  // namespace snn2ann::inline v0::detail
