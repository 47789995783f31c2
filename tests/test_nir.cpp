// NIR export and import (io/nir.hpp): the round trip gives identical SNN outputs, what NIR
// cannot say is refused with its sentence, a graph of another shape names the first node
// that differs, and damaged or foreign files are refused with the file, the node and why.
// The file's layout and a numpy simulator of it are checked from Python (tests/nir/).
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <snn2ann/deploy/inference.hpp>
#include <snn2ann/deploy/runtime.hpp>
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
    refuses("unknown.nir", graph("unknown"), "/node/nodes/if/type: is 'CubaLIF', a node the library does not read into a network");
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

// The runtime engine (deploy/runtime.hpp): any NIR graph, no network type.
namespace {
s::deploy::nir_tensor tensor(std::vector<std::int64_t> dims, std::vector<double> values) { return {std::move(dims), std::move(values)}; }
s::deploy::nir_node nir_node(std::string name, std::string type, std::map<std::string, s::deploy::nir_tensor> p = {}) {
    s::deploy::nir_node n;
    n.name = std::move(name), n.type = std::move(type), n.parameters = std::move(p);
    return n;
}
}  // namespace

TEST_CASE("NIR runtime: a network exported here and read back spikes as its SNN branch, count for count") {
    auto a = trained_looking(7);
    const std::string path = scratch("runtime.nir").string();
    s::io::save_nir(a, path);
    const s::deploy::nir_graph g = s::io::read_nir_graph(path);
    CHECK(g.version == s::io::nir_version);
    CHECK(g.nodes.size() == 11);
    // Every node says its input and output types (NIR 1.0's nir.read checks them), and the
    // graph its dt and time unit.
    for (const auto& node : g.nodes) {
        CAPTURE(node.name);
        CHECK(node.has("input_type"));
        CHECK(node.has("output_type"));
    }
    CHECK(g.find("flatten6")->parameters.at("input_type").values == std::vector<double>{6, 3, 3});
    CHECK(g.find("flatten6")->parameters.at("output_type").values == std::vector<double>{54});
    CHECK(g.metadata.at("dt").values == std::vector<double>{1.0});
    const s::deploy::runtime engine(g);  // dt 1, forward Euler: the library's own IF and LIF
    CHECK(engine.input_size() == 200);
    CHECK(engine.output_size() == 3);
    CHECK(engine.nodes() == std::vector<std::string>{"input", "conv0", "avgpool2", "if3", "conv4", "lif5", "flatten6", "affine7",
                                                     "if9", "affine11", "output"});
    constexpr std::size_t n = 16;
    const auto x = inputs(n, 200);
    std::vector<float> frames;
    for (int t = 0; t < T; ++t) frames.insert(frames.end(), x.begin(), x.end());
    const auto r = engine.run(frames.data(), T, n, {"if3", "lif5", "if9"});
    // The scores are the mean of the Output's T steps (the file's metadata says so).
    const auto ours = snn_scores(a, x, n);
    // Every spiking layer's spike count, neuron by neuron, is the SNN branch's (the branch
    // just ran these samples and keeps its counts), on every path: dense, event-driven, and
    // chosen step by step (the image dense, the spikes event-driven).
    std::vector<std::vector<float>> branch_counts;
    a.layers().for_each_layer_deep([&](auto& l, const s::detail::layer_position&) {
        if constexpr (s::detail::spiking_layer<std::remove_cvref_t<decltype(l)>>)
            branch_counts.emplace_back(l.counts(), l.counts() + n * l.neurons);
    });
    REQUIRE(branch_counts.size() == 3);
    for (const auto path : {s::deploy::path::automatic, s::deploy::path::dense, s::deploy::path::event_driven}) {
        CAPTURE(static_cast<int>(path));
        s::deploy::runtime_options options;
        options.path = path;
        const auto run = s::deploy::runtime(g, options).run(frames.data(), T, n, {"if3", "lif5", "if9"});
        std::size_t compared = 0;
        for (std::size_t k = 0; k < 3; ++k) {
            const auto& trace = run.trace(std::vector<std::string>{"if3", "lif5", "if9"}[k]);
            for (std::size_t i = 0; i < n * trace.size; ++i) {
                float count = 0.0f;
                for (int t = 0; t < T; ++t) count += trace.output[static_cast<std::size_t>(t) * n * trace.size + i];
                if (count != branch_counts[k][i]) FAIL_CHECK("layer " << k << ", value " << i << ": " << count << " against " << branch_counts[k][i]);
                ++compared;
            }
        }
        CHECK(compared == n * (4 * 5 * 5 + 6 * 3 * 3 + 12));
    }
    for (std::size_t i = 0; i < n * 3; ++i) {
        float sum = 0.0f;
        for (int t = 0; t < T; ++t) sum += r.output[static_cast<std::size_t>(t) * n * 3 + i];
        CHECK(sum / T == doctest::Approx(ours[i]).epsilon(1e-5).scale(1e-5));
    }
    // The scores are the same up to rounding (sums in other orders); the spiking layers
    // before the head fired, not everywhere (the untrained head's layer stays silent).
    for (const std::string node : {"if3", "lif5", "if9"}) {
        const auto& trace = r.trace(node);
        const auto spikes = std::count(trace.output.begin(), trace.output.end(), 1.0f);
        CAPTURE(node);
        CHECK(spikes == std::count_if(trace.output.begin(), trace.output.end(), [](float v) { return v != 0.0f; }));
        if (node != "if9") CHECK(spikes > 0);
        CHECK(static_cast<std::size_t>(spikes) < trace.output.size());
        CHECK(trace.membrane.size() == trace.output.size());
    }
    // Deterministic, and a sample alone gives what it gave in the batch.
    CHECK(engine.run(frames.data(), T, n).output == r.output);
    std::vector<float> one;
    for (int t = 0; t < T; ++t) one.insert(one.end(), x.begin() + 200 * 5, x.begin() + 200 * 6);
    const auto alone = engine.run(one.data(), T, 1);
    for (int t = 0; t < T; ++t)
        for (std::size_t o = 0; o < 3; ++o) CHECK(alone.output[static_cast<std::size_t>(t) * 3 + o] == r.output[(static_cast<std::size_t>(t) * n + 5) * 3 + o]);
}

