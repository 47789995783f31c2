// snn2ann/rules: plain ANN training, back-propagation through the network as written.
// A rule decides which executors run and where the gradients come from (DESIGN.md 4):
//   loss_result train_step(Model&, const float* x, const std::int32_t* y, std::size_t batch, std::uint64_t step);
//   const float* predict(Model&, const float* x, std::size_t batch);   // evaluation outputs
#pragma once

#include <cstddef>
#include <cstdint>

#include "../core/buffer.hpp"
#include "../train/loss.hpp"

namespace snn2ann::inline v0::rules {

struct ann {
    template <class Model>
    loss_result train_step(Model& m, const float* x, const std::int32_t* y, std::size_t batch, std::uint64_t step) {
        static_assert(Model::output_shape.flat,
                      "snn2ann::rules::ann: the network's output must be flat class scores (end it with a "
                      "linear layer)");
        constexpr int classes = Model::output_shape.c;
        const float* logits = m.forward(x, batch, true, step);
        float* dlogits = dlogits_.ensure(batch * classes);
        const loss_result r = softmax_cross_entropy(logits, y, batch, classes, dlogits);
        m.backward(x, dlogits, batch);
        return r;
    }
    template <class Model>
    const float* predict(Model& m, const float* x, std::size_t batch) {
        return m.forward(x, batch, false);
    }

private:
    detail::buffer<float> dlogits_;
};

}  // namespace snn2ann::inline v0::rules
