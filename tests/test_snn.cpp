// The SNN2ANN core: neuron dynamics, BN folding, mapping units, ATA, the rule end to end.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include <snn2ann/snn2ann.hpp>

#include "synthetic_data.hpp"

namespace s = snn2ann;

namespace {
template <class Neuron>
std::vector<int> spike_train(float current, float vth, int steps) {
    std::vector<int> out;
    float u = 0.0f;
    for (int t = 0; t < steps; ++t) out.push_back(Neuron::step(u, current, vth) ? 1 : 0);
    return out;
}
using ints = std::vector<int>;
}  // namespace

TEST_CASE("IF, hard reset to zero, strict firing (the default)") {
    CHECK(spike_train<s::if_neuron<>>(0.7f, 1.0f, 4) == ints{0, 1, 0, 1});  // .7 1.4|0 .7 1.4|0
    CHECK(spike_train<s::if_neuron<>>(0.5f, 1.0f, 4) == ints{0, 0, 1, 0});  // 1.0 is not > 1
    CHECK(spike_train<s::if_neuron<>>(-0.5f, 0.1f, 3) == ints{0, 0, 0});
}
TEST_CASE("IF, reset by subtraction") {
    using n = s::if_neuron<s::reset::by_subtraction>;
    CHECK(spike_train<n>(0.7f, 1.0f, 4) == ints{0, 1, 1, 0});  // .7 1.4|.4 1.1|.1 .8
}
TEST_CASE("IF, inclusive firing") {
    using n = s::if_neuron<s::reset::to_zero, s::firing::inclusive>;
    CHECK(spike_train<n>(0.5f, 1.0f, 4) == ints{0, 1, 0, 1});  // .5 1.0|0 .5 1.0|0
}
TEST_CASE("LIF with tau = 2") {
    using n = s::lif_neuron<2>;
    CHECK(n::decay == 0.5f);
    CHECK(spike_train<n>(0.8f, 1.0f, 4) == ints{0, 1, 0, 1});  // .8 1.2|0 .8 1.2|0
    CHECK(spike_train<n>(0.6f, 1.0f, 4) == ints{0, 0, 1, 0});  // .6 .9 1.05|0 .6
}

TEST_CASE("thresholds: uniform [0, 1) per neuron by default, or a constant") {
    using layer = s::spiking<>::impl<s::cpu, s::image_shape(4, 8, 8)>;
    std::vector<float> vth(layer::state_count);
    float lambda = 0.0f;  // the layer's one parameter, QCFS's ceiling
    layer::init(&lambda, vth.data(), s::detail::counter_rng(1, 2));
    CHECK(lambda == 4.0f);
    double mean = 0;
    for (float v : vth) {
        CHECK(v >= 0.0f);
        CHECK(v < 1.0f);
        mean += v;
    }
    // 256 draws of U[0, 1): their mean is 0.5 within 4 standard deviations, 4 / sqrt(12 x 256)
    // (about 0.072): a draw from another range, or one threshold for all, fails.
    CHECK(std::abs(mean / vth.size() - 0.5) < 4.0 / std::sqrt(12.0 * static_cast<double>(vth.size())));
    CHECK(std::adjacent_find(vth.begin(), vth.end()) == vth.end());  // no two neighbours alike
    using constant = s::spiking<s::if_neuron<s::reset::to_zero, s::firing::strict, s::constant_threshold<3, 2>>>;
    constant::impl<s::cpu, s::flat_shape(3)>::init(&lambda, vth.data(), s::detail::counter_rng(1, 2));
    CHECK(vth[2] == 1.5f);
}

namespace {
// A spiking layer of 4 neurons run by hand: thresholds 1, T = 4, one sample.
template <class Neuron>
struct basic_hand_layer {
    using layer = typename s::spiking<Neuron>::template impl<s::cpu, s::flat_shape(4)>;
    layer l;
    std::vector<float> vth{1.0f, 1.0f, 1.0f, 1.0f};
    s::detail::spiking_options options;
    s::detail::layer_context c;
    basic_hand_layer() {
        c.state = vth.data();
        c.batch = 1;
        c.timesteps = 4;
        c.spiking = &options;
    }
    std::vector<float> snn(std::vector<float> current) {
        std::vector<float> spikes(16);
        c.mode = s::detail::branch::snn;
        c.constant_input = true;
        l.forward(current.data(), spikes.data(), c);
        return {l.counts(), l.counts() + 4};
    }
    std::vector<float> ann(std::vector<float> z, bool training) {
        std::vector<float> h(4);
        c.mode = s::detail::branch::ann;
        c.training = training;
        l.forward(z.data(), h.data(), c);
        return h;
    }
};
using hand_layer = basic_hand_layer<s::if_neuron<s::reset::to_zero, s::firing::strict, s::uniform_threshold, 0>>;
using leaky_hand_layer = basic_hand_layer<s::lif_neuron<2, s::reset::to_zero, s::firing::strict, s::uniform_threshold, 0>>;
}  // namespace

