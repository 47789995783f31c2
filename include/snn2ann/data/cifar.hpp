// snn2ann/data: CIFAR-10 and CIFAR-100 in their binary versions (www.cs.toronto.edu/~kriz/cifar.html):
//   CIFAR-10:  data_batch_1.bin .. data_batch_5.bin, test_batch.bin; records of
//              <1 byte label 0..9><3072 bytes: 1024 red, 1024 green, 1024 blue, row-major 32x32>
//   CIFAR-100: train.bin, test.bin; records of <1 byte coarse label 0..19><1 byte fine label
//              0..99><3072 pixel bytes>
// Pixels are scaled to [0, 1]; data::normalize(d, cifar_mean, cifar_std) applies
// docs/method.md's normalisation.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "../core/error.hpp"
#include "dataset.hpp"

namespace snn2ann::inline v0::detail {

inline constexpr std::size_t cifar_pixels = 3 * 32 * 32;

/// Appends the records of one CIFAR binary file (label_bytes leading label bytes, the
/// label_at-th of which is kept) to d, at most `limit` of them in all (0: no limit).
inline void append_cifar_file(data::dataset& d, const std::string& path, int label_bytes, int label_at, int classes,
                              std::size_t limit) {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw io_error(path, "missing or unreadable (download the binary version of the data set)");
    f.seekg(0, std::ios::end);
    const auto bytes = static_cast<std::size_t>(f.tellg());
    f.seekg(0);
    const std::size_t record = static_cast<std::size_t>(label_bytes) + cifar_pixels;
    if (bytes == 0) throw io_error(path, "is empty");
    if (bytes % record != 0)
        throw io_error(path, "size " + std::to_string(bytes) + " is not a whole number of " + std::to_string(record) +
                                 "-byte records (truncated, or not this CIFAR version's binary file)");
    std::size_t records = bytes / record;
    if (limit) records = std::min(records, limit - std::min(limit, d.size()));
    std::vector<unsigned char> buf(record);
    for (std::size_t r = 0; r < records; ++r) {
        if (!f.read(reinterpret_cast<char*>(buf.data()), static_cast<std::streamsize>(record)))
            throw io_error(path, "read failed at record " + std::to_string(r));
        const int label = buf[static_cast<std::size_t>(label_at)];
        if (label >= classes)
            throw io_error(path, "record " + std::to_string(r) + " has label " + std::to_string(label) +
                                     ", not below " + std::to_string(classes) + " classes");
        d.labels.push_back(label);
        for (std::size_t i = 0; i < cifar_pixels; ++i)
            d.images.push_back(static_cast<float>(buf[static_cast<std::size_t>(label_bytes) + i]) / 255.0f);
    }
}

inline data::dataset empty_cifar(int classes) {
    data::dataset d;
    d.channels = 3;
    d.height = d.width = 32;
    d.classes = classes;
    return d;
}

inline void require_directory_file(const std::string& dir, const std::string& first_file, const char* where_to_get) {
    if (std::FILE* f = std::fopen((dir + "/" + first_file).c_str(), "rb")) {
        std::fclose(f);
        return;
    }
    throw io_error(dir + "/" + first_file, std::string("missing: ") + where_to_get);
}

}  // namespace snn2ann::inline v0::detail

namespace snn2ann::inline v0::data {

/// docs/method.md's CIFAR normalisation (the SNN2ANN reference's values).
inline const std::vector<float> cifar_mean{0.4914f, 0.4822f, 0.4465f};
inline const std::vector<float> cifar_std{0.557f, 0.549f, 0.5534f};

enum class cifar100_labels { fine, coarse };


/// CIFAR-10 from the folder of its binary version (cifar-10-batches-bin). Nonzero limits
/// read only the first train_limit / test_limit records.
inline split cifar10(const std::string& dir, std::size_t train_limit = 0, std::size_t test_limit = 0) {
    snn2ann::detail::require_directory_file(dir, "data_batch_1.bin",
                                   "pass the folder cifar-10-batches-bin of the binary version, "
                                   "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz");
    split s{snn2ann::detail::empty_cifar(10), snn2ann::detail::empty_cifar(10)};
    for (int i = 1; i <= 5 && (!train_limit || s.train.size() < train_limit); ++i)
        snn2ann::detail::append_cifar_file(s.train, dir + "/data_batch_" + std::to_string(i) + ".bin", 1, 0, 10, train_limit);
    snn2ann::detail::append_cifar_file(s.test, dir + "/test_batch.bin", 1, 0, 10, test_limit);
    return s;
}

/// CIFAR-100 from the folder of its binary version (cifar-100-binary), with the fine (100)
/// or the coarse (20) labels.
inline split cifar100(const std::string& dir, cifar100_labels labels = cifar100_labels::fine,
                      std::size_t train_limit = 0, std::size_t test_limit = 0) {
    snn2ann::detail::require_directory_file(dir, "train.bin",
                                   "pass the folder cifar-100-binary of the binary version, "
                                   "https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz");
    const bool fine = labels == cifar100_labels::fine;
    const int classes = fine ? 100 : 20, at = fine ? 1 : 0;
    split s{snn2ann::detail::empty_cifar(classes), snn2ann::detail::empty_cifar(classes)};
    snn2ann::detail::append_cifar_file(s.train, dir + "/train.bin", 2, at, classes, train_limit);
    snn2ann::detail::append_cifar_file(s.test, dir + "/test.bin", 2, at, classes, test_limit);
    return s;
}

}  // namespace snn2ann::inline v0::data
