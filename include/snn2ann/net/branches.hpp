// snn2ann/net: the two branches of SNN2ANN as views of a model (docs/method.md, "Weight
// sharing"). Both hold a reference to the model, not a copy: model.ann() and model.snn()
// read and write the one parameter buffer and the one state buffer (BN running
// statistics, thresholds) of the model, so a change through either is seen by the other.
// Each view carries the spiking options of the rule it was made from (model.ann(rule)),
// so what it computes never depends on what ran before.
#pragma once

#include <cstddef>
#include <span>
#include <type_traits>

#include "../layer/context.hpp"

namespace snn2ann::inline v0 {

/// The SNN branch: T steps without a gradient graph (BN folded, no membrane dropout).
template <class Model>
class snn_branch {
public:
    /// The SNN branch of `m` with a rule's spiking options `o`.
    snn_branch(Model& m, const detail::spiking_options& o) : m_(m), options_(o) {}
    /// Logits (batch x classes) of the head on the last spiking layer's mean rate; every
    /// spiking layer keeps its spike counts. Valid until the next pass of the model.
    const float* forward(const float* x, std::size_t batch) { return m_.snn_forward(x, batch, options_, false); }
    /// The model's parameters, state and the model itself.
    ///@{
    std::span<float> parameters() { return m_.parameters(); }
    std::span<float> state() { return m_.state(); }
    Model& model() { return m_; }
    ///@}

private:
    Model& m_;
    detail::spiking_options options_;
};

/// The ANN branch: one pass with the view's mapping units (ReSU by default) on the spike
/// counts of an SNN pass over the same batch.
template <class Model>
class ann_branch {
public:
    /// The ANN branch of `m` with a rule's spiking options `o`.
    ann_branch(Model& m, const detail::spiking_options& o) : m_(m), options_(o) {}
    /// Evaluation: runs the SNN branch on x for the counts, then the ANN branch (running
    /// BN statistics); returns its logits, valid until the next pass of the model.
    const float* forward(const float* x, std::size_t batch) {
        m_.snn_forward(x, batch, options_, false);
        return m_.forward(x, batch, options_, false);
    }
    /// The model's parameters, gradients, state and the model itself.
    ///@{
    std::span<float> parameters() { return m_.parameters(); }
    std::span<float> gradients() { return m_.gradients(); }
    std::span<float> state() { return m_.state(); }
    Model& model() { return m_; }
    ///@}

private:
    Model& m_;
    detail::spiking_options options_;
};

namespace detail {
template <class T>
struct is_branch_view : std::false_type {};
template <class Model>
struct is_branch_view<snn_branch<Model>> : std::true_type {};
template <class Model>
struct is_branch_view<ann_branch<Model>> : std::true_type {};
/// A branch view (model.snn(rule), model.ann(rule)) seen as a rule's prediction, for
/// evaluate() and measure_spikes(): both views run the SNN pass, so both leave counts.
template <class View>
struct view_prediction {
    static constexpr bool predicts_with_snn = true;
    View view;
    template <class Model>
    const float* predict(Model&, const float* x, std::size_t batch) {
        return view.forward(x, batch);
    }
};
}  // namespace detail

}  // namespace snn2ann::inline v0
