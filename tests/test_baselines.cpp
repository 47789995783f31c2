// The baselines: spike-based BPTT (against a float64 forward-mode reference unrolled by
// hand), surrogate functions, QCFS, and ANN-to-SNN conversion.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <tuple>
#include <vector>

#include <snn2ann/snn2ann.hpp>

#include "synthetic_data.hpp"
#include "skip.hpp"

namespace s = snn2ann;

TEST_CASE("every surrogate is the derivative of its smooth step, which rises from 0 to 1") {
    for (const auto g : {s::surrogate::rectangle(0.8f), s::surrogate::triangle(1.3f), s::surrogate::sigmoid(4.0f),
                         s::surrogate::fast_sigmoid(10.0f), s::surrogate::atan(2.0f)}) {
        s::detail::visit_surrogate(g.kind, [&](auto f) {
            using fn = decltype(f);
            const double a = g.alpha, h = 1e-6;
            CHECK(fn::primitive(-1e3, a) == doctest::Approx(0.0).epsilon(1e-3));
            CHECK(fn::primitive(1e3, a) == doctest::Approx(1.0).epsilon(1e-3));
            // Away from the kinks of the piecewise ones.
            for (double x : {-0.9, -0.31, -0.05, 0.07, 0.23, 0.77, 1.5}) {
                const double numeric = (fn::primitive(x + h, a) - fn::primitive(x - h, a)) / (2 * h);
                CHECK(fn::derivative(x, a) == doctest::Approx(numeric).epsilon(1e-6));
                CHECK(static_cast<double>(fn::derivative(static_cast<float>(x), static_cast<float>(a))) ==
                      doctest::Approx(fn::derivative(x, a)).epsilon(1e-5));
            }
        });
    }
    CHECK(s::detail::surrogate_function<s::surrogate_kind::rectangle>::derivative(0.4, 1.0) == 1.0);
    CHECK(s::detail::surrogate_function<s::surrogate_kind::rectangle>::derivative(0.6, 1.0) == 0.0);
}

namespace {

// Forward-mode automatic differentiation in double: value and derivative along one
// parameter. The spike function has the Heaviside value and the surrogate's derivative,
// which is exactly what BPTT with a surrogate gradient differentiates.
struct dual {
    double v = 0.0, d = 0.0;
};
dual operator+(dual a, dual b) { return {a.v + b.v, a.d + b.d}; }
dual operator-(dual a, dual b) { return {a.v - b.v, a.d - b.d}; }
dual operator*(dual a, dual b) { return {a.v * b.v, a.d * b.v + a.v * b.d}; }
dual operator/(dual a, dual b) { return {a.v / b.v, (a.d * b.v - a.v * b.d) / (b.v * b.v)}; }
dual sqrt(dual a) { return {std::sqrt(a.v), a.d / (2 * std::sqrt(a.v))}; }
dual exp(dual a) { return {std::exp(a.v), a.d * std::exp(a.v)}; }
dual log(dual a) { return {std::log(a.v), a.d / a.v}; }
dual constant(double v) { return {v, 0.0}; }

// The network under test: two spiking layers, a BN before the first one (run once on B
// samples by the library, over T x B identical copies here) and one between spiking
// layers (over T x B different samples).
template <class Neuron>
using tiny = s::network<s::input<1, 2, 2>, s::flatten, s::linear<5>, s::batch_norm, s::spiking<Neuron>,
                        s::linear<4>, s::batch_norm, s::spiking<Neuron>, s::linear<3>>;
constexpr int steps = 3;
constexpr std::size_t batch = 3, in = 4, h1 = 5, h2 = 4, classes = 3;

// Offsets in the parameter buffer (layer order; linear = weights out x in, then bias; a
// spiking layer holds QCFS's lambda, then PLIF's w).
template <class Neuron>
struct layout {
    static constexpr std::size_t spiking = s::detail::trained_time_constant<Neuron> ? 2 : 1;
    static constexpr std::size_t w1 = 0, b1 = w1 + h1 * in, g1 = b1 + h1, be1 = g1 + h1, l1 = be1 + h1,
                                 w2 = l1 + spiking, b2 = w2 + h2 * h1, g2 = b2 + h2, be2 = g2 + h2, l2 = be2 + h2,
                                 w3 = l2 + spiking, b3 = w3 + classes * h2, param_total = b3 + classes;
    static_assert(param_total == tiny<Neuron>::param_count);
};

template <class Neuron>
struct reference : layout<Neuron> {
    using L = layout<Neuron>;
    using L::w1, L::b1, L::g1, L::be1, L::l1, L::w2, L::b2, L::g2, L::be2, L::l2, L::w3, L::b3;
    std::vector<double> params, vth1, vth2, x;
    std::vector<int> labels;
    s::surrogate g;
    bool detach = false;

