// Loss, optimisers, schedules, the trainer, determinism and the allocation-free steady state.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <new>
#include <thread>
#include <vector>

#include <snn2ann/snn2ann.hpp>

#include "synthetic_data.hpp"

namespace s = snn2ann;

// Count every allocation of the process, to prove that steady-state training makes none.
// The replacements pair malloc with free; GCC cannot see that and warns of a mismatch.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
namespace {
std::atomic<std::size_t> allocations{0};
}
void* operator new(std::size_t n) {
    allocations.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
}
void* operator new(std::size_t n, std::align_val_t a) {
    allocations.fetch_add(1, std::memory_order_relaxed);
    const std::size_t al = static_cast<std::size_t>(a);
    if (void* p = std::aligned_alloc(al, (n + al - 1) / al * al)) return p;
    throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

namespace {
using small_net = s::network<s::input<1, 12, 12>, s::conv<6, 3>, s::batch_norm, s::max_pool<2>, s::relu,
                             s::dropout<1, 4>, s::flatten, s::linear<16>, s::relu, s::linear<3>>;

}  // namespace

TEST_CASE("softmax cross-entropy: value and gradient") {
    const float logits[6] = {1.0f, 2.0f, 3.0f, 0.0f, 0.0f, 0.0f};
    const std::int32_t labels[2] = {2, 0};
    float d[6];
    const auto r = s::softmax_cross_entropy(logits, labels, 2, 3, d);
    const double l0 = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0)) - 3.0;
    CHECK(r.loss == doctest::Approx((l0 + std::log(3.0)) / 2));
    CHECK(r.correct == 2);  // sample 1 is a tie, resolved to the first class, its label
    CHECK(d[2] == doctest::Approx((std::exp(3.0) / (std::exp(1.0) + std::exp(2.0) + std::exp(3.0)) - 1) / 2));
    CHECK(d[3] == doctest::Approx((1.0 / 3 - 1) / 2));
    const std::int32_t bad[2] = {3, 0};
    CHECK_THROWS_WITH_AS(s::softmax_cross_entropy(logits, bad, 2, 3, d), doctest::Contains("label 3 of sample 0"),
                         s::invalid_argument);
}

TEST_CASE("label smoothing: torch's targets, the loss's numerical gradient, one-hot at 0") {
    const float logits[6] = {1.0f, 2.0f, 3.0f, 0.5f, -1.0f, 0.0f};
    const std::int32_t labels[2] = {2, 0};
    constexpr float eps = 0.1f;
    float d[6], plain_d[6];
    const auto r = s::softmax_cross_entropy(logits, labels, 2, 3, d, eps);
    // -sum_k q_k log softmax(z)_k with q = (1 - eps) onehot + eps / 3, in double
    double expected = 0;
    for (int n = 0; n < 2; ++n) {
        const float* z = logits + 3 * n;
        const double lse = std::log(std::exp(double(z[0])) + std::exp(double(z[1])) + std::exp(double(z[2])));
        for (int k = 0; k < 3; ++k) {
            const double q = (k == labels[n] ? 1.0 - eps : 0.0) + eps / 3.0;
            expected -= q * (double(z[k]) - lse) / 2;
        }
    }
    CHECK(r.loss == doctest::Approx(expected).epsilon(1e-12));
    CHECK(r.correct == 2);
    // The gradient is that of the reported loss: central differences in double.
    for (int i = 0; i < 6; ++i) {
        float plus[6], minus[6];
        std::copy(logits, logits + 6, plus);
        std::copy(logits, logits + 6, minus);
        constexpr float h = 1e-2f;
        plus[i] += h, minus[i] -= h;
        const double numeric = (s::softmax_cross_entropy(plus, labels, 2, 3, nullptr, eps).loss -
                                s::softmax_cross_entropy(minus, labels, 2, 3, nullptr, eps).loss) /
                               (2.0 * h);
        CHECK(d[i] == doctest::Approx(numeric).epsilon(1e-3));
    }
    // Each sample's gradient sums to 0, as softmax and the target each sum to 1.
    CHECK(d[0] + d[1] + d[2] == doctest::Approx(0.0).epsilon(1e-6));
    // Smoothing 0 is the plain loss, bit for bit.
    const auto plain = s::softmax_cross_entropy(logits, labels, 2, 3, plain_d);
    const auto zero = s::softmax_cross_entropy(logits, labels, 2, 3, d, 0.0f);
    CHECK(plain.loss == zero.loss);
    for (int i = 0; i < 6; ++i) CHECK(d[i] == plain_d[i]);
    CHECK_THROWS_WITH_AS(s::softmax_cross_entropy(logits, labels, 2, 3, d, 1.0f),
                         doctest::Contains("label smoothing must be in [0, 1), got 1"), s::invalid_argument);
    CHECK_THROWS_AS(s::softmax_cross_entropy(logits, labels, 2, 3, d, -0.1f), s::invalid_argument);
    // The rules carry it, name it in their description (a resumed state must match) and check it.
    s::rules::snn2ann rule;
    CHECK(rule.describe().find("label smoothing") == std::string::npos);
    rule.label_smoothing = 0.1f;
    CHECK(rule.describe().find("label smoothing 0.1") != std::string::npos);
    CHECK(rule.options().label_smoothing == 0.1f);
    s::rules::bptt bptt;
    bptt.label_smoothing = 0.1f;
    CHECK(bptt.describe().find("label smoothing 0.1") != std::string::npos);
    s::rules::ann ann;
    ann.label_smoothing = 0.1f;
    CHECK(ann.describe() == "ann(relu, label smoothing 0.1)");
    CHECK(s::rules::ann{}.describe() == "ann(relu)");
}

