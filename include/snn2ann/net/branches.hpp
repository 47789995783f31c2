// snn2ann/net: the two branches of SNN2ANN as views of a model (docs/method.md, "Weight
// sharing"). Both hold a reference to the model, not a copy: model.ann() and model.snn()
// read and write the one parameter buffer and the one state buffer (BN running
// statistics, thresholds) of the model, so a change through either is seen by the other.
// Each view carries the spiking options of the rule it was made from (model.ann(rule)),
// so what it computes never depends on what ran before.
#pragma once

#include <cstddef>
#include <span>

#include "../layer/context.hpp"

namespace snn2ann::inline v0 {

/// The SNN branch: T steps without a gradient graph (BN folded, no membrane dropout).
template <class Model>
class snn_branch {
public:
    snn_branch(Model& m, const detail::spiking_options& o) : m_(m), options_(o) {}
    /// Logits (batch x classes) of the head on the last spiking layer's mean rate; every
    /// spiking layer keeps its spike counts. Valid until the next pass of the model.
    const float* forward(const float* x, std::size_t batch) { return m_.snn_forward(x, batch, options_, false); }
    std::span<float> parameters() { return m_.parameters(); }
    std::span<float> state() { return m_.state(); }
    Model& model() { return m_; }

private:
    Model& m_;
    detail::spiking_options options_;
};

/// The ANN branch: one pass with the view's mapping units (ReSU by default) on the spike
/// counts of an SNN pass over the same batch.
template <class Model>
class ann_branch {
public:
    ann_branch(Model& m, const detail::spiking_options& o) : m_(m), options_(o) {}
    /// Evaluation: runs the SNN branch on x for the counts, then the ANN branch (running
    /// BN statistics); returns its logits, valid until the next pass of the model.
    const float* forward(const float* x, std::size_t batch) {
        m_.snn_forward(x, batch, options_, false);
        return m_.forward(x, batch, options_, false);
    }
    std::span<float> parameters() { return m_.parameters(); }
    std::span<float> gradients() { return m_.gradients(); }
    std::span<float> state() { return m_.state(); }
    Model& model() { return m_; }

private:
    Model& m_;
    detail::spiking_options options_;
};

}  // namespace snn2ann::inline v0
