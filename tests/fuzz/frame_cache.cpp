// The frame cache's loader on any bytes, read as a cache file (.npz).
#include <snn2ann/data/frame_cache.hpp>

#include "fuzz_files.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string path = fuzz::write("input.npz", {reinterpret_cast<const char*>(data), size});
    fuzz::expect_only_snn2ann_errors([&] {
        std::string key;
        (void)snn2ann::data::load_frames(path, &key);
    });
    return 0;
}
