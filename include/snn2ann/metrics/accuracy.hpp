// snn2ann/metrics: classification accuracy of a model under a rule's prediction path.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "../core/buffer.hpp"
#include "../core/error.hpp"
#include "../data/dataset.hpp"
#include "../rules/ann.hpp"

namespace snn2ann::inline v0 {

struct accuracy_result {
    double accuracy = 0.0;
    std::size_t correct = 0, total = 0;
};

/// Fraction of `d` whose argmax output equals the label, evaluated in batches in the
/// rule's evaluation mode (running BN statistics, no dropout).
template <class Model, class Rule = rules::ann>
accuracy_result evaluate(Model& m, const data::dataset& d, std::size_t batch = 256, Rule rule = {}) {
    if (d.image_size() != Model::input_shape.size())
        throw invalid_argument("evaluate: the data set's samples have " + std::to_string(d.image_size()) +
                               " values, the network's input " + std::to_string(Model::input_shape.size()));
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
        }
    }
    r.total = d.size();
    r.accuracy = r.total ? static_cast<double>(r.correct) / static_cast<double>(r.total) : 0.0;
    return r;
}

}  // namespace snn2ann::inline v0
