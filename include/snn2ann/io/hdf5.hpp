// snn2ann/io: the small part of the HDF5 C library (Debian's libhdf5-dev) that the
// library's HDF5 formats need: the SHD spike-train reader (data/shd.hpp) and NIR export
// and import (io/nir.hpp). Only the users of those headers link snn2ann::hdf5, and with it
// HDF5; the rest of the library never includes hdf5.h.
//
// Every call's failure becomes an io_error naming the file, the object and what failed;
// HDF5's own printing of its error stack is turned off while a reader or writer of the
// library runs (h5_quiet) and restored after, so that a damaged file is one exception, not
// a page of stack on stderr. Sizes a file declares are checked before anything is
// allocated for them.
#pragma once

#include <hdf5.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "../core/error.hpp"

// Internals of the io readers live in the one detail namespace: a nested one would hide
// snn2ann::detail from the code after it.
namespace snn2ann::inline v0::detail {

/// The most values one data set may hold for the readers (a damaged or hostile file may
/// declare any extent; 2^28 values is 1 GiB of floats, above any model or recording set
/// of these formats).
inline constexpr std::uint64_t h5_max_values = std::uint64_t{1} << 28;

/// HDF5's automatic printing of errors, off for the lifetime of the object (per thread of
/// the library's use; HDF5 keeps it per error stack).
class h5_quiet {
public:
    h5_quiet() {
        H5Eget_auto2(H5E_DEFAULT, &function_, &data_);
        H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    }
    ~h5_quiet() { H5Eset_auto2(H5E_DEFAULT, function_, data_); }
    h5_quiet(const h5_quiet&) = delete;
    h5_quiet& operator=(const h5_quiet&) = delete;

private:
    H5E_auto2_t function_ = nullptr;
    void* data_ = nullptr;
};

/// An HDF5 identifier with the function that closes it.
class h5_handle {
public:
    h5_handle() = default;
    h5_handle(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
    h5_handle(h5_handle&& o) noexcept : id_(std::exchange(o.id_, H5I_INVALID_HID)), close_(o.close_) {}
    h5_handle& operator=(h5_handle&& o) noexcept {
        if (this != &o) {
            reset();
            id_ = std::exchange(o.id_, H5I_INVALID_HID);
            close_ = o.close_;
        }
        return *this;
    }
    h5_handle(const h5_handle&) = delete;
    h5_handle& operator=(const h5_handle&) = delete;
    ~h5_handle() { reset(); }
    /// The identifier, for the C API.
    hid_t get() const { return id_; }
    /// Whether it names an open object.
    explicit operator bool() const { return id_ >= 0; }

private:
    void reset() {
        if (id_ >= 0 && close_) close_(id_);
        id_ = H5I_INVALID_HID;
    }
    hid_t id_ = H5I_INVALID_HID;
    herr_t (*close_)(hid_t) = nullptr;
};

/// Where an object is, for messages: the file and the object's path in it.
struct h5_place {
    std::string file;  ///< the file, as the user named it
    std::string path;  ///< the object's path in the file ("/" for the root)

    /// The place of member `name` of this group.
    h5_place operator/(const std::string& name) const { return {file, (path == "/" ? "" : path) + "/" + name}; }
};

[[noreturn]] inline void h5_fail(const h5_place& at, const std::string& what) { throw io_error(at.file, at.path + ": " + what); }

/// The HDF5 memory type of T.
template <class T>
hid_t h5_native() {
    if constexpr (std::is_same_v<T, float>) return H5T_NATIVE_FLOAT;
    else if constexpr (std::is_same_v<T, double>) return H5T_NATIVE_DOUBLE;
    else if constexpr (std::is_same_v<T, std::int64_t>) return H5T_NATIVE_INT64;
    else if constexpr (std::is_same_v<T, std::int32_t>) return H5T_NATIVE_INT32;
    else if constexpr (std::is_same_v<T, std::uint32_t>) return H5T_NATIVE_UINT32;
    else if constexpr (std::is_same_v<T, std::uint16_t>) return H5T_NATIVE_UINT16;
    else if constexpr (std::is_same_v<T, std::uint8_t>) return H5T_NATIVE_UINT8;
    else static_assert(sizeof(T) == 0, "h5_native: no HDF5 memory type for this element type");
}

/// Frees what HDF5 allocated while reading variable-length data into `buffer`.
inline void h5_reclaim(hid_t memory_type, hid_t space, void* buffer) {
#if H5_VERSION_GE(1, 12, 0)
    H5Treclaim(memory_type, space, H5P_DEFAULT, buffer);
#else
    // 1.10.8 declares H5Treclaim in its header but its library does not export it.
    H5Dvlen_reclaim(memory_type, space, H5P_DEFAULT, buffer);
#endif
}

/// The file `path`, read-only; a file that is not HDF5 is an io_error that says so.
inline h5_handle h5_open(const std::string& path) {
    const htri_t is_hdf5 = H5Fis_hdf5(path.c_str());
    if (is_hdf5 < 0) throw io_error(path, "cannot open the file (missing or unreadable)");
    if (is_hdf5 == 0) throw io_error(path, "not an HDF5 file (no HDF5 signature)");
    const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) throw io_error(path, "HDF5 cannot open the file (damaged?)");
    return {f, H5Fclose};
}

/// A new file `path` (an existing one is replaced).
inline h5_handle h5_create(const std::string& path) {
    const hid_t f = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0) throw io_error(path, "cannot create the HDF5 file");
    return {f, H5Fclose};
}

