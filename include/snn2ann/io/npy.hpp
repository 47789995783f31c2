// snn2ann/io: the .npy array format (numpy's NEP 1), read by a parser of our own that
// believes nothing it has not checked: the magic string and version, a header that is
// exactly numpy's dictionary ({'descr': ..., 'fortran_order': ..., 'shape': (...)}), the
// element type asked for, a shape whose product does not overflow, and a payload of
// exactly product x element bytes, before a single element is copied. Arrays are written
// by xtensor's writer.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <xtensor/xadapt.hpp>
#include <xtensor/xnpy.hpp>

#include "../core/error.hpp"

namespace snn2ann::inline v0::io {

/// What a checked .npy header says, and where its payload starts.
struct npy_header {
    std::string descr;                ///< numpy's type string, e.g. "<f4"
    bool fortran_order = false;       ///< column-major payload
    std::vector<std::size_t> shape;   ///< () for a scalar
    std::size_t elements = 1;         ///< the product of the shape
    std::size_t payload_offset = 0;   ///< bytes before the first element
};

}  // namespace snn2ann::inline v0::io

// Internals of the io readers live in the one detail namespace: a nested one would hide
// snn2ann::detail from the rest of snn2ann::io.
namespace snn2ann::inline v0::detail {

/// numpy's type string for the element types checkpoints and training states hold.
template <class T>
constexpr std::string_view npy_descr() {
    if constexpr (std::is_same_v<T, float>) return "<f4";
    else if constexpr (std::is_same_v<T, double>) return "<f8";
    else if constexpr (std::is_same_v<T, std::int32_t>) return "<i4";
    else if constexpr (std::is_same_v<T, std::int64_t>) return "<i8";
    else if constexpr (std::is_same_v<T, std::uint8_t>) return "|u1";
    else static_assert(sizeof(T) == 0, "snn2ann::io: .npy arrays of this element type are not supported");
}

/// A cursor over the header's dictionary text; every read checks what it finds.
class npy_dictionary_reader {
public:
    npy_dictionary_reader(std::string_view text, const std::string& path, const std::string& member)
        : text_(text), path_(path), member_(member) {}

    [[noreturn]] void fail(const std::string& what) const {
        throw io_error(path_, (member_.empty() ? std::string() : "member " + member_ + ": ") +
                                  "not a valid .npy array: " + what);
    }
    void skip_spaces() {
        while (at_ < text_.size() && (text_[at_] == ' ' || text_[at_] == '\t')) ++at_;
    }
    bool take(char c) {
        skip_spaces();
        if (at_ < text_.size() && text_[at_] == c) return ++at_, true;
        return false;
    }
    void expect(char c, const char* where) {
        if (!take(c)) fail(std::string("expected '") + c + "' " + where);
    }
    std::string quoted() {
        skip_spaces();
        if (at_ >= text_.size() || (text_[at_] != '\'' && text_[at_] != '"')) fail("expected a quoted string");
        const char quote = text_[at_++];
        const std::size_t end = text_.find(quote, at_);
        if (end == std::string_view::npos) fail("a string in the header is not closed");
        std::string s(text_.substr(at_, end - at_));
        at_ = end + 1;
        return s;
    }
    bool boolean() {
        skip_spaces();
        for (const auto& [word, value] : {std::pair<std::string_view, bool>{"True", true}, {"False", false}})
            if (text_.substr(at_, word.size()) == word) return at_ += word.size(), value;
        fail("'fortran_order' is neither True nor False");
    }
    std::vector<std::size_t> tuple() {
        expect('(', "to open 'shape'");
        std::vector<std::size_t> dims;
        while (!take(')')) {
            skip_spaces();
            const std::size_t first = at_;
            std::size_t d = 0;
            while (at_ < text_.size() && text_[at_] >= '0' && text_[at_] <= '9') {
                const auto digit = static_cast<std::size_t>(text_[at_++] - '0');
                if (d > (std::numeric_limits<std::size_t>::max() - digit) / 10) fail("a dimension overflows");
                d = d * 10 + digit;
            }
            if (at_ == first) fail("'shape' is not a tuple of non-negative integers");
            if (dims.size() == 32) fail("'shape' has more than 32 dimensions");
            dims.push_back(d);
            if (!take(',')) {
                expect(')', "to close 'shape'");
                break;
            }
        }
        return dims;
    }
    bool at_end() {
        while (at_ < text_.size() && (text_[at_] == ' ' || text_[at_] == '\n')) ++at_;
        return at_ == text_.size();
    }

private:
    std::string_view text_;
    std::size_t at_ = 0;
    const std::string& path_;
    const std::string& member_;
};

}  // namespace snn2ann::inline v0::detail

