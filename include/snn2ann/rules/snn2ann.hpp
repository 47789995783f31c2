// snn2ann/rules: the SNN2ANN rule (docs/method.md). Per training batch:
//  1. the SNN branch runs T steps without a gradient graph and leaves spike counts c_l;
//  2. the ANN branch (batch-statistics BN, one pass) maps a_l = ReLU(z_l) to
//     h_l = SMU(a_l, c_l), the logits are the head on h_L / T, and the loss is the
//     cross-entropy of those logits, back-propagated through the ANN alone;
//  3. ATA raises the thresholds of layers with too many noisy neurons (and lowers those of
//     leaky layers whose ANN-active neurons are mostly silent in the SNN).
// Evaluation is the SNN branch (frozen thresholds, folded BN, no dropout).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "../core/buffer.hpp"
#include "../core/exact_text.hpp"
#include "../layer/context.hpp"
#include "../train/loss.hpp"
#include "ann.hpp"

namespace snn2ann::inline v0::rules {

/// SNN2ANN: the SNN branch runs T steps without a gradient graph, its spike counts replace
/// the ANN branch's activations through the mapping unit, and the ANN branch trains the
/// shared weights by back-propagation (docs/method.md).
struct snn2ann {
    static constexpr bool predicts_with_snn = true;  ///< also with evaluate_ann: the counts are the SNN's
    mapping_unit unit = mapping_unit::resu;          ///< the spiking mapping unit of the ANN branch
    ata threshold_adjustment{};                      ///< adaptive thresholds (on by default)
    encoding input = encoding::direct;  ///< how the SNN branch sees the image
    bool evaluate_ann = false;  ///< predict() with the ANN branch instead of the SNN
    /// Activity regularisation: adds spike_penalty x (spikes per image of the ANN-active
    /// neurons, summed over the spiking layers) to the loss, so training trades accuracy for
    /// fewer spikes. Through the mapping unit's identity backward each active neuron's
    /// gradient grows by spike_penalty / batch. 0 (docs/method.md): none. The reported loss is
    /// the cross-entropy alone.
    float spike_penalty = 0.0f;
    /// Max pooling of the SNN branch's time-varying currents: per step (docs/method.md), or the
    /// growth of the largest accumulated current, whose mean over T is the max of the mean
    /// currents, which is what the ANN branch pools (cpu backend only).
    current_pooling pooling = current_pooling::per_step;
    /// The SNN branch's convolutions (CPU) run an image event-driven, adding the weights of
    /// the inputs that spiked, where at most this fraction of its inputs is nonzero, and as a
    /// dense product otherwise (docs/method.md, "The SNN branch on spikes"); 0: always dense.
    /// The two sum the same terms in other orders: results agree to a few ulps, not bits.
    double event_driven_below = detail::default_event_driven_below;
    /// The loss's label smoothing: targets (1 - s) onehot + s / classes; 0: one-hot.
    float label_smoothing = 0.0f;

    snn2ann() = default;
    /// Mapping unit `u`, threshold adjustment `a`.
    explicit snn2ann(mapping_unit u, ata a = {}) : unit(u), threshold_adjustment(a) {}

    /// A copy whose predict() reports the ANN branch (fed by the SNN's counts).
    snn2ann ann_branch() const {
        snn2ann r = *this;
        r.evaluate_ann = true;
        return r;
    }

    /// One training pass: the SNN branch for the counts, then the ANN branch forward, loss
    /// and backward; the trainer steps.
    template <class Model>
    loss_result train_step(Model& m, const float* x, const std::int32_t* y, std::size_t batch, std::uint64_t step) {
        static_assert(Model::output_shape.flat,
                      "snn2ann::rules::snn2ann: the network's output must be flat class scores (end it with a "
                      "linear head)");
        static_assert(Model::executor::last_spiking >= 0,
                      "snn2ann::rules::snn2ann: the network has no spiking layer (add snn2ann::spiking<...>)");
        constexpr int classes = Model::output_shape.c;
        detail::check_label_smoothing(label_smoothing, "rules::snn2ann");
        const detail::spiking_options o = options();
        const float* snn_logits = m.snn_forward(x, batch, o, true, step);
        snn_correct_ = count_correct(snn_logits, y, batch, classes);
        return detail::ann_loss_step(m, x, y, batch, step, o, dlogits_);
    }

    /// The SNN branch's logits (the ANN branch's with evaluate_ann), valid until the next pass.
    template <class Model>
    const float* predict(Model& m, const float* x, std::size_t batch) {
        const detail::spiking_options o = options();
        const float* snn_logits = m.snn_forward(x, batch, o, false, 0);
        return evaluate_ann ? m.forward(x, batch, o, false) : snn_logits;
    }

    /// The rule and its options, as training states record them.
    std::string describe() const {
        const ata& a = threshold_adjustment;
        return std::string("snn2ann(") + (unit == mapping_unit::resu ? "resu" : "stsu") +
               (a.enabled ? ", ata scale " + detail::exact_text(a.scale) + " tolerance " + detail::exact_text(a.tolerance) +
                                " ema " + detail::exact_text(a.ema) + lowering_text(a)
                          : std::string(", ata off")) +
               (input == encoding::direct ? ", direct input" : ", poisson input") +
               (pooling == current_pooling::per_step ? ", per-step pooling" : ", accumulated pooling") +
               ", spike penalty " + detail::exact_text(spike_penalty) +
               // Named where it is not the default, so that states saved before it existed resume.
               (event_driven_below != detail::default_event_driven_below
                    ? ", event-driven below " + detail::exact_text(event_driven_below)
                    : std::string()) +
               detail::label_smoothing_text(label_smoothing) + (evaluate_ann ? ", evaluates the ann)" : ")");
    }
    /// What the spiking layers do in this rule's passes (both branches).
    detail::spiking_options options() const {
        detail::spiking_options o;
        o.ann_reads_spike_counts = true;
        o.unit = unit;
        o.threshold_adjustment = threshold_adjustment;
        o.spike_penalty = spike_penalty;
        o.pooling = pooling;
        o.input = input;
        o.event_driven_below = event_driven_below;
        o.label_smoothing = label_smoothing;
        return o;
    }

    /// SNN-branch hits of the last training batch (the loss never sees the SNN's logits).
    std::size_t last_snn_correct() const { return snn_correct_; }

private:
    /// ATA's lowering, named where it is not the default (states saved before it existed
    /// name none and resume).
    static std::string lowering_text(const ata& a) {
        const ata defaults{};
        if (a.lowering == defaults.lowering && a.silent_tolerance == defaults.silent_tolerance) return {};
        return std::string(" lowers ") +
               (a.lowering == ata_lowering::never           ? "never"
                : a.lowering == ata_lowering::leaky_neurons ? "leaky neurons"
                                                            : "always") +
               " silent tolerance " + detail::exact_text(a.silent_tolerance);
    }

    static std::size_t count_correct(const float* logits, const std::int32_t* y, std::size_t batch, int classes) {
        std::size_t correct = 0;
        for (std::size_t n = 0; n < batch; ++n) {
            const float* z = logits + n * classes;
            int best = 0;
            for (int k = 1; k < classes; ++k)
                if (z[k] > z[best]) best = k;
            correct += best == y[n];
        }
        return correct;
    }

    detail::buffer<float> dlogits_;
    std::size_t snn_correct_ = 0;
};

}  // namespace snn2ann::inline v0::rules
