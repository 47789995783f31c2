// snn2ann/data: the binary event format of N-MNIST and N-Caltech101 (Orchard et al.,
// "Converting static image datasets to spiking neuromorphic datasets using saccades",
// 2015): one file per recording, no header, 40 bits per event, big-endian fields:
//   bits 39-32 x address, bits 31-24 y address, bit 23 polarity (1 ON, 0 OFF),
//   bits 22-0 time stamp in microseconds.
// An event whose y address is 240 (beyond any row of these sensors) marks an overflow of
// the 23-bit time stamp: the events after it are 2^23 us later than their stamps say.
// The data sets are folders of class folders of .bin files: N-MNIST's Train/0..9 and
// Test/0..9 on a 34 x 34 sensor, N-Caltech101's one folder per category.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../core/error.hpp"
#include "../io/zip.hpp"
#include "events.hpp"

namespace snn2ann::inline v0::data {

/// The y address that marks a time-stamp overflow in the format.
inline constexpr std::uint16_t ndataset_overflow_row = 240;
/// The period of the 23-bit time stamp, in microseconds.
inline constexpr std::uint64_t ndataset_stamp_period = std::uint64_t{1} << 23;

/// The events of one recording in the format, from its bytes (`path` names it in
/// messages): every event must lie on a width x height sensor and the time stamps,
/// overflows counted, must not go backwards; a defect is an io_error naming the file, the
/// event and the defect.
inline std::vector<event> parse_ndataset(std::string_view bytes, const std::string& path, int width, int height) {
    if (bytes.size() % 5 != 0)
        throw io_error(path, "truncated: " + std::to_string(bytes.size()) +
                                 " bytes are not a whole number of 5-byte events");
    std::vector<event> events;
    events.reserve(bytes.size() / 5);
    std::uint64_t offset = 0, last = 0;
    for (std::size_t i = 0; i < bytes.size(); i += 5) {
        const auto b = [&](std::size_t k) { return static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + k])); };
        const std::uint16_t x = static_cast<std::uint16_t>(b(0)), y = static_cast<std::uint16_t>(b(1));
        if (y == ndataset_overflow_row) {
            offset += ndataset_stamp_period;
            continue;
        }
        const std::uint64_t t = offset + (((b(2) & 0x7fu) << 16) | (b(3) << 8) | b(4));
        const std::string which = "event " + std::to_string(i / 5) + " (byte " + std::to_string(i) + ")";
        if (x >= width || y >= height)
            throw io_error(path, which + " is at (" + std::to_string(x) + ", " + std::to_string(y) + "), outside the " +
                                     std::to_string(width) + "x" + std::to_string(height) + " sensor");
        if (t < last)
            throw io_error(path, which + " has time stamp " + std::to_string(t) + " us, before the " +
                                     std::to_string(last) + " us of the event before it");
        last = t;
        events.push_back({x, y, static_cast<std::uint8_t>(b(2) >> 7), t});
    }
    return events;
}

/// The events of the recording in file `path` (see parse_ndataset).
inline std::vector<event> read_ndataset_file(const std::string& path, int width, int height) {
    return parse_ndataset(snn2ann::detail::read_file(path), path, width, height);
}

/// The bytes of `events` in the format, with overflow markers where the time passes a
/// multiple of 2^23 us. Every event needs x and y below 256 (y not 240) and time stamps
/// in order.
inline std::string format_ndataset(const std::vector<event>& events) {
    std::string bytes;
    bytes.reserve(events.size() * 5);
    std::uint64_t offset = 0, last = 0;
    for (std::size_t i = 0; i < events.size(); ++i) {
        const event& e = events[i];
        if (e.x > 255 || e.y > 255 || e.y == ndataset_overflow_row)
            throw invalid_argument("data::format_ndataset: event " + std::to_string(i) + " at (" + std::to_string(e.x) +
                                   ", " + std::to_string(e.y) + ") has no address in the format (8 bits each, y not 240)");
        if (e.t < last)
            throw invalid_argument("data::format_ndataset: event " + std::to_string(i) + " comes before the one before it");
        last = e.t;
        while (e.t >= offset + ndataset_stamp_period) {
            bytes.append({'\0', static_cast<char>(ndataset_overflow_row), '\0', '\0', '\0'});
            offset += ndataset_stamp_period;
        }
        const std::uint64_t stamp = e.t - offset;
        bytes.push_back(static_cast<char>(e.x));
        bytes.push_back(static_cast<char>(e.y));
        bytes.push_back(static_cast<char>(((e.polarity ? 1u : 0u) << 7) | ((stamp >> 16) & 0x7fu)));
        bytes.push_back(static_cast<char>((stamp >> 8) & 0xffu));
        bytes.push_back(static_cast<char>(stamp & 0xffu));
    }
    return bytes;
}