TEST_CASE("NIR runtime: a recurrent edge carries the step before; fan-in sums; LIF and CubaLIF step as NIR defines them") {
    // input -> affine -> lif -> output, lif -> rec -> lif (recurrent), and input -> scale -> lif (fan-in).
    s::deploy::nir_graph g;
    g.nodes = {nir_node("input", "Input", {{"shape", tensor({1}, {2})}}),
               nir_node("affine", "Affine", {{"weight", tensor({2, 2}, {0.5, 0.25, -0.125, 1.0})}, {"bias", tensor({2}, {0.1, 0.0})}}),
               nir_node("rec", "Linear", {{"weight", tensor({2, 2}, {0.0, -0.75, 0.5, 0.0})}}),
               nir_node("scale", "Scale", {{"scale", tensor({}, {0.25})}}),
               nir_node("lif", "LIF", {{"tau", tensor({2}, {4.0, 2.5})}, {"r", tensor({}, {2.0})}, {"v_leak", tensor({2}, {0.0, 0.1})},
                                       {"v_threshold", tensor({}, {0.3})}, {"v_reset", tensor({}, {-0.05})}}),
               nir_node("output", "Output", {{"shape", tensor({1}, {2})}})};
    g.edges = {{"input", "affine"}, {"affine", "lif"}, {"lif", "rec"}, {"rec", "lif"}, {"input", "scale"}, {"scale", "lif"},
               {"lif", "output"}};
    const double dt = 0.5;
    for (const auto method : {s::deploy::discretisation::forward_euler, s::deploy::discretisation::exponential}) {
        CAPTURE(static_cast<int>(method));
        const s::deploy::runtime engine(g, {dt, method, s::deploy::reset_rule::to_v_reset});
        CHECK(engine.describe().find("lif  LIF  [2] -> [2]  from affine rec(t-1) scale") != std::string::npos);
        const std::vector<float> frames = {1.0f, 0.5f, 0.0f, 1.0f, 1.5f, 0.0f, 0.2f, 0.2f, 1.0f, 1.0f, 0.0f, 0.0f};
        const auto r = engine.run(frames.data(), 6, 1, {"lif"});
        // The same dynamics in double, step by step.
        double v[2] = {0, 0}, z[2] = {0, 0};
        const double tau[2] = {4.0, 2.5}, leak[2] = {0.0, 0.1};
        int spikes = 0;
        for (std::size_t t = 0; t < 6; ++t) {
            const double x0 = frames[2 * t], x1 = frames[2 * t + 1];
            const double in[2] = {0.5 * x0 + 0.25 * x1 + 0.1 - 0.75 * z[1] + 0.25 * x0, -0.125 * x0 + 1.0 * x1 + 0.5 * z[0] + 0.25 * x1};
            for (int i = 0; i < 2; ++i) {
                if (method == s::deploy::discretisation::forward_euler)
                    v[i] += dt / tau[i] * (leak[i] - v[i] + 2.0 * in[i]);
                else
                    v[i] = leak[i] + (v[i] - leak[i]) * std::exp(-dt / tau[i]) + 2.0 * in[i] * (1 - std::exp(-dt / tau[i]));
                z[i] = v[i] > 0.3 ? 1.0 : 0.0;
                if (z[i] > 0) v[i] = -0.05, ++spikes;
                CAPTURE(t);
                CAPTURE(i);
                CHECK(r.output[2 * t + i] == static_cast<float>(z[i]));
                CHECK(r.trace("lif").membrane[2 * t + i] == doctest::Approx(v[i]).epsilon(1e-5));
            }
        }
        CHECK(spikes >= 3);  // the recurrent weights mattered
    }
    // CubaLIF: the current first, then the membrane with the new current.
    s::deploy::nir_graph c;
    c.nodes = {nir_node("input", "Input", {{"shape", tensor({1}, {1})}}),
               nir_node("cuba", "CubaLIF", {{"tau_syn", tensor({1}, {2.0})}, {"tau_mem", tensor({1}, {4.0})}, {"r", tensor({1}, {1.5})},
                                            {"v_leak", tensor({1}, {0.0})}, {"v_threshold", tensor({1}, {0.4})}, {"w_in", tensor({1}, {2.0})}}),
               nir_node("output", "Output", {{"shape", tensor({1}, {1})}})};
    c.edges = {{"input", "cuba"}, {"cuba", "output"}};
    for (const auto reset : {s::deploy::reset_rule::to_v_reset, s::deploy::reset_rule::subtract_threshold}) {
        const s::deploy::runtime engine(c, {1.0, s::deploy::discretisation::forward_euler, reset});
        const std::vector<float> frames = {1, 1, 1, 0, 0, 1, 1, 1, 0, 0};
        const auto r = engine.run(frames.data(), frames.size(), 1, {"cuba"});
        double i = 0, v = 0;
        for (std::size_t t = 0; t < frames.size(); ++t) {
            i += 1.0 / 2.0 * (-i + 2.0 * frames[t]);
            v += 1.0 / 4.0 * (-v + 1.5 * i);
            const bool spike = v > 0.4;
            if (spike) v = reset == s::deploy::reset_rule::to_v_reset ? 0.0 : v - 0.4;
            CAPTURE(t);
            CHECK(r.output[t] == (spike ? 1.0f : 0.0f));
            CHECK(r.trace("cuba").membrane[t] == doctest::Approx(v).epsilon(1e-5));
        }
    }
}

