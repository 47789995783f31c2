// The checkpoint loader on archives that are always valid zip files: the input is a list
// of members, <name length: 1 byte><name><data length: 3 bytes, little-endian><data>, and
// the harness builds the archive with their true CRCs and sizes. Mutations then reach the
// .npy parser and the checkpoint's checks instead of stopping at a CRC mismatch.
#include <algorithm>

#include "../zip_builder.hpp"
#include "checkpoint_model.hpp"
#include "fuzz_files.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static fuzz::checkpoint_model model{snn2ann::seed{1}};
    std::vector<test::zip_member> members;
    std::size_t at = 0;
    const auto take = [&](std::size_t n) {
        n = std::min(n, size - at);
        std::string s(reinterpret_cast<const char*>(data) + at, n);
        at += n;
        return s;
    };
    while (at < size && members.size() < 64) {
        const std::string name = take(data[at++]);
        std::size_t length = 0;
        for (int k = 0; k < 3 && at < size; ++k) length |= static_cast<std::size_t>(data[at++]) << (8 * k);
        members.push_back(test::stored(name, take(length)));
    }
    if (members.empty()) return 0;
    const std::string path = fuzz::write("members.npz", test::build_zip(members));
    fuzz::expect_only_snn2ann_errors([&] { snn2ann::io::load_checkpoint(model, path, nullptr); });
    return 0;
}
