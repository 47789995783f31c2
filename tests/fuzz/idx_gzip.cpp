// The IDX reader on any IDX content behind a valid gzip stream: mutations reach the
// header and payload checks through zlib's decompression.
#include <zlib.h>

#include <snn2ann/data/idx.hpp>

#include "fuzz_files.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string path = fuzz::scratch() + "/input.idx.gz";
    gzFile f = gzopen(path.c_str(), "wb1");
    if (!f) return 0;
    if (size) gzwrite(f, data, static_cast<unsigned>(size));
    gzclose(f);
    fuzz::expect_only_snn2ann_errors([&] { snn2ann::data::read_idx(path); });
    return 0;
}
