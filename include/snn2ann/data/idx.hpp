// snn2ann/data: the IDX format of MNIST and Fashion-MNIST, plain or gzip-compressed
// (zlib reads both). Every defect is reported with the file's name.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include <zlib.h>

#include "../core/error.hpp"

namespace snn2ann::inline v0::data {

/// An IDX array of unsigned bytes (type code 0x08): its dimensions and its bytes.
struct idx_array {
    std::vector<std::uint32_t> dims;   ///< outermost first
    std::vector<std::uint8_t> bytes;   ///< the product of dims, row-major
};

}  // namespace snn2ann::inline v0::data

// Internals of the data readers live in the one detail namespace: a nested one would hide
// snn2ann::detail from the rest of snn2ann::data.
namespace snn2ann::inline v0::detail {

/// An IDX file opened through zlib, which reads gzip and plain files alike. It counts
/// the (uncompressed) bytes read, so that messages give positions in the file.
class gz_file {
public:
    explicit gz_file(const std::string& path) : path_(path), f_(gzopen(path.c_str(), "rb")) {
        if (!f_) throw io_error(path, "cannot open the file (missing or unreadable)");
        gzbuffer(f_, 1 << 17);
    }
    gz_file(const gz_file&) = delete;
    gz_file& operator=(const gz_file&) = delete;
    ~gz_file() { gzclose(f_); }

    /// Bytes read so far (after decompression).
    std::size_t position() const { return position_; }
    /// Whether the file is plain (not gzip-compressed): its size then bounds what it holds.
    bool plain() { return gzdirect(f_) != 0; }

    /// Appends up to n bytes to `to`, growing it only as the data arrive; returns how many.
    std::size_t append(std::vector<std::uint8_t>& to, std::size_t n, const char* what) {
        std::size_t got = 0;
        while (got < n) {
            const std::size_t chunk = std::min<std::size_t>(n - got, 1u << 20);
            const std::size_t old = to.size();
            to.resize(old + chunk);
            const int r = gzread(f_, to.data() + old, static_cast<unsigned>(chunk));
            to.resize(old + static_cast<std::size_t>(std::max(r, 0)));
            if (r < 0) {
                int code = 0;
                const char* msg = gzerror(f_, &code);
                throw io_error(path_, std::string("corrupt compressed data while reading ") + what + " (" +
                                          (msg ? msg : "zlib error") + ")");
            }
            if (r == 0) break;
            got += static_cast<std::size_t>(r);
            position_ += static_cast<std::size_t>(r);
        }
        return got;
    }
    /// Reads exactly n bytes into dst or throws, naming `what` was being read and where.
    void read(void* dst, std::size_t n, const char* what) {
        std::vector<std::uint8_t> v;
        v.reserve(n);
        const std::size_t start = position_;
        if (append(v, n, what) != n) throw truncated(what, start, n);
        std::copy(v.begin(), v.end(), static_cast<std::uint8_t*>(dst));
    }
    io_error truncated(const char* what, std::size_t start, std::size_t needed) const {
        return io_error(path_, std::string("truncated: ") + what + " needs " + std::to_string(needed) +
                                   " bytes from byte " + std::to_string(start) + (gzdirect(f_) ? "" : " (uncompressed)") +
                                   ", but the file ends after " + std::to_string(position_ - start) + " of them");
    }
    bool at_end() {
        unsigned char c;
        return gzread(f_, &c, 1) == 0;
    }

private:
    std::string path_;
    gzFile f_;
    std::size_t position_ = 0;
};

inline std::string hex_byte(unsigned char b) {
    constexpr char digits[] = "0123456789abcdef";
    return std::string("0x") + digits[b >> 4] + digits[b & 15];
}

}  // namespace snn2ann::inline v0::detail

namespace snn2ann::inline v0::data {

/// The largest IDX payload read_idx accepts (4 GiB, 80 times Fashion-MNIST's training images).
inline constexpr std::size_t max_idx_payload_bytes = std::size_t{1} << 32;

/// Reads an IDX file of unsigned bytes (.gz or plain). Throws io_error naming the file on a
/// missing file, a wrong magic number, dimensions whose product overflows or exceeds what
/// the file holds (checked before anything is allocated; a gzip payload grows only as it
/// inflates), a truncated payload or trailing data. With max_items > 0 only the first
/// max_items entries of the first dimension are read (the rest of the file is not
/// checked), so a subset costs only its own memory.
inline idx_array read_idx(const std::string& path, std::size_t max_items = 0) {
    detail::gz_file f(path);
    unsigned char magic[4];
    f.read(magic, 4, "the magic number");
    if (magic[0] != 0 || magic[1] != 0)
        throw io_error(path, "not an IDX file: wrong magic number (the first two bytes must be zero)");
    if (magic[2] != 0x08)
        throw io_error(path, "IDX element type " + detail::hex_byte(magic[2]) +
                                 " is not supported (only unsigned bytes, 0x08)");
    const int ndim = magic[3];
    if (ndim < 1 || ndim > 4) throw io_error(path, "IDX file with " + std::to_string(ndim) + " dimensions (1 to 4 are read)");
    idx_array a;
    std::size_t total = 1;
    bool overflow = false;
    for (int i = 0; i < ndim; ++i) {
        unsigned char b[4];
        f.read(b, 4, "the dimensions");
        const std::uint32_t d = (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) |
                                (std::uint32_t{b[2]} << 8) | std::uint32_t{b[3]};
        a.dims.push_back(d);
        // Every factor counts, zero or not: a product that wrapped must not pass as small.
        if (d != 0 && total > max_idx_payload_bytes / d) overflow = true;
        else total *= d;
    }
    std::string dims_text;
    for (std::uint32_t d : a.dims) dims_text += (dims_text.empty() ? "" : " x ") + std::to_string(d);
    if (overflow || total > max_idx_payload_bytes)
        throw io_error(path, "implausible IDX dimensions " + dims_text + ": more than " +
                                 std::to_string(max_idx_payload_bytes) + " bytes");
    const bool limited = max_items > 0 && max_items < a.dims[0];
    if (limited) {
        total = total / a.dims[0] * max_items;
        a.dims[0] = static_cast<std::uint32_t>(max_items);
    }
    const std::size_t header = f.position();
    if (f.plain()) {
        std::error_code ec;
        const auto size = static_cast<std::size_t>(std::filesystem::file_size(path, ec));
        if (!ec && size - header < total)
            throw io_error(path, "truncated: the dimensions " + dims_text + " need " + std::to_string(total) +
                                     " payload bytes after the " + std::to_string(header) + "-byte header, the file has " +
                                     std::to_string(size - header));
    }
    a.bytes.reserve(f.plain() ? total : std::min<std::size_t>(total, std::size_t{1} << 24));
    if (f.append(a.bytes, total, "the payload") != total) throw f.truncated("the payload", header, total);
    if (!limited && !f.at_end()) throw io_error(path, "unexpected data after the IDX payload");
    return a;
}

}  // namespace snn2ann::inline v0::data