TEST_CASE("NIR runtime: convolutions with groups, stride, dilation and padding, pooling and delays against direct sums") {
    // Conv2d: 4 -> 6 channels in 2 groups, kernel 3 x 2, stride [2, 1], padding [1, 2], dilation [1, 2], on 4 x 7 x 6.
    const int C = 4, H = 7, W = 6, O = 6, G = 2, KH = 3, KW = 2, SH = 2, SW = 1, PH = 1, PW = 2, DH = 1, DW = 2;
    std::vector<double> w(static_cast<std::size_t>(O * (C / G) * KH * KW)), b(O);
    for (std::size_t i = 0; i < w.size(); ++i) w[i] = static_cast<double>((i * 37) % 17) / 8.0 - 1.0;
    for (int o = 0; o < O; ++o) b[static_cast<std::size_t>(o)] = 0.125 * o;
    s::deploy::nir_graph g;
    g.nodes = {nir_node("input", "Input", {{"shape", tensor({3}, {C, H, W})}}),
               nir_node("conv", "Conv2d", {{"weight", tensor({O, C / G, KH, KW}, w)}, {"bias", tensor({O}, b)}, {"stride", tensor({2}, {SH, SW})},
                                           {"padding", tensor({2}, {PH, PW})}, {"dilation", tensor({2}, {DH, DW})}, {"groups", tensor({}, {G})}}),
               nir_node("pool", "SumPool2d", {{"kernel_size", tensor({2}, {2, 2})}, {"stride", tensor({2}, {1, 2})}, {"padding", tensor({2}, {1, 0})}}),
               nir_node("delay", "Delay", {{"delay", tensor({}, {2.0})}}),
               nir_node("output", "Output")};
    g.edges = {{"input", "conv"}, {"conv", "pool"}, {"pool", "delay"}, {"delay", "output"}};
    const s::deploy::runtime engine(g);
    const int OH = (H + 2 * PH - DH * (KH - 1) - 1) / SH + 1, OW = (W + 2 * PW - DW * (KW - 1) - 1) / SW + 1;
    CHECK(engine.describe().find("conv  Conv2d  [4, 7, 6] -> [6, " + std::to_string(OH) + ", " + std::to_string(OW) + "]") != std::string::npos);
    const int PHo = (OH + 2 - 2) / 1 + 1, PWo = (OW - 2) / 2 + 1;
    REQUIRE(engine.output_dims() == std::vector<std::int64_t>{O, PHo, PWo});
    std::vector<float> frames(static_cast<std::size_t>(3 * C * H * W));
    for (std::size_t i = 0; i < frames.size(); ++i) frames[i] = (i * 7) % 5 == 0 ? 0.0f : static_cast<float>((i * 13) % 11) / 4.0f;
    const auto r = engine.run(frames.data(), 3, 1);
    // The dense path (one product per group) and the event-driven one (each nonzero input's
    // weights): weights in eighths and inputs in quarters make every sum exact, so both give
    // the same bits in their different orders.
    for (const auto path : {s::deploy::path::dense, s::deploy::path::event_driven}) {
        s::deploy::runtime_options options;
        options.path = path;
        CHECK(s::deploy::runtime(g, options).run(frames.data(), 3, 1).output == r.output);
    }
    s::deploy::runtime_options sparse;
    sparse.path = s::deploy::path::dense;
    const auto dense_run = s::deploy::runtime(g, sparse).run(frames.data(), 3, 1, {"conv"});
    sparse.path = s::deploy::path::event_driven;
    CHECK(s::deploy::runtime(g, sparse).run(frames.data(), 3, 1, {"conv"}).trace("conv").output == dense_run.trace("conv").output);
    const float* x = frames.data();  // step 0 comes out at step 2
    for (int o = 0; o < O; ++o)
        for (int py = 0; py < PHo; ++py)
            for (int px = 0; px < PWo; ++px) {
                double pooled = 0;
                for (int ky = 0; ky < 2; ++ky)
                    for (int kx = 0; kx < 2; ++kx) {
                        const int oy = py - 1 + ky, ox = px * 2 + kx;
                        if (oy < 0 || oy >= OH || ox >= OW) continue;
                        double sum = b[static_cast<std::size_t>(o)];
                        const int group = o / (O / G);
                        for (int c = 0; c < C / G; ++c)
                            for (int ky2 = 0; ky2 < KH; ++ky2)
                                for (int kx2 = 0; kx2 < KW; ++kx2) {
                                    const int iy = oy * SH - PH + ky2 * DH, ix = ox * SW - PW + kx2 * DW;
                                    if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                                    sum += w[static_cast<std::size_t>(((o * (C / G) + c) * KH + ky2) * KW + kx2)] *
                                           x[((group * (C / G) + c) * H + iy) * W + ix];
                                }
                        pooled += sum;
                    }
                const std::size_t at = static_cast<std::size_t>((o * PHo + py) * PWo + px);
                CAPTURE(at);
                CHECK(r.output[at] == 0.0f);  // the delay line is empty for two steps
                CHECK(r.output[2 * r.size + at] == doctest::Approx(pooled).epsilon(1e-5).scale(1e-4));
            }
}

