// snn2ann/data: AEDAT 2.0 event files (jAER's format) and the CIFAR10-DVS data set recorded
// in it (Li et al., "CIFAR10-DVS: an event-stream dataset for object classification",
// 2017).
//   AEDAT 2.0: a text header of lines starting with '#' ("#!AER-DAT2.0" first), then
//   8-byte events until the end of the file: a 32-bit address and a 32-bit time stamp in
//   microseconds, both big-endian. What the address means is the chip's; two layouts are
//   read (aedat2_address):
//   - dvs128, jAER's DVS128 (Tmpdiff128) extractor: bit 0 the polarity (0 is ON), bits 1-7
//     the column counted from the right (x = 127 - those bits), bits 8-14 the row. The
//     CIFAR10-DVS recordings are DVS128 recordings (its README says to view them with
//     jAER's DVS128 filter), so this is what cifar10_dvs reads.
//   - davis, the layout that tonic's and SpikingJelly's readers use for AEDAT 2.0 files of
//     DAVIS sensors: bit 31 set marks an APS/IMU sample (skipped), bits 12-21 the column,
//     bits 22-30 the row, bit 11 the polarity (1 is ON), taken as stored.
//   CIFAR10-DVS: ten class folders (airplane ... truck, alphabetical, CIFAR-10's label
//   order) of .aedat recordings on a 128 x 128 sensor; it has no official split, the
//   field's (SpikingJelly's) is the first 90% of each class in file-name order for training.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "../core/error.hpp"
#include "../core/parallel.hpp"
#include "../io/zip.hpp"
#include "events.hpp"
#include "nmnist.hpp"

namespace snn2ann::inline v0::data {

/// How an AEDAT 2.0 address encodes an event (see the header's comment).
enum class aedat2_address {
    dvs128,  ///< jAER's DVS128: bit 0 polarity (0 ON), bits 1-7 mirrored column, bits 8-14 row
    davis,   ///< DAVIS: bit 31 APS/IMU (skipped), bits 12-21 column, 22-30 row, bit 11 polarity (1 ON)
};

namespace detail_events {
inline std::uint32_t big32(std::string_view b, std::size_t at) {
    const auto u = [&](std::size_t k) { return static_cast<std::uint32_t>(static_cast<unsigned char>(b[at + k])); };
    return (u(0) << 24) | (u(1) << 16) | (u(2) << 8) | u(3);
}
inline std::string hex32(std::uint32_t v) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string h;
    for (int s = 28; s >= 0; s -= 4) h.push_back(digits[(v >> s) & 0xfu]);
    return h;
}
inline void put_big32(std::string& out, std::uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<char>((v >> s) & 0xffu));
}
}  // namespace detail_events

/// The events of an AEDAT 2.0 file's bytes (`path` names it in messages) on a width x
/// height sensor, addresses read as `layout`, in time order. A defect (not AEDAT 2.0, a
/// header line without its end, a truncated event, an event outside the sensor, a
/// negative time stamp, time going backwards) is an io_error naming the file, the event
/// and its byte offset.
inline std::vector<event> parse_aedat2(std::string_view bytes, const std::string& path, int width, int height,
                                       aedat2_address layout = aedat2_address::dvs128) {
    constexpr std::string_view magic = "#!AER-DAT2.0";
    if (bytes.substr(0, magic.size()) != magic) {
        const std::string what = bytes.substr(0, 10) == "#!AER-DAT1" ? "an AEDAT 1.0 file (16-bit addresses), not 2.0"
                                 : bytes.substr(0, 10) == "#!AER-DAT3" ? "an AEDAT 3 file, not 2.0 (read it with read_aedat31)"
                                                                       : "not an AEDAT 2.0 file: it does not start with " + std::string(magic);
        throw io_error(path, what);
    }
    std::size_t at = 0;
    while (at < bytes.size() && bytes[at] == '#') {
        const std::size_t end = bytes.find('\n', at);
        if (end == std::string_view::npos) throw io_error(path, "the header line at byte " + std::to_string(at) + " has no end");
        at = end + 1;
    }
    if ((bytes.size() - at) % 8 != 0)
        throw io_error(path, "truncated: the " + std::to_string(bytes.size() - at) + " bytes after the header (byte " +
                                 std::to_string(at) + ") are not a whole number of 8-byte events");
    if (layout == aedat2_address::dvs128 && (width > 128 || height > 128))
        throw invalid_argument("data::parse_aedat2: the DVS128 layout addresses at most 128 x 128 pixels, not " +
                               std::to_string(width) + "x" + std::to_string(height));
    std::vector<event> events;
    events.reserve((bytes.size() - at) / 8);
    std::uint64_t last = 0;
    for (; at < bytes.size(); at += 8) {
        const std::uint32_t address = detail_events::big32(bytes, at);
        const auto stamp = static_cast<std::int32_t>(detail_events::big32(bytes, at + 4));
        int x = 0, y = 0;
        std::uint8_t on = 0;
        if (layout == aedat2_address::dvs128) {
            x = width - 1 - static_cast<int>((address >> 1) & 0x7fu);
            y = static_cast<int>((address >> 8) & 0x7fu);
            on = (address & 1u) ? 0 : 1;
        } else {
            if (address & 0x80000000u) continue;  // an APS or IMU sample
            x = static_cast<int>((address >> 12) & 0x3ffu);
            y = static_cast<int>((address >> 22) & 0x1ffu);
            on = static_cast<std::uint8_t>((address >> 11) & 1u);
        }
        const std::string which = "event at byte " + std::to_string(at);
        if (x < 0 || y < 0 || x >= width || y >= height)
            throw io_error(path, which + " (address 0x" + detail_events::hex32(address) + ") is at (" + std::to_string(x) + ", " + std::to_string(y) + "), outside the " + std::to_string(width) + "x" +
                                     std::to_string(height) + " sensor");
        if (stamp < 0) throw io_error(path, which + " has a negative time stamp (" + std::to_string(stamp) + " us)");
        const auto t = static_cast<std::uint64_t>(stamp);
        if (t < last)
            throw io_error(path, which + " has time stamp " + std::to_string(t) + " us, before the " + std::to_string(last) +
                                     " us of the event before it");
        last = t;
        events.push_back({static_cast<std::uint16_t>(x), static_cast<std::uint16_t>(y), on, t});
    }
    return events;
}

