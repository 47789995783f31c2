// snn2ann/data: MNIST-style data sets from IDX files; Fashion-MNIST from Debian's
// dataset-fashion-mnist package by default.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>

#include "../core/error.hpp"
#include "dataset.hpp"
#include "idx.hpp"

namespace snn2ann::inline v0::data {

/// Where Debian's dataset-fashion-mnist package puts the files.
inline const char* const fashion_mnist_default_dir = "/usr/share/datasets/fashion-mnist";

/// Reads an image file (N x H x W bytes) and a label file (N bytes) into a data set of
/// 1-channel images scaled to [0, 1] (only the first `limit` when limit > 0). Throws if
/// the counts disagree or a label is not below `classes`.
inline dataset read_idx_pair(const std::string& images_path, const std::string& labels_path, int classes = 10,
                             std::size_t limit = 0) {
    const idx_array lab = read_idx(labels_path, limit);
    const idx_array img = read_idx(images_path, limit);
    if (img.dims.size() != 3) throw io_error(images_path, "expected 3 dimensions (count x height x width)");
    if (lab.dims.size() != 1) throw io_error(labels_path, "expected 1 dimension (count)");
    for (std::size_t k : {1, 2})
        if (img.dims[k] == 0 || img.dims[k] > 65535)
            throw io_error(images_path, "an image " + std::string(k == 1 ? "height" : "width") + " of " +
                                            std::to_string(img.dims[k]) + " pixels is not in [1, 65535]");
    if (img.dims[0] != lab.dims[0])
        throw io_error(labels_path, "holds " + std::to_string(lab.dims[0]) + " labels but " + images_path +
                                        " holds " + std::to_string(img.dims[0]) + " images");
    dataset d;
    d.channels = 1;
    d.height = static_cast<int>(img.dims[1]);
    d.width = static_cast<int>(img.dims[2]);
    d.classes = classes;
    d.images.resize(img.bytes.size());
    for (std::size_t i = 0; i < img.bytes.size(); ++i) d.images[i] = static_cast<float>(img.bytes[i]) / 255.0f;
    d.labels.resize(lab.bytes.size());
    for (std::size_t i = 0; i < lab.bytes.size(); ++i) {
        if (lab.bytes[i] >= classes)
            throw io_error(labels_path, "label " + std::to_string(lab.bytes[i]) + " of sample " + std::to_string(i) +
                                            " is not below " + std::to_string(classes));
        d.labels[i] = lab.bytes[i];
    }
    return d;
}

/// Fashion-MNIST (or MNIST, same file names) from a directory holding
/// {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]. The directory defaults to
/// $SNN2ANN_FASHION_MNIST, else Debian's package location. Pixels are scaled to [0, 1]
/// and not normalised further (call data::normalize for that). Nonzero limits read only
/// the first train_limit / test_limit samples.
inline split fashion_mnist(std::string dir = {}, std::size_t train_limit = 0, std::size_t test_limit = 0) {
    if (dir.empty()) {
        const char* env = std::getenv("SNN2ANN_FASHION_MNIST");
        dir = env && *env ? env : fashion_mnist_default_dir;
    }
    auto file = [&](const std::string& stem) {
        const std::string gz = dir + "/" + stem + ".gz";
        if (std::FILE* f = std::fopen(gz.c_str(), "rb")) {
            std::fclose(f);
            return gz;
        }
        const std::string plain = dir + "/" + stem;
        if (std::FILE* f = std::fopen(plain.c_str(), "rb")) {
            std::fclose(f);
            return plain;
        }
        throw io_error(gz, "missing (neither it nor the uncompressed file exists; on Debian install the "
                           "package dataset-fashion-mnist, or pass the directory that holds the files)");
    };
    split s;
    // One file at a time, so that the first missing one is the one reported.
    const std::string train_images = file("train-images-idx3-ubyte");
    const std::string train_labels = file("train-labels-idx1-ubyte");
    const std::string test_images = file("t10k-images-idx3-ubyte");
    const std::string test_labels = file("t10k-labels-idx1-ubyte");
    s.train = read_idx_pair(train_images, train_labels, 10, train_limit);
    s.test = read_idx_pair(test_images, test_labels, 10, test_limit);
    return s;
}

}  // namespace snn2ann::inline v0::data
