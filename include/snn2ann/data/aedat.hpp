// snn2ann/data: AEDAT 3.1 event files (iniVation's format of jAER and cAER recordings, as
// libcaer documents it) and the DVS128 Gesture data set recorded in it.
//   AEDAT 3.1: a text header of lines starting with '#' ("#!AER-DAT3.1" first,
//   "#!END-HEADER" last), then packets: a 28-byte little-endian header (int16 eventType,
//   int16 eventSource, int32 eventSize, eventTSOffset, eventTSOverflow, eventCapacity,
//   eventNumber, eventValid) and eventCapacity events of eventSize bytes. A polarity event
//   (type 1, 8 bytes) is uint32 data (bit 0 valid, bit 1 polarity, bits 2-16 y, bits 17-31
//   x) and int32 timestamp (us); the full time is eventTSOverflow << 31 | timestamp. Other
//   event types are skipped, invalid events too.
//   DVS128 Gesture (Amir et al., CVPR 2017): user*_*.aedat recordings on a 128 x 128 sensor,
//   each with a <name>_labels.csv (class 1..11, startTime_usec, endTime_usec per gesture),
//   and the official split trials_to_train.txt / trials_to_test.txt naming the recordings.
#pragma once

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "../core/error.hpp"
#include "../io/zip.hpp"
#include "events.hpp"
#include "nmnist.hpp"

