// The AEDAT 3.1 reader on any bytes, read as a recording of the DVS128 sensor.
#include <snn2ann/data/aedat.hpp>

#include "fuzz_files.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string path = fuzz::write("input.aedat", {reinterpret_cast<const char*>(data), size});
    fuzz::expect_only_snn2ann_errors([&] { snn2ann::data::read_aedat31(path, 128, 128); });
    return 0;
}