TEST_CASE("membrane dropout: in training, the residual membrane is zeroed with p = 0.5, else doubled") {
    // Current 0.6, threshold 1, T = 2: without dropout V = .6 then 1.2, one spike. With it,
    // U[1] is 0 (V[2] = .6, no spike) or 1.2 (V[2] = 1.8, a spike), each half the time.
    using layer = s::spiking<>::impl<s::cpu, s::flat_shape(10000)>;
    layer l;
    std::vector<float> vth(10000, 1.0f), x(10000, 0.6f), y(2 * 10000);
    s::detail::layer_context c;
    c.state = vth.data();
    c.batch = 1;
    c.timesteps = 2;
    c.mode = s::detail::branch::snn;
    c.constant_input = true;
    c.snn_training = true;
    l.forward(x.data(), y.data(), c);
    double spikes = 0;
    for (std::size_t i = 0; i < 10000; ++i) spikes += l.counts()[i];
    CHECK(spikes / 10000 == doctest::Approx(0.5).epsilon(0.05));
    c.snn_training = false;  // evaluation: no dropout, every neuron spikes once
    l.forward(x.data(), y.data(), c);
    for (std::size_t i = 0; i < 10000; ++i) CHECK(l.counts()[i] == 1.0f);
}

namespace {
// Current 0.6, threshold 1, T = 2: the neuron fires at step 2 exactly when its membrane
// survived dropout after step 1, so the counts expose every step-1 draw.
template <int DropPercent>
void check_dropout_draws() {
    using neuron = s::if_neuron<s::reset::to_zero, s::firing::strict, s::uniform_threshold, DropPercent>;
    constexpr std::size_t neurons = 1001;  // rows that do not start on a hash word
    using layer = typename s::spiking<neuron>::template impl<s::cpu, s::flat_shape(neurons)>;
    layer l;
    const std::size_t batch = 3, offset = 2, total = 7;
    std::vector<float> vth(neurons, 1.0f), x(batch * neurons, 0.6f), y(2 * batch * neurons);
    s::detail::layer_context c;
    c.state = vth.data();
    c.timesteps = 2;
    c.mode = s::detail::branch::snn;
    c.constant_input = true;
    c.snn_training = true;
    c.seed = 11;
    c.stream = 5;
    c.step = 3;
    c.total_samples = total;
    c.batch = offset;  // the chunk before this one (a chunk at 0 sizes the counts)
    l.forward(x.data(), y.data(), c);
    c.batch = batch;
    c.sample_offset = offset;
    l.forward(x.data(), y.data(), c);
    const s::detail::counter_rng rng(c.seed, s::detail::random_stream::layer(c.stream, c.step) ^
                                                 s::detail::random_stream::membrane_dropout);
    std::size_t mismatches = 0, dropped = 0;
    for (std::size_t b = 0; b < batch; ++b)
        for (std::size_t i = 0; i < neurons; ++i) {
            const bool drop = neuron::membrane_dropped(rng, (offset + b) * neurons + i);  // t = 0
            dropped += drop;
            mismatches += l.counts()[(offset + b) * neurons + i] != (drop ? 0.0f : 1.0f);
        }
    CHECK(mismatches == 0);
    CHECK(static_cast<double>(dropped) / (batch * neurons) == doctest::Approx(DropPercent / 100.0).epsilon(0.1));
}
}  // namespace

TEST_CASE("membrane dropout draws follow their definition (1-, 2- and 16-bit draws)") {
    static_assert(s::if_neuron<>::dropout_draw_bits == 1 && s::if_neuron<>::dropout_drop_below == 1);
    check_dropout_draws<50>();
    check_dropout_draws<25>();
    check_dropout_draws<30>();
}

TEST_CASE("the SNN pass keeps spike counts") {
    hand_layer h;
    CHECK(h.snn({0.7f, 0.5f, 2.0f, -1.0f}) == std::vector<float>{2, 1, 4, 0});
}

TEST_CASE("ReSU drops the spikes of neurons the ANN holds inactive; STSU keeps them") {
    hand_layer h;
    h.snn({0.7f, 0.5f, 2.0f, -1.0f});
    CHECK(h.ann({1.0f, -0.1f, 0.0f, 3.0f}, false) == std::vector<float>{2, 0, 0, 0});
    h.options.unit = s::mapping_unit::stsu;
    CHECK(h.ann({1.0f, -0.1f, 0.0f, 3.0f}, false) == std::vector<float>{2, 1, 4, 0});
}

TEST_CASE("the ANN branch needs the SNN's counts of the same batch") {
    hand_layer h;
    CHECK_THROWS_AS(h.ann({1, 1, 1, 1}, false), s::invalid_argument);
}