namespace snn2ann::inline v0::data {

namespace detail_events {
template <class T>
T little(std::string_view b, std::size_t at) {
    T v{};
    std::memcpy(&v, b.data() + at, sizeof(T));  // the format and the machine are little-endian
    return v;
}
}  // namespace detail_events

/// The polarity events of an AEDAT 3.1 file's bytes (`path` names it in messages), on a
/// width x height sensor, in time order; a defect (not AEDAT 3.1, no end of header, a
/// truncated packet, a polarity packet whose events are not 8 bytes, an event outside the
/// sensor, time going backwards) is an io_error naming the file, the packet or event
/// and its byte offset.
inline std::vector<event> parse_aedat31(std::string_view bytes, const std::string& path, int width, int height) {
    constexpr std::string_view magic = "#!AER-DAT3.1", end_mark = "#!END-HEADER";
    if (bytes.substr(0, magic.size()) != magic)
        throw io_error(path, "not an AEDAT 3.1 file: it does not start with " + std::string(magic));
    const std::size_t end = bytes.find(end_mark);
    if (end == std::string_view::npos) throw io_error(path, "the AEDAT header has no " + std::string(end_mark) + " line");
    std::size_t at = bytes.find('\n', end);
    if (at == std::string_view::npos) throw io_error(path, "the AEDAT header's last line has no end");
    ++at;
    std::vector<event> events;
    std::uint64_t last = 0;
    while (at < bytes.size()) {
        const std::string packet = "packet at byte " + std::to_string(at);
        if (bytes.size() - at < 28) throw io_error(path, packet + ": truncated header (" + std::to_string(bytes.size() - at) + " of 28 bytes)");
        const auto type = detail_events::little<std::int16_t>(bytes, at);
        const auto size = detail_events::little<std::int32_t>(bytes, at + 4);
        const auto overflow = detail_events::little<std::int32_t>(bytes, at + 12);
        const auto capacity = detail_events::little<std::int32_t>(bytes, at + 16);
        if (size <= 0 || capacity < 0)
            throw io_error(path, packet + ": event size " + std::to_string(size) + ", capacity " + std::to_string(capacity));
        const std::uint64_t payload = static_cast<std::uint64_t>(size) * static_cast<std::uint64_t>(capacity);
        at += 28;
        if (payload > bytes.size() - at)
            throw io_error(path, packet + ": truncated, " + std::to_string(capacity) + " events of " + std::to_string(size) +
                                     " bytes announced, " + std::to_string(bytes.size() - at) + " bytes left");
        if (type == 1) {
            if (size != 8) throw io_error(path, packet + ": polarity events of " + std::to_string(size) + " bytes, not 8");
            if (overflow < 0) throw io_error(path, packet + ": negative time-stamp overflow " + std::to_string(overflow));
            for (std::int32_t k = 0; k < capacity; ++k) {
                const std::size_t e = at + static_cast<std::size_t>(k) * 8;
                const auto data = detail_events::little<std::uint32_t>(bytes, e);
                const auto stamp = detail_events::little<std::int32_t>(bytes, e + 4);
                if (!(data & 1u)) continue;  // invalidated event
                const auto x = static_cast<std::uint16_t>((data >> 17) & 0x7fffu), y = static_cast<std::uint16_t>((data >> 2) & 0x7fffu);
                const std::string which = "event at byte " + std::to_string(e);
                if (x >= width || y >= height)
                    throw io_error(path, which + " is at (" + std::to_string(x) + ", " + std::to_string(y) + "), outside the " +
                                             std::to_string(width) + "x" + std::to_string(height) + " sensor");
                if (stamp < 0) throw io_error(path, which + " has a negative time stamp");
                const std::uint64_t t = (static_cast<std::uint64_t>(overflow) << 31) | static_cast<std::uint64_t>(stamp);
                if (t < last)
                    throw io_error(path, which + " has time stamp " + std::to_string(t) + " us, before the " +
                                             std::to_string(last) + " us of the event before it");
                last = t;
                events.push_back({x, y, static_cast<std::uint8_t>((data >> 1) & 1u), t});
            }
        }
        at += static_cast<std::size_t>(payload);
    }
    return events;
}

/// The polarity events of the AEDAT 3.1 file `path` (see parse_aedat31).
inline std::vector<event> read_aedat31(const std::string& path, int width, int height) {
    return parse_aedat31(snn2ann::detail::read_file(path), path, width, height);
}

/// `events` as an AEDAT 3.1 file's bytes: the header, then one polarity packet per
/// time-stamp overflow period (for tests and for tools that want the format).
inline std::string format_aedat31(const std::vector<event>& events) {
    std::string out = "#!AER-DAT3.1\r\n#Format: RAW\r\n#Source 1: DVS128\r\n#!END-HEADER\r\n";
    std::size_t first = 0;
    const auto put = [&out](auto v) {
        char b[sizeof v];
        std::memcpy(b, &v, sizeof v);
        out.append(b, sizeof v);
    };
    while (first < events.size()) {
        const std::uint64_t period = events[first].t >> 31;
        std::size_t last = first;
        while (last < events.size() && (events[last].t >> 31) == period) ++last;
        const auto n = static_cast<std::int32_t>(last - first);
        put(std::int16_t{1}), put(std::int16_t{1}), put(std::int32_t{8}), put(std::int32_t{4}),
            put(static_cast<std::int32_t>(period)), put(n), put(n), put(n);
        for (std::size_t i = first; i < last; ++i) {
            const event& e = events[i];
            put(static_cast<std::uint32_t>((std::uint32_t{e.x} << 17) | (std::uint32_t{e.y} << 2) |
                                           (std::uint32_t{e.polarity ? 1u : 0u} << 1) | 1u));
            put(static_cast<std::int32_t>(e.t & 0x7fffffffu));
        }
        first = last;
    }
    return out;
}

/// DVS128 Gesture from its folder (the recordings, their label files and the two trial
/// lists): every labelled gesture is a sample (its events from the start time, times
/// relative to it), 11 classes, 128 x 128 sensor. A trial list naming a missing recording,
/// a missing or malformed label file, a class outside 1..11 or an end before its start is
/// an io_error naming the file and the line.
inline event_split dvs_gesture(const std::string& dir) {
    namespace fs = std::filesystem;
    const auto read_split = [&](const char* list_name) {
        const std::string list = (fs::path(dir) / list_name).string();
        std::istringstream lines(snn2ann::detail::read_file(list));
        event_dataset d;
        d.width = d.height = 128, d.classes = 11;
        std::string name;
        int line_no = 0;
        while (std::getline(lines, name)) {
            ++line_no;
            while (!name.empty() && (name.back() == '\r' || name.back() == ' ')) name.pop_back();
            if (name.empty()) continue;
            const fs::path recording = fs::path(dir) / name;
            std::error_code ec;
            if (!fs::is_regular_file(recording, ec))
                throw io_error(list, "line " + std::to_string(line_no) + " names " + name + ", which is not in the folder");
            const std::vector<event> all = read_aedat31(recording.string(), 128, 128);
            const std::string labels = (fs::path(dir) / (recording.stem().string() + "_labels.csv")).string();
            std::istringstream rows(snn2ann::detail::read_file(labels));
            std::string row;
            int row_no = 0;
            while (std::getline(rows, row)) {
                ++row_no;
                if (row_no == 1 || row.empty() || row == "\r") continue;  // the column names
                long long c = 0, start = 0, stop = 0;
                char comma1 = 0, comma2 = 0;
                std::istringstream fields(row);
                if (!(fields >> c >> comma1 >> start >> comma2 >> stop) || comma1 != ',' || comma2 != ',')
                    throw io_error(labels, "line " + std::to_string(row_no) + " is not class,startTime_usec,endTime_usec");
                if (c < 1 || c > 11) throw io_error(labels, "line " + std::to_string(row_no) + ": class " + std::to_string(c) + " is outside 1..11");
                if (start < 0 || stop <= start)
                    throw io_error(labels, "line " + std::to_string(row_no) + ": the gesture ends (" + std::to_string(stop) +
                                               " us) before it starts (" + std::to_string(start) + " us)");
                std::vector<event> gesture;
                for (const event& e : all)
                    if (e.t >= static_cast<std::uint64_t>(start) && e.t < static_cast<std::uint64_t>(stop))
                        gesture.push_back({e.x, e.y, e.polarity, e.t - static_cast<std::uint64_t>(start)});
                d.samples.push_back(std::move(gesture));
                d.labels.push_back(static_cast<std::int32_t>(c - 1));
            }
        }
        return d;
    };
    return {read_split("trials_to_train.txt"), read_split("trials_to_test.txt")};
}

}  // namespace snn2ann::inline v0::data
