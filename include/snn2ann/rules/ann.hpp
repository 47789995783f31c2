// snn2ann/rules: plain ANN training, back-propagation through the network as written.
// A rule decides which executors run and where the gradients come from (DESIGN.md 4):
//   loss_result train_step(Model&, const float* x, const std::int32_t* y, std::size_t batch, std::uint64_t step);
//   const float* predict(Model&, const float* x, std::size_t batch);   // evaluation outputs
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "../core/buffer.hpp"
#include "../core/error.hpp"
#include "../layer/context.hpp"
#include "../train/loss.hpp"

namespace snn2ann::inline v0 {
namespace detail {

/// The ANN pass every rule ends with: forward in training mode, softmax cross-entropy on
/// the outputs, backward of its gradient (dlogits is the rule's reusable buffer).
template <class Model>
loss_result ann_loss_step(Model& m, const float* x, const std::int32_t* y, std::size_t batch, std::uint64_t step,
                          buffer<float>& dlogits) {
    // A GPU model computes the loss where its logits are (net/cuda_model.cuh).
    if constexpr (requires { m.ann_train_pass(x, y, batch, step); }) return m.ann_train_pass(x, y, batch, step);
    constexpr int classes = Model::output_shape.c;
    const float* logits = m.forward(x, batch, true, step);
    float* d = dlogits.ensure(batch * classes);
    const loss_result r = softmax_cross_entropy(logits, y, batch, classes, d);
    m.backward(x, d, batch);
    return r;
}

}  // namespace detail

namespace rules {

/// Trains the network as an ANN. Spiking layers act as their ANN activation: ReLU
/// (default) or QCFS with `qcfs_levels` levels and the layer's trainable ceiling lambda
/// (the activation that ANN-to-SNN conversion turns into IF neurons with few steps).
struct ann {
    ann_activation activation = ann_activation::relu;
    int qcfs_levels = 8;

    ann() = default;
    explicit ann(ann_activation a, int levels = 8) : activation(a), qcfs_levels(levels) {
        if (levels < 1) throw invalid_argument("rules::ann: QCFS needs at least one level, got " + std::to_string(levels));
    }

    template <class Model>
    loss_result train_step(Model& m, const float* x, const std::int32_t* y, std::size_t batch, std::uint64_t step) {
        static_assert(Model::output_shape.flat,
                      "snn2ann::rules::ann: the network's output must be flat class scores (end it with a "
                      "linear layer)");
        configure(m);
        return detail::ann_loss_step(m, x, y, batch, step, dlogits_);
    }
    template <class Model>
    const float* predict(Model& m, const float* x, std::size_t batch) {
        configure(m);
        return m.forward(x, batch, false);
    }
    /// Sets the model's spiking layers to this rule's activation (also for calibration).
    template <class Model>
    void configure(Model& m) const {
        auto& o = m.spiking_options();
        o.mapping = false;
        o.converted = false;
        o.pooling = current_pooling::per_step;
        o.activation = activation;
        o.qcfs_levels = qcfs_levels;
    }

private:
    detail::buffer<float> dlogits_;
};

}  // namespace rules
}  // namespace snn2ann::inline v0