TEST_CASE("ATA raises every threshold of a layer by scale x (1 - ema) when too many neurons are noisy") {
    hand_layer h;
    h.snn({2.0f, 2.0f, 2.0f, 2.0f});  // every neuron fires
    // One of four neurons inactive in the ANN but firing: 25% noisy > 10%.
    h.ann({1.0f, 1.0f, 1.0f, -1.0f}, true);
    CHECK(h.l.noisy_ratio() == 0.25);
    for (float v : h.vth) CHECK(v == doctest::Approx(0.9 * 1.0 + 0.1 * (1.0 + 0.1)));
    // Evaluation never adjusts.
    h.ann({-1.0f, -1.0f, -1.0f, -1.0f}, false);
    CHECK(h.vth[0] == doctest::Approx(1.01));
    // No noisy neuron: unchanged.
    h.ann({1.0f, 1.0f, 1.0f, 1.0f}, true);
    CHECK(h.vth[0] == doctest::Approx(1.01));
    // Custom scale, tolerance and EMA factor: 50% noisy > 40%: v <- 0.5 v + 0.5 (v + 1).
    h.options.threshold_adjustment = s::ata{1.0f, 0.4f, 0.5f, true};
    h.ann({1.0f, 1.0f, -1.0f, -1.0f}, true);
    CHECK(h.vth[3] == doctest::Approx(1.51));
    // 50% is not above a 50% tolerance.
    h.options.threshold_adjustment.tolerance = 0.5f;
    h.ann({1.0f, 1.0f, -1.0f, -1.0f}, true);
    CHECK(h.vth[3] == doctest::Approx(1.51));
    // Switched off.
    h.options.threshold_adjustment = s::ata::off();
    h.ann({-1.0f, -1.0f, -1.0f, -1.0f}, true);
    CHECK(h.vth[3] == doctest::Approx(1.51));
}

TEST_CASE("ATA lowers the thresholds of a leaky layer whose ANN-active neurons stay silent in the SNN") {
    // LIF tau 2, thresholds 1, T = 4: a current of 0.4 (below the rheobase 0.5) never
    // fires (.4 .6 .7 .75), one of 2 fires at every step.
    leaky_hand_layer h;
    CHECK(h.snn({0.4f, 0.4f, 0.4f, 2.0f}) == std::vector<float>{0, 0, 0, 4});
    // All four active in the ANN, three of them silent: 75% > 50%, no noisy neuron.
    h.ann({1.0f, 1.0f, 1.0f, 1.0f}, true);
    CHECK(h.l.noisy_ratio() == 0.0);
    CHECK(h.l.silent_ratio() == 0.75);
    for (float v : h.vth) CHECK(v == doctest::Approx(0.9 * 1.0 + 0.1 * (1.0 - 0.1)));
    // Silent neurons the ANN holds inactive do not count: 1 of 2 active is silent, 50% is
    // not above 50%.
    h.ann({1.0f, -1.0f, -1.0f, 1.0f}, true);
    CHECK(h.l.silent_ratio() == 0.5);
    CHECK(h.vth[0] == doctest::Approx(0.99));
    // Evaluation never adjusts.
    h.ann({1.0f, 1.0f, 1.0f, 1.0f}, false);
    CHECK(h.vth[0] == doctest::Approx(0.99));
    // A raise comes first: the spiking neuron inactive in the ANN is 25% noisy.
    h.ann({1.0f, 1.0f, 1.0f, -1.0f}, true);
    CHECK(h.vth[0] == doctest::Approx(0.9 * 0.99 + 0.1 * (0.99 + 0.1)));
    // Thresholds never fall below 0.
    std::fill(h.vth.begin(), h.vth.end(), 0.005f);
    h.snn({-1.0f, -1.0f, -1.0f, 2.0f});
    h.ann({1.0f, 1.0f, 1.0f, 1.0f}, true);
    CHECK(h.vth[0] == 0.0f);
    // Never, or ATA switched off: unchanged.
    std::fill(h.vth.begin(), h.vth.end(), 1.0f);
    h.snn({0.4f, 0.4f, 0.4f, 2.0f});
    h.options.threshold_adjustment.lowering = s::ata_lowering::never;
    h.ann({1.0f, 1.0f, 1.0f, 1.0f}, true);
    CHECK(h.vth[0] == 1.0f);
    h.options.threshold_adjustment = s::ata::off();
    h.options.threshold_adjustment.lowering = s::ata_lowering::always;
    h.ann({1.0f, 1.0f, 1.0f, 1.0f}, true);
    CHECK(h.vth[0] == 1.0f);
}

TEST_CASE("ATA lowers an IF layer's thresholds only when told to (ata_lowering::always)") {
    hand_layer h;
    CHECK(h.snn({-1.0f, -1.0f, -1.0f, 2.0f}) == std::vector<float>{0, 0, 0, 4});
    h.ann({1.0f, 1.0f, 1.0f, 1.0f}, true);  // 75% of the active neurons silent
    CHECK(h.vth[0] == 1.0f);
    CHECK(h.l.silent_ratio() == 0.0);  // not even counted
    h.options.threshold_adjustment.lowering = s::ata_lowering::always;
    h.ann({1.0f, 1.0f, 1.0f, 1.0f}, true);
    CHECK(h.vth[0] == doctest::Approx(0.99));
}

TEST_CASE("the gradient through the mapping unit is ReLU's, numerically, with the counts held fixed") {
    hand_layer h;
    h.snn({0.7f, 0.5f, 2.0f, -1.0f});
    h.options.unit = s::mapping_unit::resu;
    const std::vector<float> z{0.3f, -0.2f, 1.5f, -0.7f}, dy{1.0f, 2.0f, -3.0f, 4.0f};
    std::vector<float> dx(4), y(4);
    h.c.mode = s::detail::branch::ann;
    h.l.backward(z.data(), y.data(), dy.data(), dx.data(), h.c);
    for (int i = 0; i < 4; ++i) {
        const double step = 1e-3;
        const auto relu = [](double v) { return v > 0 ? v : 0.0; };
        const double numeric = dy[i] * (relu(z[i] + step) - relu(z[i] - step)) / (2 * step);
        CHECK(dx[i] == doctest::Approx(numeric));
    }
}

