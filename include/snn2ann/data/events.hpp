// snn2ann/data: event-camera data. A recording is a list of events (pixel, polarity, time
// stamp in microseconds) in time order; a data set of recordings becomes a data set of T
// frames per sample (data::dataset with frames = T) by integration, as SpikingJelly and
// tonic do it: the stream is cut into T slices of equal event counts or equal durations,
// and each slice counts its events per pixel in two polarity channels (OFF, ON), after an
// optional refractory filter, denoise filter and spatial down-sampling. The readers of the
// field's formats (data/nmnist.hpp, ...) produce event_dataset.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "../core/error.hpp"
#include "../core/parallel.hpp"
#include "../core/rng.hpp"
#include "dataset.hpp"

namespace snn2ann::inline v0::data {

/// One event: pixel (x, y) of the sensor, polarity (1: ON, brighter; 0: OFF, darker), time
/// stamp in microseconds.
struct event {
    std::uint16_t x = 0;        ///< column, 0 at the left
    std::uint16_t y = 0;        ///< row, 0 at the top
    std::uint8_t polarity = 0;  ///< 1 ON, 0 OFF
    std::uint64_t t = 0;        ///< microseconds from the start of the recording
    /// Equal in every field.
    friend constexpr bool operator==(const event&, const event&) = default;
};

/// Labelled recordings of one sensor, each in time order (the readers check it).
struct event_dataset {
    std::vector<std::vector<event>> samples;  ///< one recording per sample
    std::vector<std::int32_t> labels;         ///< one class index per recording
    int width = 0;                            ///< sensor columns
    int height = 0;                           ///< sensor rows
    int classes = 0;                          ///< labels lie in [0, classes)
    /// 2: events carry an ON/OFF polarity, integrated into two channels; 1: they carry none
    /// (spike trains of input channels, as SHD's), integrated into one channel.
    int polarities = 2;

    /// The number of recordings.
    std::size_t size() const { return labels.size(); }
    /// Events in all recordings.
    std::size_t events() const {
        std::size_t n = 0;
        for (const auto& s : samples) n += s.size();
        return n;
    }
};

/// How integration cuts a recording of N events, from t0 to t_last, into T frames: the
/// binnings of SpikingJelly and of tonic, each exactly (tests/events/check_binning.py
/// compares them with numpy transcriptions of both libraries' code).
enum class frame_split {
    /// SpikingJelly's split_by='number': floor(N / T) events a frame, in order; the last frame
    /// also takes the remainder.
    by_count,
    /// SpikingJelly's split_by='time': windows of dt = floor((t_last - t0) / T) microseconds
    /// from t0, [t0 + k dt, t0 + (k + 1) dt); the last frame takes every event from
    /// t0 + (T - 1) dt on. (Where a window is empty SpikingJelly raises an IndexError; here
    /// its frame is empty.)
    by_time,
    /// tonic's ToFrame(n_event_bins=T): floor(N / T) events a frame; the remainder is dropped.
    tonic_event_bins,
    /// tonic's ToFrame(n_time_bins=T): windows of floor((t_last - t0) / T) microseconds from
    /// t0 as by_time, but the events after the T-th window are dropped.
    tonic_time_bins,
};

/// The binning's name, as in cache keys and messages.
constexpr const char* frame_split_name(frame_split s) {
    switch (s) {
        case frame_split::by_count: return "by count (SpikingJelly's number)";
        case frame_split::by_time: return "by time (SpikingJelly's time)";
        case frame_split::tonic_event_bins: return "tonic's n_event_bins";
        case frame_split::tonic_time_bins: return "tonic's n_time_bins";
    }
    return "unknown";
}

/// The parameters of integration (to_frames); all of them key the frame cache.
struct frame_integration {
    int frames = 5;                           ///< T, the frames per sample
    frame_split split = frame_split::by_time; ///< how the stream is cut
    int downsample = 1;                       ///< sensor pixels per frame pixel along each side (1: none)
    /// Refractory filter: an event closer than this many microseconds to the last kept
    /// event of its pixel (either polarity) is dropped; 0: none.
    std::uint64_t refractory_us = 0;
    /// Denoise filter (tonic's Denoise): an event is kept only if one of its 8 neighbours
    /// had an event within this many microseconds before it; 0: none.
    std::uint64_t denoise_us = 0;

