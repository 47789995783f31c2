// The Fashion-MNIST loader on a folder of four files cut from one input, whole and with
// sample limits.
#include <snn2ann/data/mnist.hpp>

#include "fuzz_files.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto parts = fuzz::split(data, size, 4);
    const char* names[] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                           "t10k-labels-idx1-ubyte"};
    for (std::size_t k = 0; k < 4; ++k) fuzz::write(names[k], parts[k]);
    fuzz::expect_only_snn2ann_errors([&] { snn2ann::data::fashion_mnist(fuzz::scratch()); });
    fuzz::expect_only_snn2ann_errors([&] { snn2ann::data::fashion_mnist(fuzz::scratch(), 2, 1); });
    return 0;
}