TEST_CASE("the spike penalty adds penalty / batch to the gradient of every ANN-active neuron") {
    hand_layer h;
    h.c.batch = 2;
    h.c.constant_input = true;
    h.c.mode = s::detail::branch::snn;
    std::vector<float> current{0.7f, 0.5f, 2.0f, -1.0f, 0.7f, 0.5f, 2.0f, -1.0f}, spikes(32);
    h.l.forward(current.data(), spikes.data(), h.c);
    const std::vector<float> z{0.3f, -0.2f, 1.5f, -0.7f, 0.0f, 2.0f, -1.0f, 0.1f};
    const std::vector<float> dy{1.0f, 2.0f, -3.0f, 4.0f, 1.0f, 1.0f, 1.0f, 1.0f};
    std::vector<float> plain(8), penalised(8);
    h.c.mode = s::detail::branch::ann;
    h.l.backward(z.data(), nullptr, dy.data(), plain.data(), h.c);
    h.options.spike_penalty = 0.5f;
    h.l.backward(z.data(), nullptr, dy.data(), penalised.data(), h.c);
    for (std::size_t i = 0; i < z.size(); ++i) CHECK(penalised[i] == plain[i] + (z[i] > 0.0f ? 0.25f : 0.0f));
    // A plain activation (rules::ann) has no spikes to penalise.
    h.options.ann_reads_spike_counts = false;
    h.l.backward(z.data(), nullptr, dy.data(), penalised.data(), h.c);
    CHECK(penalised == plain);
}

namespace {
using in4 = s::input<2, 6, 6>;
using tiny = s::network<in4, s::conv<3, 3>, s::batch_norm, s::spiking<>, s::conv<4, 3>, s::batch_norm,
                        s::max_pool<2>, s::spiking<>, s::flatten, s::linear<3>>;

std::vector<float> random_images(std::size_t n, std::uint64_t seed) {
    std::vector<float> x(n * in4::value.size());
    const s::detail::counter_rng rng(seed, 0);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = 2.0f * rng.uniform(i);
    return x;
}
template <class Model>
void randomise_bn(Model& m) {
    // Running statistics far from (0, 1), gammas and betas away from (1, 0).
    const s::detail::counter_rng rng(5, 5);
    for (std::size_t i = 0; i < m.state().size(); ++i) m.state()[i] = 0.2f + rng.uniform(i);
    for (std::size_t i = 0; i < m.parameters().size(); ++i) m.parameters()[i] += 0.3f * (rng.uniform(1000 + i) - 0.5f);
}

/// A layer sequence's initial parameters moved off their defaults, and BN running statistics
/// away from (0, 1): the layers of the SNN-against-ANN checks below.
template <class Block>
struct randomised_block {
    std::vector<float> params = std::vector<float>(Block::param_count), state = std::vector<float>(Block::state_count);
    randomised_block() {
        Block::init(params.data(), state.data(), 3, 0);
        const s::detail::counter_rng rng(9, 9);
        for (std::size_t i = 0; i < params.size(); ++i) params[i] += 0.3f * (rng.uniform(i) - 0.5f);
        for (std::size_t i = 0; i < state.size(); ++i) state[i] = 0.2f + rng.uniform(500 + i);
    }
};

/// Random spike trains s[t] (T x `samples` values, rate 0.4) and their counts c = sum_t s[t].
struct spike_trains {
    std::vector<float> spikes, counts;
    spike_trains(std::size_t T, std::size_t samples) : spikes(T * samples), counts(samples, 0.0f) {
        const s::detail::counter_rng rng(9, 9);
        for (std::size_t t = 0; t < T; ++t)
            for (std::size_t i = 0; i < samples; ++i) {
                const float sp = rng.uniform(10000 + t * 1000 + i) < 0.4f ? 1.0f : 0.0f;
                spikes[t * samples + i] = sp;
                counts[i] += sp;
            }
    }
};
}  // namespace

TEST_CASE("BN folding: the SNN's summed current equals the ANN pre-activation from the same counts") {
    // conv -> BN in the SNN (bias and BN shift spread over T steps) on spike trains s[t],
    // summed over t, against the same layers in ANN evaluation mode on c = sum_t s[t].
    constexpr int T = 5;
    constexpr std::size_t B = 3;
    constexpr s::shape in = s::image_shape(3, 5, 5);
    using block = s::detail::sequence<s::cpu, in, s::detail::type_list<s::conv<4, 3>, s::batch_norm>>;
    randomised_block<block> layers;
    const spike_trains trains(T, B * in.size());
    s::detail::layer_context c;
    c.params = layers.params.data();
    c.state = layers.state.data();
    c.timesteps = T;
    block snn, ann;
    c.batch = T * B;
    c.bias_scale = 1.0f / T;
    snn.forward(trains.spikes.data(), c);
    c.batch = B;
    c.bias_scale = 1.0f;
    ann.forward(trains.counts.data(), c);
    const std::size_t out = block::out_sizes[1];
    double worst = 0.0;
    for (std::size_t i = 0; i < B * out; ++i) {
        double sum = 0.0;
        for (std::size_t t = 0; t < T; ++t) sum += snn.output()[t * B * out + i];
        const double z = ann.output()[i];
        worst = std::max(worst, std::abs(sum - z) / std::max(1.0, std::abs(z)));
    }
    CHECK(worst < 1e-5);
}