/// The events of the AEDAT 2.0 file `path` (see parse_aedat2).
inline std::vector<event> read_aedat2(const std::string& path, int width, int height,
                                      aedat2_address layout = aedat2_address::dvs128) {
    return parse_aedat2(snn2ann::detail::read_file(path), path, width, height, layout);
}

/// `events` of a width x height sensor as an AEDAT 2.0 file's bytes in `layout` (for tests
/// and for tools that want the format). Time stamps must fit 31 bits.
inline std::string format_aedat2(const std::vector<event>& events, int width, aedat2_address layout = aedat2_address::dvs128) {
    std::string out = "#!AER-DAT2.0\r\n# This is a raw AE data file - do not edit\r\n# Data format is int32 address, int32 timestamp (8 bytes total)\r\n";
    for (std::size_t i = 0; i < events.size(); ++i) {
        const event& e = events[i];
        if (e.t > 0x7fffffffu)
            throw invalid_argument("data::format_aedat2: event " + std::to_string(i) + " is later than 2^31 us");
        std::uint32_t address = 0;
        if (layout == aedat2_address::dvs128) {
            if (e.x >= width || width > 128 || e.y > 127)
                throw invalid_argument("data::format_aedat2: event " + std::to_string(i) + " has no DVS128 address");
            address = (static_cast<std::uint32_t>(e.y) << 8) | (static_cast<std::uint32_t>(width - 1 - e.x) << 1) |
                      (e.polarity ? 0u : 1u);
        } else {
            if (e.x > 0x3ff || e.y > 0x1ff) throw invalid_argument("data::format_aedat2: event " + std::to_string(i) + " has no DAVIS address");
            address = (static_cast<std::uint32_t>(e.y) << 22) | (static_cast<std::uint32_t>(e.x) << 12) |
                      (static_cast<std::uint32_t>(e.polarity ? 1u : 0u) << 11);
        }
        detail_events::put_big32(out, address);
        detail_events::put_big32(out, static_cast<std::uint32_t>(e.t));
    }
    return out;
}

/// CIFAR10-DVS from its folder of ten class folders of .aedat recordings (128 x 128,
/// DVS128 layout): the first ceil(train_fraction x n) recordings of each class, in file-
/// name order, for training, the rest for testing (0.9: SpikingJelly's split).
inline event_split cifar10_dvs(const std::string& dir, double train_fraction = 0.9) {
    if (!(train_fraction > 0 && train_fraction < 1))
        throw invalid_argument("data::cifar10_dvs: train_fraction " + std::to_string(train_fraction) + " is not inside (0, 1)");
    const auto classes = ndataset_folders(dir, ".aedat");
    if (classes.size() != 10)
        throw io_error(dir, "CIFAR10-DVS has 10 class folders, found " + std::to_string(classes.size()));
    event_split s;
    std::vector<std::string> train_files, test_files;
    for (event_dataset* d : {&s.train, &s.test}) d->width = d->height = 128, d->classes = 10;
    for (std::size_t c = 0; c < classes.size(); ++c) {
        const auto& files = classes[c].second;
        const auto train = static_cast<std::size_t>(std::ceil(train_fraction * static_cast<double>(files.size())));
        for (std::size_t k = 0; k < files.size(); ++k) {
            (k < train ? train_files : test_files).push_back(files[k]);
            (k < train ? s.train : s.test).labels.push_back(static_cast<std::int32_t>(c));
        }
    }
    for (auto [d, files] : {std::pair{&s.train, &train_files}, std::pair{&s.test, &test_files}}) {
        d->samples.resize(files->size());
        snn2ann::detail::for_range(files->size(), 1, [&, d = d, files = files](std::size_t b, std::size_t e) {
            for (std::size_t i = b; i < e; ++i) d->samples[i] = read_aedat2((*files)[i], 128, 128);
        });
    }
    return s;
}

}  // namespace snn2ann::inline v0::data
