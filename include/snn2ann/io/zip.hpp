// snn2ann/io: the zip container of .npz files: writing uncompressed entries, reading
// stored or deflated ones. Every defect is reported with the file's name.
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include <zlib.h>

#include "../core/error.hpp"

namespace snn2ann::inline v0::io {

/// One named entry of an archive.
struct zip_entry {
    std::string name, bytes;
};

namespace detail {

inline void put16(std::string& s, std::uint32_t v) {
    s.push_back(static_cast<char>(v & 0xff));
    s.push_back(static_cast<char>((v >> 8) & 0xff));
}
inline void put32(std::string& s, std::uint32_t v) {
    put16(s, v & 0xffff);
    put16(s, v >> 16);
}
inline std::uint32_t get16(const std::string& s, std::size_t at) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(s[at])) |
           static_cast<std::uint32_t>(static_cast<unsigned char>(s[at + 1])) << 8;
}
inline std::uint32_t get32(const std::string& s, std::size_t at) { return get16(s, at) | get16(s, at + 2) << 16; }

inline constexpr std::uint32_t local_signature = 0x04034b50, central_signature = 0x02014b50,
                               end_signature = 0x06054b50;
inline constexpr std::uint32_t dos_date_1980_01_01 = 0x21;

}  // namespace detail

/// Writes the entries as a zip archive of stored (uncompressed) members. The archive is
/// written to a temporary file beside `path` and renamed over it, so a crash never
/// leaves a half-written file under the final name.
inline void write_zip(const std::string& path, const std::vector<zip_entry>& entries) {
    std::string out, central;
    for (const auto& e : entries) {
        if (e.bytes.size() >= 0xffffffffu || out.size() >= 0xffffffffu)
            throw io_error(path, "entry " + e.name + " is too large for a zip archive without ZIP64");
        const auto crc = static_cast<std::uint32_t>(
            crc32(0L, reinterpret_cast<const Bytef*>(e.bytes.data()), static_cast<uInt>(e.bytes.size())));
        const auto size = static_cast<std::uint32_t>(e.bytes.size());
        const auto offset = static_cast<std::uint32_t>(out.size());
        detail::put32(out, detail::local_signature);
        detail::put16(out, 20), detail::put16(out, 0), detail::put16(out, 0), detail::put16(out, 0), detail::put16(out, detail::dos_date_1980_01_01);
        detail::put32(out, crc), detail::put32(out, size), detail::put32(out, size);
        detail::put16(out, static_cast<std::uint32_t>(e.name.size())), detail::put16(out, 0);
        out += e.name;
        out += e.bytes;
        detail::put32(central, detail::central_signature);
        detail::put16(central, 20), detail::put16(central, 20), detail::put16(central, 0), detail::put16(central, 0), detail::put16(central, 0);
        detail::put16(central, detail::dos_date_1980_01_01);
        detail::put32(central, crc), detail::put32(central, size), detail::put32(central, size);
        detail::put16(central, static_cast<std::uint32_t>(e.name.size())), detail::put16(central, 0), detail::put16(central, 0);
        detail::put16(central, 0), detail::put16(central, 0), detail::put32(central, 0), detail::put32(central, offset);
        central += e.name;
    }
    const auto central_offset = static_cast<std::uint32_t>(out.size());
    out += central;
    detail::put32(out, detail::end_signature);
    detail::put16(out, 0), detail::put16(out, 0);
    detail::put16(out, static_cast<std::uint32_t>(entries.size())), detail::put16(out, static_cast<std::uint32_t>(entries.size()));
    detail::put32(out, static_cast<std::uint32_t>(central.size())), detail::put32(out, central_offset), detail::put16(out, 0);

    const std::string tmp = path + ".tmp";
    {
        std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
        if (!f) throw io_error(tmp, "cannot create the file");
        f.write(out.data(), static_cast<std::streamsize>(out.size()));
        f.flush();
        if (!f) throw io_error(tmp, "write failed (disk full?)");
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) throw io_error(path, "cannot replace the file with " + tmp + ": " + ec.message());
}

/// Reads every member of a zip archive (stored or deflated) and checks its CRC.
inline std::vector<zip_entry> read_zip(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw io_error(path, "cannot open the file (missing or unreadable)");
    const std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    if (s.size() < 22) throw io_error(path, "not a zip/npz archive (too short)");
    std::size_t end = std::string::npos;
    for (std::size_t i = s.size() - 22 + 1; i-- > 0 && s.size() - i <= 22 + 65535;)
        if (detail::get32(s, i) == detail::end_signature) {
            end = i;
            break;
        }
    if (end == std::string::npos) throw io_error(path, "not a zip/npz archive (no end of central directory)");
    const std::size_t count = detail::get16(s, end + 10), cd_size = detail::get32(s, end + 12), cd_offset = detail::get32(s, end + 16);
    if (cd_offset + cd_size > end) throw io_error(path, "truncated or corrupt: the central directory is out of range");
    std::vector<zip_entry> entries;
    std::size_t at = cd_offset;
    for (std::size_t k = 0; k < count; ++k) {
        if (at + 46 > end || detail::get32(s, at) != detail::central_signature)
            throw io_error(path, "corrupt central directory entry " + std::to_string(k));
        const std::uint32_t method = detail::get16(s, at + 10), crc = detail::get32(s, at + 16), csize = detail::get32(s, at + 20),
                            usize = detail::get32(s, at + 24), name_len = detail::get16(s, at + 28), extra = detail::get16(s, at + 30),
                            comment = detail::get16(s, at + 32), local = detail::get32(s, at + 42);
        if (at + 46 + name_len > end) throw io_error(path, "corrupt central directory entry " + std::to_string(k));
        zip_entry e;
        e.name = s.substr(at + 46, name_len);
        at += 46 + name_len + extra + comment;
        if (local + 30 > s.size() || detail::get32(s, local) != detail::local_signature)
            throw io_error(path, "corrupt local header of " + e.name);
        const std::size_t data = local + 30 + detail::get16(s, local + 26) + detail::get16(s, local + 28);
        if (data + csize > s.size()) throw io_error(path, "truncated: member " + e.name + " ends past the file");
        if (method == 0) {
            e.bytes = s.substr(data, csize);
        } else if (method == 8) {
            e.bytes.resize(usize);
            z_stream z{};
            if (inflateInit2(&z, -MAX_WBITS) != Z_OK) throw io_error(path, "zlib cannot start inflating");
            z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(s.data() + data));
            z.avail_in = csize;
            z.next_out = reinterpret_cast<Bytef*>(e.bytes.data());
            z.avail_out = usize;
            const int r = inflate(&z, Z_FINISH);
            inflateEnd(&z);
            if (r != Z_STREAM_END || z.total_out != usize)
                throw io_error(path, "corrupt compressed data in member " + e.name);
        } else {
            throw io_error(path, "member " + e.name + " uses unsupported compression method " + std::to_string(method));
        }
        const auto actual = static_cast<std::uint32_t>(
            crc32(0L, reinterpret_cast<const Bytef*>(e.bytes.data()), static_cast<uInt>(e.bytes.size())));
        if (actual != crc) throw io_error(path, "corrupt: CRC mismatch in member " + e.name);
        entries.push_back(std::move(e));
    }
    return entries;
}

}  // namespace snn2ann::inline v0::io