TEST_CASE("accumulated current pooling: the SNN's summed pooled current is the ANN's pooled pre-activation") {
    // conv -> BN -> 2x2 max pool on spike trains, summed over t, against the ANN's max pool
    // of the same layers on the counts: equal with current_pooling::accumulated; per-step
    // pooling's sum exceeds it (a sum of maxima is at least the maximum of the sums).
    constexpr int T = 5;
    constexpr std::size_t B = 3;
    constexpr s::shape in = s::image_shape(3, 6, 6);
    using block =
        s::detail::sequence<s::cpu, in, s::detail::type_list<s::conv<4, 3>, s::batch_norm, s::max_pool<2>>>;
    randomised_block<block> layers;
    const spike_trains trains(T, B * in.size());
    s::detail::spiking_options options;
    s::detail::layer_context c;
    c.params = layers.params.data();
    c.state = layers.state.data();
    c.timesteps = T;
    c.spiking = &options;
    block ann;
    c.batch = B;
    ann.forward(trains.counts.data(), c);
    const std::size_t out = block::out_sizes[2];
    const std::vector<float> z(ann.output(), ann.output() + B * out);
    auto summed_snn = [&](s::current_pooling pooling) {
        options.pooling = pooling;
        block snn;
        c.mode = s::detail::branch::snn;
        c.time_major = true;
        c.batch = T * B;
        c.bias_scale = 1.0f / T;
        snn.forward(trains.spikes.data(), c);
        std::vector<double> sum(B * out, 0.0);
        for (std::size_t t = 0; t < T; ++t)
            for (std::size_t i = 0; i < B * out; ++i) sum[i] += snn.output()[t * B * out + i];
        return sum;
    };
    const auto accumulated = summed_snn(s::current_pooling::accumulated);
    const auto per_step = summed_snn(s::current_pooling::per_step);
    std::size_t above = 0;
    for (std::size_t i = 0; i < B * out; ++i) {
        CHECK(accumulated[i] == doctest::Approx(z[i]).epsilon(1e-5));
        CHECK(per_step[i] >= z[i] - 1e-5 * std::max(1.0f, std::abs(z[i])));
        above += per_step[i] > z[i] + 1e-3;
    }
    CHECK(above > 0);
}

TEST_CASE("STSU: the SNN's and the ANN's logits are equal in evaluation mode") {
    s::model<tiny, s::timesteps<4>> m{s::seed{2}};
    randomise_bn(m);
    s::rules::snn2ann rule{s::mapping_unit::stsu};
    const auto x = random_images(5, 1);
    std::vector<float> snn(15), ann(15);
    const float* p = rule.predict(m, x.data(), 5);
    std::copy(p, p + 15, snn.begin());
    p = rule.ann_branch().predict(m, x.data(), 5);
    std::copy(p, p + 15, ann.begin());
    for (int i = 0; i < 15; ++i) CHECK(snn[i] == doctest::Approx(ann[i]).epsilon(1e-6));
}

TEST_CASE("ReSU in a model: the ANN's mapping-unit output is the count where z > 0, else 0") {
    s::model<tiny, s::timesteps<4>> m{s::seed{2}};
    randomise_bn(m);
    s::rules::snn2ann rule;
    const auto x = random_images(4, 3);
    rule.ann_branch().predict(m, x.data(), 4);
    auto& exec = m.layers();
    const float* z = exec.output(1);  // BN output feeding the first spiking layer
    const float* h = exec.output(2);
    const float* c = exec.layer<2>().counts();
    std::size_t masked = 0, kept = 0;
    for (std::size_t i = 0; i < 4 * 3 * 6 * 6; ++i) {
        CHECK(h[i] == (z[i] > 0 ? c[i] : 0.0f));
        masked += z[i] <= 0 && c[i] > 0;
        kept += z[i] > 0 && c[i] > 0;
    }
    CHECK(kept > 0);
    CHECK(masked > 0);  // the batch holds neurons whose spikes ReSU drops
}

TEST_CASE("model.ann() and model.snn() share the model's one parameter and one state buffer") {
    s::model<tiny, s::timesteps<4>> m{s::seed{2}};
    randomise_bn(m);
    auto ann = m.ann();
    auto snn = m.snn();
    CHECK(ann.parameters().data() == m.parameters().data());
    CHECK(snn.parameters().data() == m.parameters().data());
    CHECK(ann.state().data() == snn.state().data());
    CHECK(ann.parameters().size() == m.param_count);
    const auto x = random_images(5, 1);
    s::rules::snn2ann rule;
    auto outputs = [](const float* p) { return std::vector<float>(p, p + 15); };
    // each view computes what the rule's evaluation of that branch computes
    const auto snn_logits = outputs(snn.forward(x.data(), 5));
    CHECK(snn_logits == outputs(rule.predict(m, x.data(), 5)));
    const auto ann_logits = outputs(ann.forward(x.data(), 5));
    CHECK(ann_logits == outputs(rule.ann_branch().predict(m, x.data(), 5)));
    // a weight changed through one branch is the other branch's weight: the head's bias
    // moves both branches' logits of class 0 by the same amount
    ann.parameters()[m.param_count - 3] += 1.0f;
    CHECK(snn.forward(x.data(), 5)[0] == doctest::Approx(snn_logits[0] + 1.0f));
    CHECK(ann.forward(x.data(), 5)[0] == doctest::Approx(ann_logits[0] + 1.0f));
}