TEST_CASE("a rule's label smoothing reaches its training pass's loss") {
    const auto data = test::bars(16, 3);
    const float* x = data.images.data();
    s::model<small_net> plain_model{s::seed{4}}, smoothed_model{s::seed{4}}, twin{s::seed{4}};
    s::rules::ann plain, smoothed;
    smoothed.label_smoothing = 0.3f;
    const auto a = plain.train_step(plain_model, x, data.labels.data(), 16, 0);
    const auto b = smoothed.train_step(smoothed_model, x, data.labels.data(), 16, 0);
    // The same first forward pass: the twin's logits give both losses.
    const float* logits = twin.forward(x, 16, plain.options(), true, 0);
    CHECK(a.loss == s::softmax_cross_entropy(logits, data.labels.data(), 16, 3, nullptr).loss);
    CHECK(b.loss == s::softmax_cross_entropy(logits, data.labels.data(), 16, 3, nullptr, 0.3f).loss);
    CHECK(a.loss != b.loss);
    smoothed.label_smoothing = -1.0f;
    CHECK_THROWS_WITH_AS(smoothed.train_step(smoothed_model, x, data.labels.data(), 16, 1),
                         doctest::Contains("rules::ann: label smoothing"), s::invalid_argument);
}

TEST_CASE("SGD with momentum and Nesterov follows torch.optim.SGD") {
    std::vector<float> p{1.0f}, g{0.5f};
    s::sgd plain(0.1, 0.9);
    plain.step(p, g);  // buf = g
    CHECK(p[0] == doctest::Approx(1.0 - 0.1 * 0.5));
    plain.step(p, g);  // buf = 0.9 * 0.5 + 0.5
    CHECK(p[0] == doctest::Approx(0.95 - 0.1 * 0.95));
    std::vector<float> q{1.0f};
    s::sgd nesterov(0.1, 0.9, true, 0.01);
    nesterov.step(q, g);  // g' = 0.5 + 0.01; buf = g'; step g' + 0.9 buf
    CHECK(q[0] == doctest::Approx(1.0 - 0.1 * (0.51 + 0.9 * 0.51)));
}