    // samples x outs = samples x ins . W^T + b
    std::vector<dual> linear(const std::vector<dual>& p, std::size_t w, std::size_t b, const std::vector<dual>& v,
                             std::size_t samples, std::size_t ins, std::size_t outs) const {
        std::vector<dual> y(samples * outs);
        for (std::size_t n = 0; n < samples; ++n)
            for (std::size_t o = 0; o < outs; ++o) {
                dual sum = p[b + o];
                for (std::size_t k = 0; k < ins; ++k) sum = sum + p[w + o * ins + k] * v[n * ins + k];
                y[n * outs + o] = sum;
            }
        return y;
    }
    std::vector<dual> batch_norm(const std::vector<dual>& p, std::size_t gamma, std::size_t beta, std::vector<dual> z,
                                 std::size_t samples, std::size_t channels) const {
        for (std::size_t c = 0; c < channels; ++c) {
            dual mean{}, var{};
            for (std::size_t n = 0; n < samples; ++n) mean = mean + z[n * channels + c];
            mean = mean / constant(static_cast<double>(samples));
            for (std::size_t n = 0; n < samples; ++n) var = var + (z[n * channels + c] - mean) * (z[n * channels + c] - mean);
            var = var / constant(static_cast<double>(samples));
            const dual inv = constant(1.0) / sqrt(var + constant(1e-5));
            for (std::size_t n = 0; n < samples; ++n)
                z[n * channels + c] = (z[n * channels + c] - mean) * inv * p[gamma + c] + p[beta + c];
        }
        return z;
    }
    dual spike(dual v, double vth) const {
        const bool fired = Neuron::firing_mode == s::firing::strict ? v.v > vth : v.v >= vth;
        double slope = 0.0;
        s::detail::visit_surrogate(g.kind, [&](auto f) { slope = f.derivative(v.v - vth, static_cast<double>(g.alpha)); });
        return {fired ? 1.0 : 0.0, slope * v.d};
    }
    // The decay of the spiking layer whose lambda is at `lambda`: the neuron's constant, or
    // PLIF's 1 - 1/(1 + exp(-w)) with w after lambda.
    dual decay_at(const std::vector<dual>& p, std::size_t lambda) const {
        if constexpr (s::detail::trained_time_constant<Neuron>)
            return constant(1.0) - constant(1.0) / (constant(1.0) + exp(constant(0.0) - p[lambda + 1]));
        else
            return constant(Neuron::decay);
    }
    // current: steps x batch x n (time-major); returns the spikes, same layout
    std::vector<dual> neurons(const std::vector<dual>& current, const std::vector<double>& vth, std::size_t n,
                              dual decay) const {
        std::vector<dual> out(current.size());
        for (std::size_t b = 0; b < batch; ++b)
            for (std::size_t i = 0; i < n; ++i) {
                dual u{};
                for (int t = 0; t < steps; ++t) {
                    const std::size_t at = (t * batch + b) * n + i;
                    const dual v = decay * u + current[at];
                    const dual sp = spike(v, vth[i]);
                    out[at] = sp;
                    const dual r = detach ? constant(sp.v) : sp;
                    if constexpr (Neuron::reset_mode == s::reset::to_zero) u = v * (constant(1.0) - r);
                    else u = v - r * constant(vth[i]);
                }
            }
        return out;
    }
    // Loss and its derivative along parameter `along` (or none).
    dual loss(std::size_t along) const {
        std::vector<dual> p(params.size());
        for (std::size_t i = 0; i < p.size(); ++i) p[i] = {params[i], i == along ? 1.0 : 0.0};
        std::vector<dual> xs(steps * batch * in);
        for (std::size_t i = 0; i < xs.size(); ++i) xs[i] = constant(x[i % (batch * in)]);
        const std::size_t samples = steps * batch;
        auto a1 = batch_norm(p, g1, be1, linear(p, w1, b1, xs, samples, in, h1), samples, h1);
        auto s1 = neurons(a1, vth1, h1, decay_at(p, l1));
        auto a2 = batch_norm(p, g2, be2, linear(p, w2, b2, s1, samples, h1, h2), samples, h2);
        auto s2 = neurons(a2, vth2, h2, decay_at(p, l2));
        auto y = linear(p, w3, b3, s2, samples, h2, classes);
        dual total{};
        for (std::size_t b = 0; b < batch; ++b) {
            std::vector<dual> mean(classes);
            for (std::size_t k = 0; k < classes; ++k) {
                for (int t = 0; t < steps; ++t) mean[k] = mean[k] + y[(t * batch + b) * classes + k];
                mean[k] = mean[k] / constant(steps);
            }
            dual sum{};
            for (std::size_t k = 0; k < classes; ++k) sum = sum + exp(mean[k]);
            total = total + log(sum) - mean[static_cast<std::size_t>(labels[b])];
        }
        return total / constant(static_cast<double>(batch));
    }
};

template <class Neuron>
void check_bptt_against_reference(s::surrogate g, bool detach) {
    using net = tiny<Neuron>;
    using L = layout<Neuron>;
    constexpr std::size_t param_total = L::param_total, g1 = L::g1, g2 = L::g2;
    s::model<net, s::timesteps<steps>> m{s::seed{11}};
    const s::detail::counter_rng rng(5, 6);
    // Larger weights than the default init so that every layer spikes now and then.
    for (std::size_t i = 0; i < param_total; ++i) m.parameters()[i] = 2.0f * (rng.uniform(i) - 0.5f);
    for (std::size_t c = 0; c < h1; ++c) m.parameters()[g1 + c] = 1.0f + 0.5f * rng.uniform(100 + c);
    for (std::size_t c = 0; c < h2; ++c) m.parameters()[g2 + c] = 1.0f + 0.5f * rng.uniform(200 + c);
    if constexpr (L::spiking == 2) {  // PLIF: time constants 2.5 and 1.7, away from the initial 2
        m.parameters()[L::l1 + 1] = s::detail::plif_initial_w(2) - 0.4f;
        m.parameters()[L::l2 + 1] = s::detail::plif_initial_w(2) + 0.35f;
    }
    std::vector<float> x(batch * in);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = 2.0f * rng.uniform(300 + i) - 1.0f;
    const std::vector<std::int32_t> y{0, 2, 1};

    s::rules::bptt rule{g, detach};
    const s::loss_result r = rule.train_step(m, x.data(), y.data(), batch, 0);

    reference<Neuron> ref;
    ref.g = g;
    ref.detach = detach;
    ref.params.assign(m.parameters().begin(), m.parameters().end());
    ref.x.assign(x.begin(), x.end());
    ref.labels.assign(y.begin(), y.end());
    const auto state = m.state();  // BN 1 running stats (2 x 5), thresholds 1, BN 2 (2 x 4), thresholds 2
    ref.vth1.assign(state.begin() + 2 * h1, state.begin() + 3 * h1);
    ref.vth2.assign(state.begin() + 3 * h1 + 2 * h2, state.begin() + 3 * h1 + 3 * h2);

    CHECK(r.loss == doctest::Approx(ref.loss(param_total).v).epsilon(1e-5));
    double largest = 0.0;
    std::vector<double> expected(param_total);
    for (std::size_t i = 0; i < param_total; ++i) largest = std::max(largest, std::abs(expected[i] = ref.loss(i).d));
    REQUIRE(largest > 1e-3);
    std::size_t nonzero = 0;
    for (std::size_t i = 0; i < param_total; ++i) {
        INFO("parameter " << i);
        CHECK(std::abs(m.gradients()[i] - expected[i]) <= 2e-5 * largest);
        nonzero += std::abs(expected[i]) > 1e-6 * largest;
    }
    CHECK(nonzero > param_total / 2);  // the gradient reaches most parameters
    if constexpr (L::spiking == 2) {       // and both layers' time constants
        CHECK(std::abs(expected[L::l1 + 1]) > 1e-4 * largest);
        CHECK(std::abs(expected[L::l2 + 1]) > 1e-4 * largest);
    }
}

}  // namespace

