// NIR export and import (io/nir.hpp): the round trip gives identical SNN outputs, what NIR
// cannot say is refused with its sentence, a graph of another shape names the first node
// that differs, and damaged or foreign files are refused with the file, the node and why.
// The file's layout and a numpy simulator of it are checked from Python (tests/nir/).
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <snn2ann/deploy/inference.hpp>
#include <snn2ann/io/nir.hpp>
#include <snn2ann/snn2ann.hpp>
#include "scratch_path.hpp"

namespace s = snn2ann;
namespace fs = std::filesystem;

namespace {
constexpr int T = 4;
using net = s::network<s::input<2, 10, 10>, s::conv<4, 3>, s::batch_norm, s::avg_pool<2>, s::spiking<s::if_neuron<>>,
                       s::conv<6, 3, 1, 0>, s::spiking<s::lif_neuron<2>>, s::flatten, s::linear<12>, s::batch_norm,
                       s::spiking<s::if_neuron<>>, s::dropout<1, 2>, s::linear<3>>;

fs::path scratch(const std::string& name) {
    const fs::path dir = snn2ann_test::scratch_path("nir");
    fs::create_directories(dir);
    return dir / name;
}

std::vector<float> inputs(std::size_t n, std::size_t size) {
    std::vector<float> x(n * size);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>((i * 2654435761u) % 1000) / 400.0f;
    return x;
}

// A model whose batch norms hold statistics of their own (not the initial 0 and 1).
s::model<net, s::timesteps<T>> trained_looking(std::uint64_t seed) {
    s::model<net, s::timesteps<T>> m{s::seed{seed}};
    for (std::size_t i = 0; i < m.state().size(); ++i) m.state()[i] += 0.05f * static_cast<float>(i % 7);
    return m;
}

template <class Model>
std::vector<float> snn_scores(Model& m, const std::vector<float>& x, std::size_t n) {
    const float* y = m.snn().forward(x.data(), n);
    return {y, y + n * 3};
}

template <class F>
std::string message_of(F&& f) {
    try {
        f();
    } catch (const std::exception& e) {
        return e.what();
    }
    return "(no exception)";
}
}  // namespace

TEST_CASE("NIR: export, import, and the SNN outputs are identical; the file lists the graph's nodes") {
    auto a = trained_looking(1);
    const std::string path = scratch("round.nir").string();
    s::io::save_nir(a, path);
    const auto g = s::io::read_nir(path);
    std::vector<std::string> names;
    for (const auto& n : g.nodes) names.push_back(n.name);
    CHECK(names == std::vector<std::string>{"input", "conv0", "avgpool2", "if3", "conv4", "lif5", "flatten6", "affine7",
                                            "if9", "affine11", "output"});
    CHECK(g.timesteps == T);
    CHECK(g.nodes[5].tau == 2);
    s::model<net, s::timesteps<T>> b{s::seed{2}};
    s::io::load_nir(b, path);
    const auto x = inputs(9, 200);
    CHECK(snn_scores(a, x, 9) == snn_scores(b, x, 9));
    // The graph of the imported model is the file's, bit for bit.
    const auto again = s::deploy::graph_of(b);
    for (std::size_t k = 0; k < g.nodes.size(); ++k) {
        CAPTURE(g.nodes[k].name);
        CHECK(again.nodes[k].weight == g.nodes[k].weight);
        CHECK(again.nodes[k].bias == g.nodes[k].bias);
        CHECK(again.nodes[k].threshold == g.nodes[k].threshold);
    }
}

TEST_CASE("NIR: biases are per step, b' / T before the last spiking layer and b' in the head") {
    auto m = trained_looking(3);
    const auto g = s::deploy::graph_of(m);
    // conv0 is folded with the BN after it: b' = a (b - mean) + beta; it adds b' / T per step.
    const float* p = m.parameters().data();
    const float* st = m.state().data();
    using ex = decltype(m)::executor;
    const float gamma = p[ex::param_offsets[1]], beta = p[ex::param_offsets[1] + 4];
    const float mean = st[ex::state_offsets[1]], var = st[ex::state_offsets[1] + 4];
    const float a = gamma / std::sqrt(var + s::batch_norm::eps);
    const float folded = a * (p[ex::param_offsets[0] + 2 * 9 * 4] - mean) + beta;
    CHECK(g.nodes[1].bias[0] == folded * (1.0f / T));
    CHECK(g.nodes[1].weight[0] == a * p[ex::param_offsets[0]]);
    // The head's bias is whole.
    CHECK(g.nodes[9].bias[0] == p[ex::param_offsets[11] + 12 * 3]);
}

