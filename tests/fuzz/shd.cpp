// The SHD / SSC spike-train reader on the contents of a well-formed HDF5 file: the input
// says how many samples there are, how long each train is (times and units may disagree),
// the spike times (32-bit floats, or 64-bit) and units, and the labels (as many as it
// has), and the harness writes that file in memory and reads it. HDF5's own parsing of
// damaged containers is HDF5's to harden; what is fuzzed here is every check the reader
// makes of what a readable file holds.
#include <cstring>

#include <snn2ann/data/shd.hpp>

#include "fuzz_files.hpp"

namespace {
template <class T>
T value(std::string_view part, std::size_t k) {
    T v{};
    if (part.size() < sizeof(T)) return v;
    const std::size_t slots = part.size() / sizeof(T);
    std::memcpy(&v, part.data() + (k % slots) * sizeof(T), sizeof(T));
    return v;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // Parts: the trains' lengths (one byte per sample: bits 0-5 the length, bit 6 one unit
    // more than times, bit 7 times as doubles), the times, the units, the labels.
    const auto parts = fuzz::split(data, size, 4);
    const std::string_view lengths = parts[0].substr(0, 64), times = parts[1], units = parts[2], labels = parts[3];
    std::vector<std::vector<float>> t32;
    std::vector<std::vector<double>> t64;
    std::vector<std::vector<std::int32_t>> u;
    bool doubles = false;
    std::size_t next_time = 0, next_unit = 0;
    for (const char c : lengths) {
        const auto b = static_cast<unsigned char>(c);
        doubles = doubles || (b & 0x80);
        const std::size_t n = b & 0x3f;
        t32.emplace_back(), t64.emplace_back(), u.emplace_back();
        for (std::size_t k = 0; k < n; ++k) {
            t32.back().push_back(value<float>(times, next_time));
            t64.back().push_back(value<double>(times, next_time++));
        }
        for (std::size_t k = 0; k < n + ((b & 0x40) ? 1 : 0); ++k) u.back().push_back(value<std::int32_t>(units, next_unit++));
    }
    std::vector<std::int32_t> l;
    for (std::size_t k = 0; k + 4 <= labels.size() && l.size() < 64; k += 4) l.push_back(value<std::int32_t>(labels.substr(k, 4), 0));
    const snn2ann::detail::h5_quiet quiet;
    const snn2ann::detail::h5_place root{"fuzz.h5", "/"};
    const auto file = snn2ann::detail::h5_create_in_memory("fuzz.h5");
    const auto spikes = snn2ann::detail::h5_new_group(file.get(), "spikes", root / "spikes");
    if (doubles) snn2ann::detail::h5_write_sequences(spikes.get(), "times", t64, root / "spikes" / "times");
    else snn2ann::detail::h5_write_sequences(spikes.get(), "times", t32, root / "spikes" / "times");
    snn2ann::detail::h5_write_sequences(spikes.get(), "units", u, root / "spikes" / "units");
    snn2ann::detail::h5_write(file.get(), "labels", {l.size()}, l.data(), root / "labels");
    fuzz::expect_only_snn2ann_errors([&] {
        const auto d = snn2ann::data::parse_spike_trains(file.get(), "fuzz.h5", snn2ann::data::shd_channels, 20);
        snn2ann::data::frame_integration p;
        p.frames = 3, p.split = snn2ann::data::frame_split::by_count, p.downsample = 7, p.refractory_us = 5;
        (void)snn2ann::data::to_frames(d, p);
    });
    return 0;
}
