// snn2ann/rules: what makes a type a rule (docs/design.md, "Rules are strategies"):
//   detail::spiking_options options() const;       // what the spiking layers do in its passes
//   const float* predict(Model&, const float* x, std::size_t batch);        // evaluation outputs
//   loss_result train_step(Model&, const float* x, const std::int32_t* y, std::size_t batch,
//                          std::uint64_t step);                              // training rules
//   static constexpr bool predicts_with_snn;      // predict() runs an SNN and leaves spike counts
// A rule hands its options to every pass it runs; the model keeps none of them.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>

#include "../layer/context.hpp"
#include "../train/loss.hpp"

namespace snn2ann::inline v0 {

/// A rule that evaluates a Model: predict() returns its outputs for a batch.
template <class Rule, class Model>
concept evaluation_rule = requires(Rule& r, Model& m, const float* x, std::size_t n) {
    { Rule::predicts_with_snn } -> std::convertible_to<bool>;
    { r.predict(m, x, n) } -> std::convertible_to<const float*>;
};

/// A rule that also trains a Model: train_step() sets the gradients of one batch.
template <class Rule, class Model>
concept training_rule = evaluation_rule<Rule, Model> &&
    requires(Rule& r, const Rule& cr, Model& m, const float* x, const std::int32_t* y, std::size_t n,
             std::uint64_t step) {
        { cr.options() } -> std::convertible_to<detail::spiking_options>;
        { r.train_step(m, x, y, n, step) } -> std::same_as<loss_result>;
    };

/// A rule whose prediction runs an SNN, so that its spikes can be counted.
template <class Rule, class Model>
concept snn_rule = evaluation_rule<Rule, Model> && Rule::predicts_with_snn;

}  // namespace snn2ann::inline v0
