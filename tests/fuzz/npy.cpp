// The .npy parser on any bytes, as arrays of each element type checkpoints hold.
#include <snn2ann/io/npy.hpp>

#include "fuzz_files.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    fuzz::expect_only_snn2ann_errors([&] { snn2ann::io::read_npy<float>(bytes, "input.npy"); });
    fuzz::expect_only_snn2ann_errors([&] { snn2ann::io::read_npy<std::int32_t>(bytes, "input.npy"); });
    fuzz::expect_only_snn2ann_errors([&] { snn2ann::io::read_npy<std::uint8_t>(bytes, "input.npy"); });
    return 0;
}
