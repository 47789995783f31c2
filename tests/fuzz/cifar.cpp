// The CIFAR-10 and CIFAR-100 readers on folders of files cut from one input: its first
// byte picks the data set (and CIFAR-100's fine or coarse labels) and a sample limit.
#include <snn2ann/data/cifar.hpp>

#include "fuzz_files.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::uint8_t choice = data[0];
    const std::size_t limit = (choice >> 2) & 3;  // 0: no limit
    if (choice & 1) {
        const auto parts = fuzz::split(data + 1, size - 1, 2);
        fuzz::write("train.bin", parts[0]);
        fuzz::write("test.bin", parts[1]);
        const auto labels = choice & 2 ? snn2ann::data::cifar100_labels::coarse : snn2ann::data::cifar100_labels::fine;
        fuzz::expect_only_snn2ann_errors([&] { snn2ann::data::cifar100(fuzz::scratch(), labels, limit, limit); });
    } else {
        const auto parts = fuzz::split(data + 1, size - 1, 6);
        for (int k = 0; k < 5; ++k) fuzz::write("data_batch_" + std::to_string(k + 1) + ".bin", parts[k]);
        fuzz::write("test_batch.bin", parts[5]);
        fuzz::expect_only_snn2ann_errors([&] { snn2ann::data::cifar10(fuzz::scratch(), limit, limit); });
    }
    return 0;
}