TEST_CASE("Adam and AdamW follow torch.optim") {
    std::vector<float> p{1.0f}, g{0.5f};
    s::adam a(0.1);
    a.step(p, g);  // first step moves by lr (bias-corrected m / sqrt(v) = 1)
    CHECK(p[0] == doctest::Approx(0.9).epsilon(1e-6));
    std::vector<float> q{1.0f};
    s::adamw w(0.1, 0.5);
    w.step(q, g);  // decay first: 1 * (1 - 0.05), then the Adam step
    CHECK(q[0] == doctest::Approx(0.95 - 0.1).epsilon(1e-6));
    std::vector<float> r{1.0f};
    s::adam l2(0.1, 0.5);
    l2.step(r, g);  // L2 into the gradient: still a step of lr on the first step
    CHECK(r[0] == doctest::Approx(0.9).epsilon(1e-6));
}

TEST_CASE("learning-rate schedules") {
    CHECK(s::step_lr{10, 0.5}(9) == 1.0);
    CHECK(s::step_lr{10, 0.5}(20) == 0.25);
    const s::multi_step_lr m{{100, 150, 175}};
    CHECK(m(99) == 1.0);
    CHECK(m(150) == doctest::Approx(0.01));
    CHECK(m(199) == doctest::Approx(0.001));
    CHECK(s::cosine_lr{10, 0.0}(0) == 1.0);
    CHECK(s::cosine_lr{10, 0.0}(5) == doctest::Approx(0.5));
    CHECK(s::cosine_lr{10, 0.1}(10) == doctest::Approx(0.1));
}

TEST_CASE("the trainer learns a small synthetic problem") {
    const auto train = test::bars(300, 1), held_out = test::bars(150, 2);
    s::model<small_net> model{s::seed{3}};
    s::trainer trainer{model, s::rules::ann{}, s::adam{3e-3}};
    trainer.quiet().validate_on(held_out).schedule(s::cosine_lr{6, 0.1});
    const auto reports = trainer.fit(train, s::epochs{6}, s::batch{32});
    REQUIRE(reports.size() == 6);
    CHECK(reports.back().loss < reports.front().loss);
    CHECK(reports.back().test_accuracy > 0.9);
    CHECK(reports.back().learning_rate < reports.front().learning_rate);
    CHECK(s::evaluate(model, held_out).accuracy == doctest::Approx(reports.back().test_accuracy));
}

TEST_CASE("denormals flush to zero inside the scope only, on every worker") {
    volatile float tiny = 1e-39f;  // a denormal
    {
        const s::detail::flush_denormals_scope flush;
        CHECK(tiny * 1.0f == 0.0f);
        std::vector<float> v(1 << 16, 1e-39f);
        s::detail::for_range(v.size(), 1024, [&](std::size_t b, std::size_t e) {
            for (std::size_t i = b; i < e; ++i) v[i] = v[i] * 1.0f;
        });
        CHECK(std::count(v.begin(), v.end(), 0.0f) == static_cast<long>(v.size()));
    }
    CHECK(tiny * 1.0f != 0.0f);
}

TEST_CASE("the trainer rejects a data set of the wrong shape") {
    auto bad = test::bars(10, 1);
    bad.width = 6;
    s::model<small_net> model;
    s::trainer trainer{model, s::rules::ann{}, s::adam{}};
    CHECK_THROWS_WITH_AS(trainer.quiet().fit(bad, s::epochs{1}, s::batch{4}),
                         doctest::Contains("the network's input 144"), s::invalid_argument);
}

namespace {
// 205 samples in batches of 25: neither the batch nor the last batch (5) divides evenly
// among 2 or 3 threads.
std::vector<float> train_weights(int threads, std::uint64_t seed) {
    s::threads limit(threads);
    const auto data = test::bars(205, 4);
    s::model<small_net> model{s::seed{seed}};
    s::trainer trainer{model, s::rules::ann{}, s::adam{1e-3}};
    trainer.quiet().fit(data, s::epochs{2}, s::batch{25});
    return {model.parameters().begin(), model.parameters().end()};
}
}  // namespace

TEST_CASE("same seed and thread count give bit-identical weights") {
    const auto a = train_weights(2, 9), b = train_weights(2, 9);
    CHECK(a == b);
    CHECK(train_weights(2, 10) != a);
}

TEST_CASE("the result does not depend on the thread count") {
    const auto one = train_weights(1, 9);
    CHECK(one == train_weights(2, 9));
    CHECK(one == train_weights(3, 9));
}

