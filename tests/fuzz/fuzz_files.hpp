// What the harnesses share: a private scratch folder (in memory where the machine has
// /dev/shm), writing the fuzzer's bytes there as files, splitting one input into several
// files, and the rule that a reader may throw snn2ann::error and nothing else.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <system_error>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include <snn2ann/core/error.hpp>

namespace fuzz {

/// A folder of this process's own, removed at exit.
inline const std::string& scratch() {
    struct folder {
        std::string path;
        folder() {
            namespace fs = std::filesystem;
            const fs::path base = fs::exists("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path();
            path = (base / ("snn2ann_fuzz_" + std::to_string(::getpid()))).string();
            fs::create_directories(path);
        }
        ~folder() {
            std::error_code ignored;
            std::filesystem::remove_all(path, ignored);
        }
    };
    static const folder dir;
    return dir.path;
}

inline std::string write(const std::string& name, std::string_view bytes) {
    const std::string path = scratch() + "/" + name;
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return path;
}

/// `count` consecutive parts of the input, each but the last led by its length (4 bytes,
/// little-endian, cut to what is left), so that mutations move the cuts and the contents.
inline std::vector<std::string_view> split(const std::uint8_t* data, std::size_t size, std::size_t count) {
    std::vector<std::string_view> parts;
    const std::string_view all(reinterpret_cast<const char*>(data), size);
    std::size_t at = 0;
    for (std::size_t k = 0; k + 1 < count; ++k) {
        std::size_t length = 0;
        for (int b = 0; b < 4 && at < size; ++b) length |= static_cast<std::size_t>(data[at++]) << (8 * b);
        length = std::min(length, size - at);
        parts.push_back(all.substr(at, length));
        at += length;
    }
    parts.push_back(all.substr(at));
    return parts;
}

/// The input that split() cuts into `parts` (for the seeds).
inline std::string join(const std::vector<std::string>& parts) {
    std::string out;
    for (std::size_t k = 0; k < parts.size(); ++k) {
        if (k + 1 < parts.size())
            for (int b = 0; b < 4; ++b) out.push_back(static_cast<char>((parts[k].size() >> (8 * b)) & 0xff));
        out += parts[k];
    }
    return out;
}

/// Runs a reader: its documented failure is snn2ann::error; anything else (another
/// exception, std::bad_alloc from an allocation a header asked for) is a finding.
template <class F>
void expect_only_snn2ann_errors(F&& reader) {
    try {
        reader();
    } catch (const snn2ann::error&) {
    } catch (const std::exception& e) {
        std::fprintf(stderr, "fuzz: a reader threw something other than snn2ann::error: %s\n", e.what());
        std::abort();
    }
}

/// Values drawn in turn from two parts of an input: small integers from the bytes of one,
/// floats (any bit pattern: NaN, infinities, denormals) from the 4-byte words of the other.
struct pools {
    std::string_view ints, floats;
    std::size_t next_int = 0, next_float = 0;
    /// An integer in [lo, hi] (lo where the pool is empty).
    std::int64_t integer(std::int64_t lo, std::int64_t hi) {
        if (ints.empty()) return lo;
        const auto b = static_cast<unsigned char>(ints[next_int++ % ints.size()]);
        return lo + static_cast<std::int64_t>(b) % (hi - lo + 1);
    }
    /// A float (0.5 where the pool holds less than one).
    float real() {
        if (floats.size() < 4) return 0.5f;
        float v;
        std::memcpy(&v, floats.data() + 4 * (next_float++ % (floats.size() / 4)), 4);
        return v;
    }
};

}  // namespace fuzz