TEST_CASE("BPTT gradients equal a float64 forward-mode reference unrolled over time") {
    using hard = s::if_neuron<s::reset::to_zero, s::firing::strict, s::uniform_threshold, 0>;
    using subtract = s::if_neuron<s::reset::by_subtraction, s::firing::inclusive, s::uniform_threshold, 0>;
    using leaky = s::lif_neuron<2, s::reset::by_subtraction, s::firing::strict, s::constant_threshold<1, 2>, 0>;
    for (bool detach : {false, true}) {
        CAPTURE(detach);
        SUBCASE("IF, reset to zero, each surrogate") {
            check_bptt_against_reference<hard>(s::surrogate::rectangle(1.0f), detach);
            check_bptt_against_reference<hard>(s::surrogate::triangle(1.0f), detach);
            check_bptt_against_reference<hard>(s::surrogate::sigmoid(4.0f), detach);
            check_bptt_against_reference<hard>(s::surrogate::fast_sigmoid(5.0f), detach);
            check_bptt_against_reference<hard>(s::surrogate::atan(2.0f), detach);
        }
        SUBCASE("IF, reset by subtraction, >= firing") {
            check_bptt_against_reference<subtract>(s::surrogate::sigmoid(4.0f), detach);
            check_bptt_against_reference<subtract>(s::surrogate::atan(2.0f), detach);
        }
        SUBCASE("LIF tau 2, reset by subtraction") {
            check_bptt_against_reference<leaky>(s::surrogate::triangle(1.0f), detach);
        }
        SUBCASE("PLIF: the trained time constant's gradient too") {
            using plif = s::plif_neuron<2, s::reset::by_subtraction, s::firing::strict, s::constant_threshold<1, 2>, 0>;
            using plif_hard = s::plif_neuron<3, s::reset::to_zero, s::firing::strict, s::uniform_threshold, 0>;
            check_bptt_against_reference<plif>(s::surrogate::triangle(1.0f), detach);
            check_bptt_against_reference<plif>(s::surrogate::sigmoid(4.0f), detach);
            check_bptt_against_reference<plif_hard>(s::surrogate::atan(2.0f), detach);
        }
    }
}

