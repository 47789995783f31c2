// snn2ann/io: checkpoints. A model is saved as an .npz archive of named float32 arrays
// (layerNN.params, layerNN.state) with its network signature, T and a format version,
// written atomically. The signature of format 2 names every compile-time property that
// changes what the weights mean: each layer's kind and options (kernel, stride, padding,
// bias, pooling kind and window, dropout, BN's momentum and eps, the neuron model with
// its leak, reset, firing rule and membrane dropout) with its output shape and counts.
// Loading checks all of it and every array before the model changes, and names the file
// and the first mismatch; format-1 files (shapes and counts only) still load, with a
// warning of what could not be checked.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <type_traits>
#include <vector>

#include "../core/error.hpp"
#include "../layer/sequence.hpp"
#include "npy.hpp"
#include "zip.hpp"

namespace snn2ann::inline v0::io {

/// The format save_checkpoint writes. Format 1 recorded shapes and counts only.
inline constexpr std::int32_t checkpoint_format_version = 2;

/// What load_checkpoint found: the file's format and what it could not check.
struct checkpoint_report {
    std::int32_t format_version = 0;     ///< of the file read
    std::vector<std::string> warnings;   ///< what an older format could not let it check
};

/// Where load_checkpoint's warnings go by default: standard error.
inline void print_checkpoint_warning(const std::string& warning) { std::fprintf(stderr, "%s\n", warning.c_str()); }

/// The network's layers in words, one line per layer of its list: what it computes, its
/// output shape and its parameter and state counts. Two networks with different
/// descriptions cannot share a checkpoint.
template <class Model>
std::string network_description(Model& m) {
    std::string d = "input " + snn2ann::detail::shape_text(Model::input_shape);
    m.layers().for_each_layer([&](auto& l, std::size_t i) {
        using layer = std::remove_cvref_t<decltype(l)>;
        d += "\nlayer " + std::to_string(i) + ": " + snn2ann::detail::describe_layer<layer>() + " -> " +
             snn2ann::detail::shape_text(layer::out) + ", " + std::to_string(layer::param_count) + " parameters, " +
             std::to_string(layer::state_count) + " state values";
    });
    return d;
}

/// The signature of format 1: shapes, parameter and state counts and spiking marks, e.g.
/// "1x28x28;32x28x28:p320:s0;...".
template <class Model>
std::string network_signature(Model& m) {
    std::string sig = std::to_string(Model::input_shape.c) + "x" + std::to_string(Model::input_shape.h) + "x" +
                      std::to_string(Model::input_shape.w);
    m.layers().for_each_layer([&](auto& l, std::size_t) {
        using layer = std::remove_cvref_t<decltype(l)>;
        sig += ";" + std::to_string(layer::out.c) + "x" + std::to_string(layer::out.h) + "x" +
               std::to_string(layer::out.w) + (layer::out.flat ? "f" : "") + ":p" + std::to_string(layer::param_count) +
               ":s" + std::to_string(layer::state_count) + (snn2ann::detail::spiking_layer<layer> ? ":spiking" : "");
    });
    return sig;
}

}  // namespace snn2ann::inline v0::io

// Internals of the io readers live in the one detail namespace: a nested one would hide
// snn2ann::detail from the rest of snn2ann::io.
namespace snn2ann::inline v0::detail {

inline std::string checkpoint_member_name(std::size_t i, const char* what) {
    std::string n = std::to_string(i);
    if (n.size() < 2) n = "0" + n;
    return "layer" + n + "." + what;
}

inline std::string text_of(const std::vector<std::uint8_t>& bytes) { return {bytes.begin(), bytes.end()}; }

/// The first line where two descriptions differ, in words.
inline std::string first_difference(const std::string& saved, const std::string& ours) {
    const auto lines = [](const std::string& text) {
        std::vector<std::string> v(1);
        for (char c : text) {
            if (c == '\n') v.emplace_back();
            else v.back().push_back(c);
        }
        return v;
    };
    const std::vector<std::string> a = lines(saved), b = lines(ours);
    for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i)
        if (a[i] != b[i]) return "the checkpoint has \"" + a[i] + "\", this model \"" + b[i] + "\"";
    return "the checkpoint's network has " + std::to_string(a.size() - 1) + " layers, this model's " +
           std::to_string(b.size() - 1);
}