TEST_CASE("NIR: what NIR cannot say is refused with a sentence, and nothing is written") {
    const std::string path = scratch("refused.nir").string();
    fs::remove(path);
    using max_pooled = s::network<s::input<1, 8, 8>, s::conv<2, 3>, s::batch_norm, s::max_pool<2>, s::spiking<s::if_neuron<>>,
                                  s::flatten, s::linear<3>>;
    s::model<max_pooled, s::timesteps<T>> mp;
    CHECK(message_of([&] { s::io::save_nir(mp, path); }) ==
          "snn2ann: io::save_nir: layer 2 is max_pool<2, stride 2> of currents, which NIR has no primitive for: train the "
          "network with avg_pool<K> in its place");
    CHECK_FALSE(fs::exists(path));
    using subtracting = s::network<s::input<1, 8, 8>, s::conv<2, 3>, s::spiking<s::if_neuron<s::reset::by_subtraction>>,
                                   s::flatten, s::linear<3>>;
    s::model<subtracting, s::timesteps<T>> sub;
    CHECK(message_of([&] { s::io::save_nir(sub, path); }).find("layer 1 resets by subtraction: NIR's IF and LIF neurons reset "
                                                              "to v_reset") != std::string::npos);
    using inclusive = s::network<s::input<1, 8, 8>, s::conv<2, 3>,
                                 s::spiking<s::if_neuron<s::reset::to_zero, s::firing::inclusive>>, s::flatten, s::linear<3>>;
    s::model<inclusive, s::timesteps<T>> inc;
    CHECK(message_of([&] { s::io::save_nir(inc, path); }).find("fires at V >= threshold") != std::string::npos);
    using relu_net = s::network<s::input<1, 8, 8>, s::conv<2, 3>, s::relu, s::spiking<s::if_neuron<>>, s::flatten, s::linear<3>>;
    s::model<relu_net, s::timesteps<T>> r;
    CHECK(message_of([&] { s::io::save_nir(r, path); }).find("layer 1 is relu, which a graph of NIR primitives cannot hold") !=
          std::string::npos);
    using plif = s::network<s::input<1, 8, 8>, s::conv<2, 3>, s::spiking<s::plif_neuron<>>, s::flatten, s::linear<3>>;
    s::model<plif, s::timesteps<T>> pl;
    CHECK(message_of([&] { s::io::save_nir(pl, path); }).find("PLIF") != std::string::npos);
    CHECK_FALSE(fs::exists(path));
}

TEST_CASE("NIR: a graph of another shape is refused naming the first node that differs; the model is unchanged") {
    auto a = trained_looking(1);
    const std::string path = scratch("shape.nir").string();
    s::io::save_nir(a, path);
    using wider = s::network<s::input<2, 10, 10>, s::conv<4, 3>, s::batch_norm, s::avg_pool<2>, s::spiking<s::if_neuron<>>,
                             s::conv<8, 3, 1, 0>, s::spiking<s::lif_neuron<2>>, s::flatten, s::linear<12>, s::batch_norm,
                             s::spiking<s::if_neuron<>>, s::linear<3>>;
    s::model<wider, s::timesteps<T>> w{s::seed{5}};
    const std::vector<float> before(w.parameters().begin(), w.parameters().end());
    CHECK(message_of([&] { s::io::load_nir(w, path); }) ==
          "snn2ann: io::load_nir: " + path + ": the graph differs from the network at node 4, Conv2d 'conv4' (4x5x5 -> "
          "6x3x3): the network has layer 4, conv<8, 3, stride 1, padding 0, bias> (Conv2d, 4x5x5 -> 8x3x3)");
    CHECK(std::vector<float>(w.parameters().begin(), w.parameters().end()) == before);
    using leakier = s::network<s::input<2, 10, 10>, s::conv<4, 3>, s::batch_norm, s::avg_pool<2>, s::spiking<s::if_neuron<>>,
                               s::conv<6, 3, 1, 0>, s::spiking<s::lif_neuron<3>>, s::flatten, s::linear<12>, s::batch_norm,
                               s::spiking<s::if_neuron<>>, s::linear<3>>;
    s::model<leakier, s::timesteps<T>> l;
    CHECK(message_of([&] { s::io::load_nir(l, path); }).find("node 5, LIF 'lif5' (6x3x3 -> 6x3x3): the network has layer 5, "
                                                            "spiking<lif_neuron<tau 3") != std::string::npos);
}

