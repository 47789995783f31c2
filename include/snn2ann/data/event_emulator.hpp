// snn2ann/data: an event camera emulated over static images, the way N-MNIST was recorded
// (Orchard et al. 2015: an ATIS sensor on a pan-tilt unit moved in three saccades over
// each image shown on a monitor). The sensor's view moves along a triangle, one saccade
// per side; each pixel holds a reference log intensity and emits an event when its log
// intensity moves from the reference by its contrast threshold (ON up, OFF down; several
// events when it moves by several thresholds, each at the time the motion crossed it),
// after which the reference moves by one threshold; during a refractory period after an
// event a pixel's crossings move its reference but emit nothing. Thresholds differ from
// pixel to pixel (mismatch) and background events are added at a rate, both drawn from the
// seed: the same parameters give the same events, file for file.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "../core/error.hpp"
#include "../core/parallel.hpp"
#include "../core/rng.hpp"
#include "dataset.hpp"
#include "events.hpp"
#include "nmnist.hpp"

namespace snn2ann::inline v0::data {

/// The parameters of the emulation (emulate_saccades); N-MNIST's geometry by default.
struct saccade_emulation {
    int sensor = 34;                    ///< side of the square sensor, pixels
    double amplitude = 3.0;             ///< length of the triangle's sides in sensor pixels
    std::uint64_t saccade_us = 100000;  ///< duration of one saccade (three per recording)
    std::uint64_t step_us = 1000;       ///< the motion is sampled every step_us
    double contrast = 0.15;             ///< mean log-intensity threshold
    double contrast_sigma = 0.02;       ///< per-pixel threshold mismatch (standard deviation)
    double log_offset = 0.1;            ///< log(intensity + log_offset): dark pixels stay finite
    std::uint64_t refractory_us = 1000; ///< a pixel's dead time after an event
    double noise_hz = 0.0;              ///< background events per pixel and second
    std::uint64_t seed = 1;             ///< mismatch and noise