/// Loads the members of a checkpoint archive (`path` names it in messages) into m.
template <class Model>
io::checkpoint_report load_checkpoint_entries(Model& m, const std::vector<io::zip_entry>& entries, const std::string& path,
                                          const std::function<void(const std::string&)>& warn) {
    using exec = typename Model::executor;
    std::vector<std::string> expected{"format_version.npy", "timesteps.npy", "signature.npy"};
    for (std::size_t i = 0; i < exec::size; ++i) {
        if (exec::param_offsets[i + 1] > exec::param_offsets[i]) expected.push_back(checkpoint_member_name(i, "params.npy"));
        if (exec::state_offsets[i + 1] > exec::state_offsets[i]) expected.push_back(checkpoint_member_name(i, "state.npy"));
    }
    for (std::size_t i = 0; i < entries.size(); ++i)
        for (std::size_t j = 0; j < i; ++j)
            if (entries[i].name == entries[j].name)
                throw io_error(path, "corrupt: member " + entries[i].name + " appears twice");
    auto find = [&](const std::string& name) -> const io::zip_entry& {
        for (const auto& e : entries)
            if (e.name == name) return e;
        std::string unexpected;
        for (const auto& e : entries)
            if (std::find(expected.begin(), expected.end(), e.name) == expected.end())
                unexpected += (unexpected.empty() ? "" : ", ") + e.name;
        throw io_error(path, "not an snn2ann checkpoint of this network: member " + name + " is missing" +
                                 (unexpected.empty() ? std::string()
                                                     : " and the archive holds members this network does not have (" +
                                                           unexpected + "): a damaged file, or another network's"));
    };
    const auto version = io::read_npy<std::int32_t>(find("format_version.npy").bytes, path, "format_version.npy");
    io::checkpoint_report report;
    report.format_version = version.size() == 1 ? version[0] : -1;
    if (report.format_version != 1 && report.format_version != io::checkpoint_format_version)
        throw io_error(path, "checkpoint format version " + std::to_string(report.format_version) +
                                 " is not supported (this library reads versions 1 and " +
                                 std::to_string(io::checkpoint_format_version) + ")");
    const std::string saved = text_of(io::read_npy<std::uint8_t>(find("signature.npy").bytes, path, "signature.npy"));
    if (report.format_version == 1) {
        const std::string expected_signature = io::network_signature(m);
        if (saved != expected_signature)
            throw io_error(path, "the checkpoint was saved from another network (" + saved + ") than this one (" +
                                     expected_signature + ")");
        report.warnings.push_back(
            "snn2ann: " + path +
            ": a checkpoint of format 1, which records layer shapes and counts only: the neuron types (leak, reset, "
            "firing rule, membrane dropout) and the layer options (kernel, stride, padding, bias, pooling kind and "
            "window, dropout, batch norm settings) could not be checked against this model; save it again to "
            "record them");
    } else if (const std::string ours = io::network_description(m); saved != ours) {
        throw io_error(path, "the checkpoint was saved from another network: " + first_difference(saved, ours));
    }
    const auto steps = io::read_npy<std::int32_t>(find("timesteps.npy").bytes, path, "timesteps.npy");
    if (steps.size() != 1 || steps[0] != Model::T)
        throw io_error(path, "the checkpoint was saved with T = " + std::to_string(steps.size() ? steps[0] : -1) +
                                 ", the model has T = " + std::to_string(Model::T));
    std::vector<float> params(m.parameters().size()), state(m.state().size());
    auto fill = [&](const std::string& name, float* dst, std::size_t n) {
        const auto a = io::read_npy<float>(find(name).bytes, path, name);
        if (a.size() != n)
            throw io_error(path, "member " + name + " holds " + std::to_string(a.size()) + " values, the layer needs " +
                                     std::to_string(n));
        std::copy(a.begin(), a.end(), dst);
    };
    for (std::size_t i = 0; i < exec::size; ++i) {
        const std::size_t np = exec::param_offsets[i + 1] - exec::param_offsets[i];
        const std::size_t ns = exec::state_offsets[i + 1] - exec::state_offsets[i];
        if (np) fill(checkpoint_member_name(i, "params.npy"), params.data() + exec::param_offsets[i], np);
        if (ns) fill(checkpoint_member_name(i, "state.npy"), state.data() + exec::state_offsets[i], ns);
    }
    std::copy(params.begin(), params.end(), m.parameters().begin());
    std::copy(state.begin(), state.end(), m.state().begin());
    for (const auto& w : report.warnings)
        if (warn) warn(w);
    return report;
}

