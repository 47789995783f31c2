// snn2ann/io: checkpoints. A model is saved as an .npz archive of named float32 arrays
// (layerNN.params, layerNN.state) with its network signature, T and a format version,
// written atomically; loading checks all three and every array's size, and names the
// file and the mismatch when something is wrong.
#pragma once

#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <sstream>
#include <string>
#include <vector>

#include <xtensor/xadapt.hpp>
#include <xtensor/xarray.hpp>
#include <xtensor/xnpy.hpp>

#include "../core/error.hpp"
#include "../layer/sequence.hpp"
#include "zip.hpp"

namespace snn2ann::inline v0::io {

inline constexpr std::int32_t checkpoint_format_version = 1;

/// A description of the network's layers (shapes, parameter and state counts, spiking
/// marks), e.g. "32x28x28:p320:s0;...": two networks with different signatures cannot
/// share a checkpoint.
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

namespace detail {

inline std::string layer_name(std::size_t i, const char* what) {
    std::string n = std::to_string(i);
    if (n.size() < 2) n = "0" + n;
    return "layer" + n + "." + what;
}

template <class T>
std::string npy(const T* data, std::size_t n) {
    return xt::dump_npy(xt::adapt(data, n, xt::no_ownership(), std::vector<std::size_t>{n}));
}

template <class T>
xt::xarray<T> from_npy(const std::string& path, const zip_entry& e) {
    std::istringstream in(e.bytes);
    try {
        return xt::load_npy<T>(in);
    } catch (const std::exception& ex) {
        throw io_error(path, "member " + e.name + " is not a valid .npy array (" + ex.what() + ")");
    }
}

}  // namespace detail

/// Saves parameters and state of `m` to `path` (an .npz archive), atomically.
template <class Model>
void save_checkpoint(Model& m, const std::string& path) {
    std::vector<zip_entry> entries;
    const std::int32_t version = checkpoint_format_version, steps = Model::T;
    entries.push_back({"format_version.npy", detail::npy(&version, 1)});
    entries.push_back({"timesteps.npy", detail::npy(&steps, 1)});
    const std::string sig = network_signature(m);
    entries.push_back({"signature.npy", detail::npy(reinterpret_cast<const std::uint8_t*>(sig.data()), sig.size())});
    using exec = typename Model::executor;
    const float* p = m.parameters().data();
    const float* st = m.state().data();
    for (std::size_t i = 0; i < exec::size; ++i) {
        const std::size_t np = exec::param_offsets[i + 1] - exec::param_offsets[i];
        const std::size_t ns = exec::state_offsets[i + 1] - exec::state_offsets[i];
        if (np) entries.push_back({detail::layer_name(i, "params.npy"), detail::npy(p + exec::param_offsets[i], np)});
        if (ns) entries.push_back({detail::layer_name(i, "state.npy"), detail::npy(st + exec::state_offsets[i], ns)});
    }
    write_zip(path, entries);
}

/// Loads a checkpoint written by save_checkpoint for the same network and T. Nothing of
/// the model changes unless every check passes.
template <class Model>
void load_checkpoint(Model& m, const std::string& path) {
    const auto entries = read_zip(path);
    auto find = [&](const std::string& name) -> const zip_entry& {
        for (const auto& e : entries)
            if (e.name == name) return e;
        throw io_error(path, "not an snn2ann checkpoint of this network: member " + name + " is missing");
    };
    const auto version = detail::from_npy<std::int32_t>(path, find("format_version.npy"));
    if (version.size() != 1 || version(0) != checkpoint_format_version)
        throw io_error(path, "checkpoint format version " + std::to_string(version.size() ? version(0) : -1) +
                                 " is not supported (this library reads version " +
                                 std::to_string(checkpoint_format_version) + ")");
    const auto sig_bytes = detail::from_npy<std::uint8_t>(path, find("signature.npy"));
    const std::string sig(sig_bytes.begin(), sig_bytes.end()), expected = network_signature(m);
    if (sig != expected)
        throw io_error(path, "the checkpoint was saved from another network (" + sig + ") than this one (" +
                                 expected + ")");
    const auto steps = detail::from_npy<std::int32_t>(path, find("timesteps.npy"));
    if (steps.size() != 1 || steps(0) != Model::T)
        throw io_error(path, "the checkpoint was saved with T = " + std::to_string(steps.size() ? steps(0) : -1) +
                                 ", the model has T = " + std::to_string(Model::T));
    using exec = typename Model::executor;
    std::vector<float> params(m.parameters().size()), state(m.state().size());
    auto fill = [&](const std::string& name, float* dst, std::size_t n) {
        const auto a = detail::from_npy<float>(path, find(name));
        if (a.size() != n)
            throw io_error(path, "member " + name + " holds " + std::to_string(a.size()) + " values, the layer needs " +
                                     std::to_string(n));
        std::copy(a.begin(), a.end(), dst);
    };
    for (std::size_t i = 0; i < exec::size; ++i) {
        const std::size_t np = exec::param_offsets[i + 1] - exec::param_offsets[i];
        const std::size_t ns = exec::state_offsets[i + 1] - exec::state_offsets[i];
        if (np) fill(detail::layer_name(i, "params.npy"), params.data() + exec::param_offsets[i], np);
        if (ns) fill(detail::layer_name(i, "state.npy"), state.data() + exec::state_offsets[i], ns);
    }
    std::copy(params.begin(), params.end(), m.parameters().begin());
    std::copy(state.begin(), state.end(), m.state().begin());
}

}  // namespace snn2ann::inline v0::io
