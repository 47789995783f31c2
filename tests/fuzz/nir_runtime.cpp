// The runtime engine (deploy::runtime) on any graph a NIR file can hold, built in memory:
// the input is a program of up to 16 nodes (a type each, of NIR's and others; parameters
// left out, of the wrong size, disagreeing with their own dimensions, or with values from
// a pool that holds NaN, infinities, negatives and huge numbers; a padding given as text),
// edges to the next node and elsewhere (fan-in, recurrent edges, self-loops, edges into
// the Input), and the run's dt, method, reset, path (dense, event-driven, automatic at any
// crossover), steps, batch and whether one frame repeats at every step. Every check the
// engine makes of a graph is fuzzed here without HDF5 in between (the nir and nir_graph
// harnesses cover the file readers), so it runs fast.
#include <cstring>
#include <string>
#include <vector>

#include <snn2ann/deploy/runtime.hpp>

#include "fuzz_files.hpp"

namespace {
namespace s = snn2ann;

using fuzz::pools;

const char* const types[] = {"Input", "Output",    "Affine", "Linear", "Scale", "Conv1d", "Conv2d", "AvgPool2d",
                             "SumPool2d", "Flatten", "Threshold", "Delay", "I", "IF", "LI", "LIF", "CubaLI", "CubaLIF",
                             "NIRGraph", "MaxPool2d"};
constexpr std::size_t type_count = sizeof(types) / sizeof(types[0]);
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto parts = fuzz::split(data, size, 3);
    const std::string_view program = parts[0].substr(0, 16);
    pools p{parts[1], parts[2]};
    s::deploy::nir_graph g;
    g.source = "fuzz.nir";
    for (std::size_t k = 0; k < program.size(); ++k) {
        const auto b = static_cast<unsigned char>(program[k]);
        s::deploy::nir_node n;
        n.name = "n" + std::to_string(k);
        n.type = k == 0 && !(b & 0x80) ? "Input" : types[b % type_count];
        const bool omit = b & 0x10, wrong_size = b & 0x20, inconsistent = (b & 0x28) == 0x28;
        std::size_t written = 0;
        // A parameter of `dims` (one more along the first when asked, or one value more than
        // its dimensions say), integers or reals from the pools.
        const auto param = [&](const std::string& name, std::vector<std::int64_t> dims, bool integers) {
            if (omit && written++ == 0) return;
            s::deploy::nir_tensor t;
            t.dims = std::move(dims);
            if (wrong_size) {
                if (t.dims.empty()) t.dims = {2};
                else ++t.dims[0];
            }
            std::size_t count = t.count() + (inconsistent ? 1 : 0);
            for (std::size_t i = 0; i < count; ++i) t.values.push_back(integers ? static_cast<double>(p.integer(-1, 6)) : p.real());
            n.parameters[name] = std::move(t);
        };
        const auto dim = [&] { return p.integer(1, 5); };
        const std::string& t = n.type;
        if (t == "Input" || t == "Output") {
            std::vector<std::int64_t> shape;
            const std::int64_t rank = p.integer(1, 3);
            for (std::int64_t r = 0; r < rank; ++r) shape.push_back(dim());
            param(p.integer(0, 1) ? "shape" : (t == "Input" ? "input_type" : "output_type"), {rank}, true);
            if (n.has("shape") || n.has("input_type") || n.has("output_type"))
                for (auto& [name, tensor] : n.parameters)
                    for (std::size_t i = 0; i < tensor.values.size() && i < shape.size(); ++i) tensor.values[i] = static_cast<double>(shape[i]);
        } else if (t == "Affine" || t == "Linear") {
            param("weight", {dim(), p.integer(1, 40)}, false);
            if (t == "Affine") param("bias", {dim()}, false);
        } else if (t == "Scale" || t == "Threshold") {
            param(t == "Scale" ? "scale" : "threshold", {p.integer(0, 1) ? p.integer(1, 40) : 1}, false);
        } else if (t == "Conv1d" || t == "Conv2d") {
            const bool two = t == "Conv2d";
            two ? param("weight", {dim(), dim(), dim(), dim()}, false) : param("weight", {dim(), dim(), dim()}, false);
            param("bias", {dim()}, false);
            param("stride", {p.integer(1, 2)}, true);
            if (p.integer(0, 3) == 0) n.texts["padding"] = p.integer(0, 2) == 0 ? "same" : p.integer(0, 1) ? "valid" : "full";
            else param("padding", {p.integer(1, 2)}, true);
            param("dilation", {p.integer(1, 2)}, true);
            param("groups", {}, true);
            if (p.integer(0, 1)) param("input_shape", {two ? 2 : 1}, true);
        } else if (t == "AvgPool2d" || t == "SumPool2d") {
            param("kernel_size", {2}, true);
            param("stride", {2}, true);
            param("padding", {2}, true);
        } else if (t == "Flatten") {
            param("start_dim", {}, true);
            param("end_dim", {}, true);
            param("input_type", {p.integer(1, 3)}, true);
        } else if (t == "Delay") {
            param("delay", {p.integer(0, 1) ? p.integer(1, 40) : 1}, false);
        } else if (t != "NIRGraph" && t != "MaxPool2d") {  // the neurons
            const std::int64_t count = p.integer(0, 1) ? p.integer(1, 40) : 1;
            for (const char* q : {"r", "v_threshold", "v_reset", "tau", "v_leak", "tau_mem", "tau_syn", "w_in"})
                param(q, {p.integer(0, 1) ? count : 1}, false);
        }
        g.nodes.push_back(std::move(n));
        // The edge to the next node; sometimes another, anywhere (fan-in, cycles, self-loops).
        if (k + 1 < program.size()) g.edges.emplace_back("n" + std::to_string(k), "n" + std::to_string(k + 1));
        if (b & 0x40)
            g.edges.emplace_back("n" + std::to_string(k), "n" + std::to_string(p.integer(0, static_cast<std::int64_t>(program.size()))));
    }
    s::deploy::runtime_options options;
    options.dt = p.integer(0, 7) == 0 ? p.real() : std::ldexp(1.0, static_cast<int>(p.integer(-12, 2)));
    options.method = p.integer(0, 1) ? s::deploy::discretisation::forward_euler : s::deploy::discretisation::exponential;
    options.reset = p.integer(0, 1) ? s::deploy::reset_rule::to_v_reset : s::deploy::reset_rule::subtract_threshold;
    const s::deploy::path paths[] = {s::deploy::path::automatic, s::deploy::path::dense, s::deploy::path::event_driven};
    options.path = paths[p.integer(0, 2)];
    if (p.integer(0, 7) == 0) options.event_driven_below = static_cast<double>(p.real());
    const std::size_t steps = static_cast<std::size_t>(p.integer(0, 4)), batch = static_cast<std::size_t>(p.integer(1, 2));
    const bool repeated = p.integer(0, 1);  // one frame at every step (the products keep their outputs)
    fuzz::expect_only_snn2ann_errors([&] {
        const s::deploy::runtime engine(g, options);
        std::vector<float> frames(steps * batch * engine.input_size());
        for (float& x : frames) x = static_cast<float>(p.real());
        if (repeated)
            for (std::size_t t = 1; t < steps; ++t)
                std::copy(frames.begin(), frames.begin() + static_cast<std::ptrdiff_t>(batch * engine.input_size()),
                          frames.begin() + static_cast<std::ptrdiff_t>(t * batch * engine.input_size()));
        std::vector<std::string> record;
        for (const std::string& name : engine.nodes())
            if (p.integer(0, 1)) record.push_back(name);
        const auto r = engine.run(frames.data(), steps, batch, record);
        if (r.output.size() != steps * batch * engine.output_size()) std::abort();
        (void)engine.describe();
    });
    return 0;
}