    /// The parameters in words (for logs and cache keys).
    std::string describe() const {
        return "sensor " + std::to_string(sensor) + ", amplitude " + std::to_string(amplitude) + " px, saccades of " +
               std::to_string(saccade_us) + " us sampled every " + std::to_string(step_us) + " us, contrast " +
               std::to_string(contrast) + " (sigma " + std::to_string(contrast_sigma) + "), log offset " +
               std::to_string(log_offset) + ", refractory " + std::to_string(refractory_us) + " us, noise " +
               std::to_string(noise_hz) + " Hz, seed " + std::to_string(seed);
    }
};

namespace detail_events {
/// The image's offset on the sensor at time t: the triangle (0, 0) -> (A/2, A) -> (A, 0)
/// -> (0, 0), one side per saccade, around the centred image.
inline void view_offset(const saccade_emulation& p, double t, int h, int w, double& ox, double& oy) {
    const double a = p.amplitude, s = static_cast<double>(p.saccade_us);
    const double vx[4] = {0.0, a / 2, a, 0.0}, vy[4] = {0.0, a, 0.0, 0.0};
    const int side = std::min(2, static_cast<int>(t / s));
    const double f = std::clamp(t / s - side, 0.0, 1.0);
    ox = (p.sensor - w - a) / 2.0 + vx[side] + f * (vx[side + 1] - vx[side]);
    oy = (p.sensor - h - a) / 2.0 + vy[side] + f * (vy[side + 1] - vy[side]);
}

/// Bilinear sample of the image (0 outside) at sensor pixel (sx, sy) for offset (ox, oy).
inline double intensity(const float* img, int h, int w, int sx, int sy, double ox, double oy) {
    const double u = sx - ox, v = sy - oy;
    const double fu = std::floor(u), fv = std::floor(v);
    const int x0 = static_cast<int>(fu), y0 = static_cast<int>(fv);
    const double ax = u - fu, ay = v - fv;
    const auto at = [&](int x, int y) -> double {
        return x >= 0 && y >= 0 && x < w && y < h ? static_cast<double>(img[y * w + x]) : 0.0;
    };
    return (1 - ay) * ((1 - ax) * at(x0, y0) + ax * at(x0 + 1, y0)) + ay * ((1 - ax) * at(x0, y0 + 1) + ax * at(x0 + 1, y0 + 1));
}
}  // namespace detail_events

/// The events the emulated sensor records of one h x w image (intensities in [0, 1], one
/// channel), in time order; `index` keys its noise draws (the sample's place in its set).
inline std::vector<event> emulate_saccades(const float* image, int h, int w, const saccade_emulation& p,
                                           std::uint64_t index) {
    if (p.sensor < 1 || p.sensor > 255 || p.step_us == 0 || p.saccade_us < p.step_us || p.contrast <= 0.0 ||
        p.log_offset <= 0.0)
        throw invalid_argument("data::emulate_saccades: parameters out of range (" + p.describe() + ")");
    const int n = p.sensor;
    const std::size_t pixels = static_cast<std::size_t>(n) * static_cast<std::size_t>(n);
    const snn2ann::detail::counter_rng mismatch(p.seed, snn2ann::detail::random_stream::event_emulation);
    const snn2ann::detail::counter_rng noise(p.seed, snn2ann::detail::random_stream::event_emulation ^ (index + 1));
    std::vector<double> threshold(pixels), reference(pixels), previous(pixels);
    std::vector<std::uint64_t> dead_until(pixels, 0);
    // The view's offset is a function of time alone: computed once per step, not per pixel.
    double ox = 0, oy = 0;
    const auto log_at = [&](int x, int y) {
        return std::log(detail_events::intensity(image, h, w, x, y, ox, oy) + p.log_offset);
    };
    detail_events::view_offset(p, 0.0, h, w, ox, oy);
    for (std::size_t i = 0; i < pixels; ++i) {
        // Box-Muller from two uniforms of the pixel's counter: a normal mismatch.
        const double u1 = std::max(1e-12, static_cast<double>(mismatch.uniform(2 * i))),
                     u2 = static_cast<double>(mismatch.uniform(2 * i + 1));
        const double z = std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
        threshold[i] = std::max(0.01, p.contrast + p.contrast_sigma * z);
        reference[i] = previous[i] = log_at(static_cast<int>(i % n), static_cast<int>(i / n));
    }
    std::vector<event> all, step;
    const std::uint64_t end = 3 * p.saccade_us;
    const double noise_p = p.noise_hz * static_cast<double>(p.step_us) * 1e-6;
    for (std::uint64_t t1 = p.step_us, k = 1; t1 <= end; t1 += p.step_us, ++k) {
        const std::uint64_t t0 = t1 - p.step_us;
        detail_events::view_offset(p, static_cast<double>(t1), h, w, ox, oy);
        step.clear();
        for (std::size_t i = 0; i < pixels; ++i) {
            const int x = static_cast<int>(i % n), y = static_cast<int>(i / n);
            const double now = log_at(x, y), before = previous[i];
            previous[i] = now;
            while (std::abs(now - reference[i]) >= threshold[i]) {
                const double sign = now > reference[i] ? 1.0 : -1.0;
                const double level = reference[i] + sign * threshold[i];
                reference[i] = level;
                // When the motion crossed the level, between the two samples.
                const double f = now == before ? 1.0 : std::clamp((level - before) / (now - before), 0.0, 1.0);
                const auto t = t0 + static_cast<std::uint64_t>(std::llround(f * static_cast<double>(p.step_us)));
                if (t < dead_until[i]) continue;
                dead_until[i] = t + p.refractory_us;
                step.push_back({static_cast<std::uint16_t>(x), static_cast<std::uint16_t>(y),
                                static_cast<std::uint8_t>(sign > 0 ? 1 : 0), t});
            }
            if (noise_p > 0.0) {
                const std::uint64_t key = (k * pixels + i) * 2;
                if (static_cast<double>(noise.uniform(key)) < noise_p) {
                    const std::uint64_t bits = noise.bits(key + 1);
                    step.push_back({static_cast<std::uint16_t>(x), static_cast<std::uint16_t>(y),
                                    static_cast<std::uint8_t>(bits & 1u), t0 + 1 + (bits >> 1) % p.step_us});
                }
            }
        }
        std::stable_sort(step.begin(), step.end(), [](const event& a, const event& b) { return a.t < b.t; });
        all.insert(all.end(), step.begin(), step.end());
    }
    return all;
}

/// The recordings of every image of `d` (one channel, values in [0, 1]), in parallel; the
/// labels and classes are d's, the sensor p.sensor pixels square.
inline event_dataset emulate_saccades(const dataset& d, const saccade_emulation& p) {
    if (d.channels != 1 || d.frames != 1)
        throw invalid_argument("data::emulate_saccades: the images must be one static channel, not " +
                               std::to_string(d.frames) + " frames of " + std::to_string(d.channels) + " channels");
    event_dataset e;
    e.width = e.height = p.sensor;
    e.classes = d.classes;
    e.labels = d.labels;
    e.samples.resize(d.size());
    snn2ann::detail::for_range(d.size(), 1, [&](std::size_t b, std::size_t end) {
        for (std::size_t i = b; i < end; ++i) e.samples[i] = emulate_saccades(d.image(i), d.height, d.width, p, i);
    });
    return e;
}

/// The folder name of class c of `classes`: its number, zero-padded to the width of the
/// largest so that the reader's sorted order is the numeric one ("0".."9" for N-MNIST).
inline std::string class_folder(int c, int classes) {
    std::string s = std::to_string(c);
    const std::size_t width = std::to_string(std::max(classes - 1, 0)).size();
    return std::string(width > s.size() ? width - s.size() : 0, '0') + s;
}

/// Writes `e` as an N-MNIST folder: dir/<class>/<index>.bin, one file per recording in
/// the N-MNIST format (read back by read_ndataset_folder(dir, sensor, sensor)).
inline void write_ndataset_folder(const std::string& dir, const event_dataset& e) {
    namespace fs = std::filesystem;
    std::error_code ec;
    for (int c = 0; c < e.classes; ++c) {
        fs::create_directories(fs::path(dir) / class_folder(c, e.classes), ec);
        if (ec) throw io_error(dir, "cannot create the class folder " + std::to_string(c) + " (" + ec.message() + ")");
    }
    snn2ann::detail::for_range(e.size(), 1, [&](std::size_t b, std::size_t end) {
        for (std::size_t i = b; i < end; ++i) {
            char name[16];
            std::snprintf(name, sizeof name, "%06zu.bin", i);
            write_ndataset_file((fs::path(dir) / class_folder(e.labels[i], e.classes) / name).string(), e.samples[i]);
        }
    });
}

}  // namespace snn2ann::inline v0::data
