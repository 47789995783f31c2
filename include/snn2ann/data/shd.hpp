// snn2ann/data: the spike-train data sets of Cramer et al. ("The Heidelberg spiking data
// sets for the systematic evaluation of spiking neural networks", 2020): Spiking Heidelberg
// Digits (SHD, 20 classes: the digits 0-9 spoken in English and German) and Spiking Speech
// Commands (SSC, 35 classes), spoken words passed through a model of the cochlea into 700
// input channels. One HDF5 file per split holds
//   spikes/times  one variable-length sequence of floats per sample: spike times in seconds
//   spikes/units  one variable-length sequence of integers per sample: the channel of each
//                 spike (0..699)
//   labels        one integer per sample: the class
//   extra/...     speakers, keys and metadata (not read here).
// A sample becomes a recording of a 700 x 1 sensor without polarity (event_dataset with
// polarities = 1): each spike an event at x = its channel, y = 0, its time rounded to
// microseconds. Integration then gives frames of 1 x 1 x 700 (down-sampling merges
// neighbouring channels), for a network with input<1, 1, 700>.
// Needs snn2ann::hdf5 (HDF5's C library).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "../core/error.hpp"
#include "../io/hdf5.hpp"
#include "events.hpp"
#include "nmnist.hpp"

namespace snn2ann::inline v0::data {

/// The input channels of SHD and SSC.
inline constexpr int shd_channels = 700;

/// The spike trains of the open HDF5 file `file` (named `path` in messages) in the SHD
/// layout, on `channels` input channels with labels in [0, classes). A defect (a missing or
/// mistyped data set, sample counts that differ between times, units and labels, a train
/// whose times and units differ in length, a time that is negative, not finite or before
/// the spike before it, a channel or a label out of range) is an io_error naming the file,
/// the data set, the sample and the spike.
inline event_dataset parse_spike_trains(hid_t file, const std::string& path, int channels, int classes) {
    const snn2ann::detail::h5_quiet quiet;
    const snn2ann::detail::h5_place root{path, "/"};
    const snn2ann::detail::h5_handle spikes = snn2ann::detail::h5_group(file, "spikes", root / "spikes");
    const auto times = snn2ann::detail::h5_read_sequences<double>(spikes.get(), "times", root / "spikes" / "times");
    const auto units = snn2ann::detail::h5_read_sequences<std::int64_t>(spikes.get(), "units", root / "spikes" / "units");
    const auto labels = snn2ann::detail::h5_read<std::int64_t>(file, "labels", root / "labels");
    if (labels.shape.size() != 1)
        throw io_error(path, "/labels has " + std::to_string(labels.shape.size()) + " dimensions, not 1");
    const std::size_t n = labels.values.size();
    if (times.size() != n || units.size() != n)
        throw io_error(path, "/spikes/times holds " + std::to_string(times.size()) + " samples, /spikes/units " +
                                 std::to_string(units.size()) + " and /labels " + std::to_string(n) + ": they must agree");
    event_dataset d;
    d.width = channels, d.height = 1, d.classes = classes, d.polarities = 1;
    d.samples.resize(n);
    d.labels.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
        const std::string sample = "sample " + std::to_string(i);
        const std::int64_t label = labels.values[i];
        if (label < 0 || label >= classes)
            throw io_error(path, "/labels: " + sample + " has class " + std::to_string(label) + ", outside 0.." +
                                     std::to_string(classes - 1));
        d.labels[i] = static_cast<std::int32_t>(label);
        if (times[i].size() != units[i].size())
            throw io_error(path, sample + " has " + std::to_string(times[i].size()) + " spike times and " +
                                     std::to_string(units[i].size()) + " units");
        std::vector<event>& s = d.samples[i];
        s.reserve(times[i].size());
        std::uint64_t last = 0;
        for (std::size_t k = 0; k < times[i].size(); ++k) {
            const std::string spike = sample + ", spike " + std::to_string(k);
            const double t = times[i][k];
            // 1e12 s bounds the microseconds well inside 64 bits.
            if (!std::isfinite(t) || t < 0 || t > 1e12)
                throw io_error(path, "/spikes/times: " + spike + " is at " + std::to_string(t) + " s (not a time)");
            const auto us = static_cast<std::uint64_t>(std::llround(t * 1e6));
            if (us < last)
                throw io_error(path, "/spikes/times: " + spike + " is at " + std::to_string(us) + " us, before the " +
                                         std::to_string(last) + " us of the spike before it");
            last = us;
            const std::int64_t unit = units[i][k];
            if (unit < 0 || unit >= channels)
                throw io_error(path, "/spikes/units: " + spike + " is on channel " + std::to_string(unit) + ", outside 0.." +
                                         std::to_string(channels - 1));
            s.push_back({static_cast<std::uint16_t>(unit), 0, 1, us});
        }
    }
    return d;
}

