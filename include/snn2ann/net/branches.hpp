// snn2ann/net: the two branches of a model as views (METHOD.md, "Weight sharing"). Both
// hold a reference to the model, not a copy: model.ann() and model.snn() read and write
// the one parameter buffer and the one state buffer (BN running statistics, thresholds)
// of the model, so a change through either is seen by the other.
#pragma once

#include <cstddef>
#include <span>

namespace snn2ann::inline v0 {

/// The SNN branch: T steps without a gradient graph (BN folded, no membrane dropout).
template <class Model>
class snn_branch {
public:
    explicit snn_branch(Model& m) : m_(m) {}
    /// Logits (batch x classes) of the head on the last spiking layer's mean rate; every
    /// spiking layer keeps its spike counts. Valid until the next pass of the model.
    const float* forward(const float* x, std::size_t batch) { return m_.snn_forward(x, batch, false); }
    std::span<float> parameters() { return m_.parameters(); }
    std::span<float> state() { return m_.state(); }
    Model& model() { return m_; }

private:
    Model& m_;
};

/// The ANN branch: one pass with the mapping units the model's spiking options name
/// (ReSU by default) on the spike counts of an SNN pass over the same batch.
template <class Model>
class ann_branch {
public:
    explicit ann_branch(Model& m) : m_(m) {}
    /// Evaluation: runs the SNN branch on x for the counts, then the ANN branch (running
    /// BN statistics); returns its logits, valid until the next pass of the model.
    const float* forward(const float* x, std::size_t batch) {
        m_.snn_forward(x, batch, false);
        return m_.forward(x, batch, false);
    }
    std::span<float> parameters() { return m_.parameters(); }
    std::span<float> gradients() { return m_.gradients(); }
    std::span<float> state() { return m_.state(); }
    Model& model() { return m_; }

private:
    Model& m_;
};

}  // namespace snn2ann::inline v0
