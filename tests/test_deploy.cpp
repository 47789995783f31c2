// The deployable graph (deploy/snn_graph.hpp) and the inference engine (deploy/inference.hpp):
// the engine's scores against the training model's SNN branch on every path, frames,
// determinism, batches against single samples, checkpoints, and its memory.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include <snn2ann/deploy/inference.hpp>
#include <snn2ann/snn2ann.hpp>
#include "scratch_path.hpp"

namespace s = snn2ann;

namespace {
constexpr int T = 4;
using net = s::network<s::input<2, 10, 10>, s::conv<4, 3>, s::batch_norm, s::avg_pool<2>, s::spiking<s::if_neuron<>>,
                       s::conv<6, 3, 2, 1>, s::batch_norm, s::spiking<s::lif_neuron<2>>, s::avg_pool<1>, s::flatten,
                       s::linear<12>, s::spiking<s::if_neuron<>>, s::linear<3>>;
using model_t = s::model<net, s::timesteps<T>>;

std::vector<float> inputs(std::size_t n, std::size_t size, std::uint64_t salt = 0) {
    std::vector<float> x(n * size);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(((i + salt) * 2654435761u) % 1000) / 300.0f;
    return x;
}
model_t trained_looking() {
    model_t m{s::seed{11}};
    for (std::size_t i = 0; i < m.state().size(); ++i) m.state()[i] += 0.03f * static_cast<float>(i % 5);
    return m;
}
std::vector<float> snn_scores(model_t& m, const std::vector<float>& x, std::size_t n) {
    const float* y = m.snn().forward(x.data(), n);
    return {y, y + n * 3};
}
}  // namespace

TEST_CASE("inference: every path scores as the training model's SNN branch does") {
    auto m = trained_looking();
    constexpr std::size_t n = 24;
    const auto x = inputs(n, 200);
    const auto ours = snn_scores(m, x, n);
    s::inference<net, s::timesteps<T>> engine{m};
    for (const auto p : {s::deploy::path::dense, s::deploy::path::event_driven, s::deploy::path::automatic}) {
        CAPTURE(static_cast<int>(p));
        engine.set_path(p);
        const float* y = engine.predict(x.data(), n);
        // Sums in other orders: equal up to rounding (no membrane here sits within it of
        // its threshold, so every spike is the same).
        for (std::size_t i = 0; i < ours.size(); ++i) CHECK(y[i] == doctest::Approx(ours[i]).epsilon(1e-5).scale(1e-5));
        for (std::size_t i = 0; i < n; ++i) {
            const auto row = ours.begin() + static_cast<std::ptrdiff_t>(i * 3);
            CHECK(engine.classify(x.data() + i * 200) == std::max_element(row, row + 3) - row);
        }
    }
    // The layers on spikes ran event-driven where asked, dense where asked.
    engine.set_path(s::deploy::path::event_driven);
    engine.predict(x.data(), n);
    REQUIRE(engine.activity().size() == 2);
    for (const auto& a : engine.activity()) {
        CHECK(a.event_steps == 1.0);
        CHECK(a.input_rate > 0.0);
        CHECK(a.input_rate < 1.0);
    }
    engine.set_path(s::deploy::path::dense);
    engine.predict(x.data(), n);
    for (const auto& a : engine.activity()) CHECK(a.event_steps == 0.0);
}