    /// The parameters in words, for cache keys and messages.
    std::string describe() const {
        return "frames " + std::to_string(frames) + ", split " + frame_split_name(split) +
               ", downsample " + std::to_string(downsample) + ", refractory " + std::to_string(refractory_us) +
               " us, denoise " + std::to_string(denoise_us) + " us";
    }
};

namespace detail_events {
inline void check(const frame_integration& p, const event_dataset& d, const char* who) {
    if (p.frames < 1) throw invalid_argument(std::string(who) + ": " + std::to_string(p.frames) + " frames (at least 1)");
    if (p.downsample < 1)
        throw invalid_argument(std::string(who) + ": down-sampling by " + std::to_string(p.downsample) + " (at least 1)");
    if (d.width <= 0 || d.height <= 0)
        throw invalid_argument(std::string(who) + ": the sensor is " + std::to_string(d.width) + "x" +
                               std::to_string(d.height));
    if (d.polarities != 1 && d.polarities != 2)
        throw invalid_argument(std::string(who) + ": " + std::to_string(d.polarities) + " polarities (1 or 2)");
    if (d.samples.size() != d.labels.size())
        throw invalid_argument(std::string(who) + ": " + std::to_string(d.samples.size()) + " recordings for " +
                               std::to_string(d.labels.size()) + " labels");
}
}  // namespace detail_events

/// The events of `s` that pass the refractory and denoise filters of `p`, in order, on a
/// sensor of width x height pixels.
inline std::vector<event> filter_events(const std::vector<event>& s, int width, int height, const frame_integration& p) {
    if (p.refractory_us == 0 && p.denoise_us == 0) return s;
    const std::size_t pixels = static_cast<std::size_t>(width) * static_cast<std::size_t>(height);
    constexpr std::uint64_t never = ~std::uint64_t{0};
    std::vector<std::uint64_t> last_kept(p.refractory_us ? pixels : 0, never);
    std::vector<std::uint64_t> last_seen(p.denoise_us ? pixels : 0, never);
    std::vector<event> kept;
    kept.reserve(s.size());
    for (const event& e : s) {
        const std::size_t at = static_cast<std::size_t>(e.y) * static_cast<std::size_t>(width) + e.x;
        bool keep = true;
        if (p.denoise_us) {
            // Support: a neighbour's event at most denoise_us before this one.
            bool supported = false;
            for (int dy = -1; dy <= 1 && !supported; ++dy)
                for (int dx = -1; dx <= 1 && !supported; ++dx) {
                    if (dx == 0 && dy == 0) continue;
                    const int nx = e.x + dx, ny = e.y + dy;
                    if (nx < 0 || ny < 0 || nx >= width || ny >= height) continue;
                    const std::uint64_t seen = last_seen[static_cast<std::size_t>(ny) * width + nx];
                    supported = seen != never && e.t - seen <= p.denoise_us;
                }
            last_seen[at] = e.t;
            keep = supported;
        }
        if (keep && p.refractory_us) {
            if (last_kept[at] != never && e.t - last_kept[at] < p.refractory_us) keep = false;
            else last_kept[at] = e.t;
        }
        if (keep) kept.push_back(e);
    }
    return kept;
}

/// Integrates one recording into p.frames frames of P x H' x W' event counts, written to
/// `out` (p.frames x P x H' x W' floats, frame-major; H' = ceil(height / downsample), W'
/// likewise). P = `polarities`: 2 gives channel 0 OFF and 1 ON; 1 counts every event in
/// one channel. The filters run first.
inline void integrate_events(const std::vector<event>& s, int width, int height, const frame_integration& p, float* out,
                             int polarities = 2) {
    const int w = (width + p.downsample - 1) / p.downsample, h = (height + p.downsample - 1) / p.downsample;
    const bool two = polarities == 2;
    const std::size_t frame = (two ? 2 : 1) * static_cast<std::size_t>(w) * static_cast<std::size_t>(h);
    std::fill(out, out + frame * static_cast<std::size_t>(p.frames), 0.0f);
    // Without filters the recording is read in place; with them, the kept events.
    const bool filtered = p.refractory_us != 0 || p.denoise_us != 0;
    const std::vector<event> kept = filtered ? filter_events(s, width, height, p) : std::vector<event>{};
    const std::vector<event>& e = filtered ? kept : s;
    if (e.empty()) return;
    const auto frames = static_cast<std::uint64_t>(p.frames);
    const std::uint64_t n = e.size(), t0 = e.front().t;
    const bool by_events = p.split == frame_split::by_count || p.split == frame_split::tonic_event_bins;
    // A frame's share: floor(N / T) events, or floor((t_last - t0) / T) microseconds.
    const std::uint64_t share = (by_events ? n : e.back().t - t0) / frames;
    // SpikingJelly's last frame takes what is left; tonic drops it.
    const bool rest_to_last = p.split == frame_split::by_count || p.split == frame_split::by_time;
    for (std::uint64_t i = 0; i < n; ++i) {
        const std::uint64_t position = by_events ? i : e[i].t - t0;
        std::uint64_t k = share == 0 ? frames : position / share;  // frames: past the last frame
        if (k >= frames) {
            if (!rest_to_last) continue;
            k = frames - 1;
        }
        const std::size_t at = static_cast<std::size_t>(k) * frame +
                               (static_cast<std::size_t>(two && e[i].polarity ? 1 : 0) * h + e[i].y / p.downsample) * w +
                               e[i].x / p.downsample;
        out[at] += 1.0f;
    }
}

/// The data set of T frames per sample that integration makes of `d` (frames = p.frames,
/// d.polarities channels, the down-sampled sensor), in parallel over the recordings. Every event must
/// lie on the sensor (the readers check it; so does this).
inline dataset to_frames(const event_dataset& d, const frame_integration& p) {
    detail_events::check(p, d, "data::to_frames");
    for (std::size_t i = 0; i < d.size(); ++i)
        for (const event& e : d.samples[i])
            if (e.x >= d.width || e.y >= d.height)
                throw invalid_argument("data::to_frames: recording " + std::to_string(i) + " has an event at (" +
                                       std::to_string(e.x) + ", " + std::to_string(e.y) + "), outside the " +
                                       std::to_string(d.width) + "x" + std::to_string(d.height) + " sensor");
    dataset f;
    f.frames = p.frames;
    f.channels = d.polarities;
    f.height = (d.height + p.downsample - 1) / p.downsample;
    f.width = (d.width + p.downsample - 1) / p.downsample;
    f.classes = d.classes;
    f.labels = d.labels;
    f.images.resize(d.size() * f.image_size());
    snn2ann::detail::for_range(d.size(), 1, [&](std::size_t b, std::size_t e) {
        for (std::size_t i = b; i < e; ++i)
            integrate_events(d.samples[i], d.width, d.height, p, f.images.data() + i * f.image_size(), d.polarities);
    });
    return f;
}

/// Event augmentation for training on frames (SpikingJelly's and tonic's): a horizontal
/// flip of the sensor with probability `flip` and a translation of every event by up to
/// `max_shift` pixels in x and y (events pushed off the sensor are dropped), drawn per
/// recording from `seed` and `epoch`.
struct event_flip_translate {
    double flip = 0.5;   ///< probability of the horizontal flip
    int max_shift = 0;   ///< largest shift in pixels, each direction

    /// The augmented copy of recording `i` of `d`.
    std::vector<event> operator()(const event_dataset& d, std::size_t i, std::uint64_t seed, std::uint64_t epoch) const {
        const snn2ann::detail::counter_rng rng(seed, snn2ann::detail::random_stream::event_augmentation ^ (epoch << 8));
        const std::uint64_t bits = rng.bits(i);
        const bool mirror = static_cast<double>(bits & 0xffff) / 65536.0 < flip;
        const int range = 2 * max_shift + 1;
        const int dx = static_cast<int>((bits >> 16) % static_cast<std::uint64_t>(range)) - max_shift;
        const int dy = static_cast<int>((bits >> 32) % static_cast<std::uint64_t>(range)) - max_shift;
        std::vector<event> out;
        out.reserve(d.samples[i].size());
        for (event e : d.samples[i]) {
            const int x = (mirror ? d.width - 1 - e.x : e.x) + dx, y = e.y + dy;
            if (x < 0 || y < 0 || x >= d.width || y >= d.height) continue;
            e.x = static_cast<std::uint16_t>(x), e.y = static_cast<std::uint16_t>(y);
            out.push_back(e);
        }
        return out;
    }
};

}  // namespace snn2ann::inline v0::data