TEST_CASE("NIR runtime: a square convolution and an affine map on spikes run the compile-time engine's kernels on every path") {
    // Conv2d 3 -> 5, kernel 3, stride 2, padding 1 on 3 x 9 x 8, then Affine; weights in
    // eighths and inputs in {0, 1, 2}: every sum is exact, so the dense product, the
    // event-driven sums and a direct sum in double agree to the bit.
    const int C = 3, H = 9, W = 8, O = 5, K = 3, S = 2, P = 1, OH = (H + 2 * P - K) / S + 1, OW = (W + 2 * P - K) / S + 1;
    std::vector<double> w(static_cast<std::size_t>(O * C * K * K)), b(O), a(static_cast<std::size_t>(2 * O * OH * OW));
    for (std::size_t i = 0; i < w.size(); ++i) w[i] = static_cast<double>((i * 29) % 19) / 8.0 - 1.0;
    for (std::size_t i = 0; i < a.size(); ++i) a[i] = static_cast<double>((i * 11) % 13) / 8.0 - 0.75;
    for (int o = 0; o < O; ++o) b[static_cast<std::size_t>(o)] = 0.25 * o - 0.5;
    s::deploy::nir_graph g;
    g.nodes = {nir_node("input", "Input", {{"shape", tensor({3}, {C, H, W})}}),
               nir_node("conv", "Conv2d", {{"weight", tensor({O, C, K, K}, w)}, {"bias", tensor({O}, b)}, {"stride", tensor({}, {S})},
                                           {"padding", tensor({2}, {P, P})}}),
               nir_node("flat", "Flatten", {{"start_dim", tensor({}, {0})}}),
               nir_node("affine", "Affine", {{"weight", tensor({2, O * OH * OW}, a)}, {"bias", tensor({2}, {0.5, -0.5})}}),
               nir_node("output", "Output")};
    g.edges = {{"input", "conv"}, {"conv", "flat"}, {"flat", "affine"}, {"affine", "output"}};
    constexpr std::size_t steps = 3;
    std::vector<float> frames(steps * C * H * W);
    for (std::size_t i = 0; i < frames.size(); ++i) frames[i] = (i * 5) % 7 < 4 ? 0.0f : static_cast<float>(1 + (i * 3) % 2);
    std::vector<s::deploy::run_result> runs;
    for (const auto path : {s::deploy::path::dense, s::deploy::path::event_driven, s::deploy::path::automatic}) {
        s::deploy::runtime_options options;
        options.path = path;
        runs.push_back(s::deploy::runtime(g, options).run(frames.data(), steps, 1, {"conv"}));
    }
    for (std::size_t t = 0; t < steps; ++t) {
        const float* x = frames.data() + t * C * H * W;
        std::vector<double> conv(static_cast<std::size_t>(O * OH * OW));
        for (int o = 0; o < O; ++o)
            for (int oy = 0; oy < OH; ++oy)
                for (int ox = 0; ox < OW; ++ox) {
                    double sum = b[static_cast<std::size_t>(o)];
                    for (int c = 0; c < C; ++c)
                        for (int ky = 0; ky < K; ++ky)
                            for (int kx = 0; kx < K; ++kx) {
                                const int iy = oy * S - P + ky, ix = ox * S - P + kx;
                                if (iy >= 0 && iy < H && ix >= 0 && ix < W)
                                    sum += w[static_cast<std::size_t>(((o * C + c) * K + ky) * K + kx)] * x[(c * H + iy) * W + ix];
                            }
                    conv[static_cast<std::size_t>((o * OH + oy) * OW + ox)] = sum;
                }
        for (std::size_t j = 0; j < 2; ++j) {
            double y = j == 0 ? 0.5 : -0.5;
            for (std::size_t i = 0; i < conv.size(); ++i) y += a[j * conv.size() + i] * conv[i];
            for (const auto& r : runs) CHECK(r.output[t * 2 + j] == static_cast<float>(y));
        }
        for (const auto& r : runs)
            for (std::size_t i = 0; i < conv.size(); ++i) CHECK(r.trace("conv").output[t * conv.size() + i] == static_cast<float>(conv[i]));
    }
}

