// snn2ann/data: an in-memory labelled image set (N x C x H x W floats, NCHW), the
// normalisation of its pixels, and the seeded shuffled order of its batches.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <string>
#include <vector>

#include "../core/error.hpp"
#include "../core/rng.hpp"
#include "../core/shape.hpp"

namespace snn2ann::inline v0::data {

/// Labelled samples in memory, sample-major and row-major (the reader functions,
/// from_xtensor and to_frames build them; data::validate checks one against a model). A
/// sample is one image, the input at every time step, or `frames` frames of channels x
/// height x width, frame t the input of step t (time-varying input: event-camera frames).
struct dataset {
    std::vector<float> images;          ///< size() x frames x channels x height x width
    std::vector<std::int32_t> labels;   ///< one class index per image
    int channels = 0;  ///< of a sample
    int height = 0;    ///< of a sample
    int width = 0;     ///< of a sample
    int classes = 0;   ///< labels lie in [0, classes)
    int frames = 1;    ///< frames per sample: 1 for a static image, T for time-varying input

    /// The number of samples.
    std::size_t size() const { return labels.size(); }
    /// Floats per frame (channels x height x width): the network's input size.
    std::size_t frame_size() const { return static_cast<std::size_t>(channels) * height * width; }
    /// Floats per sample (frames x frame_size()).
    std::size_t image_size() const { return static_cast<std::size_t>(frames > 0 ? frames : 0) * frame_size(); }
    /// Sample `i`.
    const float* image(std::size_t i) const { return images.data() + i * image_size(); }
    /// The shape of a frame (of the sample, for a static image).
    shape sample_shape() const { return image_shape(channels, height, width); }

