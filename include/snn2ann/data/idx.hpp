// snn2ann/data: the IDX format of MNIST and Fashion-MNIST, plain or gzip-compressed
// (zlib reads both). Every defect is reported with the file's name.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include <zlib.h>

#include "../core/error.hpp"

namespace snn2ann::inline v0::data {

/// An IDX array of unsigned bytes (type code 0x08): its dimensions and its bytes.
struct idx_array {
    std::vector<std::uint32_t> dims;
    std::vector<std::uint8_t> bytes;
};

namespace detail {

class gz_file {
public:
    explicit gz_file(const std::string& path) : path_(path), f_(gzopen(path.c_str(), "rb")) {
        if (!f_) throw io_error(path, "cannot open the file (missing or unreadable)");
        gzbuffer(f_, 1 << 17);
    }
    gz_file(const gz_file&) = delete;
    gz_file& operator=(const gz_file&) = delete;
    ~gz_file() { gzclose(f_); }

    /// Reads exactly n bytes or throws, naming `what` was being read.
    void read(void* dst, std::size_t n, const char* what) {
        auto* p = static_cast<unsigned char*>(dst);
        std::size_t got = 0;
        while (got < n) {
            const unsigned chunk = static_cast<unsigned>(std::min<std::size_t>(n - got, 1u << 30));
            const int r = gzread(f_, p + got, chunk);
            if (r < 0) {
                int code = 0;
                const char* msg = gzerror(f_, &code);
                throw io_error(path_, std::string("corrupt compressed data while reading ") + what + " (" +
                                          (msg ? msg : "zlib error") + ")");
            }
            if (r == 0)
                throw io_error(path_, std::string("truncated: ") + what + " needs " + std::to_string(n) +
                                          " bytes, the file ends after " + std::to_string(got));
            got += static_cast<std::size_t>(r);
        }
    }
    bool at_end() {
        unsigned char c;
        return gzread(f_, &c, 1) == 0;
    }

private:
    std::string path_;
    gzFile f_;
};

}  // namespace detail

/// Reads an IDX file of unsigned bytes (.gz or plain). Throws io_error naming the file on a
/// missing file, a wrong magic number, a truncated payload or trailing data. With
/// max_items > 0 only the first max_items entries of the first dimension are read (the
/// rest of the file is not checked), so a subset costs only its own memory.
inline idx_array read_idx(const std::string& path, std::size_t max_items = 0) {
    detail::gz_file f(path);
    unsigned char magic[4];
    f.read(magic, 4, "the magic number");
    if (magic[0] != 0 || magic[1] != 0)
        throw io_error(path, "not an IDX file: wrong magic number (the first two bytes must be zero)");
    if (magic[2] != 0x08)
        throw io_error(path, "IDX element type 0x" + std::to_string(magic[2]) +
                                 " is not supported (only unsigned bytes, 0x08)");
    const int ndim = magic[3];
    if (ndim < 1 || ndim > 4) throw io_error(path, "IDX file with " + std::to_string(ndim) + " dimensions");
    idx_array a;
    std::size_t total = 1;
    for (int i = 0; i < ndim; ++i) {
        unsigned char b[4];
        f.read(b, 4, "the dimensions");
        const std::uint32_t d = (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) |
                                (std::uint32_t{b[2]} << 8) | std::uint32_t{b[3]};
        a.dims.push_back(d);
        total *= d;
    }
    if (total > (std::size_t{1} << 34)) throw io_error(path, "implausible IDX dimensions");
    const bool limited = max_items > 0 && max_items < a.dims[0];
    if (limited) {
        total = total / a.dims[0] * max_items;
        a.dims[0] = static_cast<std::uint32_t>(max_items);
    }
    a.bytes.resize(total);
    f.read(a.bytes.data(), total, "the payload");
    if (!limited && !f.at_end()) throw io_error(path, "unexpected data after the IDX payload");
    return a;
}

}  // namespace snn2ann::inline v0::data