TEST_CASE("NIR runtime: what it cannot run is refused naming the file, the node and the parameter") {
    const auto base = [] {
        s::deploy::nir_graph g;
        g.source = "made.nir";
        g.nodes = {nir_node("input", "Input", {{"shape", tensor({1}, {2})}}),
                   nir_node("lif", "LIF", {{"tau", tensor({2}, {2.0, 3.0})}, {"r", tensor({}, {1.0})}, {"v_threshold", tensor({}, {1.0})}}),
                   nir_node("output", "Output", {{"shape", tensor({1}, {2})}})};
        g.edges = {{"input", "lif"}, {"lif", "output"}};
        return g;
    };
    const auto refusal = [](const s::deploy::nir_graph& g, s::deploy::runtime_options o = {}) {
        return message_of([&] { s::deploy::runtime engine(g, o); });
    };
    CHECK(refusal(base()) == "(no exception)");
    auto g = base();
    g.nodes[1].parameters["tau"] = tensor({3}, {2, 3, 4});
    CHECK(refusal(g) == "snn2ann: deploy::runtime: made.nir: node 'lif' (LIF): parameter 'tau' holds 3 values for 2 neurons");
    g = base();
    g.nodes[1].parameters["tau"] = tensor({3}, {2, 3});
    CHECK(refusal(g) == "snn2ann: deploy::runtime: made.nir: node 'lif' (LIF): parameter 'tau' holds 2 values for its dimensions [3]");
    g = base();
    g.nodes[1].parameters.erase("v_threshold");
    CHECK(refusal(g) == "snn2ann: deploy::runtime: made.nir: node 'lif' (LIF): parameter 'v_threshold' is missing");
    g = base();
    g.nodes[1].type = "Spooky";
    CHECK(refusal(g).find("node 'lif' (Spooky) is of a type the runtime does not run") != std::string::npos);
    g = base();
    g.nodes.push_back(nir_node("stray", "Scale", {{"scale", tensor({}, {1})}}));
    CHECK(refusal(g) == "snn2ann: deploy::runtime: made.nir: node 'stray' (Scale) is not reached from the Input node 'input'");
    g = base();
    g.nodes[2].parameters["shape"] = tensor({1}, {3});
    CHECK(refusal(g) == "snn2ann: deploy::runtime: made.nir: node 'output' (Output): parameter 'shape' is [3], and the node "
                        "receives 2 values");
    CHECK(refusal(base(), {5.0}).find("parameter 'tau' holds 2.000000: forward Euler with dt 5.000000 is unstable") !=
          std::string::npos);
    CHECK(refusal(base(), {5.0, s::deploy::discretisation::exponential}) == "(no exception)");
    // An integer beyond int64 is refused before any conversion (a fuzzer's finding: the
    // conversion was undefined).
    s::deploy::nir_graph conv;
    conv.source = "made.nir";
    conv.nodes = {nir_node("input", "Input", {{"shape", tensor({3}, {1, 2, 2})}}),
                  nir_node("conv", "Conv2d", {{"weight", tensor({1, 1, 1, 1}, {1.0})}, {"groups", tensor({}, {6.4e31})}}),
                  nir_node("output", "Output")};
    conv.edges = {{"input", "conv"}, {"conv", "output"}};
    const std::string huge = refusal(conv);
    CHECK(huge.find("snn2ann: deploy::runtime: made.nir: node 'conv' (Conv2d): parameter 'groups' holds 6") == 0);
    CHECK(huge.find(", not an integer in [1, 1048576]") != std::string::npos);
    conv.nodes[1].parameters["groups"] = tensor({}, {1.0});
    CHECK(refusal(conv) == "(no exception)");
    s::deploy::runtime_options crossover;
    crossover.event_driven_below = 1.5;
    CHECK(refusal(base(), crossover) == "snn2ann: deploy::runtime: made.nir: event_driven_below is 1.500000, not a fraction in [0, 1]");
    CHECK(message_of([&] { s::deploy::runtime(base()).run(nullptr, 1, 1, {"nowhere"}); }) ==
          "snn2ann: deploy::runtime::run: no node is called 'nowhere' in made.nir");
}

