// Zip archives built byte by byte, for tests and fuzz seeds that need what no writer makes:
// deflated members, wrong CRCs, sizes and offsets that lie.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <zlib.h>

namespace test {

struct zip_member {
    std::string name, data;      ///< data as stored (compressed when method is 8)
    std::uint16_t method = 0;    ///< 0 stored, 8 deflated
    std::uint32_t crc = 0, uncompressed = 0;
    std::uint32_t local_offset = 0xffffffffu;  ///< the central directory's claim (0xffffffff: the true one)
};

inline void put16(std::string& s, std::uint32_t v) {
    s.push_back(static_cast<char>(v & 0xff));
    s.push_back(static_cast<char>((v >> 8) & 0xff));
}
inline void put32(std::string& s, std::uint32_t v) {
    put16(s, v & 0xffff);
    put16(s, v >> 16);
}

inline std::uint32_t crc_of(const std::string& bytes) {
    return static_cast<std::uint32_t>(
        crc32(0L, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(bytes.size())));
}

/// A member stored as it is, with its true CRC and size.
inline zip_member stored(std::string name, std::string bytes) {
    zip_member m{std::move(name), std::move(bytes)};
    m.crc = crc_of(m.data);
    m.uncompressed = static_cast<std::uint32_t>(m.data.size());
    return m;
}

/// A member deflated by zlib (as numpy.savez_compressed writes them), true CRC and size.
inline zip_member deflated(std::string name, const std::string& bytes) {
    std::string packed(compressBound(static_cast<uLong>(bytes.size())), '\0');
    z_stream z{};
    deflateInit2(&z, 6, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
    z.avail_in = static_cast<uInt>(bytes.size());
    z.next_out = reinterpret_cast<Bytef*>(packed.data());
    z.avail_out = static_cast<uInt>(packed.size());
    deflate(&z, Z_FINISH);
    packed.resize(z.total_out);
    deflateEnd(&z);
    zip_member m{std::move(name), packed, 8, crc_of(bytes), static_cast<std::uint32_t>(bytes.size())};
    return m;
}

/// The archive of `members`: local headers and data, the central directory, its end.
inline std::string build_zip(const std::vector<zip_member>& members) {
    std::string a, cd;
    for (const auto& m : members) {
        const auto offset = static_cast<std::uint32_t>(a.size());
        const auto name_length = static_cast<std::uint32_t>(m.name.size());
        const auto size = static_cast<std::uint32_t>(m.data.size());
        put32(a, 0x04034b50);
        put16(a, 20), put16(a, 0), put16(a, m.method), put16(a, 0), put16(a, 0x21);
        put32(a, m.crc), put32(a, size), put32(a, m.uncompressed), put16(a, name_length), put16(a, 0);
        a += m.name + m.data;
        put32(cd, 0x02014b50);
        put16(cd, 20), put16(cd, 20), put16(cd, 0), put16(cd, m.method), put16(cd, 0), put16(cd, 0x21);
        put32(cd, m.crc), put32(cd, size), put32(cd, m.uncompressed), put16(cd, name_length);
        for (int k = 0; k < 4; ++k) put16(cd, 0);  // extra, comment, disk, internal attributes
        put32(cd, 0);                               // external attributes
        put32(cd, m.local_offset == 0xffffffffu ? offset : m.local_offset);
        cd += m.name;
    }
    const auto cd_offset = static_cast<std::uint32_t>(a.size());
    a += cd;
    const auto count = static_cast<std::uint32_t>(members.size());
    put32(a, 0x06054b50), put16(a, 0), put16(a, 0), put16(a, count), put16(a, count);
    put32(a, static_cast<std::uint32_t>(cd.size())), put32(a, cd_offset), put16(a, 0);
    return a;
}

}  // namespace test