TEST_CASE("BPTT learns the synthetic task, deterministically, and keeps memory that grows with T") {
    using neuron = s::if_neuron<s::reset::by_subtraction, s::firing::strict, s::constant_threshold<1>, 0>;
    using net = s::network<s::input<1, 12, 12>, s::conv<6, 3>, s::batch_norm, s::max_pool<2>, s::spiking<neuron>,
                           s::flatten, s::linear<24>, s::spiking<neuron>, s::linear<3>>;
    const auto train = test::bars(240, 1), held_out = test::bars(90, 2);
    auto run = [&] {
        s::model<net, s::timesteps<4>> m{s::seed{3}};
        s::trainer t{m, s::rules::bptt{}, s::adam{3e-3}};
        const auto reports = t.quiet().validate_on(held_out).fit(train, s::epochs{3}, s::batch{16});
        return std::make_pair(reports.back(), std::vector<float>(m.parameters().begin(), m.parameters().end()));
    };
    const auto [first, weights] = run();
    CHECK(first.test_accuracy > 0.9);
    CHECK(run().second == weights);

    // BPTT keeps the activations of all T steps for backward: the layers after the first spiking one hold
    // 4 times more at T = 16 than at T = 4 (the layers before it run once).
    s::model<net, s::timesteps<4>> m4{s::seed{3}};
    s::model<net, s::timesteps<16>> m16{s::seed{3}};
    s::rules::bptt r4, r16;
    const auto x = test::bars(8, 3);
    r4.train_step(m4, x.image(0), x.labels.data(), 8, 0);
    r16.train_step(m16, x.image(0), x.labels.data(), 8, 0);
    CHECK(m16.layers().ann_activation_bytes() > 2 * m4.layers().ann_activation_bytes());
}

