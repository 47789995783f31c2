// snn2ann/rules: spike-based back-propagation through time with surrogate gradients, the
// baseline SNN2ANN is measured against (docs/method.md, "Spike-based BPTT"). Over the same
// network types as the other rules:
//  - the image is the input current at every step (direct encoding); layers before the
//    first spiking layer run once, every later layer runs over the T x B samples of all
//    steps as one batch (BN statistics over T x B, as multi-step frameworks do);
//  - spiking layers run the network's neuron (IF or LIF, its reset and firing rule and its
//    thresholds; no membrane dropout) and keep V[t] for backward;
//  - the loss is the cross-entropy of the outputs averaged over T;
//  - backward runs through time with the chosen surrogate derivative (neuron/surrogate.hpp),
//    optionally with the reset detached from the graph.
// Evaluation is the same forward in evaluation mode (running BN statistics).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "../core/buffer.hpp"
#include "../core/exact_text.hpp"
#include "../neuron/surrogate.hpp"
#include "../train/loss.hpp"
#include "rule.hpp"

namespace snn2ann::inline v0::rules {

/// Spike-based back-propagation through time: T steps with the gradient graph kept, the
/// spike's derivative replaced by a surrogate; the loss is on the outputs averaged over T.
struct bptt {
    static constexpr bool predicts_with_snn = true;  ///< its prediction is the SNN
    surrogate gradient = surrogate::sigmoid();       ///< the spike's surrogate derivative
    bool detach_reset = false;  ///< treat the reset as a constant in backward (SpikingJelly's option)
    /// The forward's convolutions (CPU) past the first spiking layer run an image
    /// event-driven where at most this fraction of its inputs is nonzero (docs/method.md,
    /// "The SNN branch on spikes"); 0: always dense.
    double event_driven_below = detail::default_event_driven_below;
    /// The loss's label smoothing: targets (1 - s) onehot + s / classes; 0: one-hot.
    float label_smoothing = 0.0f;

    bptt() = default;
    /// Surrogate `g`; `detach` as detach_reset.
    explicit bptt(surrogate g, bool detach = false) : gradient(g), detach_reset(detach) {}

    /// One training pass (T steps forward, loss, backward through time); the trainer steps.
    template <class Model>
    loss_result train_step(Model& m, const float* x, const std::int32_t* y, std::size_t batch, std::uint64_t step) {
        static_assert(Model::output_shape.flat,
                      "snn2ann::rules::bptt: the network's output must be flat class scores (end it with a "
                      "linear head)");
        constexpr int classes = Model::output_shape.c;
        detail::check_label_smoothing(label_smoothing, "rules::bptt");
        const detail::spiking_options o = options();
        // A GPU model computes the loss where its outputs are (net/cuda_model.hpp).
        if constexpr (requires { m.bptt_train_pass(x, y, batch, step, o); })
            return m.bptt_train_pass(x, y, batch, step, o);
        const float* logits = m.bptt_forward(x, batch, o, true, step);
        float* d = dlogits_.ensure(batch * classes);
        const loss_result r = softmax_cross_entropy(logits, y, batch, classes, d, o.label_smoothing);
        m.bptt_backward(x, d, batch, o);
        return r;
    }

    /// The SNN's outputs averaged over T, valid until the next pass.
    template <class Model>
    const float* predict(Model& m, const float* x, std::size_t batch) {
        return m.bptt_forward(x, batch, options(), false);
    }

    /// The rule and its options, as training states record them.
    std::string describe() const {
        constexpr const char* kinds[] = {"rectangle", "triangle", "sigmoid", "fast_sigmoid", "atan"};
        return std::string("bptt(") + kinds[static_cast<int>(gradient.kind)] + " " +
               detail::exact_text(gradient.alpha) + (detach_reset ? ", detached reset" : "") +
               // Named where it is not the default, so that states saved before it existed resume.
               (event_driven_below != detail::default_event_driven_below
                    ? ", event-driven below " + detail::exact_text(event_driven_below)
                    : std::string()) +
               detail::label_smoothing_text(label_smoothing) + ")";
    }
    /// What the spiking layers do in this rule's passes.
    detail::spiking_options options() const {
        detail::spiking_options o;
        o.gradient = gradient;
        o.detach_reset = detach_reset;
        o.event_driven_below = event_driven_below;
        o.label_smoothing = label_smoothing;
        return o;
    }

private:
    detail::buffer<float> dlogits_;
};

}  // namespace snn2ann::inline v0::rules