/// Writes `events` to `path` in the format (see format_ndataset).
inline void write_ndataset_file(const std::string& path, const std::vector<event>& events) {
    const std::string bytes = format_ndataset(events);
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    if (!f) throw io_error(path, "cannot create the file");
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!f) throw io_error(path, "write failed (disk full?)");
}

/// The class folders of `dir` (sorted by name) with their files of `extension` (sorted):
/// the layout of both data sets (and of CIFAR10-DVS). A missing or empty folder is an
/// io_error.
inline std::vector<std::pair<std::string, std::vector<std::string>>> ndataset_folders(const std::string& dir,
                                                                                      const std::string& extension = ".bin") {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) throw io_error(dir, "not a folder");
    std::vector<std::pair<std::string, std::vector<std::string>>> classes;
    for (const auto& c : fs::directory_iterator(dir, ec))
        if (c.is_directory()) classes.push_back({c.path().filename().string(), {}});
    if (ec) throw io_error(dir, "cannot list the folder (" + ec.message() + ")");
    std::sort(classes.begin(), classes.end());
    if (classes.empty()) throw io_error(dir, "holds no class folders");
    for (auto& [name, files] : classes) {
        for (const auto& f : fs::directory_iterator(fs::path(dir) / name, ec))
            if (f.is_regular_file() && f.path().extension() == extension) files.push_back(f.path().string());
        std::sort(files.begin(), files.end());
        if (files.empty()) throw io_error((fs::path(dir) / name).string(), "holds no " + extension + " recordings");
    }
    return classes;
}

/// Every recording under the class folders of `dir` on a width x height sensor, labelled by
/// the folders' sorted order, in parallel over the files.
inline event_dataset read_ndataset_folder(const std::string& dir, int width, int height) {
    const auto classes = ndataset_folders(dir);
    event_dataset d;
    d.width = width, d.height = height, d.classes = static_cast<int>(classes.size());
    std::vector<std::string> files;
    for (std::size_t c = 0; c < classes.size(); ++c)
        for (const auto& f : classes[c].second) {
            files.push_back(f);
            d.labels.push_back(static_cast<std::int32_t>(c));
        }
    d.samples.resize(files.size());
    snn2ann::detail::for_range(files.size(), 1, [&](std::size_t b, std::size_t e) {
        for (std::size_t i = b; i < e; ++i) d.samples[i] = read_ndataset_file(files[i], width, height);
    });
    return d;
}

/// A training and a test set of recordings.
struct event_split {
    event_dataset train;  ///< for training
    event_dataset test;   ///< for evaluation
};

/// N-MNIST from its folder (Train/0..9 and Test/0..9 of .bin files, 34 x 34 sensor).
inline event_split nmnist(const std::string& dir) {
    namespace fs = std::filesystem;
    event_split s{read_ndataset_folder((fs::path(dir) / "Train").string(), 34, 34),
                  read_ndataset_folder((fs::path(dir) / "Test").string(), 34, 34)};
    for (const event_dataset* d : {&s.train, &s.test})
        if (d->classes != 10)
            throw io_error(dir, "N-MNIST has 10 class folders in Train and Test, found " + std::to_string(d->classes));
    return s;
}

/// N-Caltech101 from its folder of category folders; the labels follow the categories'
/// sorted names. Its recordings vary in extent (about 240 x 180), so the sensor is what the
/// format can address: 256 columns and the 240 rows below the overflow marker (down-sample
/// or crop the frames).
inline event_dataset ncaltech101(const std::string& dir) { return read_ndataset_folder(dir, 256, 240); }

}  // namespace snn2ann::inline v0::data