TEST_CASE("BPTT: a PLIF layer that nothing trainable precedes still trains its time constant") {
    // Nothing before those layers trains, so backward computes no gradient of their input:
    // the recurrence must still run for tau's gradient. The reference puts an identity
    // linear layer in front, whose input gradient is computed.
    using plif = s::plif_neuron<2, s::reset::by_subtraction, s::firing::strict, s::constant_threshold<1>, 0>;
    constexpr int n = 6;
    using first = s::network<s::input<n, 1, 1>, s::spiking<plif>, s::flatten, s::linear<3>>;
    using behind_flatten = s::network<s::input<n, 1, 1>, s::flatten, s::spiking<plif>, s::linear<3>>;
    using reference = s::network<s::input<n, 1, 1>, s::flatten, s::linear<n, false>, s::spiking<plif>, s::linear<3>>;
    constexpr std::size_t batch = 4, head = 3 * n + 3, lin = n * n;
    std::vector<float> x(batch * n);
    const s::detail::counter_rng rng(3, 4);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = 1.6f * rng.uniform(i);
    const std::vector<std::int32_t> y{0, 1, 2, 1};
    const auto gradients = [&](auto& m, std::size_t plif_at) {
        m.parameters()[plif_at + 1] = s::detail::plif_initial_w(2) - 0.3f;  // tau away from 2
        for (std::size_t i = 0; i < head; ++i) m.parameters()[plif_at + 2 + i] = 2.0f * rng.uniform(100 + i) - 1.0f;
        s::rules::bptt rule{s::surrogate::sigmoid(4.0f)};
        rule.train_step(m, x.data(), y.data(), batch, 0);
        return std::vector<float>(m.gradients().begin() + static_cast<std::ptrdiff_t>(plif_at + 1), m.gradients().end());
    };
    s::model<reference, s::timesteps<5>> r{s::seed{1}};
    for (std::size_t i = 0; i < lin; ++i) r.parameters()[i] = i % (n + 1) == 0 ? 1.0f : 0.0f;
    const std::vector<float> expected = gradients(r, lin);
    REQUIRE(std::abs(expected[0]) > 1e-4f);  // tau's gradient
    s::model<first, s::timesteps<5>> a{s::seed{1}};
    s::model<behind_flatten, s::timesteps<5>> b{s::seed{1}};
    const std::vector<float> ga = gradients(a, 0), gb = gradients(b, 0);
    REQUIRE(ga.size() == expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) {
        INFO("gradient " << i << " (0: tau's w)");
        CHECK(ga[i] == doctest::Approx(expected[i]).epsilon(1e-5));
        CHECK(gb[i] == doctest::Approx(expected[i]).epsilon(1e-5));
    }
}

