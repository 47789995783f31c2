// The Tiny-ImageNet reader's decoding path on any file: the JPEG header check, then
// TurboJPEG's decoder (fuzzed upstream; here it runs uninstrumented, so the sanitizers
// watch our side of the call and the results it hands back).
#include <snn2ann/data/tiny_imagenet.hpp>

#include "fuzz_files.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string path = fuzz::write("image", {reinterpret_cast<const char*>(data), size});
    fuzz::expect_only_snn2ann_errors([&] {
        snn2ann::data::dataset d;
        snn2ann::data::decode_images(d, {path}, {1}, 64);
    });
    fuzz::expect_only_snn2ann_errors([&] {
        snn2ann::data::dataset d;
        snn2ann::data::decode_images(d, {path}, {1}, 8);
    });
    return 0;
}
