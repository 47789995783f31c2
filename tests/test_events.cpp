// Event-camera data: time-varying input through every rule, the readers and writers of
// N-MNIST, AEDAT 3.1 (DVS128 Gesture) and AEDAT 2.0 (CIFAR10-DVS) on good and damaged files, frame integration, the frame cache and the emulator.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <string>
#include <vector>

#include <snn2ann/data/aedat.hpp>
#include <snn2ann/data/aedat2.hpp>
#include <snn2ann/data/event_emulator.hpp>
#include <snn2ann/data/events.hpp>
#include <snn2ann/data/frame_cache.hpp>
#include <snn2ann/data/nmnist.hpp>
#include <snn2ann/snn2ann.hpp>

#include "synthetic_data.hpp"
#include "scratch_path.hpp"

namespace s = snn2ann;
namespace fs = std::filesystem;

namespace {
constexpr int T = 4;
template <class Neuron = s::if_neuron<>>
using small_net = s::network<s::input<1, 12, 12>, s::conv<4, 3>, s::batch_norm, s::max_pool<2>, s::spiking<Neuron>,
                             s::flatten, s::linear<16>, s::spiking<Neuron>, s::linear<3>>;

// IF neurons that never fire: the membrane after the pass is the summed current.
using integrator = s::if_neuron<s::reset::to_zero, s::firing::strict, s::constant_threshold<1000>, 0>;
using probe_net = s::network<s::input<1, 6, 6>, s::conv<2, 3>, s::spiking<integrator>, s::flatten, s::linear<2>,
                             s::spiking<>, s::linear<3>>;

s::data::dataset varying_frames(std::size_t n, int frames, int side, std::uint64_t seed) {
    s::data::dataset d;
    d.channels = 1, d.height = d.width = side, d.classes = 3, d.frames = frames;
    const s::detail::counter_rng rng(seed, 7);
    for (std::size_t i = 0; i < n; ++i) {
        d.labels.push_back(static_cast<std::int32_t>(i % 3));
        for (std::size_t k = 0; k < static_cast<std::size_t>(frames * side * side); ++k)
            d.images.push_back(rng.uniform(i * 10007 + k));
    }
    return d;
}

fs::path fresh_dir(const std::string& name) {
    const fs::path p = snn2ann_test::scratch_path("events_" + name);
    fs::remove_all(p);
    fs::create_directories(p);
    return p;
}

void write_bytes(const fs::path& p, const std::string& bytes) {
    std::ofstream f(p, std::ios::binary);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string event_bytes(int x, int y, int polarity, std::uint32_t t) {
    return {static_cast<char>(x), static_cast<char>(y), static_cast<char>((polarity << 7) | ((t >> 16) & 0x7f)),
            static_cast<char>((t >> 8) & 0xff), static_cast<char>(t & 0xff)};
}
}  // namespace

TEST_CASE("frames: a direct-input data set given as T equal frames trains SNN2ANN to bit-identical weights") {
    const auto images = test::bars(48, 3);
    const auto frames = s::data::repeat_frames(images, T);
    CHECK(frames.frames == T);
    CHECK(frames.image_size() == T * images.image_size());
    s::model<small_net<>, s::timesteps<T>> direct{s::seed{5}}, framed{s::seed{5}};
    s::trainer a{direct, s::rules::snn2ann{}, s::adam{1e-2}};
    s::trainer b{framed, s::rules::snn2ann{}, s::adam{1e-2}};
    a.quiet().fit(images, s::epochs{2}, s::batch{16});
    b.quiet().fit(frames, s::epochs{2}, s::batch{16});
    const auto p = direct.parameters(), q = framed.parameters();
    CHECK(std::equal(p.begin(), p.end(), q.begin()));
    const auto u = direct.state(), v = framed.state();
    CHECK(std::equal(u.begin(), u.end(), v.begin()));
    CHECK(framed.input_frames() == 1);  // the trainer restores the model's setting
    CHECK(s::evaluate(direct, images, 16, s::rules::snn2ann{}).accuracy ==
          s::evaluate(framed, frames, 16, s::rules::snn2ann{}).accuracy);
}

TEST_CASE("frames: the first layer's summed SNN current is T times the ANN pre-activation of the mean frame") {
    // The SNN branch gives each step a T-th of the bias: sum_t (W x_t + b / T) = T (W mean + b) - (T - 1) b.
    // The converted SNN gives every step the whole bias: sum_t (W x_t + b) = T (W mean + b), exactly T times.
    s::model<probe_net, s::timesteps<T>> m{s::seed{2}};
    const auto d = varying_frames(5, T, 6, 11);
    const s::rules::snn2ann stsu{s::mapping_unit::stsu};
    const auto o = stsu.options();
    m.set_input_frames(T);
    m.snn_forward(d.images.data(), d.size(), o, false);
    const std::vector<float> summed(m.layers().layer<1>().membranes(),
                                    m.layers().layer<1>().membranes() + d.size() * 2 * 36);
    m.forward(d.images.data(), d.size(), o, false);
    // conv's output of the mean frame (copied: the SNN passes borrow the ANN's buffers)
    const std::vector<float> z(m.layers().output(0), m.layers().output(0) + summed.size());
    const float* bias = m.parameters().data() + 2 * 9;
    for (std::size_t i = 0; i < summed.size(); ++i) {
        const float b = bias[(i / 36) % 2];
        CHECK(summed[i] == doctest::Approx(T * z[i] - (T - 1) * b).epsilon(1e-5));
    }
    m.converted_forward(d.images.data(), d.size(), T, false);
    for (std::size_t i = 0; i < summed.size(); ++i) {
        // The converted neurons start at Vth / 2 and never reach Vth: the membrane is that plus the sum.
        const float start = 0.5f * 1000.0f;
        CHECK(m.layers().layer<1>().membranes()[i] - start == doctest::Approx(T * z[i]).epsilon(1e-3).scale(1.0));
    }
}

TEST_CASE("frames: frame t is the input of step t (BPTT and the SNN branch see the order)") {
    s::model<small_net<>, s::timesteps<T>> m{s::seed{4}};
    auto d = varying_frames(6, T, 12, 5);
    auto reversed = d;
    for (std::size_t i = 0; i < d.size(); ++i)
        for (int t = 0; t < T; ++t)
            std::copy_n(d.images.begin() + static_cast<std::ptrdiff_t>((i * T + t) * d.frame_size()), d.frame_size(),
                        reversed.images.begin() + static_cast<std::ptrdiff_t>((i * T + (T - 1 - t)) * d.frame_size()));
    const s::rules::bptt bptt;
    m.set_input_frames(T);
    const std::vector<float> y(m.bptt_forward(d.images.data(), d.size(), bptt.options(), false),
                               m.bptt_forward(d.images.data(), d.size(), bptt.options(), false) + d.size() * 3);
    const float* r = m.bptt_forward(reversed.images.data(), d.size(), bptt.options(), false);
    double differ = 0;
    for (std::size_t i = 0; i < y.size(); ++i) differ += std::abs(y[i] - r[i]);
    CHECK(differ > 0.0);
    const auto o_snn = s::rules::snn2ann{}.options();
    const std::vector<float> f(m.snn_forward(d.images.data(), d.size(), o_snn), m.snn_forward(d.images.data(), d.size(), o_snn) + d.size() * 3);
    const float* g = m.snn_forward(reversed.images.data(), d.size(), o_snn);
    differ = 0;
    for (std::size_t i = 0; i < f.size(); ++i) differ += std::abs(f[i] - g[i]);
    CHECK(differ > 0.0);
    // The ANN sees only the mean, the same for both orders.
    const auto o = s::rules::ann{}.options();
    const std::vector<float> a(m.forward(d.images.data(), d.size(), o, false), m.forward(d.images.data(), d.size(), o, false) + d.size() * 3);
    const float* b = m.forward(reversed.images.data(), d.size(), o, false);
    for (std::size_t i = 0; i < a.size(); ++i) CHECK(a[i] == b[i]);
}

TEST_CASE("frames: BPTT trains on frames, and a count that is not T is refused with both numbers") {
    s::model<small_net<>, s::timesteps<T>> m{s::seed{4}};
    // Time-varying: each frame keeps a random half of the pixels.
    const auto framed = [](std::uint64_t seed) {
        auto d = s::data::repeat_frames(test::bars(60, seed), T);
        const s::detail::counter_rng rng(3, seed);
        for (std::size_t k = 0; k < d.images.size(); ++k) d.images[k] *= rng.uniform(k) < 0.5f ? 0.0f : 2.0f;
        return d;
    };
    const auto d = framed(9), held_out = framed(19);
    s::trainer t{m, s::rules::bptt{}, s::adam{1e-2}};
    const auto h = t.quiet().fit(d, s::epochs{4}, s::batch{20});
    CHECK(h.back().loss < h.front().loss);
    // on samples it did not train on (chance: 1/3)
    CHECK(s::evaluate(m, held_out, 20, s::rules::bptt{}).accuracy > 0.5);

    const auto five = s::data::repeat_frames(test::bars(10, 1), 5);
    s::model<small_net<>, s::timesteps<T>> other{s::seed{1}};
    s::trainer u{other, s::rules::snn2ann{}, s::adam{1e-3}};
    CHECK_THROWS_WITH_AS(u.fit(five, s::epochs{1}, s::batch{5}),
                         doctest::Contains("the input holds 5 frames per sample, the model runs T = 4 steps"),
                         s::invalid_argument);
    CHECK_THROWS_WITH_AS(s::evaluate(other, five, 5, s::rules::bptt{}), doctest::Contains("T = 4"), s::invalid_argument);
    // The ANN takes any number of frames (their mean); rebinning gives the model's T.
    CHECK_NOTHROW(s::evaluate(other, five, 5, s::rules::ann{}));
    CHECK_NOTHROW(s::evaluate(other, s::data::rebin_frames(five, T), 5, s::rules::snn2ann{}));
}

TEST_CASE("frames: re-binning keeps the totals, and the data set's checks name frames") {
    s::data::dataset d;
    d.channels = d.height = d.width = 1, d.classes = 2, d.frames = 6;
    d.images = {1, 2, 3, 4, 5, 6};
    d.labels = {0};
    const auto three = s::data::rebin_frames(d, 3);
    CHECK(three.images == std::vector<float>{3, 7, 11});
    const auto four = s::data::rebin_frames(d, 4);  // bins of 1.5 frames
    CHECK(four.images[0] == doctest::Approx(1 + 0.5 * 2));
    CHECK(four.images[1] == doctest::Approx(0.5 * 2 + 3));
    CHECK(four.images[3] == doctest::Approx(0.5 * 5 + 6));
    double total = 0;
    for (float v : four.images) total += v;
    CHECK(total == doctest::Approx(21));
    CHECK_THROWS_WITH_AS(s::data::rebin_frames(d, 0), doctest::Contains("0 frames"), s::invalid_argument);
    d.frames = 0;
    CHECK_THROWS_WITH_AS(s::data::validate(d, s::image_shape(1, 1, 1), 2, "test"), doctest::Contains("0 frames"),
                         s::invalid_argument);
}

TEST_CASE("N-MNIST format: events round-trip through the writer and reader, overflow markers included") {
    const fs::path dir = fresh_dir("format");
    std::vector<s::data::event> events{{3, 4, 1, 10}, {33, 0, 0, 10}, {0, 33, 1, 8388607}, {5, 5, 0, 8388608},
                                       {6, 7, 1, 3 * 8388608ull + 5}};
    s::data::write_ndataset_file((dir / "a.bin").string(), events);
    CHECK(fs::file_size(dir / "a.bin") == 5 * (events.size() + 3));  // three overflow markers
    CHECK(s::data::read_ndataset_file((dir / "a.bin").string(), 34, 34) == events);
    // The bits of one event, written by hand: x 7, y 9, ON, t = 0x012345.
    write_bytes(dir / "b.bin", event_bytes(7, 9, 1, 0x012345));
    const auto one = s::data::read_ndataset_file((dir / "b.bin").string(), 34, 34);
    REQUIRE(one.size() == 1);
    CHECK(one[0] == s::data::event{7, 9, 1, 0x012345});
    CHECK(s::data::read_ndataset_file((dir / "b.bin").string(), 34, 34).size() == 1);
    write_bytes(dir / "empty.bin", "");
    CHECK(s::data::read_ndataset_file((dir / "empty.bin").string(), 34, 34).empty());
}

TEST_CASE("N-MNIST format: damaged files are refused with the file and the defect") {
    const fs::path dir = fresh_dir("damaged");
    const auto refuses = [&](const std::string& name, const std::string& bytes, const std::string& what) {
        write_bytes(dir / name, bytes);
        CAPTURE(name);
        CHECK_THROWS_WITH_AS(s::data::read_ndataset_file((dir / name).string(), 34, 34),
                             doctest::Contains(((dir / name).string() + ": " + what).c_str()), s::io_error);
    };
    refuses("truncated.bin", event_bytes(1, 1, 1, 5) + "\x01\x02", "truncated: 7 bytes");
    refuses("outside.bin", event_bytes(1, 1, 1, 5) + event_bytes(34, 2, 0, 6), "event 1 (byte 5) is at (34, 2), outside");
    refuses("backwards.bin", event_bytes(1, 1, 1, 500) + event_bytes(2, 2, 0, 499), "event 1 (byte 5) has time stamp 499");
    CHECK_THROWS_WITH_AS(s::data::read_ndataset_file((dir / "missing.bin").string(), 34, 34),
                         doctest::Contains("cannot open"), s::io_error);
    // Folders: a missing one, a class folder without recordings.
    CHECK_THROWS_WITH_AS(s::data::nmnist((dir / "nowhere").string()), doctest::Contains("not a folder"), s::io_error);
    fs::create_directories(dir / "set" / "0");
    fs::create_directories(dir / "set" / "1");
    write_bytes(dir / "set" / "0" / "x.bin", event_bytes(1, 1, 1, 5));
    CHECK_THROWS_WITH_AS(s::data::read_ndataset_folder((dir / "set").string(), 34, 34),
                         doctest::Contains("holds no .bin recordings"), s::io_error);
    write_bytes(dir / "set" / "1" / "y.bin", event_bytes(2, 2, 0, 9));
    const auto d = s::data::read_ndataset_folder((dir / "set").string(), 34, 34);
    CHECK(d.size() == 2);
    CHECK(d.classes == 2);
    CHECK(d.labels == std::vector<std::int32_t>{0, 1});
}

TEST_CASE("integration: SpikingJelly's and tonic's binnings, remainders and edges") {
    // 7 events at t = 0, 10, 20, 30, 40, 50, 61 on one pixel, in 3 frames: 2 events a frame
    // (7 / 3) and windows of 20 us (61 / 3).
    s::data::event_dataset d;
    d.width = 1, d.height = 1, d.classes = 1, d.labels = {0};
    d.samples = {{{0, 0, 1, 0}, {0, 0, 1, 10}, {0, 0, 1, 20}, {0, 0, 1, 30}, {0, 0, 1, 40}, {0, 0, 1, 50}, {0, 0, 1, 61}}};
    const auto on_counts = [&](s::data::frame_split split, int frames = 3) {
        const auto f = s::data::to_frames(d, {.frames = frames, .split = split});
        std::vector<float> on;
        for (int t = 0; t < frames; ++t) on.push_back(f.images[static_cast<std::size_t>(t) * 2 + 1]);
        return on;
    };
    using split = s::data::frame_split;
    CHECK(on_counts(split::by_count) == std::vector<float>{2, 2, 3});          // the remainder in the last
    CHECK(on_counts(split::tonic_event_bins) == std::vector<float>{2, 2, 2});  // the remainder dropped
    CHECK(on_counts(split::by_time) == std::vector<float>{2, 2, 3});  // [0, 20), [20, 40), 40 on
    CHECK(on_counts(split::tonic_time_bins) == std::vector<float>{2, 2, 2});  // t = 61 is past [40, 60)
    // Fewer events than frames: SpikingJelly's by count gives every event to the last
    // frame, tonic's bins are empty; a span shorter than T microseconds likewise.
    d.samples = {{{0, 0, 1, 5}, {0, 0, 1, 6}}};
    CHECK(on_counts(split::by_count) == std::vector<float>{0, 0, 2});
    CHECK(on_counts(split::tonic_event_bins) == std::vector<float>{0, 0, 0});
    CHECK(on_counts(split::by_time) == std::vector<float>{0, 0, 2});
    CHECK(on_counts(split::tonic_time_bins) == std::vector<float>{0, 0, 0});
    // An empty window (SpikingJelly raises there) is an empty frame.
    d.samples = {{{0, 0, 1, 0}, {0, 0, 1, 1}, {0, 0, 1, 90}}};
    CHECK(on_counts(split::by_time) == std::vector<float>{2, 0, 1});
    // The binnings are keyed apart in the frame cache.
    CHECK(s::data::frame_integration{.split = split::by_time}.describe() !=
          s::data::frame_integration{.split = split::tonic_time_bins}.describe());
}

TEST_CASE("integration: slices by count and by time, polarity channels, down-sampling, filters") {
    s::data::event_dataset d;
    d.width = 4, d.height = 2, d.classes = 1;
    d.samples = {{{0, 0, 1, 0}, {1, 0, 0, 10}, {2, 1, 1, 20}, {3, 1, 1, 100}}};
    d.labels = {0};
    s::data::frame_integration p;
    p.frames = 2;
    p.split = s::data::frame_split::by_count;
    const auto c = s::data::to_frames(d, p);
    CHECK(c.frames == 2);
    CHECK(c.channels == 2);
    CHECK(c.image_size() == 2 * 2 * 2 * 4);
    const auto at = [&](const s::data::dataset& f, int t, int pol, int y, int x) {
        return f.images[((static_cast<std::size_t>(t) * 2 + pol) * f.height + y) * f.width + x];
    };
    CHECK(at(c, 0, 1, 0, 0) == 1);  // events 0, 1 in frame 0
    CHECK(at(c, 0, 0, 0, 1) == 1);
    CHECK(at(c, 1, 1, 1, 2) == 1);  // events 2, 3 in frame 1
    CHECK(at(c, 1, 1, 1, 3) == 1);
    p.split = s::data::frame_split::by_time;  // dt = 100 / 2 us: [0, 50), then 50 on
    const auto t = s::data::to_frames(d, p);
    CHECK(s::data::to_frames(d, {.frames = 2}).images == t.images);  // the README's form; by time is the default
    CHECK(at(t, 0, 1, 1, 2) == 1);
    CHECK(at(t, 1, 1, 1, 3) == 1);
    CHECK(std::accumulate(t.images.begin(), t.images.end(), 0.0f) == 4);
    p.downsample = 2;
    const auto small = s::data::to_frames(d, p);
    CHECK(small.width == 2);
    CHECK(small.height == 1);
    CHECK(at(small, 0, 1, 0, 0) == 1);
    CHECK(at(small, 0, 0, 0, 0) == 1);
    // Refractory: a pixel's second event within 5 us is dropped.
    const std::vector<s::data::event> burst{{0, 0, 1, 0}, {0, 0, 1, 3}, {0, 0, 0, 9}, {1, 0, 1, 9}};
    s::data::frame_integration r;
    r.refractory_us = 5;
    CHECK(s::data::filter_events(burst, 4, 2, r).size() == 3);
    // Denoise: an event without a neighbour's event in the 10 us before it is dropped.
    s::data::frame_integration n;
    n.denoise_us = 10;
    const auto kept = s::data::filter_events(burst, 4, 2, n);
    REQUIRE(kept.size() == 1);
    CHECK(kept[0] == s::data::event{1, 0, 1, 9});
    d.samples[0].push_back({4, 0, 1, 200});
    CHECK_THROWS_WITH_AS(s::data::to_frames(d, p), doctest::Contains("outside the 4x2 sensor"), s::invalid_argument);
}

TEST_CASE("frame cache: the second run reads nothing, other parameters make another file, damage is named") {
    const fs::path dir = fresh_dir("cache");
    s::data::event_dataset d;
    d.width = d.height = 4, d.classes = 2;
    d.samples = {{{0, 0, 1, 0}, {1, 1, 0, 7}}, {{3, 3, 1, 2}}};
    d.labels = {0, 1};
    int reads = 0;
    const auto read = [&] {
        ++reads;
        return d;
    };
    s::data::frame_integration p;
    p.frames = 3;
    const auto first = s::data::cached_frames(dir.string(), "source 1", p, read);
    const auto second = s::data::cached_frames(dir.string(), "source 1", p, read);
    CHECK(reads == 1);
    CHECK(second.images == first.images);
    CHECK(second.labels == first.labels);
    CHECK(second.frames == 3);
    p.frames = 2;
    s::data::cached_frames(dir.string(), "source 1", p, read);
    s::data::cached_frames(dir.string(), "source 2", p, read);
    CHECK(reads == 3);
    const std::string path = s::data::frame_cache_path(dir.string(), "source 2", p);
    std::string bytes = s::detail::read_file(path);
    bytes.resize(bytes.size() / 2);
    write_bytes(path, bytes);
    CHECK_THROWS_WITH_AS(s::data::cached_frames(dir.string(), "source 2", p, read), doctest::Contains(path.c_str()),
                         s::io_error);
}

TEST_CASE("emulator: saccades over an image give time-ordered events on the sensor, the same for the same seed") {
    s::data::dataset img;
    img.channels = 1, img.height = img.width = 28, img.classes = 2;
    img.images.assign(2 * 28 * 28, 0.0f);
    for (int y = 8; y < 20; ++y)
        for (int x = 10; x < 18; ++x) img.images[static_cast<std::size_t>(y * 28 + x)] = 1.0f;  // a bright bar; image 1 stays black
    img.labels = {1, 0};
    s::data::saccade_emulation p;
    const auto e = s::data::emulate_saccades(img, p);
    REQUIRE(e.size() == 2);
    CHECK(e.width == 34);
    CHECK(e.samples[0].size() > 100);
    CHECK(e.samples[1].empty());  // black stays black without noise
    std::size_t on = 0;
    for (std::size_t i = 0; i < e.samples[0].size(); ++i) {
        const auto& v = e.samples[0][i];
        CHECK(v.x < 34);
        CHECK(v.y < 34);
        CHECK(v.t <= 3 * p.saccade_us);
        if (i) CHECK(v.t >= e.samples[0][i - 1].t);
        on += v.polarity;
    }
    CHECK(on > 0);
    CHECK(on < e.samples[0].size());  // edges move both ways
    CHECK(s::data::emulate_saccades(img, p).samples[0] == e.samples[0]);
    p.seed = 2;
    CHECK(s::data::emulate_saccades(img, p).samples[0] != e.samples[0]);  // another mismatch
    // Written as N-MNIST and read back.
    const fs::path dir = fresh_dir("emulated");
    s::data::write_ndataset_folder(dir.string(), e);
    const auto back = s::data::read_ndataset_folder(dir.string(), 34, 34);
    CHECK(back.labels == std::vector<std::int32_t>{0, 1});  // folders in class order: image 1 (class 0) first
    CHECK(back.samples[1] == e.samples[0]);
}

TEST_CASE("AEDAT 3.1: polarity events round-trip, other packets and invalid events are skipped") {
    const fs::path dir = fresh_dir("aedat");
    const std::vector<s::data::event> events{{1, 2, 1, 5}, {127, 0, 0, 9}, {0, 127, 1, (1ull << 31) + 3}};
    std::string bytes = s::data::format_aedat31(events);
    write_bytes(dir / "a.aedat", bytes);
    CHECK(s::data::read_aedat31((dir / "a.aedat").string(), 128, 128) == events);
    // A packet of another type (a special event, 8 bytes) and an invalidated polarity event.
    std::string extra;
    const auto put = [&extra](auto v) { extra.append(reinterpret_cast<const char*>(&v), sizeof v); };
    put(std::int16_t{0}), put(std::int16_t{1}), put(std::int32_t{8}), put(std::int32_t{4}), put(std::int32_t{0}),
        put(std::int32_t{1}), put(std::int32_t{1}), put(std::int32_t{1}), put(std::uint64_t{0xffffffffffffffffull});
    put(std::int16_t{1}), put(std::int16_t{1}), put(std::int32_t{8}), put(std::int32_t{4}), put(std::int32_t{1}),
        put(std::int32_t{1}), put(std::int32_t{1}), put(std::int32_t{0}), put(std::uint32_t{(5u << 17) | (5u << 2)}),
        put(std::int32_t{10});
    write_bytes(dir / "b.aedat", bytes + extra);
    CHECK(s::data::read_aedat31((dir / "b.aedat").string(), 128, 128) == events);
}

TEST_CASE("AEDAT 3.1 and DVS128 Gesture: damaged files are refused with the file and the defect") {
    const fs::path dir = fresh_dir("aedat_damaged");
    const std::string good = s::data::format_aedat31({{1, 2, 1, 5}, {3, 4, 0, 9}});
    // The message names the file, then the packet or event and its byte, then the defect.
    const auto refuses = [&](const std::string& name, const std::string& bytes, const std::string& what) {
        write_bytes(dir / name, bytes);
        CAPTURE(name);
        std::string message;
        try {
            s::data::read_aedat31((dir / name).string(), 128, 128);
        } catch (const s::io_error& e) {
            message = e.what();
        }
        CHECK(message.find((dir / name).string() + ": ") != std::string::npos);
        CHECK(message.find(what) != std::string::npos);
    };
    refuses("header.aedat", "#!AER-DAT2.0\r\n" + good.substr(14), "not an AEDAT 3.1 file");
    refuses("no_end.aedat", "#!AER-DAT3.1\r\n#Format: RAW\r\n", "has no #!END-HEADER line");
    refuses("truncated.aedat", good.substr(0, good.size() - 3), "packet at byte 61: truncated, 2 events of 8 bytes announced");
    refuses("short_header.aedat", good + std::string(10, '\0'), "packet at byte 105: truncated header (10 of 28 bytes)");
    refuses("outside.aedat", s::data::format_aedat31({{1, 2, 1, 5}, {128, 4, 0, 9}}), "event at byte 97 is at (128, 4), outside the 128x128 sensor");
    refuses("backwards.aedat", s::data::format_aedat31({{1, 2, 1, 9}, {3, 4, 0, 5}}), "event at byte 97 has time stamp 5 us, before the 9 us");
    // The data set: trial lists, label files.
    write_bytes(dir / "user01_led.aedat", s::data::format_aedat31({{1, 1, 1, 100}, {2, 2, 0, 250}, {3, 3, 1, 400}}));
    write_bytes(dir / "user01_led_labels.csv", "class,startTime_usec,endTime_usec\r\n3,100,300\r\n11,300,500\r\n");
    write_bytes(dir / "trials_to_train.txt", "user01_led.aedat\r\n");
    write_bytes(dir / "trials_to_test.txt", "user01_led.aedat\nuser02_led.aedat\n");
    CHECK_THROWS_WITH_AS(s::data::dvs_gesture(dir.string()),
                         doctest::Contains("trials_to_test.txt: line 2 names user02_led.aedat, which is not in the folder"),
                         s::io_error);
    write_bytes(dir / "trials_to_test.txt", "user01_led.aedat\n");
    const auto g = s::data::dvs_gesture(dir.string());
    REQUIRE(g.train.size() == 2);
    CHECK(g.train.labels == std::vector<std::int32_t>{2, 10});
    CHECK(g.train.samples[0] == std::vector<s::data::event>{{1, 1, 1, 0}, {2, 2, 0, 150}});
    CHECK(g.train.samples[1] == std::vector<s::data::event>{{3, 3, 1, 100}});
    write_bytes(dir / "user01_led_labels.csv", "class,startTime_usec,endTime_usec\n12,100,300\n");
    CHECK_THROWS_WITH_AS(s::data::dvs_gesture(dir.string()), doctest::Contains("class 12 is outside 1..11"), s::io_error);
    write_bytes(dir / "user01_led_labels.csv", "class,startTime_usec,endTime_usec\n3,300,100\n");
    CHECK_THROWS_WITH_AS(s::data::dvs_gesture(dir.string()), doctest::Contains("ends (100 us) before it starts"), s::io_error);
    fs::remove(dir / "user01_led_labels.csv");
    CHECK_THROWS_WITH_AS(s::data::dvs_gesture(dir.string()), doctest::Contains("user01_led_labels.csv"), s::io_error);
}

TEST_CASE("AEDAT 2.0: the address bits as jAER describes them, both layouts round-trip, APS samples are skipped") {
    const fs::path dir = fresh_dir("aedat2");
    // One DVS128 event written by hand: row 9, column 7 (stored mirrored: 127 - 7 = 120),
    // ON (bit 0 clear), t = 0x012345 us; big-endian address, then time stamp.
    const std::string header = "#!AER-DAT2.0\r\n# created by hand\r\n";
    write_bytes(dir / "one.aedat", header + std::string("\x00\x00\x09\xf0\x00\x01\x23\x45", 8));
    CHECK(s::data::read_aedat2((dir / "one.aedat").string(), 128, 128) ==
          std::vector<s::data::event>{{7, 9, 1, 0x012345}});
    // The same bits read as DAVIS: column (0x9f0 >> 12) = 0, row 0, polarity bit 11 (0x800) set.
    CHECK(s::data::read_aedat2((dir / "one.aedat").string(), 128, 128, s::data::aedat2_address::davis) ==
          std::vector<s::data::event>{{0, 0, 1, 0x012345}});
    const std::vector<s::data::event> events{{0, 0, 1, 0}, {127, 127, 0, 5}, {64, 3, 1, 5}, {9, 100, 0, 2000000000}};
    for (const auto layout : {s::data::aedat2_address::dvs128, s::data::aedat2_address::davis}) {
        write_bytes(dir / "round.aedat", s::data::format_aedat2(events, 128, layout));
        CHECK(s::data::read_aedat2((dir / "round.aedat").string(), 128, 128, layout) == events);
    }
    // DAVIS: an address with bit 31 set is an APS or IMU sample, not an event.
    std::string davis = s::data::format_aedat2({{1, 2, 1, 5}}, 240, s::data::aedat2_address::davis);
    davis += std::string("\x80\x00\x00\x00\x00\x00\x00\x06", 8);
    write_bytes(dir / "aps.aedat", davis);
    CHECK(s::data::read_aedat2((dir / "aps.aedat").string(), 240, 180, s::data::aedat2_address::davis) ==
          std::vector<s::data::event>{{1, 2, 1, 5}});
    write_bytes(dir / "empty.aedat", header);
    CHECK(s::data::read_aedat2((dir / "empty.aedat").string(), 128, 128).empty());
}

TEST_CASE("AEDAT 2.0 and CIFAR10-DVS: damaged files and folders are refused with the file and the defect") {
    const fs::path dir = fresh_dir("aedat2_damaged");
    const std::string good = s::data::format_aedat2({{1, 2, 1, 5}, {3, 4, 0, 9}}, 128);
    const std::size_t body = good.size() - 16;  // where the events start
    const auto refuses = [&](const std::string& name, const std::string& bytes, const std::string& what,
                             s::data::aedat2_address layout = s::data::aedat2_address::dvs128) {
        write_bytes(dir / name, bytes);
        CAPTURE(name);
        CHECK_THROWS_WITH_AS(s::data::read_aedat2((dir / name).string(), 128, 128, layout),
                             doctest::Contains(((dir / name).string() + ": " + what).c_str()), s::io_error);
    };
    refuses("v3.aedat", "#!AER-DAT3.1\r\n#!END-HEADER\r\n", "an AEDAT 3 file, not 2.0");
    refuses("v1.aedat", "#!AER-DAT1.0\r\n", "an AEDAT 1.0 file");
    refuses("other.aedat", "RIFF....", "not an AEDAT 2.0 file");
    refuses("no_end.aedat", "#!AER-DAT2.0\r\n# a comment without its end", "the header line at byte 14 has no end");
    refuses("truncated.aedat", good.substr(0, good.size() - 3), "truncated: the 13 bytes after the header");
    refuses("outside.aedat", s::data::format_aedat2({{1, 2, 1, 5}, {200, 4, 0, 9}}, 240, s::data::aedat2_address::davis),
            "event at byte " + std::to_string(body + 8) + " (address 0x010c8000) is at (200, 4), outside the 128x128 sensor",
            s::data::aedat2_address::davis);
    refuses("backwards.aedat", s::data::format_aedat2({{1, 2, 1, 9}, {3, 4, 0, 5}}, 128),
            "event at byte " + std::to_string(body + 8) + " has time stamp 5 us, before the 9 us");
    std::string negative = good;
    negative[body + 12] = '\xff';
    refuses("negative.aedat", negative, "event at byte " + std::to_string(body + 8) + " has a negative time stamp");
    CHECK_THROWS_WITH_AS(s::data::read_aedat2((dir / "missing.aedat").string(), 128, 128), doctest::Contains("cannot open"),
                         s::io_error);
    // The data set: ten class folders; each class split in file-name order.
    const fs::path set = dir / "CIFAR10-DVS";
    const char* names[] = {"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"};
    for (int c = 0; c < 9; ++c) {
        fs::create_directories(set / names[c]);
        for (int k = 0; k < 2; ++k)
            write_bytes(set / names[c] / ("cifar10_" + std::string(names[c]) + "_" + std::to_string(k) + ".aedat"),
                        s::data::format_aedat2({{static_cast<std::uint16_t>(c), static_cast<std::uint16_t>(k), 1, 7}}, 128));
    }
    CHECK_THROWS_WITH_AS(s::data::cifar10_dvs(set.string()), doctest::Contains("has 10 class folders, found 9"), s::io_error);
    fs::create_directories(set / "truck");
    CHECK_THROWS_WITH_AS(s::data::cifar10_dvs(set.string()), doctest::Contains("holds no .aedat recordings"), s::io_error);
    for (int k = 0; k < 2; ++k)
        write_bytes(set / "truck" / ("cifar10_truck_" + std::to_string(k) + ".aedat"),
                    s::data::format_aedat2({{9, static_cast<std::uint16_t>(k), 1, 7}}, 128));
    const auto split = s::data::cifar10_dvs(set.string(), 0.5);
    REQUIRE(split.train.size() == 10);
    REQUIRE(split.test.size() == 10);
    for (std::size_t c = 0; c < 10; ++c) {
        CHECK(split.train.labels[c] == static_cast<std::int32_t>(c));
        CHECK(split.train.samples[c] == std::vector<s::data::event>{{static_cast<std::uint16_t>(c), 0, 1, 7}});
        CHECK(split.test.samples[c] == std::vector<s::data::event>{{static_cast<std::uint16_t>(c), 1, 1, 7}});
    }
    CHECK(s::data::cifar10_dvs(set.string()).train.size() == 20);  // ceil(0.9 x 2) = 2 per class
    CHECK_THROWS_AS(s::data::cifar10_dvs(set.string(), 1.0), s::invalid_argument);
}
