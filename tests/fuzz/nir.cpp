// The NIR reader on the contents of well-formed HDF5 files: the input is a program of up
// to 24 nodes (a type each, some parameters left out or given the wrong rank, an edge
// sent elsewhere) with pools of integers and floats for their shapes and values; the
// harness writes that file in memory, reads it (io::parse_nir) and, where the graph reads,
// loads it into a small network and runs the inference engine on it. HDF5's own parsing
// of damaged containers is HDF5's to harden; what is fuzzed here is every check the
// reader, the graph loader and the engine make of what a readable file holds, and of the
// reader of graphs as written (io::parse_nir_graph) with the runtime engine.
#include <cstring>

#include <snn2ann/deploy/inference.hpp>
#include <snn2ann/deploy/runtime.hpp>
#include <snn2ann/io/nir.hpp>
#include <snn2ann/snn2ann.hpp>

#include "fuzz_files.hpp"

namespace {
namespace s = snn2ann;
namespace d = snn2ann::detail;

using fuzz::pools;

const char* const types[] = {"Input", "Conv2d", "AvgPool2d", "Flatten", "Affine", "Linear", "IF", "LIF", "Output", "CubaLIF"};

using small_net = s::network<s::input<1, 4, 4>, s::conv<2, 3>, s::avg_pool<2>, s::spiking<s::if_neuron<>>, s::flatten,
                             s::linear<3>, s::spiking<s::lif_neuron<2>>, s::linear<2>>;
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto parts = fuzz::split(data, size, 3);
    const std::string_view program = parts[0].substr(0, 24);
    pools p{parts[1], parts[2]};
    const d::h5_quiet quiet;
    const d::h5_place root{"fuzz.nir", "/"};
    const auto file = d::h5_create_in_memory("fuzz.nir");
    d::h5_write_strings(file.get(), "version", {}, {"1.0.7"}, root);
    const auto top = d::h5_new_group(file.get(), "node", root);
    d::h5_write_strings(top.get(), "type", {}, {"NIRGraph"}, root);
    const auto nodes = d::h5_new_group(top.get(), "nodes", root);
    std::vector<std::string> edges;
    for (std::size_t k = 0; k < program.size(); ++k) {
        const auto b = static_cast<unsigned char>(program[k]);
        const std::string type = types[b % 10], name = "n" + std::to_string(k);
        const bool omit = b & 0x10, wrong_rank = b & 0x20;
        const auto g = d::h5_new_group(nodes.get(), name, root);
        d::h5_write_strings(g.get(), "type", {}, {type}, root);
        std::size_t written = 0;
        // A parameter of `dims` (the wrong rank when asked), integers or floats from the pools.
        const auto param = [&](const std::string& pname, std::vector<hsize_t> dims, bool integers) {
            if (omit && written++ == 0) return;
            if (wrong_rank) dims.push_back(1);
            std::size_t n = 1;
            for (const hsize_t e : dims) n *= static_cast<std::size_t>(e);
            if (integers) {
                std::vector<std::int64_t> v(n);
                for (auto& x : v) x = p.integer(-1, 6);
                d::h5_write(g.get(), pname, dims, v.data(), root);
            } else {
                std::vector<float> v(n);
                for (auto& x : v) x = p.real();
                d::h5_write(g.get(), pname, dims, v.data(), root);
            }
        };
        const auto dim = [&] { return static_cast<hsize_t>(p.integer(1, 5)); };
        if (type == "Input" || type == "Output") {
            param("shape", {static_cast<hsize_t>(p.integer(1, 3))}, true);
        } else if (type == "Conv2d") {
            const hsize_t k3 = dim();
            param("weight", {dim(), dim(), k3, k3}, false);
            param("bias", {dim()}, false);
            param("stride", {2}, true);
            param("padding", {2}, true);
            param("dilation", {2}, true);
            param("groups", {}, true);
        } else if (type == "AvgPool2d") {
            param("kernel_size", {2}, true);
            param("stride", {2}, true);
            param("padding", {2}, true);
        } else if (type == "Affine" || type == "Linear") {
            param("weight", {dim(), static_cast<hsize_t>(p.integer(1, 40))}, false);
            if (type == "Affine") param("bias", {dim()}, false);
        } else if (type == "IF" || type == "LIF" || type == "CubaLIF") {
            const hsize_t n = static_cast<hsize_t>(p.integer(1, 40));
            for (const char* q : {"r", "v_threshold", "v_reset", "tau", "v_leak"}) param(q, {p.integer(0, 1) ? n : 1}, false);
        }
        // The edge to the next node, or elsewhere.
        if (k + 1 < program.size()) {
            edges.push_back(name);
            edges.push_back((b & 0x40) ? "n" + std::to_string(p.integer(0, static_cast<std::int64_t>(program.size()))) : "n" + std::to_string(k + 1));
        }
    }
    d::h5_write_strings(top.get(), "edges", {edges.size() / 2, 2}, edges, root);
    fuzz::expect_only_snn2ann_errors([&] {
        const s::deploy::graph g = s::io::parse_nir(file.get(), "fuzz.nir");
        s::model<small_net, s::timesteps<2>> m;
        s::deploy::load_graph(m, g);
        s::inference<small_net, s::timesteps<2>> engine{g};
        const std::vector<float> x(16, 0.75f);
        (void)engine.predict(x.data(), 1);
    });
    // The same file read as written (any node type) and run by the runtime engine.
    fuzz::expect_only_snn2ann_errors([&] {
        const s::deploy::runtime engine(s::io::parse_nir_graph(file.get(), "fuzz.nir"));
        const std::vector<float> x(2 * engine.input_size(), 0.75f);
        (void)engine.run(x.data(), 2, 1, engine.nodes());
    });
    return 0;
}