/// A new file held in memory only (HDF5's core driver, nothing written): for tests and
/// fuzz harnesses that build files and read them back.
inline h5_handle h5_create_in_memory(const std::string& name) {
    const h5_handle fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
    if (!fapl || H5Pset_fapl_core(fapl.get(), 1 << 16, false) < 0) throw io_error(name, "cannot set up an in-memory HDF5 file");
    const hid_t f = H5Fcreate(name.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.get());
    if (f < 0) throw io_error(name, "cannot create an in-memory HDF5 file");
    return {f, H5Fclose};
}

/// Whether group `loc` has a member called `name` (a link of this group, not a path).
inline bool h5_has(hid_t loc, const std::string& name) {
    if (name.empty() || name.find('/') != std::string::npos) return false;
    return H5Lexists(loc, name.c_str(), H5P_DEFAULT) > 0;
}

/// The kind of member `name` of group `loc` (H5O_TYPE_GROUP, H5O_TYPE_DATASET...), or
/// H5O_TYPE_UNKNOWN where there is none.
inline H5O_type_t h5_kind(hid_t loc, const std::string& name) {
    if (!h5_has(loc, name)) return H5O_TYPE_UNKNOWN;
    H5O_info_t info{};
#if H5_VERSION_GE(1, 12, 0)
    if (H5Oget_info_by_name3(loc, name.c_str(), &info, H5O_INFO_BASIC, H5P_DEFAULT) < 0) return H5O_TYPE_UNKNOWN;
#else
    if (H5Oget_info_by_name2(loc, name.c_str(), &info, H5O_INFO_BASIC, H5P_DEFAULT) < 0) return H5O_TYPE_UNKNOWN;
#endif
    return info.type;
}

/// Group `name` of `loc` (at `at`, the group's own place); a missing member or one that is
/// not a group is an io_error.
inline h5_handle h5_group(hid_t loc, const std::string& name, const h5_place& at) {
    if (h5_kind(loc, name) != H5O_TYPE_GROUP) h5_fail(at, h5_has(loc, name) ? "is not a group" : "is missing");
    const hid_t g = H5Gopen2(loc, name.c_str(), H5P_DEFAULT);
    if (g < 0) h5_fail(at, "cannot open the group");
    return {g, H5Gclose};
}

/// A new group `name` of `loc`.
inline h5_handle h5_new_group(hid_t loc, const std::string& name, const h5_place& at) {
    const hid_t g = H5Gcreate2(loc, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0) h5_fail(at, "cannot create the group");
    return {g, H5Gclose};
}

/// The names of the members of group `g`, in HDF5's name order.
inline std::vector<std::string> h5_members(hid_t g, const h5_place& at) {
    std::vector<std::string> names;
#if H5_VERSION_GE(1, 12, 0)
    using link_info = H5L_info2_t;
#else
    using link_info = H5L_info_t;
#endif
    const auto collect = [](hid_t, const char* name, const link_info*, void* out) -> herr_t {
        static_cast<std::vector<std::string>*>(out)->emplace_back(name);
        return 0;
    };
    hsize_t index = 0;
#if H5_VERSION_GE(1, 12, 0)
    const herr_t listed = H5Literate2(g, H5_INDEX_NAME, H5_ITER_INC, &index, collect, &names);
#else
    const herr_t listed = H5Literate(g, H5_INDEX_NAME, H5_ITER_INC, &index, collect, &names);
#endif
    if (listed < 0) h5_fail(at, "cannot list the group");
    return names;
}