    /// The first n samples (or all when n == 0 or n >= size()).
    dataset head(std::size_t n) const {
        if (n == 0 || n >= size()) return *this;
        dataset d = *this;
        d.images.resize(n * image_size());
        d.labels.resize(n);
        return d;
    }
    /// The samples [first, first + count) (clipped to the data set), e.g. a rank's shard.
    dataset range(std::size_t first, std::size_t count) const {
        dataset d;
        d.channels = channels, d.height = height, d.width = width, d.classes = classes, d.frames = frames;
        first = std::min(first, size());
        count = std::min(count, size() - first);
        d.images.assign(images.begin() + static_cast<std::ptrdiff_t>(first * image_size()),
                        images.begin() + static_cast<std::ptrdiff_t>((first + count) * image_size()));
        d.labels.assign(labels.begin() + static_cast<std::ptrdiff_t>(first),
                        labels.begin() + static_cast<std::ptrdiff_t>(first + count));
        return d;
    }
};

/// A training set and a test set.
struct split {
    dataset train;  ///< for training
    dataset test;   ///< for evaluation
};

/// A training set and the validation set split off it (split_off).
struct validation_split {
    dataset train;       ///< what is left to train on
    dataset validation;  ///< for validate_on, save_best and early_stopping: never the test set
};

/// Splits `count` samples off `d` for validation, drawn without replacement by a
/// permutation that is a function of `seed` alone; both parts keep the samples in the
/// order they have in `d`. Model selection (validate_on, save_best, early_stopping) then
/// looks at data that neither trains the model nor tests it.
inline validation_split split_off(const dataset& d, std::size_t count, std::uint64_t seed = 0) {
    if (count == 0 || count >= d.size())
        throw invalid_argument("data::split_off: " + std::to_string(count) + " validation samples of a data set of " +
                               std::to_string(d.size()) + " (at least 1, fewer than all)");
    // Fisher-Yates over the indices, draw i from a counter-based stream: the same split
    // on every machine and thread count.
    std::vector<std::size_t> order(d.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    const detail::counter_rng rng(seed, detail::random_stream::validation_split);
    for (std::size_t i = d.size() - 1; i > 0; --i) std::swap(order[i], order[rng.below(i, i + 1)]);
    std::vector<bool> held(d.size(), false);
    for (std::size_t k = 0; k < count; ++k) held[order[k]] = true;
    validation_split out;
    for (dataset* part : {&out.train, &out.validation}) {
        part->channels = d.channels, part->height = d.height, part->width = d.width;
        part->classes = d.classes, part->frames = d.frames;
    }
    const std::size_t size = d.image_size();
    out.validation.images.reserve(count * size);
    out.train.images.reserve((d.size() - count) * size);
    for (std::size_t i = 0; i < d.size(); ++i) {
        dataset& part = held[i] ? out.validation : out.train;
        part.images.insert(part.images.end(), d.images.begin() + static_cast<std::ptrdiff_t>(i * size),
                           d.images.begin() + static_cast<std::ptrdiff_t>((i + 1) * size));
        part.labels.push_back(d.labels[i]);
    }
    return out;
}

/// Checks that `d` can be read as samples of shape `input` with labels for `classes`
/// outputs: positive dimensions of the size of the input, one image per label, every
/// label in [0, classes) (and below d.classes where that is set). `who` names the entry
/// point in the message; a bad label is reported with its index in the data set. Every
/// public function that reads a data set calls this before it computes anything.
inline void validate(const dataset& d, shape input, int classes, const char* who) {
    const std::string where = std::string(who) + ": ";
    if (d.channels <= 0 || d.height <= 0 || d.width <= 0)
        throw invalid_argument(where + "the data set's sample shape " + std::to_string(d.channels) + "x" +
                               std::to_string(d.height) + "x" + std::to_string(d.width) +
                               " has a dimension that is not positive");
    if (d.frames < 1)
        throw invalid_argument(where + "the data set has " + std::to_string(d.frames) + " frames per sample (at least 1)");
    if (d.frame_size() != input.size())
        throw invalid_argument(where + "the data set's " + (d.frames > 1 ? "frames" : "samples") + " are " +
                               std::to_string(d.channels) + "x" + std::to_string(d.height) + "x" +
                               std::to_string(d.width) + " (" + std::to_string(d.frame_size()) +
                               " values), the network's input " + std::to_string(input.size()) + " values");
    if (d.images.size() / d.image_size() != d.labels.size() || d.images.size() % d.image_size() != 0)
        throw invalid_argument(where + "the data set holds " + std::to_string(d.images.size()) +
                               " image values for " + std::to_string(d.labels.size()) + " labels of " +
                               std::to_string(d.image_size()) + " values each (" +
                               std::to_string(d.labels.size() * d.image_size()) + " expected)");
    if (d.classes < 0) throw invalid_argument(where + "the data set has " + std::to_string(d.classes) + " classes");
    const int bound = d.classes > 0 && d.classes < classes ? d.classes : classes;
    for (std::size_t i = 0; i < d.labels.size(); ++i)
        if (d.labels[i] < 0 || d.labels[i] >= bound)
            throw invalid_argument(where + "label " + std::to_string(d.labels[i]) + " of sample " + std::to_string(i) +
                                   " is outside [0, " + std::to_string(bound) + ")" +
                                   (bound == classes ? " (the network's outputs)" : " (the data set's classes)"));
}

/// `d` with `frames` frames per sample re-binned from its own: over a sample's F frames,
/// new frame k sums the old frames' values over [k F / frames, (k + 1) F / frames), in
/// fractions of a frame where the bins do not align, so event counts keep their totals
/// (F = 8 to 4: pairs of frames added). For a model whose T differs from the frames a
/// data set was integrated to.
inline dataset rebin_frames(const dataset& d, int frames) {
    if (frames < 1) throw invalid_argument("data::rebin_frames: " + std::to_string(frames) + " frames (at least 1)");
    if (d.frames < 1 || d.images.size() != d.size() * d.image_size())
        throw invalid_argument("data::rebin_frames: the data set's images (" + std::to_string(d.images.size()) +
                               " values) are not " + std::to_string(d.size()) + " samples of " +
                               std::to_string(d.frames) + " frames of " + std::to_string(d.frame_size()) + " values");
    dataset r = d;
    r.frames = frames;
    r.images.assign(d.size() * r.image_size(), 0.0f);
    const std::size_t n = d.frame_size();
    const double scale = static_cast<double>(d.frames) / frames;
    for (std::size_t i = 0; i < d.size(); ++i)
        for (int k = 0; k < frames; ++k) {
            float* out = r.images.data() + (i * static_cast<std::size_t>(frames) + static_cast<std::size_t>(k)) * n;
            const double lo = k * scale, hi = (k + 1) * scale;
            for (int j = static_cast<int>(lo); j < d.frames && j < hi; ++j) {
                const double w = std::min(hi, j + 1.0) - std::max(lo, static_cast<double>(j));
                if (w <= 0.0) continue;
                const float* in = d.images.data() + (i * static_cast<std::size_t>(d.frames) + static_cast<std::size_t>(j)) * n;
                for (std::size_t e = 0; e < n; ++e) out[e] += static_cast<float>(w) * in[e];
            }
        }
    return r;
}

/// `d`'s static images as `frames` equal frames each: the direct input of every step made
/// explicit (a model trains on it as on the images themselves, docs/guide.md).
inline dataset repeat_frames(const dataset& d, int frames) {
    if (frames < 1) throw invalid_argument("data::repeat_frames: " + std::to_string(frames) + " frames (at least 1)");
    if (d.frames != 1) throw invalid_argument("data::repeat_frames: the data set already has " + std::to_string(d.frames) + " frames per sample");
    dataset r = d;
    r.frames = frames;
    r.images.resize(d.size() * r.image_size());
    const std::size_t n = d.frame_size();
    for (std::size_t i = 0; i < d.size(); ++i)
        for (int k = 0; k < frames; ++k)
            std::copy(d.images.begin() + static_cast<std::ptrdiff_t>(i * n), d.images.begin() + static_cast<std::ptrdiff_t>((i + 1) * n),
                      r.images.begin() + static_cast<std::ptrdiff_t>((i * static_cast<std::size_t>(frames) + static_cast<std::size_t>(k)) * n));
    return r;
}

/// (x - mean[c]) / std[c] per channel, in place.
inline void normalize(dataset& d, const std::vector<float>& mean, const std::vector<float>& std_dev) {
    if (d.channels <= 0 || d.height <= 0 || d.width <= 0 || d.images.size() != d.size() * d.image_size())
        throw invalid_argument("data::normalize: the data set's images (" + std::to_string(d.images.size()) +
                               " values) are not " + std::to_string(d.size()) + " samples of " +
                               std::to_string(d.channels) + "x" + std::to_string(d.height) + "x" +
                               std::to_string(d.width));
    if (mean.size() != static_cast<std::size_t>(d.channels) || std_dev.size() != mean.size())
        throw invalid_argument("data::normalize: " + std::to_string(mean.size()) + " means and " +
                               std::to_string(std_dev.size()) + " deviations for " + std::to_string(d.channels) +
                               " channels");
    const std::size_t plane = static_cast<std::size_t>(d.height) * d.width;
    for (std::size_t i = 0; i < d.size() * static_cast<std::size_t>(d.frames); ++i)
        for (int c = 0; c < d.channels; ++c) {
            float* p = d.images.data() + i * d.frame_size() + c * plane;
            const float m = mean[c], inv = 1.0f / std_dev[c];
            for (std::size_t k = 0; k < plane; ++k) p[k] = (p[k] - m) * inv;
        }
}

/// The sample order of one epoch: a Fisher-Yates shuffle keyed by (seed, epoch), the
/// same on every machine and thread count.
inline void shuffled_order(std::vector<std::uint32_t>& order, std::size_t n, std::uint64_t seed,
                           std::uint64_t epoch) {
    order.resize(n);
    std::iota(order.begin(), order.end(), 0u);
    const detail::counter_rng rng(seed, detail::random_stream::epoch_order + epoch);
    for (std::size_t i = n; i > 1; --i) std::swap(order[i - 1], order[rng.below(i, i)]);
}

/// Copies the samples order[first, first + count) into contiguous x and y.
inline void gather(const dataset& d, const std::uint32_t* order, std::size_t count, float* x, std::int32_t* y) {
    const std::size_t s = d.image_size();
    for (std::size_t i = 0; i < count; ++i) {
        const float* src = d.image(order[i]);
        std::copy(src, src + s, x + i * s);
        y[i] = d.labels[order[i]];
    }
}

}  // namespace snn2ann::inline v0::data