/// The spike trains of the HDF5 file `path` in the SHD layout (see parse_spike_trains).
inline event_dataset read_spike_trains(const std::string& path, int channels, int classes) {
    const snn2ann::detail::h5_quiet quiet;
    const snn2ann::detail::h5_handle file = snn2ann::detail::h5_open(path);
    return parse_spike_trains(file.get(), path, channels, classes);
}

/// SHD from its folder: shd_train.h5 and shd_test.h5 (700 channels, 20 classes).
inline event_split shd(const std::string& dir) {
    namespace fs = std::filesystem;
    return {read_spike_trains((fs::path(dir) / "shd_train.h5").string(), shd_channels, 20),
            read_spike_trains((fs::path(dir) / "shd_test.h5").string(), shd_channels, 20)};
}

/// SSC from its folder: ssc_train.h5 and ssc_test.h5 (700 channels, 35 classes); its
/// validation split is read_spike_trains(dir + "/ssc_valid.h5", shd_channels, 35).
inline event_split ssc(const std::string& dir) {
    namespace fs = std::filesystem;
    return {read_spike_trains((fs::path(dir) / "ssc_train.h5").string(), shd_channels, 35),
            read_spike_trains((fs::path(dir) / "ssc_test.h5").string(), shd_channels, 35)};
}

/// Writes `d` (a data set without polarity, events at y = 0) as an HDF5 file in the SHD
/// layout, times in seconds as 32-bit floats, units and labels as 16-bit integers: for
/// tests and for tools that want the format.
inline void write_spike_trains(const std::string& path, const event_dataset& d) {
    const snn2ann::detail::h5_quiet quiet;
    const snn2ann::detail::h5_place root{path, "/"};
    std::vector<std::vector<float>> times(d.size());
    std::vector<std::vector<std::uint16_t>> units(d.size());
    std::vector<std::uint16_t> labels(d.size());
    for (std::size_t i = 0; i < d.size(); ++i) {
        for (const event& e : d.samples[i]) {
            if (e.y != 0) throw invalid_argument("data::write_spike_trains: recording " + std::to_string(i) + " has an event at y = " +
                                                 std::to_string(e.y) + "; spike trains have one row");
            times[i].push_back(static_cast<float>(static_cast<double>(e.t) * 1e-6));
            units[i].push_back(e.x);
        }
        labels[i] = static_cast<std::uint16_t>(d.labels[i]);
    }
    const snn2ann::detail::h5_handle file = snn2ann::detail::h5_create(path);
    const snn2ann::detail::h5_handle spikes = snn2ann::detail::h5_new_group(file.get(), "spikes", root / "spikes");
    snn2ann::detail::h5_write_sequences(spikes.get(), "times", times, root / "spikes" / "times");
    snn2ann::detail::h5_write_sequences(spikes.get(), "units", units, root / "spikes" / "units");
    snn2ann::detail::h5_write(file.get(), "labels", {labels.size()}, labels.data(), root / "labels");
}

}  // namespace snn2ann::inline v0::data