/// Data set `name` of `loc` (at `at`); a missing member or one that is not a data set is
/// an io_error.
inline h5_handle h5_dataset(hid_t loc, const std::string& name, const h5_place& at) {
    if (h5_kind(loc, name) != H5O_TYPE_DATASET) h5_fail(at, h5_has(loc, name) ? "is not a data set" : "is missing");
    const hid_t d = H5Dopen2(loc, name.c_str(), H5P_DEFAULT);
    if (d < 0) h5_fail(at, "cannot open the data set");
    return {d, H5Dclose};
}

/// The extent of data set `d` (empty for a scalar), checked against h5_max_values.
inline std::vector<hsize_t> h5_shape(hid_t d, const h5_place& at) {
    const h5_handle space(H5Dget_space(d), H5Sclose);
    if (!space) h5_fail(at, "has no data space");
    const H5S_class_t kind = H5Sget_simple_extent_type(space.get());
    if (kind == H5S_NULL) h5_fail(at, "has an empty (null) data space");
    if (kind != H5S_SIMPLE && kind != H5S_SCALAR) h5_fail(at, "has an unknown kind of data space");
    const int rank = H5Sget_simple_extent_ndims(space.get());
    if (rank < 0 || rank > 32) h5_fail(at, "has a data space of rank " + std::to_string(rank));
    std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
    if (rank > 0 && H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr) < 0) h5_fail(at, "has unreadable dimensions");
    std::uint64_t n = 1;
    for (const hsize_t e : dims) {
        if (e != 0 && n > h5_max_values / e) h5_fail(at, "declares more than " + std::to_string(h5_max_values) + " values");
        n *= e;
    }
    return dims;
}

/// The number of values of an extent.
inline std::size_t h5_count(const std::vector<hsize_t>& shape) {
    std::size_t n = 1;
    for (const hsize_t e : shape) n *= static_cast<std::size_t>(e);
    return n;
}

/// The HDF5 type class of data set `d`.
inline H5T_class_t h5_class(hid_t d) {
    const h5_handle type(H5Dget_type(d), H5Tclose);
    return type ? H5Tget_class(type.get()) : H5T_NO_CLASS;
}

/// A transfer property list for `count` values converted between `stored` and `memory`
/// types, whose conversion buffers hold just those values (at most HDF5's default, 1 MiB):
/// HDF5 allocates and zeroes two buffers of that size for every read or write that converts
/// (floats read as doubles, variable-length strings), most of the work for a NIR file's many
/// small data sets.
inline h5_handle h5_transfer(hid_t stored, hid_t memory, std::size_t count) {
    h5_handle plist(H5Pcreate(H5P_DATASET_XFER), H5Pclose);
    // 64 bytes an element at least: a variable-length value is larger in the file (a
    // length and a heap address) than in memory.
    const std::size_t element = std::max<std::size_t>({H5Tget_size(stored), H5Tget_size(memory), 64});
    const std::size_t bytes = std::min<std::size_t>(std::max<std::size_t>(count, 1) * element, std::size_t{1} << 20);
    if (plist) H5Pset_buffer(plist.get(), bytes, nullptr, nullptr);
    return plist;
}

/// A numeric data set: its extent and its values in row-major order.
template <class T>
struct h5_array {
    std::vector<hsize_t> shape;  ///< the extent (empty: a scalar)
    std::vector<T> values;       ///< prod(shape) values
};

/// Data set `name` of `loc` as values of T (HDF5 converts from the stored type). An integer
/// T takes only integer data; a floating-point T takes integers or floats.
template <class T>
h5_array<T> h5_read(hid_t loc, const std::string& name, const h5_place& at) {
    const h5_handle d = h5_dataset(loc, name, at);
    const H5T_class_t kind = h5_class(d.get());
    const bool fits = kind == H5T_INTEGER || (std::is_floating_point_v<T> && kind == H5T_FLOAT);
    if (!fits) h5_fail(at, std::is_floating_point_v<T> ? "is not numeric" : "does not hold integers");
    h5_array<T> a;
    a.shape = h5_shape(d.get(), at);
    a.values.resize(h5_count(a.shape));
    const h5_handle stored(H5Dget_type(d.get()), H5Tclose);
    const h5_handle transfer = h5_transfer(stored.get(), h5_native<T>(), a.values.size());
    if (!a.values.empty() && H5Dread(d.get(), h5_native<T>(), H5S_ALL, H5S_ALL, transfer.get(), a.values.data()) < 0)
        h5_fail(at, "cannot read the values (damaged, or out of the range of the type read)");
    return a;
}

