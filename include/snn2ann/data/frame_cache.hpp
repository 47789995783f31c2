// snn2ann/data: integrated frames cached on disk, so that a second run skips reading the
// events and integrating them. The cache file is keyed by the integration's parameters
// and a fingerprint of the source (for a folder: every file's path, size and time of
// last change), so a change of either makes a new file; it is an .npz archive (images,
// labels, shape, key) written atomically; event counts, whole numbers below 256, are
// stored as bytes (a quarter of the floats), any other frames as floats.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "../core/error.hpp"
#include "../io/npy.hpp"
#include "../io/zip.hpp"
#include "dataset.hpp"
#include "events.hpp"

namespace snn2ann::inline v0::data {

/// A fingerprint of the folder `dir`: every regular file's path (relative), size and time of
/// last change, in sorted order.
inline std::string folder_fingerprint(const std::string& dir) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) throw io_error(dir, "not a folder");
    std::vector<std::string> lines;
    for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (!it->is_regular_file()) continue;
        const auto stamp = it->last_write_time().time_since_epoch().count();
        lines.push_back(fs::relative(it->path(), dir).string() + " " + std::to_string(it->file_size()) + " " +
                        std::to_string(stamp));
    }
    if (ec) throw io_error(dir, "cannot list the folder (" + ec.message() + ")");
    std::sort(lines.begin(), lines.end());
    std::string all;
    for (const auto& l : lines) all += l + "\n";
    return all;
}

namespace detail_events {
inline std::uint64_t fnv1a(const std::string& s) {
    std::uint64_t h = 1469598103934665603ull;
    for (const unsigned char c : s) h = (h ^ c) * 1099511628211ull;
    return h;
}
}  // namespace detail_events

/// The cache file for frames of `source` (its fingerprint) integrated by `p`, in `cache_dir`.
inline std::string frame_cache_path(const std::string& cache_dir, const std::string& source, const frame_integration& p) {
    char name[40];
    std::snprintf(name, sizeof name, "frames-%016llx.npz",
                  static_cast<unsigned long long>(detail_events::fnv1a(p.describe() + "\n" + source)));
    return (std::filesystem::path(cache_dir) / name).string();
}

/// Writes frames `d` to the cache file `path` (atomically), recording `key`.
inline void save_frames(const std::string& path, const dataset& d, const std::string& key) {
    const std::vector<std::int32_t> shape{d.frames, d.channels, d.height, d.width, d.classes};
    const bool counts = std::all_of(d.images.begin(), d.images.end(),
                                    [](float v) { return v >= 0.0f && v <= 255.0f && v == std::floor(v); });
    std::string images;
    if (counts) {
        const std::vector<std::uint8_t> bytes(d.images.begin(), d.images.end());
        images = io::write_npy(bytes.data(), bytes.size());
    } else {
        images = io::write_npy(d.images.data(), d.images.size());
    }
    io::write_zip(path, {{"images.npy", images},
                         {"labels.npy", io::write_npy(d.labels.data(), d.labels.size())},
                         {"shape.npy", io::write_npy(shape.data(), shape.size())},
                         {"key.npy", io::write_npy(reinterpret_cast<const std::uint8_t*>(key.data()), key.size())}});
}

/// The frames in the cache file `path`, checked whole; their recorded key is returned in
/// `key`. A damaged file is an io_error naming it and the defect.
inline dataset load_frames(const std::string& path, std::string* key = nullptr) {
    const auto entries = io::read_zip(path);
    const auto member = [&](const char* name) -> const std::string& {
        for (const auto& e : entries)
            if (e.name == name) return e.bytes;
        throw io_error(path, std::string("not a frame cache: no member ") + name);
    };
    const auto shape = io::read_npy<std::int32_t>(member("shape.npy"), path, "shape.npy");
    if (shape.size() != 5 || std::any_of(shape.begin(), shape.begin() + 4, [](std::int32_t v) { return v <= 0; }) ||
        shape[4] < 0)
        throw io_error(path, "the frame cache's shape is not frames, channels, height, width, classes");
    dataset d;
    d.frames = shape[0], d.channels = shape[1], d.height = shape[2], d.width = shape[3], d.classes = shape[4];
    d.labels = io::read_npy<std::int32_t>(member("labels.npy"), path, "labels.npy");
    const std::string& images = member("images.npy");
    if (io::read_npy_header(images, path, "images.npy").descr == "|u1") {
        const auto bytes = io::read_npy<std::uint8_t>(images, path, "images.npy");
        d.images.assign(bytes.begin(), bytes.end());
    } else {
        d.images = io::read_npy<float>(images, path, "images.npy");
    }
    if (d.images.size() != d.labels.size() * d.image_size())
        throw io_error(path, "the frame cache holds " + std::to_string(d.images.size()) + " values for " +
                                 std::to_string(d.labels.size()) + " samples of " + std::to_string(d.image_size()));
    for (std::size_t i = 0; i < d.labels.size(); ++i)
        if (d.labels[i] < 0 || (d.classes > 0 && d.labels[i] >= d.classes))
            throw io_error(path, "label " + std::to_string(d.labels[i]) + " of sample " + std::to_string(i) +
                                     " is outside [0, " + std::to_string(d.classes) + ")");
    if (key) {
        const auto k = io::read_npy<std::uint8_t>(member("key.npy"), path, "key.npy");
        key->assign(k.begin(), k.end());
    }
    return d;
}

/// The frames of the recordings `read()` returns, integrated by `p`: from the cache in
/// `cache_dir` when a run with the same parameters and source fingerprint wrote it (then
/// `read` is not called), else read, integrated and cached. `source` is the fingerprint
/// (folder_fingerprint(dir) for a folder of recordings).
template <class Read>
dataset cached_frames(const std::string& cache_dir, const std::string& source, const frame_integration& p, Read read) {
    const std::string path = frame_cache_path(cache_dir, source, p), key = p.describe() + "\n" + source;
    std::error_code ec;
    if (std::filesystem::exists(path, ec)) {
        std::string found;
        dataset d = load_frames(path, &found);
        if (found == key) return d;  // else a hash collision: integrate and replace it
    }
    const dataset d = to_frames(read(), p);
    std::filesystem::create_directories(cache_dir, ec);
    if (ec) throw io_error(cache_dir, "cannot create the cache folder (" + ec.message() + ")");
    save_frames(path, d, key);
    return d;
}

}  // namespace snn2ann::inline v0::data