TEST_CASE("steady-state training allocates nothing") {
    const auto data = test::bars(64, 5);
    s::model<small_net> model{s::seed{1}};
    s::rules::ann rule;
    s::adam opt{1e-3};
    auto step = [&](std::uint64_t k) {
        rule.train_step(model, data.images.data(), data.labels.data(), 32, k);
        opt.step(model.parameters(), model.gradients());
    };
    step(0);  // the first batch sizes every workspace
    step(1);
    const std::size_t heap = allocations.load();
    const std::size_t growths = s::workspace_stats().growths;
    for (std::uint64_t k = 2; k < 12; ++k) step(k);
    CHECK(allocations.load() == heap);
    CHECK(s::workspace_stats().growths == growths);
    // A smaller last batch reuses the same workspaces.
    rule.train_step(model, data.images.data(), data.labels.data(), 7, 12);
    CHECK(s::workspace_stats().growths == growths);
}

TEST_CASE("chunk scratch: one buffer per running thread, never shared by two chunks at once") {
    s::threads limit(2);
    s::detail::scratch_slots<int> slots;
    const std::size_t before = s::workspace_stats().bytes;
    slots.prepare(8, 1000);
    // Eight chunks on two threads need two buffers, not eight.
    CHECK(s::workspace_stats().bytes - before == 2 * 1000 * sizeof(int));
    const std::size_t growths = s::workspace_stats().growths;
    std::atomic<int> held{0}, most_held{0}, clashes{0};
    for (int round = 0; round < 20; ++round) {
        slots.prepare(8, 1000);
        s::detail::for_chunks(8, 8, [&](std::size_t k, std::size_t, std::size_t) {
            auto lease = slots.acquire();
            const int now = held.fetch_add(1) + 1;
            for (int m = most_held.load(); now > m && !most_held.compare_exchange_weak(m, now);) {
            }
            int* b = lease.data();
            for (int i = 0; i < 1000; ++i) b[i] = static_cast<int>(k);
            std::this_thread::yield();
            for (int i = 0; i < 1000; ++i) clashes += b[i] != static_cast<int>(k);
            held.fetch_sub(1);
        });
    }
    CHECK(clashes.load() == 0);
    CHECK(most_held.load() <= 2);
    CHECK(s::workspace_stats().growths == growths);  // prepared once, reused
    // No buffer for a chunk that needs none; a copy starts empty.
    CHECK(slots.acquire_unless(true).data() == nullptr);
    const s::detail::scratch_slots<int> copy = slots;
    CHECK(s::workspace_stats().growths == growths);
}

namespace {
// Bytes of workspace a model holds after one ANN training step on 8 random images.
template <class Net>
std::size_t workspace_after_a_step() {
    const std::size_t before = s::workspace_stats().bytes;
    s::model<Net> m{s::seed{2}};
    constexpr std::size_t batch = 8, in = s::model<Net>::input_shape.size();
    std::vector<float> x(batch * in);
    const s::detail::counter_rng rng(4, 5);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = rng.uniform(i);
    const std::vector<std::int32_t> y{0, 1, 2, 0, 1, 2, 0, 1};
    s::rules::ann rule;
    rule.train_step(m, x.data(), y.data(), batch, 0);
    return s::workspace_stats().bytes - before;
}
}  // namespace

