// The emulated event Fashion-MNIST of the event example and benchmark: Fashion-MNIST's
// images turned into N-MNIST-style recordings by the saccade emulator (data/event_emulator.hpp),
// written once as N-MNIST folders (DIR/Train/<class>/*.bin, DIR/Test/...), read back with
// the N-MNIST reader and integrated into T frames, which are cached (DIR/cache): a second
// run reads neither the images nor the events.
#pragma once

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <snn2ann/data/event_emulator.hpp>
#include <snn2ann/data/frame_cache.hpp>
#include <snn2ann/data/mnist.hpp>
#include <snn2ann/data/nmnist.hpp>

namespace snn2ann_examples {

/// Where the emulated data set lives and how it is made.
struct event_data_options {
    std::string dir = "events_fashion_mnist";  ///< the N-MNIST folders and the frame cache
    std::string fashion_mnist;                 ///< Fashion-MNIST's folder (empty: the Debian package's)
    std::size_t train_limit = 10000;           ///< the first N training images (0: all 60,000)
    std::size_t test_limit = 2000;             ///< the first N test images (0: all 10,000)
    snn2ann::data::saccade_emulation emulation{};
    snn2ann::data::frame_split split = snn2ann::data::frame_split::by_time;

    /// What the folders were made from, recorded beside them.
    std::string describe() const {
        return "Fashion-MNIST, " + std::to_string(train_limit) + " training and " + std::to_string(test_limit) +
               " test images; " + emulation.describe() + "\n";
    }
};

/// Emulates the recordings into o.dir unless a run with the same description did.
inline void ensure_emulated(const event_data_options& o) {
    namespace fs = std::filesystem;
    const fs::path stamp = fs::path(o.dir) / "emulation.txt";
    {
        std::ifstream f(stamp);
        std::stringstream seen;
        seen << f.rdbuf();
        if (f && seen.str() == o.describe()) return;
    }
    const auto t0 = std::chrono::steady_clock::now();
    const auto images = snn2ann::data::fashion_mnist(o.fashion_mnist, o.train_limit, o.test_limit);
    fs::remove_all(fs::path(o.dir) / "Train");
    fs::remove_all(fs::path(o.dir) / "Test");
    std::size_t events = 0;
    for (const auto& [name, set] : {std::pair{"Train", &images.train}, std::pair{"Test", &images.test}}) {
        const auto e = snn2ann::data::emulate_saccades(*set, o.emulation);
        snn2ann::data::write_ndataset_folder((fs::path(o.dir) / name).string(), e);
        events += e.events();
    }
    std::ofstream(stamp) << o.describe();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("emulated %zu recordings, %zu events (%.0f per recording) in %.1f s into %s\n",
                images.train.size() + images.test.size(), events,
                static_cast<double>(events) / static_cast<double>(images.train.size() + images.test.size()), s,
                o.dir.c_str());
}

/// The training and test frames at `frames` frames per sample (2 polarity channels, 34 x 34),
/// from the cache or integrated and cached.
inline snn2ann::data::split event_frames(const event_data_options& o, int frames) {
    namespace fs = std::filesystem;
    ensure_emulated(o);
    snn2ann::data::frame_integration p;
    p.frames = frames;
    p.split = o.split;
    snn2ann::data::split d;
    for (auto [name, set] : {std::pair{"Train", &d.train}, std::pair{"Test", &d.test}}) {
        const std::string folder = (fs::path(o.dir) / name).string();
        const auto t0 = std::chrono::steady_clock::now();
        std::size_t events = 0;
        *set = snn2ann::data::cached_frames((fs::path(o.dir) / "cache").string(), snn2ann::data::folder_fingerprint(folder),
                                            p, [&] {
                                                auto e = snn2ann::data::read_ndataset_folder(folder, 34, 34);
                                                events = e.events();
                                                return e;
                                            });
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (events)
            std::printf("%s: read and integrated %zu events into %d frames in %.2f s (%.2f M events/s)\n", name, events,
                        frames, s, static_cast<double>(events) / s * 1e-6);
        else
            std::printf("%s: %zu samples of %d frames from the cache in %.2f s\n", name, set->size(), frames, s);
    }
    return d;
}

}  // namespace snn2ann_examples
