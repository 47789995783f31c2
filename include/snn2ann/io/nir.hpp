// snn2ann/io: NIR files, the Neuromorphic Intermediate Representation that SpikingJelly,
// snnTorch, Norse, Sinabs, Rockpool, Spyx, Lava and neuromorphic chips read and write.
// A trained network's SNN branch (deploy::graph_of: BN folded, biases per step) is written
// as NIR's HDF5 layout, and a NIR file is read back into a graph, a model or the inference
// engine; any tool's NIR file, of any version, is read as written (read_nir_graph) for the
// runtime engine (deploy/runtime.hpp). Needs snn2ann::hdf5 (HDF5's C library).
//
// The file (NIR's layout, nir.write of NIR 1.0):
//   /version             "1.0.7", a variable-length UTF-8 string
//   /node/type           "NIRGraph"
//   /node/nodes/<name>/  one group per node: its "type" and its parameters as data sets
//   /node/edges          an E x 2 array of strings, (from, to) per edge
//   /node/nodes/<name>/input_type/input, output_type/output: the node's shapes (NIR 1.0)
//   /node/metadata/      producer, timesteps, scores, dt (1) and time_unit ("step")
// The mapping of the library's computation onto NIR's (continuous-time) definitions, with
// dt = 1 and forward-Euler steps, as snnTorch and SpikingJelly export them:
//   Input      shape [C, H, W]; the input of every step (the image, or frame t)
//   Conv2d     weight (O, I, k, k), bias (O,) added at every step, stride [s, s],
//              padding [p, p], dilation [1, 1], groups 1, input_shape [H, W]
//   AvgPool2d  kernel_size [k, k], stride [s, s], padding [0, 0]
//   SumPool2d, Threshold   a max pooling of spikes (max_pool after a spiking layer): the
//              window's sum, then 1 where it is above 0 (the Threshold node "<name>_spiked")
//   Flatten    start_dim 0, end_dim -1 (its input_type [C, H, W], as every node's)
//   Affine     weight (O, I), bias (O,) added at every step
//   IF         r = 1, v_threshold, v_reset = 0 per neuron: v += r I; a spike where
//              v > v_threshold, then v = v_reset. The library's IF with reset to zero.
//   LIF        tau, r = tau, v_leak = 0, v_threshold, v_reset = 0 per neuron:
//              v += (v_leak - v + r I) / tau = (1 - 1/tau) v + I, the library's LIF.
//   Output     shape [classes]; the network's scores are the mean of its T outputs.
// Biases are per step (deploy/snn_graph.hpp): b' / T before the last spiking layer, b' in
// the head. What NIR cannot say is refused, never written lossily (graph_of's sentences).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "../deploy/nir_graph.hpp"
#include "../deploy/snn_graph.hpp"
#include "../version.hpp"
#include "hdf5.hpp"

namespace snn2ann::inline v0::io {

/// The NIR version written to /version: the NIR release whose layout this follows.
inline constexpr const char* nir_version = "1.0.7";
/// The most values per sample a node of a NIR file read may give (deploy::nir_max_node_values).
inline constexpr std::size_t nir_max_node_values = deploy::nir_max_node_values;

}  // namespace snn2ann::inline v0::io

