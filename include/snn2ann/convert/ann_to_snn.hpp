// snn2ann/convert: ANN-to-SNN conversion, the second baseline of docs/method.md.
//  1. Train the network with rules::ann (spiking layers act as ReLU, or as QCFS with a
//     trainable ceiling lambda and L levels).
//  2. ann_to_snn() sets every spiking layer's thresholds to one value per layer: the
//     maximum or a percentile (default 99.9th) of that layer's ANN activations over
//     calibration images, or the layer's QCFS lambda.
//  3. The converted SNN (model::converted_forward) folds BN with its running statistics
//     into the conv/linear weights, feeds the image as input current at every step, runs
//     IF neurons with reset by subtraction from an initial membrane of Vth/2, lets a spike
//     carry the value Vth, and averages the outputs over the steps. Networks of leaky
//     neurons are refused at compile time: a leak breaks the equivalence (docs/method.md).
// evaluate_converted() reports accuracy and spikes per image at several T in one pass;
// rules-like converted_snn{T} plugs the converted SNN into evaluate() and measure_spikes().
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <string>
#include <type_traits>
#include <vector>

#include "../core/buffer.hpp"
#include "../core/error.hpp"
#include "../data/dataset.hpp"
#include "../layer/sequence.hpp"
#include "../ops/cpu/time_mean.hpp"
#include "../rules/ann.hpp"
#include "../net/input_frames.hpp"

namespace snn2ann::inline v0::convert {

/// Where a converted spiking layer's threshold comes from.
enum class threshold_source {
    max,         ///< the largest activation seen
    percentile,  ///< options::percentile of the activations (robust to outliers)
    lambda,      ///< QCFS's trained ceiling (no calibration data needed)
};

/// How calibrate() sets the thresholds.
struct options {
    threshold_source thresholds = threshold_source::percentile;  ///< the statistic of the calibration activations
    double percentile = 99.9;  ///< for threshold_source::percentile, in percent
    std::size_t calibration_images = 1024;  ///< the first images of the calibration set
    std::size_t batch = 128;  ///< images per calibration pass
};

/// Sets the thresholds of m's spiking layers for the converted SNN; returns them in layer
/// order. `trained_with` is the rule the ANN was trained with (its activation is the one
/// calibrated).
template <class Model>
std::vector<float> ann_to_snn(Model& m, const data::dataset& calibration, const rules::ann& trained_with,
                              const options& o = {}) {
    using executor = typename Model::executor;
    static_assert(executor::first_spiking >= 0,
                  "snn2ann::convert::ann_to_snn: the network has no spiking layer to convert (add snn2ann::spiking<...>)");
    detail::require_integrate_and_fire<executor>();
    if (o.thresholds == threshold_source::lambda && trained_with.activation != ann_activation::qcfs)
        throw invalid_argument("convert::ann_to_snn: thresholds from lambda need an ANN trained with QCFS");
    if (o.thresholds == threshold_source::percentile && !(o.percentile > 0.0 && o.percentile <= 100.0))
        throw invalid_argument("convert::ann_to_snn: the percentile must lie in (0, 100], got " +
                               std::to_string(o.percentile));
    const detail::spiking_options calibrated = trained_with.options();
    std::vector<std::vector<float>> seen;  // activations per spiking layer (percentile)
    std::vector<float> thresholds;
    // Every spiking layer, those inside residual blocks included, in network order.
    const auto for_spiking = [&](auto&& f) {
        std::size_t k = 0;
        m.layers().for_each_layer_deep([&](auto& l, const detail::layer_position& at) {
            if constexpr (detail::spiking_layer<std::remove_cvref_t<decltype(l)>>) f(l, at, k++);
        });
    };
    if (o.thresholds == threshold_source::lambda) {
        for_spiking([&](auto&, const detail::layer_position& at, std::size_t) {
            thresholds.push_back(m.parameters()[at.param_offset]);
        });
    } else {
        data::validate(calibration, Model::input_shape, Model::output_shape.c, "convert::ann_to_snn (calibration set)");
        if (calibration.size() == 0) throw invalid_argument("convert::ann_to_snn: the calibration set is empty");
        if (o.batch == 0) throw invalid_argument("convert::ann_to_snn: the batch size is 0");
        const detail::input_frames_scope<Model> frames(m, calibration.frames);  // the ANN sees their mean
        const std::size_t images = std::min(o.calibration_images, calibration.size());
        for (std::size_t i = 0; i < images; i += o.batch) {
            const std::size_t n = std::min(o.batch, images - i);
            m.forward(calibration.image(i), n, calibrated, false);
            for_spiking([&](auto& l, const detail::layer_position&, std::size_t k) {
                const float* h = l.last_activations();
                const std::size_t count = l.last_activation_count();
                if (thresholds.size() <= k) thresholds.push_back(0.0f), seen.emplace_back();
                if (o.thresholds == threshold_source::max) thresholds[k] = std::max(thresholds[k], *std::max_element(h, h + count));
                else seen[k].insert(seen[k].end(), h, h + count);
            });
        }
        if (o.thresholds == threshold_source::percentile)
            for (std::size_t k = 0; k < seen.size(); ++k) {
                auto& v = seen[k];
                const auto at = static_cast<std::size_t>(
                    std::ceil(o.percentile / 100.0 * static_cast<double>(v.size()))) - 1;
                std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(at), v.end());
                thresholds[k] = v[at];
            }
    }
    for_spiking([&](auto& l, const detail::layer_position& at, std::size_t k) {
        // A layer that never activated on the calibration data keeps a unit threshold: any
        // positive value reproduces its silence.
        if (!(thresholds[k] > 0.0f)) thresholds[k] = 1.0f;
        float* vth = m.state().data() + at.state_offset;
        std::fill(vth, vth + l.neurons, thresholds[k]);
    });
    return thresholds;
}