namespace {
using task_net = s::network<s::input<1, 12, 12>, s::conv<6, 3>, s::batch_norm, s::max_pool<2>, s::spiking<>,
                            s::flatten, s::linear<24>, s::spiking<>, s::linear<3>>;
std::vector<float> snn2ann_weights(int threads) {
    s::threads limit(threads);
    s::model<task_net, s::timesteps<4>> m{s::seed{4}};
    s::trainer trainer{m, s::rules::snn2ann{}, s::adam{2e-3}};
    // batches of 25 and a last one of 5: not divisible among 2 or 3 threads
    trainer.quiet().fit(test::bars(105, 1), s::epochs{2}, s::batch{25});
    std::vector<float> w(m.parameters().begin(), m.parameters().end());
    w.insert(w.end(), m.state().begin(), m.state().end());
    return w;
}
}  // namespace

TEST_CASE("SNN2ANN learns a small task, and its SNN branch is what is evaluated") {
    s::model<task_net, s::timesteps<4>> m{s::seed{3}};
    s::trainer trainer{m, s::rules::snn2ann{}, s::adam{3e-3}};
    const auto train = test::bars(300, 1), held_out = test::bars(150, 2);
    const auto reports = trainer.quiet().validate_on(held_out).fit(train, s::epochs{8}, s::batch{32});
    CHECK(reports.back().loss < reports.front().loss);
    CHECK(reports.back().test_accuracy > 0.85);
    const auto spikes = s::measure_spikes(m, held_out, s::rules::snn2ann{});
    REQUIRE(spikes.layers.size() == 2);
    CHECK(spikes.spikes_per_image > 0);
    // spikes per neuron and step: a rate counted per image, or over T = 1, fails
    CHECK(spikes.layers[0].firing_rate > 0.0);
    CHECK(spikes.layers[0].firing_rate ==
          doctest::Approx(spikes.layers[0].spikes_per_image / (static_cast<double>(spikes.layers[0].neurons) * 4.0)));
    CHECK(spikes.snn_energy_uj < spikes.ann_energy_uj);
}

TEST_CASE("the spike penalty: the same training fires less") {
    const auto train = test::bars(300, 1), held_out = test::bars(150, 2);
    auto spikes_after_training = [&](float penalty) {
        s::model<task_net, s::timesteps<4>> m{s::seed{3}};
        s::rules::snn2ann rule;
        rule.spike_penalty = penalty;
        s::trainer{m, rule, s::adam{3e-3}}.quiet().fit(train, s::epochs{4}, s::batch{32});
        return s::measure_spikes(m, held_out, rule).spikes_per_image;
    };
    const double plain = spikes_after_training(0.0f), penalised = spikes_after_training(0.05f);
    CHECK(plain > 0.0);
    CHECK(penalised < 0.7 * plain);
}

TEST_CASE("leaky neurons with thresholds of 1: silent past the first layer unless ATA lowers them") {
    // A LIF (tau 2) neuron past the first layer needs a summed input of T Vth / 2 = 3 to
    // fire; the BN-normalised pre-activations seldom reach it, and the reference's ATA
    // only raises thresholds.
    using lif = s::lif_neuron<2, s::reset::to_zero, s::firing::strict, s::constant_threshold<1>>;
    using leaky_net = s::network<s::input<1, 12, 12>, s::conv<6, 3>, s::batch_norm, s::max_pool<2>, s::spiking<lif>,
                                 s::flatten, s::linear<24>, s::batch_norm, s::spiking<lif>, s::linear<3>>;
    const auto train = test::bars(300, 1), held_out = test::bars(150, 2);
    auto trained = [&](s::ata_lowering lowering) {
        s::model<leaky_net, s::timesteps<6>> m{s::seed{3}};
        s::rules::snn2ann rule;
        rule.threshold_adjustment.lowering = lowering;
        s::trainer t{m, rule, s::adam{3e-3}};
        const auto reports = t.quiet().validate_on(held_out).fit(train, s::epochs{12}, s::batch{32});
        const auto spikes = s::measure_spikes(m, held_out, rule);
        return std::pair{reports.back().test_accuracy, spikes.layers.at(1).firing_rate};
    };
    const auto [raised_only, raised_only_rate] = trained(s::ata_lowering::never);
    const auto [lowered, lowered_rate] = trained(s::ata_lowering::leaky_neurons);  // the default
    CAPTURE(raised_only);
    CAPTURE(raised_only_rate);
    CAPTURE(lowered);
    CAPTURE(lowered_rate);
    CHECK(lowered_rate > 10 * raised_only_rate);
    CHECK(lowered > raised_only + 0.1);
    CHECK(lowered > 0.85);
}

