// snn2ann/data: Tiny-ImageNet (200 classes of 64x64 colour images) from its folder layout:
//   wnids.txt                          one class id (WordNet id) per line; its line is the label
//   train/<wnid>/images/*.JPEG         500 training images per class
//   val/val_annotations.txt            "<file>\t<wnid>\t<box>" per validation image
//   val/images/<file>
// JPEGs are decoded with stb_image (Debian's libstb) in parallel with oneTBB. This header
// is not part of snn2ann.hpp: include it and link snn2ann::images (or -lstb) to use it.
// Pixels are scaled to [0, 1]; grey images are expanded to three channels.
#pragma once

#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

// The four functions of stb_image (libstb, Debian's libstb-dev) this reader calls,
// declared here rather than including stb_image.h, whose macros would leak to users.
extern "C" {
int stbi_info(const char* filename, int* x, int* y, int* channels_in_file);
unsigned char* stbi_load(const char* filename, int* x, int* y, int* channels_in_file, int desired_channels);
void stbi_image_free(void* retval_from_stbi_load);
const char* stbi_failure_reason(void);
}

#include "../core/error.hpp"
#include "../core/parallel.hpp"
#include "dataset.hpp"

namespace snn2ann::inline v0::data {

/// Commonly used Tiny-ImageNet normalisation (METHOD.md gives CIFAR's only).
inline const std::vector<float> tiny_imagenet_mean{0.4802f, 0.4481f, 0.3975f};
inline const std::vector<float> tiny_imagenet_std{0.2302f, 0.2265f, 0.2262f};

/// Decodes the images at `files` (size x size, any channel count) into d with `labels`, in
/// parallel; the first failing file (in list order) is the one reported. Each image's
/// header is read first, so an image of another size is refused before it is decoded
/// (a damaged header cannot make the decoder allocate what it claims).
inline void decode_images(dataset& d, const std::vector<std::string>& files, const std::vector<int>& labels, int size) {
    if (size <= 0 || size > 4096) throw invalid_argument("data::decode_images: image size " + std::to_string(size));
    if (labels.size() != files.size())
        throw invalid_argument("data::decode_images: " + std::to_string(files.size()) + " files but " +
                               std::to_string(labels.size()) + " labels");
    const std::size_t n = files.size(), pixels = 3 * static_cast<std::size_t>(size) * size;
    const std::size_t base = d.size();
    d.images.resize((base + n) * pixels);
    d.labels.insert(d.labels.end(), labels.begin(), labels.end());
    std::vector<std::string> errors(n);
    const auto undecodable = [] {
        const char* why = stbi_failure_reason();
        return std::string("cannot be decoded as an image (") + (why ? why : "unknown reason") + ")";
    };
    const auto wrong_size = [size](int w, int h) {
        return "is " + std::to_string(w) + "x" + std::to_string(h) + ", expected " + std::to_string(size) + "x" +
               std::to_string(size);
    };
    snn2ann::detail::for_range(n, 8, [&](std::size_t b, std::size_t e) {
        for (std::size_t i = b; i < e; ++i) {
            int w = 0, h = 0, channels = 0;
            if (!stbi_info(files[i].c_str(), &w, &h, &channels)) {
                errors[i] = undecodable();
                continue;
            }
            if (w != size || h != size) {
                errors[i] = wrong_size(w, h);
                continue;
            }
            unsigned char* p = stbi_load(files[i].c_str(), &w, &h, &channels, 3);
            if (!p) {
                errors[i] = undecodable();
                continue;
            }
            if (w != size || h != size) {  // the header said otherwise: a damaged file
                errors[i] = wrong_size(w, h);
            } else {
                float* out = d.images.data() + (base + i) * pixels;
                const std::size_t plane = static_cast<std::size_t>(size) * size;
                for (std::size_t k = 0; k < plane; ++k)
                    for (std::size_t c = 0; c < 3; ++c) out[c * plane + k] = static_cast<float>(p[3 * k + c]) / 255.0f;
            }
            stbi_image_free(p);
        }
    });
    for (std::size_t i = 0; i < n; ++i)
        if (!errors[i].empty()) throw io_error(files[i], errors[i]);
}

/// Tiny-ImageNet from the folder tiny-imagenet-200. train_per_class > 0 reads only the
/// first (by file name) images of each class; val_limit > 0 the first validation lines.
/// The validation set is the test split (the test images have no labels).
inline split tiny_imagenet(const std::string& dir, std::size_t train_per_class = 0, std::size_t val_limit = 0) {
    namespace fs = std::filesystem;
    const std::string wnids_path = dir + "/wnids.txt";
    std::ifstream wf(wnids_path);
    if (!wf)
        throw io_error(wnids_path, "missing: pass the folder tiny-imagenet-200 "
                                   "(http://cs231n.stanford.edu/tiny-imagenet-200.zip)");
    std::vector<std::string> wnids;
    std::map<std::string, int> label_of;
    for (std::string line; std::getline(wf, line);) {
        while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
        if (line.empty()) continue;
        if (!label_of.emplace(line, static_cast<int>(wnids.size())).second)
            throw io_error(wnids_path, "class " + line + " is listed twice");
        wnids.push_back(line);
    }
    if (wnids.empty()) throw io_error(wnids_path, "lists no class");
    split s;
    for (dataset* d : {&s.train, &s.test}) {
        d->channels = 3;
        d->height = d->width = 64;
        d->classes = static_cast<int>(wnids.size());
    }
    std::vector<std::string> files;
    std::vector<int> labels;
    for (std::size_t k = 0; k < wnids.size(); ++k) {
        const fs::path folder = fs::path(dir) / "train" / wnids[k] / "images";
        std::error_code ec;
        if (!fs::is_directory(folder, ec))
            throw io_error(folder.string(), "missing: the training images of class " + wnids[k] + " (wnids.txt line " +
                                                std::to_string(k + 1) + ")");
        std::vector<std::string> names;
        for (const auto& entry : fs::directory_iterator(folder))
            if (entry.is_regular_file()) names.push_back(entry.path().string());
        std::sort(names.begin(), names.end());
        if (train_per_class && names.size() > train_per_class) names.resize(train_per_class);
        for (auto& name : names) files.push_back(std::move(name)), labels.push_back(static_cast<int>(k));
    }
    decode_images(s.train, files, labels, 64);

    const std::string annotations = dir + "/val/val_annotations.txt";
    std::ifstream af(annotations);
    if (!af) throw io_error(annotations, "missing: the validation labels");
    files.clear();
    labels.clear();
    std::size_t line_no = 0;
    for (std::string line; std::getline(af, line) && (!val_limit || files.size() < val_limit);) {
        ++line_no;
        if (line.empty() || line == "\r") continue;
        std::istringstream fields(line);
        std::string file, wnid;
        if (!std::getline(fields, file, '\t') || !std::getline(fields, wnid, '\t'))
            throw io_error(annotations, "line " + std::to_string(line_no) + " is not \"<file>\\t<wnid>\\t...\"");
        while (!wnid.empty() && (wnid.back() == '\r' || wnid.back() == ' ')) wnid.pop_back();
        const auto it = label_of.find(wnid);
        if (it == label_of.end())
            throw io_error(annotations, "line " + std::to_string(line_no) + ": class " + wnid +
                                            " is not in wnids.txt");
        files.push_back(dir + "/val/images/" + file);
        labels.push_back(it->second);
    }
    decode_images(s.test, files, labels, 64);
    return s;
}

}  // namespace snn2ann::inline v0::data