TEST_CASE("a model's convolutions share one scratch: a layer adds its weights and activations, not its own partial sums") {
    s::threads limit(2);
    using one = s::network<s::input<64, 4, 4>, s::conv<64, 3>, s::flatten, s::linear<3>>;
    using three = s::network<s::input<64, 4, 4>, s::conv<64, 3>, s::conv<64, 3>, s::conv<64, 3>, s::flatten,
                             s::linear<3>>;
    // Each extra layer: weights and their gradient (2 x 148 KB) and a few 32 KB activation
    // buffers. Per-layer scratch would add 8 chunks of weight-gradient partials (1.2 MB)
    // and the column matrices on top.
    const std::size_t extra = workspace_after_a_step<three>() - workspace_after_a_step<one>();
    constexpr std::size_t weights = 64 * 64 * 9 * sizeof(float);
    CHECK(extra >= 2 * 2 * weights);
    CHECK(extra < 2 * (2 * weights + 300'000));
}

namespace {
using spiking_net = s::network<s::input<1, 12, 12>, s::conv<4, 3>, s::batch_norm, s::max_pool<2>, s::spiking<>,
                               s::flatten, s::linear<3>>;
}

TEST_CASE("every entry that takes a data set checks it whole before computing anything") {
    s::model<spiking_net, s::timesteps<4>> m{s::seed{2}};
    const std::vector<float> before(m.parameters().begin(), m.parameters().end());
    const auto unchanged = [&] { return std::equal(before.begin(), before.end(), m.parameters().begin()); };
    const auto fit = [&](const s::data::dataset& d) {
        s::trainer t{m, s::rules::snn2ann{}, s::adam{1e-3}};
        t.quiet().fit(d, s::epochs{1}, s::batch{16});
    };
    auto d = test::bars(300, 1);
    SUBCASE("fewer image values than labels x sample size") {
        d.images.resize(d.images.size() - 144);
        CHECK_THROWS_WITH_AS(fit(d), doctest::Contains("43056 image values for 300 labels of 144 values each"),
                             s::invalid_argument);
        CHECK_THROWS_WITH_AS(s::evaluate(m, d, s::rules::snn2ann{}), doctest::Contains("image values"),
                             s::invalid_argument);
        CHECK_THROWS_WITH_AS(s::measure_spikes(m, d, s::rules::bptt{}), doctest::Contains("image values"),
                             s::invalid_argument);
        CHECK_THROWS_WITH_AS(s::convert::evaluate_converted(m, d, {4}), doctest::Contains("image values"),
                             s::invalid_argument);
        CHECK_THROWS_WITH_AS(s::convert::ann_to_snn(m, d, s::rules::ann{}), doctest::Contains("image values"),
                             s::invalid_argument);
    }
    SUBCASE("a label outside the classes, reported with its index in the data set, before any step") {
        d.labels[250] = 7;
        CHECK_THROWS_WITH_AS(fit(d), doctest::Contains("label 7 of sample 250 is outside [0, 3)"),
                             s::invalid_argument);
        d.labels[250] = -1;
        CHECK_THROWS_WITH_AS(s::evaluate(m, d, s::rules::bptt{}), doctest::Contains("label -1 of sample 250"),
                             s::invalid_argument);
        d.labels[250] = 2;
        d.classes = 2;  // the data set's own class count is a bound too
        CHECK_THROWS_WITH_AS(fit(d), doctest::Contains("label 2 of sample 2 is outside [0, 2) (the data set's classes)"),
                             s::invalid_argument);
    }
    SUBCASE("a sample shape with a zero dimension, or not the network's") {
        d.width = 0;
        CHECK_THROWS_WITH_AS(fit(d), doctest::Contains("has a dimension that is not positive"), s::invalid_argument);
        d.width = 12;
        d.channels = 2, d.height = 6;  // 144 values, but the data are 2x6x12
        CHECK_NOTHROW(s::data::validate(d, s::image_shape(1, 12, 12), 3, "same size"));
        d.height = 7;
        CHECK_THROWS_WITH_AS(fit(d), doctest::Contains("2x7x12 (168 values), the network's input 144 values"),
                             s::invalid_argument);
    }
    SUBCASE("a bad validation set is found before training starts") {
        auto held_out = test::bars(30, 2);
        held_out.labels[29] = 3;
        s::trainer t{m, s::rules::snn2ann{}, s::adam{1e-3}};
        t.quiet().validate_on(held_out);
        CHECK_THROWS_WITH_AS(t.fit(d, s::epochs{1}, s::batch{16}),
                             doctest::Contains("validation set): label 3 of sample 29"), s::invalid_argument);
    }
    SUBCASE("normalize refuses images that do not fit the shape") {
        d.images.pop_back();
        CHECK_THROWS_AS(s::data::normalize(d, {0.5f}, {0.25f}), s::invalid_argument);
    }
    CHECK(unchanged());
}
