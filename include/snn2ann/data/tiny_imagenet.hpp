// snn2ann/data: Tiny-ImageNet (200 classes of 64x64 colour images) from its folder layout:
//   wnids.txt                          one class id (WordNet id) per line; its line is the label
//   train/<wnid>/images/*.JPEG         500 training images per class
//   val/val_annotations.txt            "<file>\t<wnid>\t<box>" per validation image
//   val/images/<file>
// JPEGs are decoded with libjpeg-turbo's TurboJPEG API (Debian's libturbojpeg0-dev),
// which is fuzzed upstream, in parallel with oneTBB. (Debian 12's stb_image, used before,
// writes past a Huffman table on a damaged JPEG: our fuzzer found it in ten runs.) This
// header is not part of snn2ann.hpp: include it and link snn2ann::images (or
// -lturbojpeg) to use it. Pixels are scaled to [0, 1]; grey images become three channels.
#pragma once

#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

// The five functions of TurboJPEG this reader calls, declared here rather than including
// turbojpeg.h, whose macros would leak to users. Their ABI has been stable since
// libjpeg-turbo 1.4 (TJPF_RGB is 0; the flags' values are fixed by the library).
extern "C" {
void* tjInitDecompress(void);
int tjDecompressHeader3(void* handle, const unsigned char* jpeg, unsigned long size, int* width, int* height,
                        int* subsampling, int* colorspace);
int tjDecompress2(void* handle, const unsigned char* jpeg, unsigned long size, unsigned char* pixels, int width,
                  int pitch, int height, int pixel_format, int flags);
char* tjGetErrorStr2(void* handle);
int tjDestroy(void* handle);
}

#include "../core/error.hpp"
#include "../core/parallel.hpp"
#include "dataset.hpp"

namespace snn2ann::inline v0::detail {

/// One TurboJPEG decompressor (each task owns one: a handle is not shared between threads).
class jpeg_decoder {
public:
    jpeg_decoder() : handle_(tjInitDecompress()) {
        if (!handle_) throw error("snn2ann: TurboJPEG cannot start a decompressor");
    }
    jpeg_decoder(const jpeg_decoder&) = delete;
    jpeg_decoder& operator=(const jpeg_decoder&) = delete;
    ~jpeg_decoder() { tjDestroy(handle_); }

    /// Decodes the JPEG in `bytes` as size x size RGB into `rgb`; returns what is wrong, or
    /// an empty string. The header is read first, so an image of another size is refused
    /// before anything is decoded or allocated.
    std::string decode(const std::string& bytes, int size, std::vector<unsigned char>& rgb) {
        constexpr int pixel_format_rgb = 0;                          // TJPF_RGB
        constexpr int stop_on_warning = 8192, limit_scans = 32768;   // TJFLAG_STOPONWARNING, TJFLAG_LIMITSCANS
        const auto* data = reinterpret_cast<const unsigned char*>(bytes.data());
        int w = 0, h = 0, subsampling = 0, colorspace = 0;
        if (tjDecompressHeader3(handle_, data, bytes.size(), &w, &h, &subsampling, &colorspace) != 0)
            return "cannot be decoded as a JPEG image (" + why() + ")";
        if (w != size || h != size)
            return "is " + std::to_string(w) + "x" + std::to_string(h) + ", expected " + std::to_string(size) + "x" +
                   std::to_string(size);
        rgb.resize(3 * static_cast<std::size_t>(size) * static_cast<std::size_t>(size));
        if (tjDecompress2(handle_, data, bytes.size(), rgb.data(), size, 3 * size, size, pixel_format_rgb,
                          stop_on_warning | limit_scans) != 0)
            return "cannot be decoded as a JPEG image (" + why() + ")";
        return {};
    }

private:
    std::string why() {
        const char* text = tjGetErrorStr2(handle_);
        return text ? text : "unknown reason";
    }
    void* handle_;
};

}  // namespace snn2ann::inline v0::detail

namespace snn2ann::inline v0::data {

/// Commonly used Tiny-ImageNet normalisation (docs/method.md gives CIFAR's only).
inline const std::vector<float> tiny_imagenet_mean{0.4802f, 0.4481f, 0.3975f};
inline const std::vector<float> tiny_imagenet_std{0.2302f, 0.2265f, 0.2262f};

/// Decodes the JPEG images at `files` (size x size, colour or grey) into d with `labels`,
/// in parallel; the first failing file (in list order) is the one reported.
inline void decode_images(dataset& d, const std::vector<std::string>& files, const std::vector<int>& labels, int size) {
    if (size <= 0 || size > 4096) throw invalid_argument("data::decode_images: image size " + std::to_string(size));
    if (labels.size() != files.size())
        throw invalid_argument("data::decode_images: " + std::to_string(files.size()) + " files but " +
                               std::to_string(labels.size()) + " labels");
    const std::size_t n = files.size(), plane = static_cast<std::size_t>(size) * static_cast<std::size_t>(size);
    const std::size_t base = d.size(), values = d.images.size();
    d.images.resize(values + n * 3 * plane);
    d.labels.insert(d.labels.end(), labels.begin(), labels.end());
    std::vector<std::string> errors(n);
    snn2ann::detail::for_range(n, 8, [&](std::size_t b, std::size_t e) {
        snn2ann::detail::jpeg_decoder decoder;
        std::vector<unsigned char> rgb;
        for (std::size_t i = b; i < e; ++i) {
            std::ifstream f(files[i], std::ios::binary);
            if (!f) {
                errors[i] = "cannot open the file (missing or unreadable)";
                continue;
            }
            const std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
            errors[i] = decoder.decode(bytes, size, rgb);
            if (!errors[i].empty()) continue;
            float* out = d.images.data() + values + i * 3 * plane;
            for (std::size_t k = 0; k < plane; ++k)
                for (std::size_t c = 0; c < 3; ++c) out[c * plane + k] = static_cast<float>(rgb[3 * k + c]) / 255.0f;
        }
    });
    for (std::size_t i = 0; i < n; ++i)
        if (!errors[i].empty()) {
            d.images.resize(values);  // d is left as it was
            d.labels.resize(base);
            throw io_error(files[i], errors[i]);
        }
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
