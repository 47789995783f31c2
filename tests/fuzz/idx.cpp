// The IDX reader on any bytes, read as a file (plain, or gzip where the bytes are), whole
// and with a sample limit.
#include <snn2ann/data/idx.hpp>

#include "fuzz_files.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string path = fuzz::write("input.idx", {reinterpret_cast<const char*>(data), size});
    fuzz::expect_only_snn2ann_errors([&] { snn2ann::data::read_idx(path); });
    fuzz::expect_only_snn2ann_errors([&] { snn2ann::data::read_idx(path, 3); });
    return 0;
}
