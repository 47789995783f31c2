// The checkpoint loader on any bytes, read as an .npz file.
#include "checkpoint_model.hpp"
#include "fuzz_files.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static fuzz::checkpoint_model model{snn2ann::seed{1}};
    const std::string path = fuzz::write("input.npz", {reinterpret_cast<const char*>(data), size});
    fuzz::expect_only_snn2ann_errors([&] { snn2ann::io::load_checkpoint(model, path, nullptr); });
    return 0;
}
