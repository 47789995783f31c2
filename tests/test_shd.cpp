// The SHD / SSC spike-train reader (HDF5): files the tests write in the layout, one written
// by h5py with half-precision times, and damaged ones, each refused with the file, the
// data set and the defect; integration of spike trains into one-channel frames.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <snn2ann/data/frame_cache.hpp>
#include <snn2ann/data/shd.hpp>
#include "scratch_path.hpp"

namespace s = snn2ann;
namespace fs = std::filesystem;

namespace {
fs::path fresh_dir(const std::string& name) {
    const fs::path p = snn2ann_test::scratch_path("shd_" + name);
    fs::remove_all(p);
    fs::create_directories(p);
    return p;
}

s::data::event_dataset trains() {
    s::data::event_dataset d;
    d.width = 700, d.height = 1, d.classes = 20, d.polarities = 1;
    d.samples = {{{0, 0, 1, 0}, {699, 0, 1, 1250}, {5, 0, 1, 1250}, {5, 0, 1, 999999}}, {}, {{17, 0, 1, 500000}}};
    d.labels = {3, 19, 0};
    return d;
}

// A file in the layout with the given data sets, written through the library's HDF5 layer.
struct layout {
    std::vector<std::vector<float>> times;
    std::vector<std::vector<std::int32_t>> units;
    std::vector<std::int32_t> labels;
    void write(const fs::path& path) const {
        const s::detail::h5_quiet quiet;
        const s::detail::h5_place root{path.string(), "/"};
        const auto file = s::detail::h5_create(path.string());
        const auto spikes = s::detail::h5_new_group(file.get(), "spikes", root / "spikes");
        s::detail::h5_write_sequences(spikes.get(), "times", times, root / "spikes" / "times");
        s::detail::h5_write_sequences(spikes.get(), "units", units, root / "spikes" / "units");
        s::detail::h5_write(file.get(), "labels", {labels.size()}, labels.data(), root / "labels");
    }
};
}  // namespace

TEST_CASE("SHD layout: spike trains round-trip through the writer and reader") {
    const fs::path dir = fresh_dir("round");
    const auto d = trains();
    s::data::write_spike_trains((dir / "shd_train.h5").string(), d);
    s::data::write_spike_trains((dir / "shd_test.h5").string(), d);
    const auto back = s::data::shd(dir.string());
    CHECK(back.train.samples == d.samples);
    CHECK(back.train.labels == d.labels);
    CHECK(back.test.size() == 3);
    CHECK(back.train.width == 700);
    CHECK(back.train.height == 1);
    CHECK(back.train.polarities == 1);
    CHECK(back.train.classes == 20);
}

TEST_CASE("SHD layout: a file written by h5py with half-precision times and 8-bit units is read") {
    const auto d = s::data::read_spike_trains(SNN2ANN_SOURCE_DIR "/tests/data/shd_half.h5", 700, 20);
    REQUIRE(d.size() == 3);
    CHECK(d.labels == std::vector<std::int32_t>{19, 0, 7});
    CHECK(d.samples[0] == std::vector<s::data::event>{{0, 0, 1, 0}, {255, 0, 1, 250000}, {3, 0, 1, 500000}});
    CHECK(d.samples[1].empty());
    CHECK(d.samples[2] == std::vector<s::data::event>{{17, 0, 1, 1000000}});
}

