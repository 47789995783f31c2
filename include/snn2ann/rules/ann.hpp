// snn2ann/rules: plain ANN training, back-propagation through the network as written.
// A rule decides which passes run and where the gradients come from (rules/rule.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "../core/buffer.hpp"
#include "../core/error.hpp"
#include "../layer/context.hpp"
#include "../train/loss.hpp"
#include "rule.hpp"

namespace snn2ann::inline v0 {
namespace detail {

/// The ANN pass every rule ends with: forward in training mode with the rule's options
/// o, softmax cross-entropy on the outputs, backward of its gradient (dlogits is the
/// rule's reusable buffer).
template <class Model>
loss_result ann_loss_step(Model& m, const float* x, const std::int32_t* y, std::size_t batch, std::uint64_t step,
                          const spiking_options& o, buffer<float>& dlogits) {
    // A GPU model computes the loss where its logits are (net/cuda_model.hpp).
    if constexpr (requires { m.ann_train_pass(x, y, batch, step, o); }) return m.ann_train_pass(x, y, batch, step, o);
    constexpr int classes = Model::output_shape.c;
    const float* logits = m.forward(x, batch, o, true, step);
    float* d = dlogits.ensure(batch * classes);
    const loss_result r = softmax_cross_entropy(logits, y, batch, classes, d, o.label_smoothing);
    m.backward(x, d, batch, o);
    return r;
}

}  // namespace detail

namespace rules {

/// Trains the network as an ANN. Spiking layers act as their ANN activation: ReLU
/// (default) or QCFS with `qcfs_levels` levels and the layer's trainable ceiling lambda
/// (the activation that ANN-to-SNN conversion turns into IF neurons with few steps).
struct ann {
    static constexpr bool predicts_with_snn = false;  ///< its prediction is the ANN: no spikes
    ann_activation activation = ann_activation::relu;  ///< what a spiking layer computes
    int qcfs_levels = 8;                               ///< L of QCFS
    /// The loss's label smoothing: targets (1 - s) onehot + s / classes; 0: one-hot.
    float label_smoothing = 0.0f;

    ann() = default;
    /// Activation `a`, QCFS with `levels` levels (at least 1).
    explicit ann(ann_activation a, int levels = 8) : activation(a), qcfs_levels(levels) {
        if (levels < 1) throw invalid_argument("rules::ann: QCFS needs at least one level, got " + std::to_string(levels));
    }

    /// One training pass (forward, loss, backward) on `batch` samples; the trainer steps.
    template <class Model>
    loss_result train_step(Model& m, const float* x, const std::int32_t* y, std::size_t batch, std::uint64_t step) {
        static_assert(Model::output_shape.flat,
                      "snn2ann::rules::ann: the network's output must be flat class scores (end it with a "
                      "linear layer)");
        detail::check_label_smoothing(label_smoothing, "rules::ann");
        return detail::ann_loss_step(m, x, y, batch, step, options(), dlogits_);
    }
    /// The outputs of `batch` samples in evaluation mode, valid until the next pass.
    template <class Model>
    const float* predict(Model& m, const float* x, std::size_t batch) {
        return m.forward(x, batch, options(), false);
    }
    /// The rule and its options, as training states record them.
    std::string describe() const {
        return (activation == ann_activation::qcfs ? "ann(qcfs, " + std::to_string(qcfs_levels) + " levels"
                                                   : std::string("ann(relu")) +
               detail::label_smoothing_text(label_smoothing) + ")";
    }
    /// What the spiking layers do in this rule's passes: this rule's activation (also for
    /// the calibration of ANN-to-SNN conversion).
    detail::spiking_options options() const {
        detail::spiking_options o;
        o.ann_reads_spike_counts = false;
        o.activation = activation;
        o.qcfs_levels = qcfs_levels;
        o.label_smoothing = label_smoothing;
        return o;
    }

private:
    detail::buffer<float> dlogits_;
};

}  // namespace rules
}  // namespace snn2ann::inline v0