/// A one-dimensional data set of variable-length sequences of numbers (how SHD stores its
/// spike trains), one vector per element; `max_total` bounds the values of all sequences.
template <class T>
std::vector<std::vector<T>> h5_read_sequences(hid_t loc, const std::string& name, const h5_place& at,
                                              std::uint64_t max_total = h5_max_values) {
    const h5_handle d = h5_dataset(loc, name, at);
    const h5_handle stored(H5Dget_type(d.get()), H5Tclose);
    if (!stored || H5Tget_class(stored.get()) != H5T_VLEN) h5_fail(at, "is not a data set of variable-length sequences");
    const h5_handle base(H5Tget_super(stored.get()), H5Tclose);
    const H5T_class_t base_kind = base ? H5Tget_class(base.get()) : H5T_NO_CLASS;
    if (!(base_kind == H5T_INTEGER || (std::is_floating_point_v<T> && base_kind == H5T_FLOAT)))
        h5_fail(at, std::is_floating_point_v<T> ? "holds sequences that are not numeric" : "holds sequences that are not integers");
    const std::vector<hsize_t> shape = h5_shape(d.get(), at);
    if (shape.size() != 1) h5_fail(at, "has " + std::to_string(shape.size()) + " dimensions, not 1");
    const h5_handle memory(H5Tvlen_create(h5_native<T>()), H5Tclose);
    const h5_handle space(H5Dget_space(d.get()), H5Sclose);
    if (!memory || !space) h5_fail(at, "cannot set up the read");
    hsize_t bytes = 0;
    if (H5Dvlen_get_buf_size(d.get(), memory.get(), space.get(), &bytes) < 0) h5_fail(at, "cannot size the sequences (damaged?)");
    if (bytes / sizeof(T) > max_total) h5_fail(at, "holds more than " + std::to_string(max_total) + " values");
    std::vector<hvl_t> raw(static_cast<std::size_t>(shape[0]));
    std::vector<std::vector<T>> out(raw.size());
    if (raw.empty()) return out;
    if (H5Dread(d.get(), memory.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, raw.data()) < 0)
        h5_fail(at, "cannot read the sequences (damaged, or out of the range of the type read)");
    for (std::size_t i = 0; i < raw.size(); ++i) {
        const T* p = static_cast<const T*>(raw[i].p);
        if (raw[i].len > 0 && p) out[i].assign(p, p + raw[i].len);
    }
    h5_reclaim(memory.get(), space.get(), raw.data());
    return out;
}

/// The strings of a string data set (a scalar gives one), variable- or fixed-length, with
/// a fixed-length string's padding removed.
inline std::vector<std::string> h5_read_strings(hid_t loc, const std::string& name, const h5_place& at) {
    const h5_handle d = h5_dataset(loc, name, at);
    const h5_handle stored(H5Dget_type(d.get()), H5Tclose);
    if (!stored || H5Tget_class(stored.get()) != H5T_STRING) h5_fail(at, "is not a string");
    const std::size_t n = h5_count(h5_shape(d.get(), at));
    std::vector<std::string> out(n);
    if (n == 0) return out;
    if (H5Tis_variable_str(stored.get()) > 0) {
        const h5_handle memory(H5Tcopy(H5T_C_S1), H5Tclose);
        const h5_handle space(H5Dget_space(d.get()), H5Sclose);
        if (!memory || H5Tset_size(memory.get(), H5T_VARIABLE) < 0 || H5Tset_cset(memory.get(), H5Tget_cset(stored.get())) < 0)
            h5_fail(at, "cannot set up the read");
        std::vector<char*> raw(n, nullptr);
        const h5_handle transfer = h5_transfer(stored.get(), memory.get(), n);
        if (H5Dread(d.get(), memory.get(), H5S_ALL, H5S_ALL, transfer.get(), raw.data()) < 0) h5_fail(at, "cannot read the string");
        for (std::size_t i = 0; i < n; ++i)
            if (raw[i]) out[i] = raw[i];
        h5_reclaim(memory.get(), space.get(), raw.data());
        return out;
    }
    const std::size_t size = H5Tget_size(stored.get());
    if (size == 0 || size > (std::size_t{1} << 20)) h5_fail(at, "has strings of " + std::to_string(size) + " bytes");
    if (n > h5_max_values / size) h5_fail(at, "holds too many strings");
    const h5_handle memory(H5Tcopy(stored.get()), H5Tclose);
    std::vector<char> raw(n * size);
    if (!memory || H5Dread(d.get(), memory.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, raw.data()) < 0)
        h5_fail(at, "cannot read the string");
    for (std::size_t i = 0; i < n; ++i) {
        std::string s(raw.data() + i * size, size);
        s.erase(std::find(s.begin(), s.end(), '\0'), s.end());
        while (!s.empty() && s.back() == ' ') s.pop_back();
        out[i] = std::move(s);
    }
    return out;
}