TEST_CASE("PLIF: BPTT trains the time constants, SNN2ANN runs with them, checkpoints carry them") {
    using plif = s::plif_neuron<2, s::reset::by_subtraction, s::firing::strict, s::constant_threshold<1>, 0>;
    using net = s::network<s::input<1, 12, 12>, s::conv<6, 3>, s::batch_norm, s::max_pool<2>, s::spiking<plif>,
                           s::flatten, s::linear<24>, s::spiking<plif>, s::linear<3>>;
    using model = s::model<net, s::timesteps<4>>;
    // A leak: ANN-to-SNN conversion refuses the network (detail::require_integrate_and_fire).
    static_assert(model::executor::has_leaky_neurons);
    const auto time_constants = [](model& m) {
        std::vector<float> w;
        m.layers().for_each_layer_deep([&](auto& l, const s::detail::layer_position& at) {
            if constexpr (s::detail::spiking_layer<std::remove_cvref_t<decltype(l)>>)
                w.push_back(m.parameters()[at.param_offset + 1]);
        });
        return w;
    };
    const auto train = test::bars(240, 1), held_out = test::bars(90, 2);
    model m{s::seed{3}};
    CHECK(time_constants(m) == std::vector<float>(2, s::detail::plif_initial_w(2)));  // tau = 2
    CHECK(std::abs(1.0f / (1.0f - s::detail::plif_decay(s::detail::plif_initial_w(2))) - 2.0f) < 1e-6f);
    s::trainer t{m, s::rules::bptt{}, s::adam{3e-3}};
    const auto reports = t.quiet().validate_on(held_out).fit(train, s::epochs{3}, s::batch{16});
    CHECK(reports.back().test_accuracy > 0.9);
    for (float w : time_constants(m)) {
        CHECK(std::isfinite(w));
        CHECK(w != s::detail::plif_initial_w(2));  // trained
    }
    // A checkpoint carries them, and says which neuron it holds.
    const std::string path = "plif_checkpoint.npz";
    s::io::save_checkpoint(m, path);
    model loaded{s::seed{9}};
    s::io::load_checkpoint(loaded, path);
    CHECK(time_constants(loaded) == time_constants(m));
    CHECK(net::executor<s::cpu>::describe_layers().find("plif_neuron<initial tau 2") != std::string::npos);
    std::remove(path.c_str());
    // SNN2ANN runs its SNN with the current tau (another tau, other spikes) and trains none.
    s::rules::snn2ann rule;
    const auto x = test::bars(16, 5);
    const std::vector<float> before = time_constants(loaded);
    const float* logits = rule.predict(loaded, x.image(0), 16);
    const std::vector<float> first(logits, logits + 16 * 3);
    s::model<net, s::timesteps<4>> other{s::seed{3}};
    std::copy(loaded.parameters().begin(), loaded.parameters().end(), other.parameters().begin());
    std::copy(loaded.state().begin(), loaded.state().end(), other.state().begin());
    other.layers().for_each_layer_deep([&](auto& l, const s::detail::layer_position& at) {
        if constexpr (s::detail::spiking_layer<std::remove_cvref_t<decltype(l)>>) other.parameters()[at.param_offset + 1] -= 2.0f;
    });
    const float* changed = rule.predict(other, x.image(0), 16);
    CHECK_FALSE(std::equal(first.begin(), first.end(), changed));
    s::trainer snn2ann_trainer{loaded, rule, s::adam{3e-3}};
    snn2ann_trainer.quiet().fit(train, s::epochs{1}, s::batch{16});
    CHECK(time_constants(loaded) == before);
}

TEST_CASE("BPTT with the AMX product learns the synthetic task, with the same weights on 1 and 2 threads") {
    if (!s::amx_available()) TEST_SKIP("AMX is not available here");
    using neuron = s::if_neuron<s::reset::by_subtraction, s::firing::strict, s::constant_threshold<1>, 0>;
    using net = s::network<s::input<1, 12, 12>, s::conv<6, 3>, s::batch_norm, s::max_pool<2>, s::spiking<neuron>,
                           s::conv<8, 3>, s::batch_norm, s::spiking<neuron>, s::flatten, s::linear<3>>;
    const auto train = test::bars(240, 1), held_out = test::bars(90, 2);
    auto run = [&](int threads) {
        s::threads limit(threads);
        s::model<net, s::timesteps<4>> m{s::seed{3}};
        s::trainer t{m, s::rules::bptt{}, s::adam{3e-3}};
        const auto reports = t.quiet().validate_on(held_out).fit(train, s::epochs{3}, s::batch{16});
        return std::make_pair(reports.back(), std::vector<float>(m.parameters().begin(), m.parameters().end()));
    };
    const auto [amx, weights, again] = [&] {
        const s::cpu_matmul_scope on_amx(s::cpu_matmul::amx_split_bf16);  // restored even if a run throws
        const auto [report, first] = run(1);
        return std::tuple{report, first, run(2).second};
    }();
    const auto fp32 = run(2).second;
    CHECK(amx.test_accuracy > 0.9);
    CHECK(again == weights);  // per-image products and a fixed-order sum of the chunks
    CHECK(fp32 != weights);   // the product did change: not bit-identical to fp32
}

