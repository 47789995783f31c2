// snn2ann/rules: plain ANN training, back-propagation through the network as written.
// A rule decides which executors run and where the gradients come from (DESIGN.md 4):
//   loss_result train_step(Model&, const float* x, const std::int32_t* y, std::size_t batch, std::uint64_t step);
//   const float* predict(Model&, const float* x, std::size_t batch);   // evaluation outputs
#pragma once

#include <cstddef>
#include <cstdint>

#include "../core/buffer.hpp"
#include "../train/loss.hpp"

namespace snn2ann::inline v0 {
namespace detail {

/// The ANN pass every rule ends with: forward in training mode, softmax cross-entropy on
/// the outputs, backward of its gradient (dlogits is the rule's reusable buffer).
template <class Model>
loss_result ann_loss_step(Model& m, const float* x, const std::int32_t* y, std::size_t batch, std::uint64_t step,
                          buffer<float>& dlogits) {
    constexpr int classes = Model::output_shape.c;
    const float* logits = m.forward(x, batch, true, step);
    float* d = dlogits.ensure(batch * classes);
    const loss_result r = softmax_cross_entropy(logits, y, batch, classes, d);
    m.backward(x, d, batch);
    return r;
}

}  // namespace detail

namespace rules {

struct ann {
    template <class Model>
    loss_result train_step(Model& m, const float* x, const std::int32_t* y, std::size_t batch, std::uint64_t step) {
        static_assert(Model::output_shape.flat,
                      "snn2ann::rules::ann: the network's output must be flat class scores (end it with a "
                      "linear layer)");
        return detail::ann_loss_step(m, x, y, batch, step, dlogits_);
    }
    template <class Model>
    const float* predict(Model& m, const float* x, std::size_t batch) {
        return m.forward(x, batch, false);
    }

private:
    detail::buffer<float> dlogits_;
};

}  // namespace rules
}  // namespace snn2ann::inline v0