namespace snn2ann::inline v0::detail {

inline std::vector<hsize_t> nir_dims(shape s) {
    return s.flat ? std::vector<hsize_t>{static_cast<hsize_t>(s.c)}
                  : std::vector<hsize_t>{static_cast<hsize_t>(s.c), static_cast<hsize_t>(s.h), static_cast<hsize_t>(s.w)};
}
inline std::vector<std::int64_t> nir_shape_values(shape s) {
    std::vector<std::int64_t> v;
    for (const hsize_t d : nir_dims(s)) v.push_back(static_cast<std::int64_t>(d));
    return v;
}
inline void nir_ints(hid_t g, const std::string& name, const std::vector<std::int64_t>& v, const h5_place& at) {
    h5_write(g, name, {v.size()}, v.data(), at / name);
}
inline void nir_int(hid_t g, const std::string& name, std::int64_t v, const h5_place& at) { h5_write(g, name, {}, &v, at / name); }
inline void nir_floats(hid_t g, const std::string& name, const std::vector<hsize_t>& dims, const std::vector<float>& v,
                       const h5_place& at) {
    h5_write(g, name, dims, v.data(), at / name);
}

/// The name of the Threshold node that follows a max pooling of spikes' SumPool2d.
inline std::string nir_spiked_name(const deploy::node& n) { return n.name + "_spiked"; }

/// Writes one node's group (its type and parameters); a max pooling of spikes as two, a
/// SumPool2d and a Threshold at 0.
inline void nir_write_node(hid_t nodes, const deploy::node& n, const h5_place& at) {
    const h5_place here = at / n.name;
    const h5_handle g = h5_new_group(nodes, n.name, here);
    const bool max_pool = n.kind == deploy::node_kind::max_pool2d;
    h5_write_strings(g.get(), "type", {}, {max_pool ? "SumPool2d" : deploy::kind_name(n.kind)}, here / "type");
    const std::vector<hsize_t> neurons = nir_dims(n.in);
    const std::vector<float> zeros(n.in.size(), 0.0f), ones(n.in.size(), 1.0f);
    switch (n.kind) {
        case deploy::node_kind::input: nir_ints(g.get(), "shape", nir_shape_values(n.in), here); break;
        case deploy::node_kind::output: nir_ints(g.get(), "shape", nir_shape_values(n.out), here); break;
        case deploy::node_kind::conv2d: {
            const hsize_t k = static_cast<hsize_t>(n.kernel);
            nir_floats(g.get(), "weight", {static_cast<hsize_t>(n.out.c), static_cast<hsize_t>(n.in.c), k, k}, n.weight, here);
            nir_floats(g.get(), "bias", {n.bias.size()}, n.bias, here);
            nir_ints(g.get(), "stride", {n.stride, n.stride}, here);
            nir_ints(g.get(), "padding", {n.padding, n.padding}, here);
            nir_ints(g.get(), "dilation", {1, 1}, here);
            nir_int(g.get(), "groups", 1, here);
            nir_ints(g.get(), "input_shape", {n.in.h, n.in.w}, here);
            break;
        }
        case deploy::node_kind::avg_pool2d:
        case deploy::node_kind::max_pool2d:
            nir_ints(g.get(), "kernel_size", {n.kernel, n.kernel}, here);
            nir_ints(g.get(), "stride", {n.stride, n.stride}, here);
            nir_ints(g.get(), "padding", {0, 0}, here);
            break;
        case deploy::node_kind::flatten:
            nir_int(g.get(), "start_dim", 0, here);
            nir_int(g.get(), "end_dim", -1, here);
            break;
        case deploy::node_kind::affine:
            nir_floats(g.get(), "weight", {static_cast<hsize_t>(n.out.size()), static_cast<hsize_t>(n.in.size())}, n.weight, here);
            nir_floats(g.get(), "bias", {n.bias.size()}, n.bias, here);
            break;
        case deploy::node_kind::if_neuron:
            nir_floats(g.get(), "r", neurons, ones, here);
            nir_floats(g.get(), "v_threshold", neurons, n.threshold, here);
            nir_floats(g.get(), "v_reset", neurons, zeros, here);
            break;
        case deploy::node_kind::lif_neuron: {
            const std::vector<float> tau(n.in.size(), static_cast<float>(n.tau));
            nir_floats(g.get(), "tau", neurons, tau, here);
            nir_floats(g.get(), "r", neurons, tau, here);
            nir_floats(g.get(), "v_leak", neurons, zeros, here);
            nir_floats(g.get(), "v_threshold", neurons, n.threshold, here);
            nir_floats(g.get(), "v_reset", neurons, zeros, here);
            break;
        }
    }
    // NIR 1.0's types of every node (its nir.read checks them against the edges): a group
    // of one shape per port, a sample's dimensions without the batch.
    const h5_handle in = h5_new_group(g.get(), "input_type", here / "input_type");
    nir_ints(in.get(), "input", nir_shape_values(n.in), here / "input_type");
    const h5_handle out = h5_new_group(g.get(), "output_type", here / "output_type");
    nir_ints(out.get(), "output", nir_shape_values(n.out), here / "output_type");
    if (max_pool) {
        // The maximum of spikes, exactly: 1 where the window's sum is above 0.
        const h5_place there = at / nir_spiked_name(n);
        const h5_handle t = h5_new_group(nodes, nir_spiked_name(n), there);
        h5_write_strings(t.get(), "type", {}, {"Threshold"}, there / "type");
        nir_floats(t.get(), "threshold", nir_dims(n.out), std::vector<float>(n.out.size(), 0.0f), there);
        for (const char* port : {"input", "output"}) {
            const h5_handle types = h5_new_group(t.get(), std::string(port) + "_type", there / (std::string(port) + "_type"));
            nir_ints(types.get(), port, nir_shape_values(n.out), there);
        }
    }
}

/// The values of a float data set that must all equal `expected` (an r, v_reset, v_leak, or
/// tau), checked or refused with the file, the node and the value found.
inline void nir_expect_all(const std::vector<float>& v, float expected, const h5_place& at, const std::string& why) {
    for (const float x : v)
        if (x != expected) h5_fail(at, "holds " + std::to_string(x) + " where the library needs " + std::to_string(expected) + " (" + why + ")");
}

/// A pair parameter (stride, padding, kernel_size, dilation) stored as one integer or two
/// equal ones: the square value, else an io_error.
inline int nir_square(hid_t g, const std::string& name, const h5_place& at) {
    const auto a = h5_read<std::int64_t>(g, name, at / name);
    if (a.values.empty() || a.values.size() > 2 || (a.values.size() == 2 && a.values[0] != a.values[1]))
        h5_fail(at / name, "is not one value or two equal ones (the library's windows are square)");
    if (a.values[0] < 0 || a.values[0] > 4096) h5_fail(at / name, "is " + std::to_string(a.values[0]));
    return static_cast<int>(a.values[0]);
}

/// Reads one node's group into a node whose input shape is `in` (the output of the node
/// before it), computing its output shape.
inline deploy::node nir_read_node(hid_t nodes, const std::string& name, shape in, const h5_place& at) {
    const h5_place here = at / name;
    const h5_handle g = h5_group(nodes, name, here);
    const std::string type = h5_read_string(g.get(), "type", here / "type");
    deploy::node n = deploy::node::make(deploy::node_kind::input, name, in, in);
    const auto floats = [&](const std::string& p) { return h5_read<float>(g.get(), p, here / p); };
    // Per-neuron parameters: one value per neuron of the input, or one for all.
    const auto per_neuron = [&](const std::string& p, bool required, float fallback) {
        if (!required && !h5_has(g.get(), p)) return std::vector<float>(in.size(), fallback);
        auto a = floats(p);
        if (a.values.size() == 1) return std::vector<float>(in.size(), a.values[0]);
        if (a.values.size() != in.size())
            h5_fail(here / p, "holds " + std::to_string(a.values.size()) + " values for " + std::to_string(in.size()) + " neurons");
        return a.values;
    };
    if (type == "Input" || type == "Output") {
        // "shape" (every version), or NIR 1.0's input_type / output_type group; an Output of
        // NIR 0.1 may say nothing (it takes what reaches it).
        const bool input = type == "Input";
        const std::string port = input ? "input_type" : "output_type";
        const bool typed = !h5_has(g.get(), "shape") && h5_has(g.get(), port) && h5_kind(g.get(), port) == H5O_TYPE_GROUP;
        if (!input && !typed && !h5_has(g.get(), "shape")) {
            n.kind = deploy::node_kind::output;
            return n;
        }
        const h5_handle types = typed ? h5_group(g.get(), port, here / port) : h5_handle{};
        const std::string member = input ? "input" : "output";
        const auto dims = typed ? h5_read<std::int64_t>(types.get(), member, here / port / member).values
                                : h5_read<std::int64_t>(g.get(), "shape", here / "shape").values;
        if (dims.empty() || dims.size() > 3 || std::any_of(dims.begin(), dims.end(), [](std::int64_t d) { return d < 1 || d > (1 << 20); }))
            h5_fail(here / "shape", "is not a shape of 1 to 3 positive dimensions");
        shape s = dims.size() == 1 ? flat_shape(static_cast<int>(dims[0]))
                                   : image_shape(static_cast<int>(dims[0]), static_cast<int>(dims[1]),
                                                 static_cast<int>(dims.size() == 3 ? dims[2] : 1));
        n.kind = type == "Input" ? deploy::node_kind::input : deploy::node_kind::output;
        n.in = n.out = s;
        if (n.kind == deploy::node_kind::output && s.size() != in.size())
            h5_fail(here / "shape", "has " + std::to_string(s.size()) + " values, the node before it gives " + std::to_string(in.size()));
        return n;
    }
    if (type == "Conv2d") {
        if (in.flat) h5_fail(here, "is a Conv2d on a flat input");
        const auto w = floats("weight");
        if (w.shape.size() != 4 || w.shape[2] != w.shape[3] || static_cast<int>(w.shape[1]) != in.c)
            h5_fail(here / "weight", "is not (out, " + std::to_string(in.c) + ", k, k)");
        if (h5_has(g.get(), "dilation") && nir_square(g.get(), "dilation", here) != 1) h5_fail(here / "dilation", "is not 1");
        if (h5_has(g.get(), "groups") && h5_read<std::int64_t>(g.get(), "groups", here / "groups").values != std::vector<std::int64_t>{1})
            h5_fail(here / "groups", "is not 1");
        n.kind = deploy::node_kind::conv2d;
        n.kernel = static_cast<int>(w.shape[2]);
        n.stride = nir_square(g.get(), "stride", here);
        if (h5_kind(g.get(), "padding") == H5O_TYPE_DATASET && h5_class(h5_dataset(g.get(), "padding", here / "padding").get()) == H5T_STRING)
            h5_fail(here / "padding", "is a string ('same' or 'valid'); the library reads padding in pixels");
        n.padding = nir_square(g.get(), "padding", here);
        if (n.stride < 1 || in.h + 2 * n.padding < n.kernel || in.w + 2 * n.padding < n.kernel)
            h5_fail(here, "does not fit its " + shape_text(in) + " input");
        n.out = image_shape(static_cast<int>(w.shape[0]), (in.h + 2 * n.padding - n.kernel) / n.stride + 1,
                            (in.w + 2 * n.padding - n.kernel) / n.stride + 1);
        n.weight = w.values;
        n.bias = h5_has(g.get(), "bias") ? floats("bias").values : std::vector<float>(w.shape[0], 0.0f);
        if (n.bias.size() != w.shape[0]) h5_fail(here / "bias", "does not hold one value per output channel");
        return n;
    }
    if (type == "AvgPool2d" || type == "SumPool2d") {
        if (in.flat) h5_fail(here, "is a " + type + " on a flat input");
        // A SumPool2d is read as the first half of a max pooling of spikes (parse_nir checks
        // that a Threshold at 0 follows).
        n.kind = type == "AvgPool2d" ? deploy::node_kind::avg_pool2d : deploy::node_kind::max_pool2d;
        n.kernel = nir_square(g.get(), "kernel_size", here);
        n.stride = nir_square(g.get(), "stride", here);
        if (h5_has(g.get(), "padding") && nir_square(g.get(), "padding", here) != 0) h5_fail(here / "padding", "is not 0");
        if (n.kernel < 1 || n.stride < 1 || in.h < n.kernel || in.w < n.kernel) h5_fail(here, "does not fit its " + shape_text(in) + " input");
        n.out = image_shape(in.c, (in.h - n.kernel) / n.stride + 1, (in.w - n.kernel) / n.stride + 1);
        return n;
    }
    if (type == "Flatten") {
        n.kind = deploy::node_kind::flatten;
        n.out = flat_shape(static_cast<int>(in.size()));
        return n;
    }
    if (type == "Affine" || type == "Linear") {
        const auto w = floats("weight");
        if (w.shape.size() != 2 || w.shape[1] != in.size())
            h5_fail(here / "weight", "is not (out, " + std::to_string(in.size()) + ")");
        n.kind = deploy::node_kind::affine;
        n.out = flat_shape(static_cast<int>(w.shape[0]));
        n.weight = w.values;
        n.bias = type == "Affine" ? floats("bias").values : std::vector<float>(w.shape[0], 0.0f);
        if (n.bias.size() != w.shape[0]) h5_fail(here / "bias", "does not hold one value per output");
        return n;
    }
    if (type == "IF" || type == "LIF") {
        n.kind = type == "IF" ? deploy::node_kind::if_neuron : deploy::node_kind::lif_neuron;
        n.threshold = per_neuron("v_threshold", true, 0.0f);
        nir_expect_all(per_neuron("v_reset", false, 0.0f), 0.0f, here / "v_reset", "the library's neurons reset to 0");
        if (type == "IF") {
            nir_expect_all(per_neuron("r", true, 1.0f), 1.0f, here / "r", "its IF integrates the current unscaled");
        } else {
            const std::vector<float> tau = per_neuron("tau", true, 0.0f);
            const float t = tau.empty() ? 2.0f : tau[0];
            if (!(t >= 2.0f && t <= 1e6f && t == std::round(t)))
                h5_fail(here / "tau", "holds " + std::to_string(t) + ": the library's LIF has an integer time constant of at least 2 steps");
            nir_expect_all(tau, t, here / "tau", "one time constant per layer");
            nir_expect_all(per_neuron("r", true, t), t, here / "r", "r = tau makes v = (1 - 1/tau) v + I");
            nir_expect_all(per_neuron("v_leak", false, 0.0f), 0.0f, here / "v_leak", "the membrane decays towards 0");
            n.tau = static_cast<int>(t);
        }
        return n;
    }
    h5_fail(here / "type", "is '" + type + "', a node the library does not read into a network (it reads Input, "
                           "Conv2d, AvgPool2d, SumPool2d then Threshold at 0, Flatten, Affine, Linear, IF, LIF and Output; "
                           "deploy::runtime runs any NIR graph)");
}

/// What `parse` (parse_nir, parse_nir_graph) reads from the HDF5 file `path`, opened quietly.
template <class Parse>
auto nir_parse_file(const std::string& path, Parse parse) {
    const h5_quiet quiet;
    const h5_handle file = h5_open(path);
    return parse(file.get(), path);
}

/// The file's graph group (/node), after the checks of every reader: a version string
/// (left in `version`) and a node of type NIRGraph.
inline h5_handle nir_top_graph(hid_t file_id, const h5_place& root, std::string& version) {
    if (!h5_has(file_id, "version")) h5_fail(root / "version", "is missing: not a NIR file");
    version = h5_read_string(file_id, "version", root / "version");
    h5_handle top = h5_group(file_id, "node", root / "node");
    const std::string type = h5_read_string(top.get(), "type", root / "node" / "type");
    if (type != "NIRGraph") h5_fail(root / "node" / "type", "is '" + type + "', not NIRGraph");
    return top;
}

/// The edges of a graph group: an E x 2 data set of node names, or (NIR 0.0, whose nodes
/// were a list) of node indices, read as the names "0", "1", ...; none where it is missing
/// or empty. Every end must name a node of `names`.
inline std::vector<std::pair<std::string, std::string>> nir_read_edges(hid_t top, const h5_place& at,
                                                                       const std::vector<std::string>& names) {
    std::vector<std::pair<std::string, std::string>> edges;
    if (!h5_has(top, "edges")) return edges;
    const h5_place here = at / "edges";
    const h5_handle set = h5_dataset(top, "edges", here);
    const auto dims = h5_shape(set.get(), here);
    if (!dims.empty() && h5_count(dims) == 0) return edges;
    if (dims.size() != 2 || dims[1] != 2) h5_fail(here, "is not an E x 2 array of node names");
    std::vector<std::string> ends;
    if (h5_class(set.get()) == H5T_INTEGER) {
        for (const std::int64_t i : h5_read<std::int64_t>(top, "edges", here).values) ends.push_back(std::to_string(i));
    } else {
        ends = h5_read_strings(top, "edges", here);
    }
    for (std::size_t k = 0; k + 1 < ends.size(); k += 2) {
        for (const std::string* e : {&ends[k], &ends[k + 1]})
            if (std::find(names.begin(), names.end(), *e) == names.end()) h5_fail(here, "names '" + *e + "', which is not a node");
        edges.emplace_back(ends[k], ends[k + 1]);
    }
    return edges;
}

/// Data set `name` of `g` as a parameter tensor (numbers only).
inline void nir_read_tensor(hid_t g, const std::string& name, const h5_place& at, deploy::nir_tensor& t) {
    const auto a = h5_read<double>(g, name, at);
    t.dims.assign(a.shape.begin(), a.shape.end());
    t.values = a.values;
}

}  // namespace snn2ann::inline v0::detail