/// The converted SNN run for `timesteps` steps, as a rule for evaluate() and
/// measure_spikes(): predict() returns the outputs averaged over the steps.
struct converted_snn {
    static constexpr bool predicts_with_snn = true;  ///< its prediction is spiking (for measure_spikes)
    int timesteps = 8;  ///< steps the SNN runs

    converted_snn() = default;
    /// Runs `steps` steps (positive).
    explicit converted_snn(int steps) : timesteps(steps) {
        if (steps <= 0) throw invalid_argument("convert::converted_snn: the number of steps must be positive");
    }

    /// The outputs of `batch` samples averaged over the steps, valid until the next pass.
    template <class Model>
    const float* predict(Model& m, const float* x, std::size_t batch) {
        constexpr std::size_t n = Model::output_shape.size();
        float* mean = mean_.ensure(batch * n);
        detail::cpu_ops::mean_over_steps(m.converted_forward(x, batch, timesteps, false),
                                     static_cast<std::size_t>(timesteps), batch * n, mean);
        return mean;
    }

private:
    detail::buffer<float> mean_;
};

/// Accuracy and spike activity of the converted SNN after T steps.
struct time_point {
    int timesteps = 0;  ///< T
    double accuracy = 0.0;  ///< on the evaluated set after T steps
    double spikes_per_image = 0.0;  ///< summed over spiking layers, neurons and the T steps
};

/// Runs the converted SNN once for the largest T of `steps` (in chunks of their greatest
/// common divisor, membranes carried between chunks) and reports every T of `steps` on the
/// way: one pass, not one per T.
template <class Model>
std::vector<time_point> evaluate_converted(Model& m, const data::dataset& d, std::vector<int> steps = {4, 8, 16, 32, 64},
                                           std::size_t batch = 64) {
    static_assert(Model::output_shape.flat, "snn2ann::convert::evaluate_converted: the outputs must be class scores");
    detail::require_integrate_and_fire<typename Model::executor>();
    if (steps.empty()) throw invalid_argument("convert::evaluate_converted: no time steps given");
    std::sort(steps.begin(), steps.end());
    steps.erase(std::unique(steps.begin(), steps.end()), steps.end());
    if (steps.front() <= 0) throw invalid_argument("convert::evaluate_converted: time steps must be positive");
    data::validate(d, Model::input_shape, Model::output_shape.c, "convert::evaluate_converted");
    if (batch == 0) throw invalid_argument("convert::evaluate_converted: the batch size is 0");
    if (d.frames > 1 && steps.back() > d.frames)
        throw invalid_argument("convert::evaluate_converted: " + std::to_string(steps.back()) +
                               " steps asked, the data set holds " + std::to_string(d.frames) + " frames per sample");
    const detail::input_frames_scope<Model> frames(m, d.frames);
    int chunk = 0;
    for (int t : steps) chunk = std::gcd(chunk, t);
    constexpr int classes = Model::output_shape.c;
    std::vector<time_point> r(steps.size());
    std::vector<double> summed(batch * classes);
    for (std::size_t i = 0; i < d.size(); i += batch) {
        const std::size_t n = std::min(batch, d.size() - i);
        std::fill(summed.begin(), summed.end(), 0.0);
        std::size_t next = 0;
        for (int done = 0; done < steps.back(); done += chunk) {
            const float* y = m.converted_forward(d.image(i), n, chunk, done > 0);
            for (std::size_t j = 0; j < static_cast<std::size_t>(chunk) * n * classes; ++j) summed[j % (n * classes)] += y[j];
            if (done + chunk != steps[next]) continue;
            time_point& p = r[next++];
            p.timesteps = done + chunk;
            for (std::size_t b = 0; b < n; ++b) {
                const double* z = summed.data() + b * classes;
                const auto best = std::max_element(z, z + classes) - z;
                p.accuracy += best == d.labels[i + b];
            }
            m.layers().for_each_layer_deep([&](auto& l, const detail::layer_position&) {
                if constexpr (detail::spiking_layer<std::remove_cvref_t<decltype(l)>>)
                    p.spikes_per_image += std::accumulate(l.counts(), l.counts() + n * l.neurons, 0.0);
            });
        }
    }
    for (auto& p : r) {
        p.accuracy /= static_cast<double>(d.size());
        p.spikes_per_image /= static_cast<double>(d.size());
    }
    return r;
}

}  // namespace snn2ann::inline v0::convert