TEST_CASE("SHD layout: damaged files are refused with the file, the data set and the defect") {
    const fs::path dir = fresh_dir("damaged");
    const auto refuses = [&](const std::string& name, const layout& l, const std::string& what) {
        l.write(dir / name);
        CAPTURE(name);
        CHECK_THROWS_WITH_AS(s::data::read_spike_trains((dir / name).string(), 700, 20),
                             doctest::Contains(((dir / name).string() + ": " + what).c_str()), s::io_error);
    };
    const layout good{{{0.0f, 0.5f}, {0.25f}}, {{1, 2}, {3}}, {0, 1}};
    refuses("backwards.h5", {{{0.5f, 0.25f}, {0.25f}}, {{1, 2}, {3}}, {0, 1}},
            "/spikes/times: sample 0, spike 1 is at 250000 us, before the 500000 us of the spike before it");
    refuses("negative.h5", {{{0.0f, 0.5f}, {-1.0f}}, {{1, 2}, {3}}, {0, 1}}, "/spikes/times: sample 1, spike 0 is at -1");
    refuses("unit.h5", {{{0.0f, 0.5f}, {0.25f}}, {{1, 700}, {3}}, {0, 1}},
            "/spikes/units: sample 0, spike 1 is on channel 700, outside 0..699");
    refuses("label.h5", {{{0.0f, 0.5f}, {0.25f}}, {{1, 2}, {3}}, {0, 20}}, "/labels: sample 1 has class 20, outside 0..19");
    refuses("lengths.h5", {{{0.0f, 0.5f}, {0.25f}}, {{1}, {3}}, {0, 1}}, "sample 0 has 2 spike times and 1 units");
    refuses("counts.h5", {{{0.0f, 0.5f}, {0.25f}}, {{1, 2}, {3}}, {0}},
            "/spikes/times holds 2 samples, /spikes/units 2 and /labels 1: they must agree");
    // Missing and mistyped data sets: a file with only what `fill` writes into its spikes
    // group and its root.
    const auto partial = [&](const std::string& name, auto&& fill) {
        const s::detail::h5_quiet quiet;
        const std::string path = (dir / name).string();
        const s::detail::h5_place root{path, "/"};
        const auto file = s::detail::h5_create(path);
        const auto spikes = s::detail::h5_new_group(file.get(), "spikes", root / "spikes");
        fill(file.get(), spikes.get(), root);
        return path;
    };
    const std::vector<float> flat{0, 1};
    const std::string no_units = partial("no_units.h5", [&](hid_t f, hid_t sp, const s::detail::h5_place& root) {
        s::detail::h5_write_sequences(sp, "times", good.times, root / "spikes" / "times");
        s::detail::h5_write(f, "labels", {2}, flat.data(), root / "labels");
    });
    CHECK_THROWS_WITH_AS(s::data::read_spike_trains(no_units, 700, 20),
                         doctest::Contains("no_units.h5: /spikes/units: is missing"), s::io_error);
    const std::string flat_times = partial("flat_times.h5", [&](hid_t, hid_t sp, const s::detail::h5_place& root) {
        s::detail::h5_write(sp, "times", {2}, flat.data(), root / "spikes" / "times");
    });
    CHECK_THROWS_WITH_AS(s::data::read_spike_trains(flat_times, 700, 20),
                         doctest::Contains("/spikes/times: is not a data set of variable-length sequences"), s::io_error);
    const std::string float_labels = partial("float_labels.h5", [&](hid_t f, hid_t sp, const s::detail::h5_place& root) {
        s::detail::h5_write_sequences(sp, "times", good.times, root / "spikes" / "times");
        s::detail::h5_write_sequences(sp, "units", good.units, root / "spikes" / "units");
        s::detail::h5_write(f, "labels", {2}, flat.data(), root / "labels");  // floats: not integers
    });
    CHECK_THROWS_WITH_AS(s::data::read_spike_trains(float_labels, 700, 20),
                         doctest::Contains("/labels: does not hold integers"), s::io_error);
    good.write(dir / "good.h5");
    CHECK(s::data::read_spike_trains((dir / "good.h5").string(), 700, 20).size() == 2);
    // Not HDF5 at all, and no file.
    {
        std::ofstream f(dir / "text.h5");
        f << "spikes,times\n";
    }
    CHECK_THROWS_WITH_AS(s::data::read_spike_trains((dir / "text.h5").string(), 700, 20),
                         doctest::Contains("text.h5: not an HDF5 file"), s::io_error);
    CHECK_THROWS_WITH_AS(s::data::shd((dir / "nowhere").string()), doctest::Contains("shd_train.h5: cannot open the file"),
                         s::io_error);
}

TEST_CASE("SHD layout: spike trains integrate into one-channel frames of 700 channels") {
    const auto d = trains();
    const auto f = s::data::to_frames(d, {.frames = 2, .split = s::data::frame_split::by_time});
    CHECK(f.frames == 2);
    CHECK(f.channels == 1);
    CHECK(f.height == 1);
    CHECK(f.width == 700);
    REQUIRE(f.images.size() == 3 * 2 * 700);
    // Sample 0 spans 0..999999 us: the first three spikes fall in frame 0, the last in frame 1.
    CHECK(f.images[0] == 1.0f);
    CHECK(f.images[699] == 1.0f);
    CHECK(f.images[5] == 1.0f);
    CHECK(f.images[700 + 5] == 1.0f);
    float total = 0;
    for (std::size_t k = 0; k < 2 * 700; ++k) total += f.images[k];
    CHECK(total == 4.0f);
    // Down-sampling by 10 merges neighbouring channels: 70 inputs.
    CHECK(s::data::to_frames(d, {.frames = 2, .downsample = 10}).width == 70);
}
