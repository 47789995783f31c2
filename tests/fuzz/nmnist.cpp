// The N-MNIST / N-Caltech101 event reader on any bytes, read as a recording file, on the
// N-MNIST sensor and on the largest the format addresses; what it reads integrates.
#include <snn2ann/data/nmnist.hpp>

#include "fuzz_files.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string path = fuzz::write("input.bin", {reinterpret_cast<const char*>(data), size});
    fuzz::expect_only_snn2ann_errors([&] {
        snn2ann::data::event_dataset d;
        d.width = d.height = 34, d.classes = 1;
        d.samples.push_back(snn2ann::data::read_ndataset_file(path, 34, 34));
        d.labels.push_back(0);
        snn2ann::data::frame_integration p;
        p.frames = 3, p.refractory_us = 10, p.denoise_us = 1000;
        (void)snn2ann::data::to_frames(d, p);
    });
    fuzz::expect_only_snn2ann_errors([&] { snn2ann::data::read_ndataset_file(path, 256, 240); });
    return 0;
}