TEST_CASE("NIR: damaged and foreign files are refused with the file, the node and why") {
    namespace d = s::detail;
    const auto refuses = [](const std::string& name, auto&& build, const std::string& what) {
        const std::string path = scratch(name).string();
        {
            const d::h5_quiet quiet;
            const d::h5_place root{path, "/"};
            const auto file = d::h5_create(path);
            build(file.get(), root);
        }
        CAPTURE(name);
        const std::string m = message_of([&] { s::io::read_nir(path); });
        CHECK(m.find(path + ": ") != std::string::npos);
        CHECK(m.find(what) != std::string::npos);
        if (m.find(what) == std::string::npos) MESSAGE(m);
    };
    // A minimal graph (Input -> IF -> Output) with one thing changed by `tweak`.
    const auto graph = [](const std::string& tweak) {
        return [tweak](hid_t f, const d::h5_place& root) {
            d::h5_write_strings(f, "version", {}, {"1.0.7"}, root / "version");
            const auto top = d::h5_new_group(f, "node", root / "node");
            d::h5_write_strings(top.get(), "type", {}, {"NIRGraph"}, root / "node");
            const auto nodes = d::h5_new_group(top.get(), "nodes", root / "node");
            const auto node = [&](const std::string& n, const std::string& type) {
                auto g = d::h5_new_group(nodes.get(), n, root);
                d::h5_write_strings(g.get(), "type", {}, {type}, root);
                return g;
            };
            const std::vector<std::int64_t> shape{3};
            const std::vector<float> ones(3, 1.0f), zeros(3, 0.0f), half(3, 0.5f);
            {
                auto g = node("input", "Input");
                d::h5_write(g.get(), "shape", {1}, shape.data(), root);
            }
            {
                auto g = node("if", tweak == "unknown" ? "CubaLIF" : "IF");
                d::h5_write(g.get(), "r", {3}, (tweak == "r" ? half : ones).data(), root);
                d::h5_write(g.get(), "v_threshold", {3}, half.data(), root);
                d::h5_write(g.get(), "v_reset", {3}, (tweak == "reset" ? half : zeros).data(), root);
            }
            {
                auto g = node("output", "Output");
                d::h5_write(g.get(), "shape", {1}, shape.data(), root);
            }
            std::vector<std::string> edges{"input", "if", "if", "output"};
            if (tweak == "fork") edges = {"input", "if", "if", "output", "if", "input"};
            if (tweak == "missing") edges = {"input", "if", "if", "nowhere"};
            if (tweak == "short") edges = {"input", "if"};
            d::h5_write_strings(top.get(), "edges", {edges.size() / 2, 2}, edges, root);
        };
    };
    {
        const std::string good = scratch("good.nir").string();
        {
            const d::h5_quiet quiet;
            const auto file = d::h5_create(good);
            graph("none")(file.get(), d::h5_place{good, "/"});
        }
        CHECK(s::io::read_nir(good).nodes.size() == 3);
    }
    refuses("reset.nir", graph("reset"), "/node/nodes/if/v_reset: holds 0.500000 where the library needs 0.000000");
    refuses("r.nir", graph("r"), "/node/nodes/if/r: holds 0.500000 where the library needs 1.000000");
    refuses("unknown.nir", graph("unknown"), "/node/nodes/if/type: is 'CubaLIF', a node the library does not read");
    refuses("fork.nir", graph("fork"), "give node 'if' two successors");
    refuses("missing.nir", graph("missing"), "/node/edges: names 'nowhere', which is not a node");
    refuses("short.nir", graph("short"), "/node/edges: end at node 'if', which is not the Output node");
    refuses("no_version.nir", [](hid_t, const d::h5_place&) {}, "/version: is missing: not a NIR file");
    const std::string text = scratch("text.nir").string();
    { std::ofstream(text) << "not hdf5"; }
    CHECK(message_of([&] { s::io::read_nir(text); }).find(text + ": not an HDF5 file") != std::string::npos);
}

TEST_CASE("NIR: the inference engine built from the file predicts what the training model's SNN branch does") {
    auto a = trained_looking(7);
    const std::string path = scratch("engine.nir").string();
    s::io::save_nir(a, path);
    s::inference<net, s::timesteps<T>> engine{s::io::read_nir(path)};
    const auto x = inputs(16, 200);
    const auto ours = snn_scores(a, x, 16);
    const float* y = engine.predict(x.data(), 16);
    for (std::size_t i = 0; i < ours.size(); ++i) CHECK(y[i] == doctest::Approx(ours[i]).epsilon(1e-5));
    using other = s::network<s::input<2, 10, 10>, s::conv<4, 3>, s::avg_pool<2>, s::spiking<s::if_neuron<>>, s::flatten,
                             s::linear<3>>;
    CHECK(message_of([&] { s::inference<other, s::timesteps<T>> bad{s::io::read_nir(path)}; })
              .find("the graph differs from the network at node 4, Conv2d 'conv4'") != std::string::npos);
}
