// The reader of NIR files as written (io::parse_nir_graph) on the contents of well-formed
// HDF5 files of any structure: the input is a program of up to 12 nodes, each a group whose
// members are chosen by the input (data sets of integers, floats or doubles of rank 0 to 3
// and extents 0 to 4, strings scalar or in arrays, NIR 1.0's input_type / output_type
// groups with or without their port, other groups, a nested graph) under names NIR's nodes
// use, and the file's top: the version (text, a number, or missing), the graph's type,
// its edges (names, indices, names of nodes that do not exist, the wrong shape, none) and
// metadata (numbers, text, groups, or a data set where the group belongs). What reads is
// built into the runtime engine (every check it makes of a graph) and run for one step.
// No network is loaded and nothing large is run, so files go by quickly; the nir harness
// covers the chain reader and the engines behind it.
#include <cstdint>
#include <string>
#include <vector>

#include <snn2ann/deploy/runtime.hpp>
#include <snn2ann/io/nir.hpp>

#include "fuzz_files.hpp"

namespace {
namespace s = snn2ann;
namespace d = snn2ann::detail;

using fuzz::pools;

const char* const types[] = {"Input", "Output", "Affine", "Linear", "Scale", "Conv1d", "Conv2d", "AvgPool2d", "SumPool2d",
                             "Flatten", "Threshold", "Delay", "I", "IF", "LI", "LIF", "CubaLI", "CubaLIF", "NIRGraph", ""};
const char* const members[] = {"shape",   "weight", "bias",   "stride", "padding", "dilation", "groups", "kernel_size",
                               "tau",     "r",      "v_leak", "v_threshold", "v_reset", "tau_syn", "tau_mem", "w_in",
                               "threshold", "delay", "start_dim", "end_dim", "input_shape", "input_type", "output_type",
                               "metadata", "type", "scale"};
constexpr std::size_t type_count = sizeof(types) / sizeof(types[0]);
constexpr std::size_t member_count = sizeof(members) / sizeof(members[0]);

/// A data set `name` of `loc`, of a kind and dimensions from the pools.
void data_set(hid_t loc, const std::string& name, pools& p, const d::h5_place& at) {
    std::vector<hsize_t> dims(static_cast<std::size_t>(p.integer(0, 3)));
    std::size_t count = 1;
    for (hsize_t& e : dims) count *= static_cast<std::size_t>(e = static_cast<hsize_t>(p.integer(0, 4)));
    switch (p.integer(0, 4)) {
        case 0: {
            std::vector<std::int64_t> v(count);
            for (auto& x : v) x = p.integer(-2, 6);
            return d::h5_write(loc, name, dims, v.data(), at);
        }
        case 1: {
            std::vector<float> v(count);
            for (auto& x : v) x = p.real();
            return d::h5_write(loc, name, dims, v.data(), at);
        }
        case 2: {
            std::vector<double> v(count);
            for (auto& x : v) x = static_cast<double>(p.real());
            return d::h5_write(loc, name, dims, v.data(), at);
        }
        case 3: {
            const std::string text = p.integer(0, 1) ? "same" : "valid";
            return d::h5_write_strings(loc, name, {}, {text}, at);
        }
        default: {
            std::vector<std::string> texts(count, "x");
            return d::h5_write_strings(loc, name, dims, texts, at);
        }
    }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto parts = fuzz::split(data, size, 3);
    const std::string_view program = parts[0].substr(0, 13);
    if (program.empty()) return 0;
    pools p{parts[1], parts[2]};
    const auto top_flags = static_cast<unsigned char>(program[0]);
    const d::h5_quiet quiet;
    const d::h5_place root{"fuzz.nir", "/"};
    // One in-memory file for 256 inputs, emptied after each: a new HDF5 file costs a third
    // of an input's time under the sanitizers. The reader sees the same contents either way.
    static std::size_t inputs = 0;
    static d::h5_handle file;
    if (inputs++ % 256 == 0) {
        file = d::h5_handle{};  // closed before its successor of the same name is made
        file = d::h5_create_in_memory("fuzz.nir");
    }
    struct emptied {
        hid_t f;
        ~emptied() {
            for (const char* link : {"version", "node"})
                if (d::h5_has(f, link)) H5Ldelete(f, link, H5P_DEFAULT);
        }
    } const empty_after{file.get()};
    switch (top_flags & 3) {
        case 0: d::h5_write_strings(file.get(), "version", {}, {"1.0.7"}, root); break;
        case 1: d::h5_write_strings(file.get(), "version", {}, {"0.2.0"}, root); break;
        case 2: data_set(file.get(), "version", p, root); break;
        default: break;  // no version
    }
    const auto top = d::h5_new_group(file.get(), "node", root);
    if (!(top_flags & 4)) d::h5_write_strings(top.get(), "type", {}, {(top_flags & 8) ? "Graph" : "NIRGraph"}, root);
    const auto nodes = d::h5_new_group(top.get(), "nodes", root);
    std::vector<std::string> names;
    for (std::size_t k = 1; k < program.size(); ++k) {
        const auto b = static_cast<unsigned char>(program[k]);
        names.push_back("n" + std::to_string(k - 1));
        const auto g = d::h5_new_group(nodes.get(), names.back(), root);
        if (!(b & 0x80)) d::h5_write_strings(g.get(), "type", {}, {types[b % type_count]}, root);
        // Members: a data set, a group of one port's shape (or without it), another group.
        for (std::int64_t m = p.integer(0, 6); m > 0; --m) {
            const std::string name = members[static_cast<std::size_t>(p.integer(0, member_count - 1))];
            if (name == "type" || d::h5_has(g.get(), name)) continue;
            if (name == "input_type" || name == "output_type" || name == "metadata") {
                const auto types_group = d::h5_new_group(g.get(), name, root);
                if (p.integer(0, 3)) data_set(types_group.get(), name == "input_type" ? "input" : "output", p, root);
            } else {
                data_set(g.get(), name, p, root);
            }
        }
    }
    // Edges: pairs of names (or indices) from the nodes, sometimes one that is no node.
    const auto edge_count = static_cast<hsize_t>(p.integer(0, 12));
    const auto end = [&] {
        const auto i = p.integer(0, static_cast<std::int64_t>(names.size()));
        return i < static_cast<std::int64_t>(names.size()) ? i : -1;
    };
    switch ((top_flags >> 4) & 3) {
        case 0: {
            std::vector<std::string> edges;
            for (hsize_t e = 0; e < 2 * edge_count; ++e) {
                const auto i = end();
                edges.push_back(i < 0 ? "nowhere" : names[static_cast<std::size_t>(i)]);
            }
            d::h5_write_strings(top.get(), "edges", {edge_count, 2}, edges, root);
            break;
        }
        case 1: {
            std::vector<std::int64_t> edges;
            for (hsize_t e = 0; e < 2 * edge_count; ++e) {
                const auto i = end();
                edges.push_back(i < 0 ? 99 : i);  // 99: no node has that index
            }
            d::h5_write(top.get(), "edges", {edge_count, 2}, edges.data(), root);
            break;
        }
        case 2: data_set(top.get(), "edges", p, root); break;
        default: break;  // no edges
    }
    if (top_flags & 0x40) {
        if (top_flags & 0x80) {
            data_set(top.get(), "metadata", p, root);
        } else {
            const auto meta = d::h5_new_group(top.get(), "metadata", root);
            data_set(meta.get(), "dt", p, root);
            data_set(meta.get(), "time_unit", p, root);
            (void)d::h5_new_group(meta.get(), "extra", root);
        }
    }
    fuzz::expect_only_snn2ann_errors([&] {
        const s::deploy::nir_graph g = s::io::parse_nir_graph(file.get(), "fuzz.nir");
        s::deploy::runtime_options options;
        if (const auto dt = g.metadata.find("dt"); dt != g.metadata.end() && dt->second.values.size() == 1)
            options.dt = dt->second.values[0];
        const s::deploy::runtime engine(g, options);
        (void)engine.describe();
        if (engine.input_size() > 4096) return;
        const std::vector<float> x(engine.input_size(), 1.0f);
        (void)engine.run(x.data(), 1, 1, engine.nodes());
    });
    return 0;
}
