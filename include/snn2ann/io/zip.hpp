// snn2ann/io: the zip container of .npz files, on libzip (Debian's libzip-dev; fuzzed
// upstream): archives are written with stored (uncompressed) members and read whether
// their members are stored or deflated. Reading trusts no size a header claims: libzip
// checks the archive's structure against the file (ZIP_CHECKCONS) and every member's
// CRC, and a member grows only as its data arrive, up to a cap, so a damaged or hostile
// archive can neither read past its bytes nor make the reader allocate what it claims.
// Every defect is reported with the file's name.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <ctime>
#include <fstream>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include <zip.h>

#include "../core/error.hpp"

namespace snn2ann::inline v0::io {

/// One named entry of an archive.
struct zip_entry {
    std::string name;   ///< the path inside the archive
    std::string bytes;  ///< the uncompressed content
};

/// The largest member read_zip inflates by default (a checkpoint asks for its own).
inline constexpr std::size_t default_max_member_bytes = std::size_t{1} << 30;

}  // namespace snn2ann::inline v0::io

// Internals of the io readers live in the one detail namespace: a nested one would hide
// snn2ann::detail from the rest of snn2ann::io.
namespace snn2ann::inline v0::detail {

/// Owns a libzip archive handle (closed without writing).
class zip_reader {
public:
    zip_reader(const std::string& bytes, const std::string& path) : path_(path) {
        zip_error_t error;
        zip_error_init(&error);
        zip_source_t* source = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &error);
        if (source) archive_ = zip_open_from_source(source, ZIP_RDONLY | ZIP_CHECKCONS, &error);
        if (!archive_) {
            const std::string why = zip_error_strerror(&error);
            const int code = zip_error_code_zip(&error);
            zip_error_fini(&error);
            if (source) zip_source_free(source);
            throw io_error(path, code == ZIP_ER_NOZIP
                                     ? "not a zip/npz archive, or one whose directory is damaged (libzip: " + why + ")"
                                     : "corrupt zip archive (libzip: " + why + ")");
        }
        zip_error_fini(&error);
    }
    zip_reader(const zip_reader&) = delete;
    zip_reader& operator=(const zip_reader&) = delete;
    ~zip_reader() { zip_discard(archive_); }

    std::size_t size() const {
        const zip_int64_t n = zip_get_num_entries(archive_, 0);
        return n > 0 ? static_cast<std::size_t>(n) : 0;
    }
    /// Member i, read in blocks and never beyond `max_bytes`, CRC checked at its end.
    io::zip_entry read(std::size_t i, std::size_t max_bytes) {
        const char* name = zip_get_name(archive_, i, ZIP_FL_ENC_RAW);
        if (!name) fail("the name of member " + std::to_string(i) + " cannot be read");
        io::zip_entry e{name, {}};
        zip_file_t* f = zip_fopen_index(archive_, i, 0);
        if (!f) fail("member " + e.name + " cannot be opened (libzip: " + std::string(zip_strerror(archive_)) + ")");
        char block[1 << 16];
        for (;;) {
            const zip_int64_t got = zip_fread(f, block, sizeof block);
            if (got < 0) {
                const std::string why = zip_file_strerror(f);
                zip_fclose(f);
                fail("member " + e.name + " is corrupt (libzip: " + why + ")");
            }
            if (got == 0) break;
            if (static_cast<std::size_t>(got) > max_bytes - e.bytes.size()) {
                zip_fclose(f);
                fail("member " + e.name + " holds more than " + std::to_string(max_bytes) +
                     " bytes, more than it may (a damaged size or a compression bomb)");
            }
            e.bytes.append(block, static_cast<std::size_t>(got));
        }
        if (zip_fclose(f) != 0) fail("member " + e.name + " is corrupt (CRC mismatch)");
        return e;
    }

private:
    [[noreturn]] void fail(const std::string& what) const { throw io_error(path_, what); }

    std::string path_;
    zip_t* archive_ = nullptr;
};

/// The whole file, refusing anything that is not a regular, readable file.
inline std::string read_file(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw io_error(path, "cannot open the file (missing or unreadable)");
    std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    if (f.bad()) throw io_error(path, "read failed");
    return bytes;
}

/// Every member of the archive in `bytes` (named `path` in messages).
inline std::vector<io::zip_entry> read_zip_bytes(const std::string& bytes, const std::string& path,
                                             std::size_t max_member_bytes) {
    zip_reader archive(bytes, path);
    std::vector<io::zip_entry> entries;
    // No member holds less than its local and central headers (76 bytes): the count the
    // archive claims cannot make the list outgrow the file.
    entries.reserve(std::min(archive.size(), bytes.size() / 76 + 1));
    for (std::size_t i = 0; i < archive.size(); ++i) entries.push_back(archive.read(i, max_member_bytes));
    return entries;
}

}  // namespace snn2ann::inline v0::detail

namespace snn2ann::inline v0::io {

/// Writes the entries as a zip archive of stored (uncompressed) members, atomically:
/// libzip writes a temporary file beside `path` and renames it over the file, so a crash
/// never leaves a half-written file under the final name.
inline void write_zip(const std::string& path, const std::vector<zip_entry>& entries) {
    if (entries.empty()) throw invalid_argument("write_zip: " + path + ": an archive needs at least one member");
    int code = 0;
    zip_t* archive = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &code);
    if (!archive) {
        zip_error_t error;
        zip_error_init_with_code(&error, code);
        const std::string why = zip_error_strerror(&error);
        zip_error_fini(&error);
        throw io_error(path, "cannot create the archive (" + why + ")");
    }
    // A fixed time stamp: the same model gives the same bytes.
    constexpr std::time_t stamp = 946684800;  // 2000-01-01
    for (const auto& e : entries) {
        zip_source_t* source = zip_source_buffer(archive, e.bytes.data(), e.bytes.size(), 0);
        const zip_int64_t index = source ? zip_file_add(archive, e.name.c_str(), source, ZIP_FL_ENC_UTF_8) : -1;
        if (index < 0) {
            if (source) zip_source_free(source);
            const std::string why = zip_strerror(archive);
            zip_discard(archive);
            throw io_error(path, "cannot add member " + e.name + " (" + why + ")");
        }
        const auto i = static_cast<zip_uint64_t>(index);
        if (zip_set_file_compression(archive, i, ZIP_CM_STORE, 0) != 0 || zip_file_set_mtime(archive, i, stamp, 0) != 0) {
            const std::string why = zip_strerror(archive);
            zip_discard(archive);
            throw io_error(path, "cannot store member " + e.name + " (" + why + ")");
        }
    }
    if (zip_close(archive) != 0) {
        const std::string why = zip_strerror(archive);
        zip_discard(archive);
        throw io_error(path, "write failed (" + why + "; disk full or directory not writable?)");
    }
}

/// Reads every member of a zip archive (stored or deflated) and checks its CRC; a member
/// of more than max_member_bytes is refused as it inflates.
inline std::vector<zip_entry> read_zip(const std::string& path, std::size_t max_member_bytes = default_max_member_bytes) {
    return detail::read_zip_bytes(detail::read_file(path), path, max_member_bytes);
}

}  // namespace snn2ann::inline v0::io