namespace snn2ann::inline v0::io {

/// Parses and checks the header of the .npy bytes `npy` (a file, or member `member` of an
/// archive at `path`, both for messages): throws io_error naming them and what is wrong.
/// The payload's size is checked against the shape here, before anything is allocated.
inline npy_header read_npy_header(std::string_view npy, const std::string& path, const std::string& member = {}) {
    detail::npy_dictionary_reader fail_only({}, path, member);
    constexpr std::string_view magic = "\x93NUMPY";
    if (npy.size() < magic.size() + 4 || npy.substr(0, magic.size()) != magic)
        fail_only.fail("no \\x93NUMPY magic string");
    const auto major = static_cast<unsigned char>(npy[6]);
    if (major < 1 || major > 3) fail_only.fail("format version " + std::to_string(major) + " is not 1, 2 or 3");
    const auto byte = [&](std::size_t i) { return static_cast<std::size_t>(static_cast<unsigned char>(npy[i])); };
    std::size_t length = 0, start = 0;
    if (major == 1) {
        length = byte(8) | byte(9) << 8;
        start = 10;
    } else {
        if (npy.size() < 12) fail_only.fail("the header length is cut off");
        length = byte(8) | byte(9) << 8 | byte(10) << 16 | byte(11) << 24;
        start = 12;
    }
    if (length > npy.size() - start)
        fail_only.fail("the header claims " + std::to_string(length) + " bytes, " + std::to_string(npy.size() - start) +
                       " follow");
    detail::npy_dictionary_reader r(npy.substr(start, length), path, member);
    npy_header h;
    h.payload_offset = start + length;
    bool has_descr = false, has_order = false, has_shape = false;
    r.expect('{', "to open the header's dictionary");
    while (!r.take('}')) {
        const std::string key = r.quoted();
        r.expect(':', "after a key");
        bool* seen = nullptr;
        if (key == "descr") h.descr = r.quoted(), seen = &has_descr;
        else if (key == "fortran_order") h.fortran_order = r.boolean(), seen = &has_order;
        else if (key == "shape") h.shape = r.tuple(), seen = &has_shape;
        else r.fail("unknown header key '" + key + "'");
        if (*seen) r.fail("the header key '" + key + "' appears twice");
        *seen = true;
        if (!r.take(',')) {
            r.expect('}', "to close the header's dictionary");
            break;
        }
    }
    if (!r.at_end()) r.fail("text after the header's dictionary");
    if (!has_descr || !has_order || !has_shape) r.fail("the header lacks 'descr', 'fortran_order' or 'shape'");
    for (std::size_t d : h.shape) {
        if (d != 0 && h.elements > std::numeric_limits<std::size_t>::max() / d) r.fail("the shape's product overflows");
        h.elements *= d;
    }
    return h;
}

/// The elements of a 1-D (or scalar) .npy array of T, after every check of read_npy_header
/// and these: the element type is T's, and the payload holds exactly the shape's elements.
template <class T>
std::vector<T> read_npy(std::string_view npy, const std::string& path, const std::string& member = {}) {
    static_assert(std::endian::native == std::endian::little,
                  "snn2ann::io::read_npy: the reader assumes a little-endian machine");
    const npy_header h = read_npy_header(npy, path, member);
    const detail::npy_dictionary_reader r({}, path, member);
    if (h.descr != detail::npy_descr<T>())
        r.fail("its elements are '" + h.descr + "', expected '" + std::string(detail::npy_descr<T>()) + "'");
    if (h.shape.size() > 1) r.fail("it has " + std::to_string(h.shape.size()) + " dimensions, expected 1");
    const std::size_t payload = npy.size() - h.payload_offset;
    if (payload / sizeof(T) != h.elements || payload % sizeof(T) != 0)
        r.fail("the shape gives " + std::to_string(h.elements) + " elements of " + std::to_string(sizeof(T)) +
               " bytes, the payload holds " + std::to_string(payload) + " bytes");
    std::vector<T> v(h.elements);
    if (payload) std::memcpy(v.data(), npy.data() + h.payload_offset, payload);
    return v;
}

/// A 1-D .npy array of n elements of T (xtensor's writer).
template <class T>
std::string write_npy(const T* data, std::size_t n) {
    return xt::dump_npy(xt::adapt(data, n, xt::no_ownership(), std::vector<std::size_t>{n}));
}

}  // namespace snn2ann::inline v0::io
