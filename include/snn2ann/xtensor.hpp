// snn2ann: xtensor arrays at the API boundary. A data set built from arrays (images
// N x C x H x W, labels N), and a rule's predictions returned as an array (N x outputs),
// for users whose data live in xtensor arrays.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

#include <xtensor/xtensor.hpp>

#include "core/error.hpp"
#include "data/dataset.hpp"
#include "rules/rule.hpp"

namespace snn2ann::inline v0 {
namespace data {

/// A data set of `images` (N x C x H x W floats, NCHW) and `labels` (N class indices in
/// [0, classes)); checked whole (data::validate), with errors that name the sample.
inline dataset from_xtensor(const xt::xtensor<float, 4>& images, const xt::xtensor<std::int32_t, 1>& labels,
                            int classes) {
    const auto& s = images.shape();
    if (s[0] != labels.shape()[0])
        throw invalid_argument("data::from_xtensor: " + std::to_string(s[0]) + " images but " +
                               std::to_string(labels.shape()[0]) + " labels");
    if (classes <= 0) throw invalid_argument("data::from_xtensor: " + std::to_string(classes) + " classes");
    dataset d;
    d.channels = static_cast<int>(s[1]), d.height = static_cast<int>(s[2]), d.width = static_cast<int>(s[3]);
    d.classes = classes;
    d.images.assign(images.begin(), images.end());  // row-major: the NCHW order of a dataset
    d.labels.assign(labels.begin(), labels.end());
    validate(d, d.sample_shape(), classes, "data::from_xtensor");
    return d;
}

}  // namespace data

/// The rule's outputs for `images` (N x C x H x W, the model's input shape), in batches of
/// `batch`: N x outputs, e.g. the class scores of rules::snn2ann{...}'s SNN branch.
template <class Model, class Rule>
    requires evaluation_rule<Rule, Model>
xt::xtensor<float, 2> predict(Model& m, const xt::xtensor<float, 4>& images, Rule rule, std::size_t batch = 256) {
    constexpr shape in = Model::input_shape;
    const auto& s = images.shape();
    if (static_cast<int>(s[1]) != in.c || static_cast<int>(s[2]) != in.h || static_cast<int>(s[3]) != in.w)
        throw invalid_argument("predict: images of " + std::to_string(s[1]) + "x" + std::to_string(s[2]) + "x" +
                               std::to_string(s[3]) + ", the network takes " + std::to_string(in.c) + "x" +
                               std::to_string(in.h) + "x" + std::to_string(in.w));
    if (batch == 0) throw invalid_argument("predict: the batch size is 0");
    constexpr std::size_t outputs = Model::output_shape.size();
    const std::size_t n = s[0], per_image = in.size();
    xt::xtensor<float, 2> out = xt::zeros<float>({n, outputs});
    const float* x = images.data();
    for (std::size_t first = 0; first < n; first += batch) {
        const std::size_t count = std::min(batch, n - first);
        const float* y = rule.predict(m, x + first * per_image, count);
        std::copy(y, y + count * outputs, out.data() + first * outputs);
    }
    return out;
}

}  // namespace snn2ann::inline v0
