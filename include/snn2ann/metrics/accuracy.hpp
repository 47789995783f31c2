// snn2ann/metrics: classification accuracy of a model under a rule's prediction path.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

#include "../core/buffer.hpp"
#include "../core/error.hpp"
#include "../data/dataset.hpp"
#include "../net/branches.hpp"
#include "../net/input_frames.hpp"
#include "../rules/ann.hpp"
#include "../rules/rule.hpp"

namespace snn2ann::inline v0 {

/// What evaluate() measured.
struct accuracy_result {
    double accuracy = 0.0;   ///< correct / total
    std::size_t correct = 0; ///< samples whose argmax is the label
    std::size_t total = 0;   ///< samples evaluated
    double loss = 0.0;  ///< mean softmax cross-entropy of the outputs
};

/// Fraction of `d` whose argmax output equals the label, evaluated in batches with the
/// rule's prediction (its evaluation mode: running BN statistics, no dropout). The rule
/// says what a network with spiking layers computes: rules::snn2ann{...} (its SNN branch,
/// or .ann_branch()), rules::bptt{...}, rules::ann{...} (the ANN), convert::converted_snn{T}.
template <class Model, class Rule>
accuracy_result evaluate(Model& m, const data::dataset& d, std::size_t batch, Rule rule) {
    static_assert(evaluation_rule<Rule, Model>,
                  "snn2ann::evaluate(model, data, batch, rule): the last argument is not a rule (a type with "
                  "predict(model, x, batch) and predicts_with_snn, such as rules::snn2ann, rules::bptt, "
                  "rules::ann or convert::converted_snn)");
    data::validate(d, Model::input_shape, Model::output_shape.c, "evaluate");
    if (batch == 0) throw invalid_argument("evaluate: the batch size is 0");
    detail::require_frames_fit<Model>(d.frames, rule, "evaluate");
    const detail::input_frames_scope<Model> frames(m, d.frames);
    constexpr int classes = Model::output_shape.c;
    accuracy_result r;
    for (std::size_t i = 0; i < d.size(); i += batch) {
        const std::size_t n = std::min(batch, d.size() - i);
        const float* out = rule.predict(m, d.image(i), n);
        for (std::size_t k = 0; k < n; ++k) {
            const float* z = out + k * classes;
            int best = 0;
            for (int c = 1; c < classes; ++c)
                if (z[c] > z[best]) best = c;
            r.correct += best == d.labels[i + k];
            double sum = 0.0;  // log-sum-exp about the largest output
            for (int c = 0; c < classes; ++c) sum += std::exp(static_cast<double>(z[c]) - z[best]);
            r.loss += std::log(sum) + z[best] - z[d.labels[i + k]];
        }
    }
    r.total = d.size();
    r.accuracy = r.total ? static_cast<double>(r.correct) / static_cast<double>(r.total) : 0.0;
    r.loss = r.total ? r.loss / static_cast<double>(r.total) : 0.0;
    return r;
}

/// The same with a batch of 256.
template <class Model, class Rule>
    requires evaluation_rule<Rule, Model>
accuracy_result evaluate(Model& m, const data::dataset& d, Rule rule) {
    return evaluate(m, d, 256, std::move(rule));
}

/// A branch view's accuracy: evaluate(model.snn(rule), data), evaluate(model.ann(rule), data).
template <class View>
    requires detail::is_branch_view<View>::value
accuracy_result evaluate(View view, const data::dataset& d, std::size_t batch = 256) {
    return evaluate(view.model(), d, batch, detail::view_prediction<View>{view});
}

/// A network without spiking layers evaluated as the ANN it is. A network with spiking
/// layers needs the rule (or the branch view) that says how to run it.
template <class Model>
    requires(!detail::is_branch_view<Model>::value)
accuracy_result evaluate(Model& m, const data::dataset& d, std::size_t batch = 256) {
    static_assert(Model::executor::first_spiking < 0,
                  "snn2ann::evaluate(model, data): the network has spiking layers, so say how to run it: "
                  "evaluate(model, data, rule) with the rule it was trained with (rules::snn2ann{...}, its "
                  ".ann_branch(), rules::bptt{...}, rules::ann{...}) or convert::converted_snn{T}");
    return evaluate(m, d, batch, rules::ann{});
}

}  // namespace snn2ann::inline v0