TEST_CASE("NIR: max pooling of spikes exports as SumPool2d and Threshold at 0, and comes back to every engine") {
    using pooled = s::network<s::input<2, 10, 10>, s::conv<4, 3>, s::batch_norm, s::spiking<s::if_neuron<>>, s::max_pool<2>,
                              s::conv<6, 3, 1, 0>, s::spiking<s::lif_neuron<2>>, s::max_pool<3>, s::flatten, s::linear<3>>;
    s::model<pooled, s::timesteps<T>> a{s::seed{5}};
    for (std::size_t i = 0; i < a.state().size(); ++i) a.state()[i] += 0.05f * static_cast<float>(i % 7);
    const std::string path = scratch("maxpool.nir").string();
    s::io::save_nir(a, path);
    const auto raw = s::io::read_nir_graph(path);
    REQUIRE(raw.find("maxpool3"));
    CHECK(raw.find("maxpool3")->type == "SumPool2d");
    CHECK(raw.find("maxpool3_spiked")->type == "Threshold");
    CHECK(raw.find("maxpool6_spiked")->parameters.at("threshold").values == std::vector<double>(6, 0.0));
    const auto g = s::io::read_nir(path);
    CHECK(g.nodes[3].kind == s::deploy::node_kind::max_pool2d);
    CHECK(g.nodes.size() == 10);
    constexpr std::size_t n = 12;
    const auto x = inputs(n, 200);
    const float* y = a.snn().forward(x.data(), n);
    const std::vector<float> ours(y, y + n * 3);
    std::vector<std::vector<float>> counts;
    a.layers().for_each_layer_deep([&](auto& l, const s::detail::layer_position&) {
        if constexpr (s::detail::spiking_layer<std::remove_cvref_t<decltype(l)>>) counts.emplace_back(l.counts(), l.counts() + n * l.neurons);
    });
    // Back into a model: the same outputs, bit for bit.
    s::model<pooled, s::timesteps<T>> b{s::seed{6}};
    s::io::load_nir(b, path);
    CHECK(snn_scores(b, x, n) == ours);
    // The inference engine.
    s::inference<pooled, s::timesteps<T>> engine{g};
    const float* e = engine.predict(x.data(), n);
    for (std::size_t i = 0; i < ours.size(); ++i) CHECK(e[i] == doctest::Approx(ours[i]).epsilon(1e-5).scale(1e-5));
    // The runtime engine: every spike count of the SNN branch.
    const s::deploy::runtime rt(raw);
    std::vector<float> frames;
    for (int t = 0; t < T; ++t) frames.insert(frames.end(), x.begin(), x.end());
    const auto r = rt.run(frames.data(), T, n, {"if2", "lif5"});
    for (std::size_t k = 0; k < 2; ++k) {
        const auto& trace = r.trace(k == 0 ? "if2" : "lif5");
        std::size_t differing = 0;
        for (std::size_t i = 0; i < n * trace.size; ++i) {
            float c = 0.0f;
            for (int t = 0; t < T; ++t) c += trace.output[static_cast<std::size_t>(t) * n * trace.size + i];
            differing += c != counts[k][i];
        }
        CHECK(differing == 0);
        CHECK(std::count(trace.output.begin(), trace.output.end(), 1.0f) > 0);
    }
    // A SumPool2d without its Threshold at 0 is refused by the network reader, naming it
    // (the runtime runs it: a sum pooling).
    namespace d = s::detail;
    for (const std::string variant : {"alone", "threshold 0.5"}) {
        CAPTURE(variant);
        const std::string lone = scratch("sumpool.nir").string();
        {
            const d::h5_quiet quiet;
            const d::h5_place root{lone, "/"};
            const auto file = d::h5_create(lone);
            d::h5_write_strings(file.get(), "version", {}, {"0.2.0"}, root);
            const auto top = d::h5_new_group(file.get(), "node", root);
            d::h5_write_strings(top.get(), "type", {}, {"NIRGraph"}, root);
            const auto nodes = d::h5_new_group(top.get(), "nodes", root);
            const auto node = [&](const std::string& name, const std::string& type, const std::vector<std::int64_t>& shape) {
                auto g = d::h5_new_group(nodes.get(), name, root);
                d::h5_write_strings(g.get(), "type", {}, {type}, root);
                if (!shape.empty()) d::h5_write(g.get(), "shape", {shape.size()}, shape.data(), root);
                return g;
            };
            node("input", "Input", {1, 4, 4});
            const auto pool = node("pool", "SumPool2d", {});
            const std::vector<std::int64_t> two{2, 2};
            d::h5_write(pool.get(), "kernel_size", {2}, two.data(), root);
            d::h5_write(pool.get(), "stride", {2}, two.data(), root);
            std::vector<std::string> edges{"input", "pool", "pool", "output"};
            if (variant != "alone") {
                const auto t = node("spiked", "Threshold", {});
                const float half = 0.5f;
                d::h5_write(t.get(), "threshold", {1}, &half, root);
                edges = {"input", "pool", "pool", "spiked", "spiked", "output"};
            }
            node("output", "Output", {1, 2, 2});
            d::h5_write_strings(top.get(), "edges", {edges.size() / 2, 2}, edges, root);
        }
        const std::string m = message_of([&] { s::io::read_nir(lone); });
        CHECK(m.find(lone + ": /node/nodes/" + (variant == "alone" ? std::string("pool: is a SumPool2d not followed by a Threshold at 0")
                                                                    : std::string("spiked/threshold: holds 0.500000"))) != std::string::npos);
        const s::deploy::runtime rt(s::io::read_nir_graph(lone));
        CHECK(rt.output_dims() == std::vector<std::int64_t>{1, 2, 2});
    }
}