TEST_CASE("Poisson encoding: the SNN sees Bernoulli frames with the pixel as probability") {
    s::model<task_net, s::timesteps<8>> m{s::seed{3}};
    auto logits = [&](float pixel, s::encoding e, std::uint64_t step) {
        std::vector<float> x(30 * 144, pixel);
        s::detail::spiking_options o;
        o.input = e;
        const float* p = m.snn_forward(x.data(), 30, o, false, step);
        return std::vector<float>(p, p + 90);
    };
    auto close = [](const std::vector<float>& a, const std::vector<float>& b) {
        for (std::size_t i = 0; i < a.size(); ++i)
            if (std::abs(a[i] - b[i]) > 1e-5f * (1 + std::abs(b[i]))) return false;
        return true;
    };
    // Probability 0 and 1 give the same frames at every step as the direct input.
    CHECK(close(logits(0.0f, s::encoding::poisson, 0), logits(0.0f, s::encoding::direct, 0)));
    CHECK(close(logits(1.0f, s::encoding::poisson, 0), logits(1.0f, s::encoding::direct, 0)));
    // In between, the frames are random, keyed by the step: reproducible, and not direct.
    const auto a = logits(0.5f, s::encoding::poisson, 1);
    CHECK(a == logits(0.5f, s::encoding::poisson, 1));
    CHECK(a != logits(0.5f, s::encoding::poisson, 2));
    CHECK_FALSE(close(a, logits(0.5f, s::encoding::direct, 1)));
}

TEST_CASE("SNN2ANN training is deterministic and independent of the thread count") {
    const auto a = snn2ann_weights(2);
    CHECK(a == snn2ann_weights(2));
    CHECK(a == snn2ann_weights(1));
    CHECK(a == snn2ann_weights(3));
}

TEST_CASE("what a training step keeps for backward does not grow with T, nor does the SNN pass") {
    constexpr std::size_t batch = 64;
    const auto x = random_images(batch, 4);
    std::vector<std::int32_t> y(batch);
    for (std::size_t i = 0; i < batch; ++i) y[i] = static_cast<std::int32_t>(i % 3);
    s::model<tiny, s::timesteps<4>> m4;
    s::model<tiny, s::timesteps<16>> m16;
    s::rules::snn2ann r4, r16;
    r4.train_step(m4, x.data(), y.data(), batch, 0);
    r16.train_step(m16, x.data(), y.data(), batch, 0);
    // The SNN pass's T-step activations hold T x chunk samples, and the chunk shrinks as T
    // grows (16 samples at T = 4, 4 at T = 16); they live in two of the ANN's buffers,
    // which the pass then leaves at the size the ANN needs, whatever T.
    CHECK(decltype(m4)::snn_chunk(batch) == 16);
    CHECK(decltype(m16)::snn_chunk(batch) == 4);
    CHECK(m4.layers().ann_activation_bytes() == m16.layers().ann_activation_bytes());
    CHECK(m4.layers().snn_activation_bytes() == 0);
    CHECK(m16.layers().snn_activation_bytes() == 0);
    // A second step, SNN pass included, allocates nothing.
    const std::size_t growths = s::workspace_stats().growths;
    r16.train_step(m16, x.data(), y.data(), batch, 1);
    CHECK(s::workspace_stats().growths == growths);
}

TEST_CASE("SNN chunks are even and hold at most 64 T-step samples") {
    using m5 = s::model<tiny, s::timesteps<5>>;
    CHECK(m5::snn_chunk(64) == 11);  // 6 chunks: 11 x 5 = 55 T-step samples each
    CHECK(m5::snn_chunk(7) == 7);
    CHECK(m5::snn_chunk(1) == 1);
    CHECK(s::model<tiny, s::timesteps<100>>::snn_chunk(3) == 1);
    for (std::size_t b = 1; b <= 130; ++b) {
        const std::size_t c = m5::snn_chunk(b);
        CHECK(c * 5 <= 64);
        CHECK((b + c - 1) / c <= (b + 11) / 12);  // no more chunks than 12-sample chunks need
    }
}

TEST_CASE("the SNN pass runs in chunks of samples: a batch gives what its parts give alone") {
    static_assert(s::model<task_net, s::timesteps<4>>::snn_chunk(40) < 40);
    s::model<task_net, s::timesteps<4>> m{s::seed{9}};
    const auto d = test::bars(40, 4);
    constexpr std::size_t classes = 3, first_neurons = 6 * 6 * 6;
    const s::detail::spiking_options o = s::rules::snn2ann{}.options();
    const float* all = m.snn_forward(d.image(0), 40, o);
    const std::vector<float> logits(all, all + 40 * classes);
    const float* c = m.layers().layer<3>().counts();
    const std::vector<float> counts(c, c + 40 * first_neurons);
    for (std::size_t first : {std::size_t{0}, std::size_t{23}}) {
        const std::size_t n = first == 0 ? 23 : 17;
        const float* part = m.snn_forward(d.image(first), n, o);
        // The head's GEMM may sum in another order for another row count: equal up to rounding.
        for (std::size_t i = 0; i < n * classes; ++i) CHECK(part[i] == doctest::Approx(logits[first * classes + i]).epsilon(1e-5));
        const float* pc = m.layers().layer<3>().counts();
        CHECK(std::equal(pc, pc + n * first_neurons, counts.begin() + static_cast<std::ptrdiff_t>(first * first_neurons)));
    }
}