namespace snn2ann::inline v0::io {

/// Writes graph `g` to `path` as a NIR file (see the header's comment).
inline void write_nir(const deploy::graph& g, const std::string& path) {
    const snn2ann::detail::h5_quiet quiet;
    const snn2ann::detail::h5_place root{path, "/"};
    const snn2ann::detail::h5_handle file = snn2ann::detail::h5_create(path);
    snn2ann::detail::h5_write_strings(file.get(), "version", {}, {nir_version}, root / "version");
    const snn2ann::detail::h5_handle top = snn2ann::detail::h5_new_group(file.get(), "node", root / "node");
    const snn2ann::detail::h5_place at = root / "node";
    snn2ann::detail::h5_write_strings(top.get(), "type", {}, {"NIRGraph"}, at / "type");
    const snn2ann::detail::h5_handle nodes = snn2ann::detail::h5_new_group(top.get(), "nodes", at / "nodes");
    for (const deploy::node& n : g.nodes) snn2ann::detail::nir_write_node(nodes.get(), n, at / "nodes");
    std::vector<std::string> edges;
    for (std::size_t k = 0; k + 1 < g.nodes.size(); ++k) {
        if (g.nodes[k].kind == deploy::node_kind::max_pool2d) {
            edges.push_back(g.nodes[k].name), edges.push_back(snn2ann::detail::nir_spiked_name(g.nodes[k]));
            edges.push_back(snn2ann::detail::nir_spiked_name(g.nodes[k])), edges.push_back(g.nodes[k + 1].name);
        } else {
            edges.push_back(g.nodes[k].name), edges.push_back(g.nodes[k + 1].name);
        }
    }
    snn2ann::detail::h5_write_strings(top.get(), "edges", {edges.size() / 2, 2}, edges, at / "edges");
    const snn2ann::detail::h5_handle meta = snn2ann::detail::h5_new_group(top.get(), "metadata", at / "metadata");
    const std::string producer = "snn2ann " + std::to_string(version.major) + "." + std::to_string(version.minor) + "." +
                                 std::to_string(version.patch);
    snn2ann::detail::h5_write_strings(meta.get(), "producer", {}, {producer}, at / "metadata" / "producer");
    snn2ann::detail::nir_int(meta.get(), "timesteps", g.timesteps, at / "metadata");
    // The time constants are in steps: a step is the unit of time, dt = 1 of it.
    const double dt = 1.0;
    snn2ann::detail::h5_write(meta.get(), "dt", {}, &dt, at / "metadata" / "dt");
    snn2ann::detail::h5_write_strings(meta.get(), "time_unit", {}, {"step"}, at / "metadata" / "time_unit");
    snn2ann::detail::h5_write_strings(meta.get(), "scores", {}, {"the mean over the time steps of the output node"},
                                      at / "metadata" / "scores");
}

/// The graph in the NIR file `path`: its nodes in the order the edges chain them from the
/// Input node to the Output node, shapes computed from the Input's. A file that is not
/// NIR, a graph that is not one chain, a node the library does not read or a parameter it
/// cannot honour (reset to a value other than 0, a scaled input, a leak towards another
/// potential, dilation, groups) is an io_error naming the file, the node and why.
inline deploy::graph read_nir(const std::string& path);

/// The graph of an open HDF5 file (`path` names it in messages): read_nir's reading, for
/// files held in memory (the fuzz harness).
inline deploy::graph parse_nir(hid_t file_id, const std::string& path);

inline deploy::graph read_nir(const std::string& path) { return snn2ann::detail::nir_parse_file(path, parse_nir); }

inline deploy::graph parse_nir(hid_t file_id, const std::string& path) {
    namespace d = snn2ann::detail;
    const d::h5_quiet quiet;
    const d::h5_place root{path, "/"};
    std::string version;
    const d::h5_handle top = d::nir_top_graph(file_id, root, version);
    const d::h5_place at = root / "node";
    const d::h5_handle nodes = d::h5_group(top.get(), "nodes", at / "nodes");
    const std::vector<std::string> names = d::h5_members(nodes.get(), at / "nodes");
    std::map<std::string, std::string> next;
    std::map<std::string, int> incoming;
    for (const auto& [from, to] : d::nir_read_edges(top.get(), at, names)) {
        if (!next.emplace(from, to).second)
            d::h5_fail(at / "edges", "give node '" + from + "' two successors: the library reads chains of nodes (deploy::runtime "
                                     "runs any graph)");
        if (++incoming[to] > 1) d::h5_fail(at / "edges", "give node '" + to + "' two inputs");
    }
    std::string start;
    for (const std::string& name : names) {
        const d::h5_handle g = d::h5_group(nodes.get(), name, at / "nodes" / name);
        if (d::h5_read_string(g.get(), "type", at / "nodes" / name / "type") == "Input") {
            if (!start.empty()) d::h5_fail(at / "nodes", "holds two Input nodes ('" + start + "', '" + name + "')");
            start = name;
        }
    }
    if (start.empty()) d::h5_fail(at / "nodes", "holds no Input node");
    deploy::graph g;
    if (d::h5_has(top.get(), "metadata") && d::h5_kind(top.get(), "metadata") == H5O_TYPE_GROUP) {
        const d::h5_handle meta = d::h5_group(top.get(), "metadata", at / "metadata");
        if (d::h5_has(meta.get(), "timesteps")) {
            const auto t = d::h5_read<std::int64_t>(meta.get(), "timesteps", at / "metadata" / "timesteps").values;
            if (t.size() == 1 && t[0] > 0 && t[0] < (1 << 20)) g.timesteps = static_cast<int>(t[0]);
        }
    }
    shape current{};
    std::size_t merged = 0;  // Threshold nodes read as the second half of a max pooling of spikes
    for (std::string name = start;;) {
        if (g.nodes.size() + merged > names.size()) d::h5_fail(at / "edges", "make a cycle");
        g.nodes.push_back(d::nir_read_node(nodes.get(), name, current, at / "nodes"));
        if (g.nodes.back().kind == deploy::node_kind::max_pool2d) {
            // SumPool2d then Threshold at 0: 1 where any input of the window spiked.
            const auto then = next.find(name);
            const std::string refusal = "is a SumPool2d not followed by a Threshold at 0, the pair the library reads as "
                                        "max pooling of spikes (deploy::runtime runs any graph)";
            if (then == next.end()) d::h5_fail(at / "nodes" / name, refusal);
            const d::h5_place there = at / "nodes" / then->second;
            const d::h5_handle t = d::h5_group(nodes.get(), then->second, there);
            if (d::h5_read_string(t.get(), "type", there / "type") != "Threshold") d::h5_fail(at / "nodes" / name, refusal);
            const auto threshold = d::h5_read<float>(t.get(), "threshold", there / "threshold").values;
            if (threshold.size() != 1 && threshold.size() != g.nodes.back().out.size())
                d::h5_fail(there / "threshold", "holds " + std::to_string(threshold.size()) + " values for " +
                                                    std::to_string(g.nodes.back().out.size()));
            d::nir_expect_all(threshold, 0.0f, there / "threshold", "a max pooling of spikes fires where any input did");
            name = then->second;
            ++merged;
        }
        current = g.nodes.back().out;
        if (current.size() > nir_max_node_values)
            d::h5_fail(at / "nodes" / name, "gives " + std::to_string(current.size()) + " values per sample, more than the "
                                             "library reads (" + std::to_string(nir_max_node_values) + ")");
        if (g.nodes.back().kind == deploy::node_kind::output) break;
        const auto n = next.find(name);
        if (n == next.end()) d::h5_fail(at / "edges", "end at node '" + name + "', which is not the Output node");
        name = n->second;
    }
    if (g.nodes.size() + merged != names.size())
        d::h5_fail(at / "nodes", "holds " + std::to_string(names.size()) + " nodes, of which the chain from '" + start + "' reaches " +
                                     std::to_string(g.nodes.size() + merged));
    return g;
}

/// The NIR graph in file `path` as written, of any NIR version in use (0.1, 0.2, 1.0.x, with
/// or without compression): every node's type and parameters, the edges in the file's order,
/// the graph's numeric metadata. Nothing is interpreted here (deploy::runtime does that), so
/// any node type is read; what is not a NIR graph (no version, no NIRGraph node, an edge
/// naming a node that does not exist, a parameter that is neither numbers nor text, a graph
/// nested in a node) is an io_error naming the file, the object and why.
inline deploy::nir_graph read_nir_graph(const std::string& path);

/// read_nir_graph's reading of an open HDF5 file (`path` names it in messages).
inline deploy::nir_graph parse_nir_graph(hid_t file_id, const std::string& path);

inline deploy::nir_graph read_nir_graph(const std::string& path) {
    return snn2ann::detail::nir_parse_file(path, parse_nir_graph);
}

inline deploy::nir_graph parse_nir_graph(hid_t file_id, const std::string& path) {
    namespace d = snn2ann::detail;
    const d::h5_quiet quiet;
    const d::h5_place root{path, "/"};
    deploy::nir_graph g;
    g.source = path;
    const d::h5_handle top = d::nir_top_graph(file_id, root, g.version);
    const d::h5_place at = root / "node";
    const d::h5_handle nodes = d::h5_group(top.get(), "nodes", at / "nodes");
    for (const std::string& name : d::h5_members(nodes.get(), at / "nodes")) {
        const d::h5_place here = at / "nodes" / name;
        const d::h5_handle group = d::h5_group(nodes.get(), name, here);
        deploy::nir_node n;
        n.name = name;
        n.type = d::h5_read_string(group.get(), "type", here / "type");
        if (n.type == "NIRGraph")
            d::h5_fail(here, "is a graph nested in the graph, which the library does not read (flatten it with "
                             "NIR's tools first)");
        for (const std::string& member : d::h5_members(group.get(), here)) {
            if (member == "type" || member == "metadata") continue;
            if (d::h5_kind(group.get(), member) == H5O_TYPE_GROUP) {
                // NIR 1.0's input_type / output_type: a group of one shape per port.
                const d::h5_handle types = d::h5_group(group.get(), member, here / member);
                const std::string port = member == "input_type" ? "input" : "output";
                if ((member == "input_type" || member == "output_type") && d::h5_has(types.get(), port))
                    d::nir_read_tensor(types.get(), port, here / member, n.parameters[member]);
                continue;
            }
            const d::h5_handle set = d::h5_dataset(group.get(), member, here / member);
            if (d::h5_class(set.get()) == H5T_STRING) {
                n.texts[member] = d::h5_read_string(group.get(), member, here / member);
                continue;
            }
            d::nir_read_tensor(group.get(), member, here / member, n.parameters[member]);
        }
        g.nodes.push_back(std::move(n));
    }
    std::vector<std::string> names;
    for (const deploy::nir_node& n : g.nodes) names.push_back(n.name);
    g.edges = d::nir_read_edges(top.get(), at, names);
    if (d::h5_has(top.get(), "metadata") && d::h5_kind(top.get(), "metadata") == H5O_TYPE_GROUP) {
        const d::h5_handle meta = d::h5_group(top.get(), "metadata", at / "metadata");
        for (const std::string& member : d::h5_members(meta.get(), at / "metadata")) {
            if (d::h5_kind(meta.get(), member) != H5O_TYPE_DATASET) continue;
            const d::h5_handle set = d::h5_dataset(meta.get(), member, at / "metadata" / member);
            const H5T_class_t kind = d::h5_class(set.get());
            if (kind == H5T_INTEGER || kind == H5T_FLOAT)
                d::nir_read_tensor(meta.get(), member, at / "metadata" / member, g.metadata[member]);
        }
    }
    return g;
}

/// Writes the SNN branch of model `m` to `path` as a NIR file; a network NIR cannot
/// describe is refused with deploy::graph_of's sentence, and nothing is written.
template <class Model>
void save_nir(Model& m, const std::string& path) {
    write_nir(deploy::graph_of(m, "io::save_nir"), path);
}

/// Loads the NIR file `path` into model `m`, whose network must have the graph's shape
/// (deploy::load_graph): the weights, biases and thresholds of the matching layers.
template <class Model>
void load_nir(Model& m, const std::string& path) {
    deploy::load_graph(m, read_nir(path), "io::load_nir: " + path);
}

}  // namespace snn2ann::inline v0::io