TEST_CASE("inference: deterministic, a batch gives each sample's own scores, frames run step by step") {
    auto m = trained_looking();
    s::inference<net, s::timesteps<T>> engine{m};
    constexpr std::size_t n = 7;
    const auto x = inputs(n, 200, 5);
    const float* y = engine.predict(x.data(), n);
    const std::vector<float> batch(y, y + n * 3);
    for (std::size_t i = 0; i < n; ++i) {
        const float* one = engine.predict(x.data() + i * 200, 1);
        CHECK(std::vector<float>(one, one + 3) == std::vector<float>(batch.begin() + i * 3, batch.begin() + i * 3 + 3));
    }
    {
        s::threads one(1);
        const float* again = engine.predict(x.data(), n);
        CHECK(std::vector<float>(again, again + n * 3) == batch);
    }
    // T different frames per sample, against the model given the same frames.
    const auto frames = inputs(n * T, 200, 99);
    m.set_input_frames(T);
    const auto ours = snn_scores(m, frames, n);
    m.set_input_frames(1);
    const float* f = engine.predict(frames.data(), n, T);
    for (std::size_t i = 0; i < ours.size(); ++i) CHECK(f[i] == doctest::Approx(ours[i]).epsilon(1e-5).scale(1e-5));
    CHECK_THROWS_WITH_AS(engine.predict(frames.data(), n, 3), doctest::Contains("3 frames per sample"), s::invalid_argument);
    CHECK_THROWS_AS(engine.predict(frames.data(), 0), s::invalid_argument);
}

TEST_CASE("inference: from a checkpoint, holding weights, thresholds and one layer's working memory") {
    auto m = trained_looking();
    const std::string path = snn2ann_test::scratch_path("deploy.npz").string();
    s::io::save_checkpoint(m, path);
    auto engine = s::inference<net, s::timesteps<T>>::from_checkpoint(path);
    const auto x = inputs(3, 200);
    const auto ours = snn_scores(m, x, 3);
    const float* y = engine.predict(x.data(), 3);
    for (std::size_t i = 0; i < ours.size(); ++i) CHECK(y[i] == doctest::Approx(ours[i]).epsilon(1e-5).scale(1e-5));
    // The weights twice at most (dense and event-driven copies of the layers on spikes), the
    // thresholds, and workspaces for T steps of one layer.
    const std::size_t weights = model_t::param_count * sizeof(float), thresholds = (200 + 24 + 12) * sizeof(float);
    CHECK(engine.memory_bytes() > weights / 2);
    CHECK(engine.memory_bytes() < 2 * weights + thresholds + 64 * 1024);
    const auto g = s::deploy::graph_of(m);
    CHECK(engine.nodes().size() == g.operations());
}

TEST_CASE("deploy graph: a batch norm is folded exactly as the SNN branch folds it; refusals name the layer") {
    auto m = trained_looking();
    const auto g = s::deploy::graph_of(m);
    REQUIRE(g.nodes.size() == 12);  // input, conv, pool, IF, conv, LIF, pool, flatten, affine, IF, affine, output
    CHECK(g.nodes[5].kind == s::deploy::node_kind::lif_neuron);
    CHECK(g.nodes[5].tau == 2);
    CHECK(g.nodes[4].stride == 2);
    CHECK(g.nodes[4].padding == 1);
    // load_graph into a fresh model reproduces the graph bit for bit (its BNs become the identity).
    model_t fresh{s::seed{3}};
    s::deploy::load_graph(fresh, g);
    const auto again = s::deploy::graph_of(fresh);
    for (std::size_t k = 0; k < g.nodes.size(); ++k) {
        CHECK(again.nodes[k].weight == g.nodes[k].weight);
        CHECK(again.nodes[k].bias == g.nodes[k].bias);
    }
    const auto x = inputs(5, 200);
    CHECK(snn_scores(fresh, x, 5) == snn_scores(m, x, 5));
    using bn_first = s::network<s::input<1, 6, 6>, s::batch_norm, s::conv<2, 3>, s::spiking<s::if_neuron<>>, s::flatten,
                                s::linear<3>>;
    s::model<bn_first, s::timesteps<T>> b;
    CHECK_THROWS_WITH_AS(s::deploy::graph_of(b),
                         "snn2ann: deploy::graph_of: layer 0 is a batch norm with no convolution or linear layer (with bias) "
                         "before it to fold into",
                         s::invalid_argument);
}