TEST_CASE("the SNN pass's chunks share what the pass derives from the weights, and a new pass derives it anew") {
    // Chunks after the first reuse the first's BN-folded weights (and packed operands): a
    // pass after the parameters changed must see the new ones in every chunk, as a model
    // that never saw the old ones does.
    static_assert(s::model<task_net, s::timesteps<4>>::snn_chunk(40) < 40);
    s::model<task_net, s::timesteps<4>> used{s::seed{9}}, fresh{s::seed{9}};
    const auto d = test::bars(40, 4);
    const s::detail::spiking_options o = s::rules::snn2ann{}.options();
    const float* before = used.snn_forward(d.image(0), 40, o);
    const std::vector<float> old_logits(before, before + 40 * 3);
    for (auto* m : {&used, &fresh}) {
        for (float& p : m->parameters()) p *= 1.25f;
        for (float& v : m->state()) v = v * 0.75f + 0.125f;  // BN statistics: what the fold reads
    }
    const float* a = used.snn_forward(d.image(0), 40, o);
    const std::vector<float> after(a, a + 40 * 3);
    const float* b = fresh.snn_forward(d.image(0), 40, o);
    CHECK(after == std::vector<float>(b, b + 40 * 3));
    CHECK(after != old_logits);
}

TEST_CASE("an identity shortcut after a spiking layer's place carries the current past the block") {
    // y = main(spike(z)) + z with the main path silenced (its BN's gamma = beta = 0) is z
    // itself: the network then computes what it computes without the block, in the SNN,
    // ANN and BPTT passes, forward and backward. The block is the network's first layer
    // that steps through time, so it also repeats the constant input over the T steps.
    using neuron = s::if_neuron<>;
    using with_block = s::network<s::input<1, 6, 6>, s::conv<3, 3>, s::batch_norm,
                                  s::residual<s::layers<s::spiking<neuron>, s::conv<3, 3>, s::batch_norm>>,
                                  s::spiking<neuron>, s::flatten, s::linear<4>>;
    using without = s::network<s::input<1, 6, 6>, s::conv<3, 3>, s::batch_norm, s::spiking<neuron>, s::flatten,
                               s::linear<4>>;
    constexpr int T = 4;
    s::model<with_block, s::timesteps<T>> a{s::seed{3}};
    s::model<without, s::timesteps<T>> b{s::seed{4}};
    using ea = decltype(a)::executor;
    using eb = decltype(b)::executor;
    auto pa = a.parameters(), pb = b.parameters();
    auto sa = a.state(), sb = b.state();
    // stem conv + BN, the last spiking layer and the head: the same values in both
    std::copy(pa.begin(), pa.begin() + ea::param_offsets[2], pb.begin());
    std::copy(pa.begin() + ea::param_offsets[3], pa.end(), pb.begin() + eb::param_offsets[2]);
    std::copy(sa.begin(), sa.begin() + ea::state_offsets[2], sb.begin());
    std::copy(sa.begin() + ea::state_offsets[3], sa.end(), sb.begin() + eb::state_offsets[2]);
    // silence the main path: its batch norm (the block's last 2 x 3 parameters) outputs 0
    std::fill(pa.begin() + ea::param_offsets[3] - 6, pa.begin() + ea::param_offsets[3], 0.0f);

    const std::size_t n = 5;
    std::vector<float> x(n * 36);
    const s::detail::counter_rng rng(8, 8);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = 2.0f * rng.uniform(i) - 0.5f;
    auto same_outputs = [&](auto rule) {
        const float* p = rule.predict(a, x.data(), n);
        const std::vector<float> ya(p, p + n * 4);
        p = rule.predict(b, x.data(), n);
        const std::vector<float> yb(p, p + n * 4);
        CHECK(ya == yb);
        double spread = 0.0;  // the outputs are not trivially equal (all zero, say)
        for (float v : ya) spread = std::max(spread, std::abs(static_cast<double>(v - ya[0])));
        CHECK(spread > 1e-3);
    };
    same_outputs(s::rules::snn2ann{});
    same_outputs(s::rules::snn2ann{}.ann_branch());
    same_outputs(s::rules::bptt{});

    // BPTT backward: the block sums the gradients of its T copies of the input.
    const std::vector<std::int32_t> y{0, 1, 2, 3, 0};
    s::rules::bptt bptt;
    const auto la = bptt.train_step(a, x.data(), y.data(), n, 1);
    const auto lb = bptt.train_step(b, x.data(), y.data(), n, 1);
    CHECK(la.loss == doctest::Approx(lb.loss).epsilon(1e-6));
    auto ga = a.gradients(), gb = b.gradients();
    double worst = 0.0, scale = 0.0;
    for (std::size_t i = 0; i < static_cast<std::size_t>(ea::param_offsets[2]); ++i) {
        worst = std::max(worst, static_cast<double>(std::abs(ga[i] - gb[i])));
        scale = std::max(scale, static_cast<double>(std::abs(gb[i])));
    }
    for (std::size_t i = ea::param_offsets[3]; i < ga.size(); ++i) {
        const std::size_t j = i - ea::param_offsets[3] + eb::param_offsets[2];
        worst = std::max(worst, static_cast<double>(std::abs(ga[i] - gb[j])));
        scale = std::max(scale, static_cast<double>(std::abs(gb[j])));
    }
    CHECK(scale > 0.0);
    CHECK(worst <= 1e-5 * scale);
}