TEST_CASE("QCFS: quantised clipped activation, straight-through gradients, trained lambda") {
    using layer = s::spiking<>::impl<s::cpu, s::flat_shape(6)>;
    layer l;
    float lambda = 2.0f, dlambda = 0.0f;
    std::vector<float> thresholds(6, 1.0f);
    s::detail::spiking_options o;
    o.ann_reads_spike_counts = false;
    o.activation = s::ann_activation::qcfs;
    o.qcfs_levels = 4;  // steps of lambda / 4 = 0.5
    s::detail::layer_context c;
    c.params = &lambda;
    c.grads = &dlambda;
    c.state = thresholds.data();
    c.batch = 1;
    c.training = true;
    c.spiking = &o;
    const std::vector<float> z{-1.0f, 0.2f, 0.3f, 0.74f, 1.9f, 2.5f};
    std::vector<float> h(6), dx(6);
    l.forward(z.data(), h.data(), c);
    // floor(z * 2 + 0.5) / 4 clipped to [0, 1], times 2
    CHECK(h == std::vector<float>{0.0f, 0.0f, 0.5f, 0.5f, 2.0f, 2.0f});
    const std::vector<float> dy{1.0f, 1.0f, 1.0f, 1.0f, 1.0f, 1.0f};
    l.backward(z.data(), h.data(), dy.data(), dx.data(), c);
    // inside the clip (raw in [0, 1]): 0.2 .. 1.9; -1 gives raw -0.5, 2.5 gives raw 1.25
    CHECK(dx == std::vector<float>{0.0f, 1.0f, 1.0f, 1.0f, 1.0f, 0.0f});
    // dh/dlambda = q - z / lambda inside, q outside: (0 - .1) + (.25 - .15) + (.25 - .37) + (1 - .95) + 1
    CHECK(dlambda == doctest::Approx(-0.1 + 0.1 - 0.12 + 0.05 + 1.0).epsilon(1e-5));

    o.activation = s::ann_activation::relu;
    l.forward(z.data(), h.data(), c);
    CHECK(h == std::vector<float>{0.0f, 0.2f, 0.3f, 0.74f, 1.9f, 2.5f});
}

namespace {
using conversion_net = s::network<s::input<1, 12, 12>, s::conv<6, 3>, s::batch_norm, s::max_pool<2>, s::spiking<>,
                                  s::flatten, s::linear<24>, s::spiking<>, s::linear<3>>;
}

TEST_CASE("ANN-to-SNN conversion: thresholds from max, percentile and lambda") {
    s::model<conversion_net, s::timesteps<4>> m{s::seed{4}};
    const auto calibration = test::bars(50, 7);
    const s::rules::ann relu;
    const auto by_max = s::convert::ann_to_snn(m, calibration, relu, {s::convert::threshold_source::max, 99.9, 50, 16});
    REQUIRE(by_max.size() == 2);
    // The maximum by hand: the largest ReLU output of each spiking layer over the 50 images.
    std::vector<float> largest(2, 0.0f);
    m.forward(calibration.image(0), 50, relu.options(), false);
    for (std::size_t k = 0; k < 2; ++k) {
        const std::size_t index = k == 0 ? 3 : 6, n = (k == 0 ? 6 * 6 * 6 : 24) * 50;
        const float* h = m.layers().output(index);
        largest[k] = *std::max_element(h, h + n);
    }
    CHECK(by_max == largest);
    CHECK(m.state()[2 * 6] == by_max[0]);  // every neuron of the layer, after BN's running stats
    const auto p50 = s::convert::ann_to_snn(m, calibration, relu, {s::convert::threshold_source::percentile, 50.0, 50, 16});
    CHECK(p50[0] < by_max[0]);
    CHECK_THROWS_AS(s::convert::ann_to_snn(m, calibration, relu, {s::convert::threshold_source::lambda}),
                    s::invalid_argument);
    const auto from_lambda =
        s::convert::ann_to_snn(m, calibration, s::rules::ann{s::ann_activation::qcfs}, {s::convert::threshold_source::lambda});
    CHECK(from_lambda == std::vector<float>{4.0f, 4.0f});
}

