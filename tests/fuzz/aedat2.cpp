// The AEDAT 2.0 reader on any bytes, read as a CIFAR10-DVS recording (DVS128 addresses,
// 128 x 128) and as a DAVIS240 recording (DAVIS addresses, 240 x 180).
#include <snn2ann/data/aedat2.hpp>

#include "fuzz_files.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string path = fuzz::write("input.aedat", {reinterpret_cast<const char*>(data), size});
    fuzz::expect_only_snn2ann_errors([&] { snn2ann::data::read_aedat2(path, 128, 128); });
    fuzz::expect_only_snn2ann_errors(
        [&] { snn2ann::data::read_aedat2(path, 240, 180, snn2ann::data::aedat2_address::davis); });
    return 0;
}
