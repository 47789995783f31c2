// snn2ann: xtensor arrays at the API boundary. A data set built from arrays (images
// N x C x H x W, or frames N x T x C x H x W for time-varying input, labels N), and a
// rule's predictions returned as an array (N x outputs), for users whose data live in
// xtensor arrays.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

#include <xtensor/xtensor.hpp>

#include "core/error.hpp"
#include "data/dataset.hpp"
#include "net/input_frames.hpp"
#include "rules/rule.hpp"

namespace snn2ann::inline v0 {
namespace data {

namespace detail_arrays {
/// A data set of `n` samples (`what`: "images", "samples") of `frames` frames of c x h x w
/// values (row-major at `values`) and `labels`, checked whole.
inline dataset from_values(const float* values, std::size_t n, std::size_t frames, std::size_t c, std::size_t h,
                           std::size_t w, const xt::xtensor<std::int32_t, 1>& labels, int classes, const char* what) {
    if (n != labels.shape()[0])
        throw invalid_argument("data::from_xtensor: " + std::to_string(n) + " " + what + " but " +
                               std::to_string(labels.shape()[0]) + " labels");
    if (classes <= 0) throw invalid_argument("data::from_xtensor: " + std::to_string(classes) + " classes");
    dataset d;
    d.frames = static_cast<int>(frames);
    d.channels = static_cast<int>(c), d.height = static_cast<int>(h), d.width = static_cast<int>(w);
    d.classes = classes;
    d.images.assign(values, values + n * frames * c * h * w);  // row-major: a dataset's own order
    d.labels.assign(labels.begin(), labels.end());
    validate(d, d.sample_shape(), classes, "data::from_xtensor");
    return d;
}
}  // namespace detail_arrays

/// A data set of `images` (N x C x H x W floats, NCHW) and `labels` (N class indices in
/// [0, classes)); checked whole (data::validate), with errors that name the sample.
inline dataset from_xtensor(const xt::xtensor<float, 4>& images, const xt::xtensor<std::int32_t, 1>& labels,
                            int classes) {
    const auto& s = images.shape();
    return detail_arrays::from_values(images.data(), s[0], 1, s[1], s[2], s[3], labels, classes, "images");
}

/// A data set of time-varying samples: `frames` is N x T x C x H x W (frame t of a sample
/// the input of step t), `labels` N class indices; checked whole.
inline dataset from_xtensor(const xt::xtensor<float, 5>& frames, const xt::xtensor<std::int32_t, 1>& labels,
                            int classes) {
    const auto& s = frames.shape();
    return detail_arrays::from_values(frames.data(), s[0], s[1], s[2], s[3], s[4], labels, classes, "samples");
}

}  // namespace data

namespace detail {
/// predict's loop over `n` samples of `frames` frames each at x.
template <class Model, class Rule>
xt::xtensor<float, 2> predict_samples(Model& m, const float* x, std::size_t n, int frames, Rule& rule, std::size_t batch) {
    if (batch == 0) throw invalid_argument("predict: the batch size is 0");
    require_frames_fit<Model>(frames, rule, "predict");
    const input_frames_scope<Model> scope(m, frames);
    constexpr std::size_t outputs = Model::output_shape.size();
    const std::size_t per_sample = Model::input_shape.size() * static_cast<std::size_t>(frames);
    xt::xtensor<float, 2> out = xt::zeros<float>({n, outputs});
    for (std::size_t first = 0; first < n; first += batch) {
        const std::size_t count = std::min(batch, n - first);
        const float* y = rule.predict(m, x + first * per_sample, count);
        std::copy(y, y + count * outputs, out.data() + first * outputs);
    }
    return out;
}
/// The sample shape of an array against the network's input, named in the error.
template <class Model>
void require_input_shape(std::size_t c, std::size_t h, std::size_t w, const char* what) {
    constexpr shape in = Model::input_shape;
    if (static_cast<int>(c) != in.c || static_cast<int>(h) != in.h || static_cast<int>(w) != in.w)
        throw invalid_argument(std::string("predict: ") + what + " of " + std::to_string(c) + "x" + std::to_string(h) +
                               "x" + std::to_string(w) + ", the network takes " + std::to_string(in.c) + "x" +
                               std::to_string(in.h) + "x" + std::to_string(in.w));
}
}  // namespace detail

/// The rule's outputs for `images` (N x C x H x W, the model's input shape), in batches of
/// `batch`: N x outputs, e.g. the class scores of rules::snn2ann{...}'s SNN branch.
template <class Model, class Rule>
    requires evaluation_rule<Rule, Model>
xt::xtensor<float, 2> predict(Model& m, const xt::xtensor<float, 4>& images, Rule rule, std::size_t batch = 256) {
    const auto& s = images.shape();
    detail::require_input_shape<Model>(s[1], s[2], s[3], "images");
    return detail::predict_samples(m, images.data(), s[0], 1, rule, batch);
}

/// The rule's outputs for time-varying samples, `frames` N x T x C x H x W (T the model's
/// time steps for an SNN, any for an ANN: it takes their mean): N x outputs.
template <class Model, class Rule>
    requires evaluation_rule<Rule, Model>
xt::xtensor<float, 2> predict(Model& m, const xt::xtensor<float, 5>& frames, Rule rule, std::size_t batch = 256) {
    const auto& s = frames.shape();
    detail::require_input_shape<Model>(s[2], s[3], s[4], "frames");
    return detail::predict_samples(m, frames.data(), s[0], static_cast<int>(s[1]), rule, batch);
}

}  // namespace snn2ann::inline v0