TEST_CASE("ANN-to-SNN conversion approaches the ANN with T, and the one-pass evaluation matches single runs") {
    const auto train = test::bars(240, 1), held_out = test::bars(90, 2);
    s::model<conversion_net, s::timesteps<4>> m{s::seed{5}};
    const s::rules::ann qcfs{s::ann_activation::qcfs, 4};
    s::trainer t{m, qcfs, s::adam{3e-3}};
    t.quiet().fit(train, s::epochs{3}, s::batch{16});
    const double ann = s::evaluate(m, held_out, 32, qcfs).accuracy;
    CHECK(ann > 0.9);
    s::convert::ann_to_snn(m, train, qcfs, {s::convert::threshold_source::lambda});
    const auto curve = s::convert::evaluate_converted(m, held_out, {16, 4, 8, 32}, 32);
    REQUIRE(curve.size() == 4);
    CHECK(curve[0].timesteps == 4);
    CHECK(curve[3].timesteps == 32);
    CHECK(curve[3].accuracy >= ann - 0.05);
    CHECK(curve[3].spikes_per_image > curve[0].spikes_per_image);
    // T = 8 in one go, through evaluate() and measure_spikes(), gives the same figures.
    const auto eight = s::evaluate(m, held_out, 32, s::convert::converted_snn{8});
    CHECK(eight.accuracy == doctest::Approx(curve[1].accuracy));
    const auto spikes = s::measure_spikes(m, held_out, 32, s::convert::converted_snn{8});
    CHECK(spikes.spikes_per_image == doctest::Approx(curve[1].spikes_per_image));
    // One step is exact: from Vth/2 = lambda/2 a neuron fires, carrying lambda, where QCFS
    // with one level rounds z / lambda up to 1, and the pooled current is the plain
    // maximum. So the converted SNN at T = 1 is the ANN with L = 1, output for output (BN
    // folded into the weights rounds differently, hence Approx). Its error at larger T is
    // therefore the quantisation the ANN was trained with, not the conversion.
    s::rules::ann one_level{s::ann_activation::qcfs, 1};
    const float* ann_out = one_level.predict(m, held_out.image(0), held_out.size());
    const std::vector<float> expected(ann_out, ann_out + held_out.size() * 3);
    s::convert::converted_snn one_step{1};
    const float* snn_out = one_step.predict(m, held_out.image(0), held_out.size());
    for (std::size_t i = 0; i < expected.size(); ++i)
        CHECK(snn_out[i] == doctest::Approx(expected[i]).epsilon(1e-4).scale(1.0));
}

TEST_CASE("a converted SNN's max pooling passes the growth of the largest accumulated current") {
    using pool = s::max_pool<2>::impl<s::cpu, s::image_shape(1, 2, 2)>;
    pool p;
    s::detail::spiking_options o;
    o.converted = true;
    s::detail::layer_context c;
    c.mode = s::detail::branch::snn;
    c.time_major = true;
    c.timesteps = 3;
    c.batch = 3;  // T x B, B = 1
    c.spiking = &o;
    // Sums after each step: (2, 1, 0, 0), (2.5, 2, 0, 0), (2.5, 2, 0, 4); their maxima 2, 2.5, 4
    // grow by 2, 0.5, 1.5. Passing the leader's own current instead would give 2, 0.5, 4: a
    // total of 6.5 where the ANN's max of the summed inputs is 4.
    const std::vector<float> x{2.0f, 1.0f, 0.0f, 0.0f, 0.5f, 1.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 4.0f};
    std::vector<float> y(3);
    p.forward(x.data(), y.data(), c);
    CHECK(y == std::vector<float>{2.0f, 0.5f, 1.5f});
    o.resume = true;  // the sums carry on: (2.5, 5, 0, 4), maximum 5, one more than 4
    const std::vector<float> more{0.0f, 3.0f, 0.0f, 0.0f};
    c.timesteps = 1;
    c.batch = 1;
    p.forward(more.data(), y.data(), c);
    CHECK(y[0] == 1.0f);
    // Negative currents: the passed currents still add up to the max of the sums, here -0.5.
    o.resume = false;
    const std::vector<float> falling{-1.0f, -2.0f, -3.0f, -4.0f, 0.5f, -1.0f, 0.0f, 0.0f};
    c.timesteps = 2;
    c.batch = 2;
    std::vector<float> two(2);
    p.forward(falling.data(), two.data(), c);
    CHECK(two == std::vector<float>{-1.0f, 0.5f});  // maxima -1, then max(-0.5, -3, -3, -4) = -0.5
}