/// The members of m's checkpoint: format, T, the network's description, and each layer's
/// parameters and state.
template <class Model>
std::vector<io::zip_entry> checkpoint_entries(Model& m) {
    std::vector<io::zip_entry> entries;
    const std::int32_t version = io::checkpoint_format_version, steps = Model::T;
    entries.push_back({"format_version.npy", io::write_npy(&version, 1)});
    entries.push_back({"timesteps.npy", io::write_npy(&steps, 1)});
    const std::string sig = io::network_description(m);
    entries.push_back({"signature.npy", io::write_npy(reinterpret_cast<const std::uint8_t*>(sig.data()), sig.size())});
    using exec = typename Model::executor;
    const float* p = m.parameters().data();
    const float* st = m.state().data();
    for (std::size_t i = 0; i < exec::size; ++i) {
        const std::size_t np = exec::param_offsets[i + 1] - exec::param_offsets[i];
        const std::size_t ns = exec::state_offsets[i + 1] - exec::state_offsets[i];
        if (np) entries.push_back({checkpoint_member_name(i, "params.npy"), io::write_npy(p + exec::param_offsets[i], np)});
        if (ns) entries.push_back({checkpoint_member_name(i, "state.npy"), io::write_npy(st + exec::state_offsets[i], ns)});
    }
    return entries;
}

/// The largest member a checkpoint of m may hold: its largest array or its description,
/// with room for a header. Reading refuses anything larger as it inflates.
template <class Model>
std::size_t largest_checkpoint_member(Model& m) {
    using exec = typename Model::executor;
    std::size_t largest = io::network_description(m).size();
    for (std::size_t i = 0; i < exec::size; ++i) {
        largest = std::max(largest, sizeof(float) * (exec::param_offsets[i + 1] - exec::param_offsets[i]));
        largest = std::max(largest, sizeof(float) * (exec::state_offsets[i + 1] - exec::state_offsets[i]));
    }
    return largest + 65536;
}

}  // namespace snn2ann::inline v0::detail

namespace snn2ann::inline v0::io {

/// Saves parameters and state of `m` to `path` (an .npz archive), atomically.
template <class Model>
void save_checkpoint(Model& m, const std::string& path) {
    write_zip(path, detail::checkpoint_entries(m));
}

/// Loads a checkpoint written by save_checkpoint for the same network and T. Nothing of
/// the model changes unless every check passes. Warnings (a format-1 file, whose neuron
/// types and layer options cannot be checked) go to `warn`, standard error by default,
/// and come back in the report.
template <class Model>
checkpoint_report load_checkpoint(Model& m, const std::string& path,
                                  const std::function<void(const std::string&)>& warn = print_checkpoint_warning) {
    return detail::load_checkpoint_entries(m, read_zip(path, detail::largest_checkpoint_member(m)), path, warn);
}

}  // namespace snn2ann::inline v0::io