/// The one string of a scalar (or one-element) string data set.
inline std::string h5_read_string(hid_t loc, const std::string& name, const h5_place& at) {
    const std::vector<std::string> s = h5_read_strings(loc, name, at);
    if (s.size() != 1) h5_fail(at, "holds " + std::to_string(s.size()) + " strings, not one");
    return s.front();
}

/// Writes `values` as data set `name` of `loc` with extent `shape` (empty: a scalar).
template <class T>
void h5_write(hid_t loc, const std::string& name, const std::vector<hsize_t>& shape, const T* values, const h5_place& at) {
    const h5_handle space(shape.empty() ? H5Screate(H5S_SCALAR)
                                        : H5Screate_simple(static_cast<int>(shape.size()), shape.data(), nullptr),
                          H5Sclose);
    if (!space) h5_fail(at, "cannot make the data space");
    const h5_handle d(H5Dcreate2(loc, name.c_str(), h5_native<T>(), space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Dclose);
    if (!d) h5_fail(at, "cannot create the data set");
    const h5_handle transfer = h5_transfer(h5_native<T>(), h5_native<T>(), h5_count(shape));
    if (h5_count(shape) > 0 && H5Dwrite(d.get(), h5_native<T>(), H5S_ALL, H5S_ALL, transfer.get(), values) < 0)
        h5_fail(at, "cannot write the values (disk full?)");
}

/// Writes `strings` as a data set of variable-length UTF-8 strings (h5py's string type)
/// with extent `shape` (empty: one scalar string).
inline void h5_write_strings(hid_t loc, const std::string& name, const std::vector<hsize_t>& shape,
                             const std::vector<std::string>& strings, const h5_place& at) {
    if (h5_count(shape) != strings.size()) h5_fail(at, "the extent does not match the strings");
    const h5_handle type(H5Tcopy(H5T_C_S1), H5Tclose);
    if (!type || H5Tset_size(type.get(), H5T_VARIABLE) < 0 || H5Tset_cset(type.get(), H5T_CSET_UTF8) < 0)
        h5_fail(at, "cannot make the string type");
    const h5_handle space(shape.empty() ? H5Screate(H5S_SCALAR)
                                        : H5Screate_simple(static_cast<int>(shape.size()), shape.data(), nullptr),
                          H5Sclose);
    if (!space) h5_fail(at, "cannot make the data space");
    const h5_handle d(H5Dcreate2(loc, name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Dclose);
    if (!d) h5_fail(at, "cannot create the data set");
    std::vector<const char*> raw;
    for (const std::string& s : strings) raw.push_back(s.c_str());
    const h5_handle transfer = h5_transfer(type.get(), type.get(), raw.size());
    if (!raw.empty() && H5Dwrite(d.get(), type.get(), H5S_ALL, H5S_ALL, transfer.get(), raw.data()) < 0)
        h5_fail(at, "cannot write the strings (disk full?)");
}

/// Writes `sequences` as a one-dimensional data set of variable-length sequences of T.
template <class T>
void h5_write_sequences(hid_t loc, const std::string& name, const std::vector<std::vector<T>>& sequences, const h5_place& at) {
    const h5_handle type(H5Tvlen_create(h5_native<T>()), H5Tclose);
    const hsize_t n = sequences.size();
    const h5_handle space(H5Screate_simple(1, &n, nullptr), H5Sclose);
    if (!type || !space) h5_fail(at, "cannot make the sequence type");
    const h5_handle d(H5Dcreate2(loc, name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Dclose);
    if (!d) h5_fail(at, "cannot create the data set");
    std::vector<hvl_t> raw(sequences.size());
    for (std::size_t i = 0; i < sequences.size(); ++i)
        raw[i] = {sequences[i].size(), const_cast<T*>(sequences[i].data())};  // HDF5 only reads through it
    const h5_handle transfer = h5_transfer(type.get(), type.get(), raw.size());
    if (!raw.empty() && H5Dwrite(d.get(), type.get(), H5S_ALL, H5S_ALL, transfer.get(), raw.data()) < 0)
        h5_fail(at, "cannot write the sequences (disk full?)");
}

}  // namespace snn2ann::inline v0::detail
