// The CUDA backend against the CPU path, for either execution: included by
// test_cuda_host.cpp (the host execution, every CI run, any compiler) and test_cuda.cu
// (a GPU, nvcc), each of which first names the backend tag `tested` (cuda_on_host or cuda).
// Every CUDA layer runs on the same fresh random inputs, parameters and contexts as the
// CPU layer of the same spec; outputs and gradients must agree within 1e-5 of the
// largest value (fp32 GEMMs summed in another order), spike counts exactly (the neuron
// arithmetic is the same; LIF may differ only at threshold ties). Then whole models: one
// init, the same passes, training that lowers the loss, resume, the NaN guard. The test
// suites are "kernels", "layers" and "models" (ctest runs each as a test of its own).
#pragma once

#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "../synthetic_data.hpp"

namespace {

using namespace snn2ann;
namespace cuda_ops = snn2ann::detail::cuda_ops;
/// The execution under test, and its device.
using device = typename detail::cuda_execution<tested>::type;

/// The device for checks of single kernels and layers (a model makes its own).
device& test_device() {
    static device d;
    return d;
}

std::vector<float> random_vector(std::size_t n, std::uint64_t stream, float lo = -1.0f, float hi = 1.0f) {
    const detail::counter_rng rng(12345, stream);
    std::vector<float> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = lo + (hi - lo) * rng.uniform(i);
    return v;
}

/// A host vector and its device copy.
struct mirrored {
    std::vector<float> host;
    cuda_ops::device_buffer<float, device> on_device;
    explicit mirrored(std::vector<float> v) : host(std::move(v)) {
        on_device.ensure(std::max<std::size_t>(host.size(), 1));
        test_device().copy_now(on_device.data(), host.data(), host.size() * sizeof(float));
    }
    explicit mirrored(std::size_t n) : mirrored(std::vector<float>(n, 0.0f)) {}
    std::vector<float> from_device() const {
        std::vector<float> v(host.size());
        test_device().copy_now(v.data(), on_device.data(), v.size() * sizeof(float));
        return v;
    }
    float* h() { return host.data(); }
    float* d() { return on_device.data(); }
};

/// max |a - b| / max(|a|, tiny): the error relative to the largest value.
double relative_error(const std::vector<float>& a, const std::vector<float>& b) {
    REQUIRE(a.size() == b.size());
    double diff = 0.0, scale = 1e-30;
    for (std::size_t i = 0; i < a.size(); ++i) {
        diff = std::max(diff, std::abs(static_cast<double>(a[i]) - b[i]));
        scale = std::max(scale, std::abs(static_cast<double>(a[i])));
    }
    return diff / scale;
}

constexpr double tolerance = 1e-5;

/// Fraction of elements that differ by more than `tolerance` of the largest value.
double mismatch_fraction(const std::vector<float>& a, const std::vector<float>& b) {
    REQUIRE(a.size() == b.size());
    double scale = 1e-30;
    for (const float v : a) scale = std::max(scale, std::abs(static_cast<double>(v)));
    std::size_t n = 0;
    for (std::size_t i = 0; i < a.size(); ++i) n += std::abs(static_cast<double>(a[i]) - b[i]) > tolerance * scale;
    return static_cast<double>(n) / static_cast<double>(std::max<std::size_t>(a.size(), 1));
}

/// One spec run by its CPU and its GPU layer on the same data.
template <class Spec, shape In>
struct layer_pair {
    using cpu_layer = typename Spec::template impl<cpu, In>;
    using gpu_layer = detail::gpu_layer<Spec, In, device>;
    static constexpr std::size_t in_size = In.size(), out_size = cpu_layer::out.size();
    cpu_layer c;
    gpu_layer g;
    device& dev = test_device();
    mirrored params, grads, state;

    layer_pair()
        : params(initial_params()), grads(std::max<std::size_t>(cpu_layer::param_count, 1)),
          state(initial_state()) {}
    static std::vector<float> initial_params() {
        std::vector<float> p(std::max<std::size_t>(cpu_layer::param_count, 1)), s(std::max<std::size_t>(cpu_layer::state_count, 1));
        cpu_layer::init(p.data(), s.data(), detail::counter_rng(7, 1));
        // fresh random values where the init would be constant (BN's gamma and beta)
        if constexpr (requires { cpu_layer::is_batch_norm; })
            for (std::size_t i = 0; i < p.size(); ++i) p[i] = 0.5f + random_vector(p.size(), 90)[i];
        return p;
    }
    static std::vector<float> initial_state() {
        std::vector<float> p(std::max<std::size_t>(cpu_layer::param_count, 1)), s(std::max<std::size_t>(cpu_layer::state_count, 1));
        cpu_layer::init(p.data(), s.data(), detail::counter_rng(7, 1));
        if constexpr (requires { cpu_layer::is_batch_norm; }) {
            const auto r = random_vector(s.size(), 91, 0.1f, 1.0f);
            for (std::size_t i = 0; i < s.size(); ++i) s[i] = i < s.size() / 2 ? r[i] - 0.5f : r[i];
        }
        return s;
    }
    detail::layer_context host_context(detail::layer_context c) {
        c.params = params.h(), c.grads = grads.h(), c.state = state.h();
        return c;
    }
    detail::layer_context device_context(detail::layer_context c) {
        c.params = params.d(), c.grads = grads.d(), c.state = state.d();
        return c;
    }

    /// Forward (and backward when `train`) on both; returns {output error, dx error, grad error}.
    struct errors {
        double y = 0, dx = 0, grads = 0, state = 0;
        double y_mismatch = 0;  // fraction of outputs that differ (spikes, counts)
        bool dx_identical = false;  // every bit of dx as on the CPU
        std::vector<float> device_dx;
    };
    errors run(detail::layer_context base, std::size_t in_samples, std::size_t out_samples, bool train,
               float lo = -1.0f, float hi = 1.0f) {
        mirrored x(random_vector(in_samples * in_size, 1, lo, hi));
        mirrored y(out_samples * out_size), dy(random_vector(out_samples * out_size, 2)), dx(in_samples * in_size);
        c.forward(x.h(), y.h(), host_context(base));
        g.forward(x.d(), y.d(), device_context(base), dev);
        errors e;
        e.y = relative_error(y.host, y.from_device());
        e.y_mismatch = mismatch_fraction(y.host, y.from_device());
        e.state = relative_error(state.host, state.from_device());
        if (train) {
            c.backward(x.h(), y.h(), dy.h(), dx.h(), host_context(base));
            g.backward(x.d(), y.d(), dy.d(), dx.d(), device_context(base), dev);
            const std::vector<float> gpu_dx = dx.from_device();
            e.dx = relative_error(dx.host, gpu_dx);
            e.dx_identical = dx.host == gpu_dx;
            e.device_dx = gpu_dx;
            e.grads = relative_error(grads.host, grads.from_device());
        }
        return e;
    }
};

detail::layer_context context(std::size_t batch, bool training, detail::branch mode = detail::branch::ann) {
    detail::layer_context c;
    c.batch = batch;
    c.training = training;
    c.seed = 3;
    c.step = 5;
    c.stream = 17;
    c.mode = mode;
    c.timesteps = 4;
    return c;
}

template <class Spec, shape In>
void check_ann_layer(std::size_t batch = 5, float bias_scale = 1.0f) {
    layer_pair<Spec, In> p;
    auto c = context(batch, true);
    c.bias_scale = bias_scale;
    const auto e = p.run(c, batch, batch, true);
    CHECK(e.y < tolerance);
    CHECK(e.dx < tolerance);
    CHECK(e.grads < tolerance);
    CHECK(e.state < tolerance);
}

}  // namespace

TEST_SUITE_BEGIN("layers");

TEST_CASE("convolutions: forward, dx, dW and db as the CPU path") {
    check_ann_layer<conv<8, 3>, image_shape(3, 12, 12)>();
    check_ann_layer<conv<8, 3>, image_shape(3, 12, 12)>(5, 0.25f);  // the SNN's spread bias
    check_ann_layer<conv<6, 3, 2, 1>, image_shape(4, 11, 9)>();
    check_ann_layer<conv<5, 1>, image_shape(7, 6, 6)>();
    check_ann_layer<conv<4, 5, 1, 0, false>, image_shape(2, 9, 9)>();
    check_ann_layer<conv<16, 3, 1, 1, true, kaiming_normal_fan_out>, image_shape(64, 8, 8)>(3);
}

TEST_CASE("linear layers, pooling, flatten, ReLU") {
    check_ann_layer<linear<7>, flat_shape(33)>();
    check_ann_layer<linear<7, false>, flat_shape(33)>(9);
    check_ann_layer<max_pool<2>, image_shape(3, 8, 8)>();
    check_ann_layer<max_pool<2>, image_shape(3, 7, 9)>();
    check_ann_layer<max_pool<3, 2>, image_shape(2, 9, 9)>();
    check_ann_layer<avg_pool<2>, image_shape(3, 8, 8)>();
    check_ann_layer<avg_pool<3, 2>, image_shape(2, 9, 9)>();
    check_ann_layer<flatten, image_shape(3, 4, 4)>();
    check_ann_layer<relu, image_shape(3, 4, 4)>();
}

TEST_CASE("batch norm: training statistics, running statistics, evaluation with a spread shift") {
    check_ann_layer<batch_norm, image_shape(4, 5, 5)>(6);
    check_ann_layer<batch_norm, flat_shape(9)>(11);
    layer_pair<batch_norm, image_shape(4, 5, 5)> p;
    auto c = context(6, false);
    c.bias_scale = 0.2f;
    const auto e = p.run(c, 6, 6, true);
    CHECK(e.y < tolerance);
    CHECK(e.dx < tolerance);
    CHECK(e.grads < tolerance);
}

TEST_CASE("dropout draws the CPU path's mask") {
    layer_pair<dropout<25>, image_shape(3, 6, 6)> p;
    const auto e = p.run(context(7, true), 7, 7, true);
    CHECK(e.y == 0.0);
    CHECK(e.dx == 0.0);
}

namespace {

template <class Neuron>
void check_spiking_layer() {
    using spec = spiking<Neuron>;
    constexpr shape in = image_shape(3, 5, 5);
    const std::size_t b = 6, steps = 4;
    CAPTURE(Neuron::decay);
    // The same currents give the same spikes: IF's arithmetic is exact here; LIF's
    // decay * U + I may round differently (fused multiply-add) and flip a spike whose
    // membrane lies on the threshold, so a few outputs may differ.
    const double allowed = Neuron::decay == 1.0f ? 0.0 : 0.01;
    SUBCASE("SNN branch: constant input, rate output, membrane dropout") {
        layer_pair<spec, in> p;
        auto c = context(b, false, detail::branch::snn);
        c.constant_input = true;
        c.collapse_output = true;
        c.snn_training = true;
        const auto e = p.run(c, b, b, false, -0.5f, 1.5f);
        CHECK(e.y_mismatch <= allowed);
    }
    SUBCASE("SNN branch: time-varying input, spikes out, a chunk of a larger batch") {
        layer_pair<spec, in> p;
        auto c = context(b, false, detail::branch::snn);
        c.sample_offset = 0;
        c.total_samples = b;
        const auto e = p.run(c, b * steps, b * steps, false, -0.5f, 1.5f);
        CHECK(e.y_mismatch <= allowed);
    }
    SUBCASE("ANN branch: ReSU and STSU on the SNN's counts, ATA raising and lowering, ReLU's gradient") {
        // tolerance 0: ATA raises; tolerance 1 with silent tolerance 0: it lowers every layer
        ata lowers_always{0.1f, 1.0f, 0.9f, true};
        lowers_always.silent_tolerance = 0.0f;
        lowers_always.lowering = ata_lowering::always;
        for (const auto& [unit, adjustment] : {std::pair{mapping_unit::resu, ata{0.1f, 0.0f, 0.9f, true}},
                                               std::pair{mapping_unit::stsu, ata{0.1f, 0.0f, 0.9f, true}},
                                               std::pair{mapping_unit::resu, lowers_always}}) {
            CAPTURE(adjustment.tolerance);
            layer_pair<spec, in> p;
            detail::spiking_options o;
            o.unit = unit;
            o.threshold_adjustment = adjustment;
            auto s = context(b, false, detail::branch::snn);
            s.constant_input = s.collapse_output = true;
            s.spiking = &o;
            // The ANN's z (from the same draws as the currents) is positive where the
            // current is large, so no ANN-active neuron would stay silent; for the lowering,
            // currents that fall as z rises.
            const bool lowering = adjustment.tolerance == 1.0f;
            p.run(s, b, b, false, lowering ? 1.5f : -0.5f, lowering ? -0.5f : 1.5f);
            auto a = context(b, true, detail::branch::ann);
            a.spiking = &o;
            a.output_scale = 0.25f;
            const auto e = p.run(a, b, b, true);
            CHECK(e.y_mismatch <= allowed);
            CHECK(e.dx < tolerance);
            CHECK(e.state < tolerance);
            CHECK(p.g.noisy_ratio(p.dev) == doctest::Approx(p.c.noisy_ratio()));
            // ATA acted, the same way on both: every threshold raised or lowered by 0.01
            if (lowering) CHECK(p.c.silent_ratio() > 0.3);  // currents below 0.5 where z > 0
            const float moved = lowering ? -0.01f : 0.01f;
            const auto initial = layer_pair<spec, in>::initial_state(), adjusted = p.state.from_device();
            for (std::size_t i = 0; i < initial.size(); ++i)
                CHECK(adjusted[i] == doctest::Approx(std::max(0.0f, initial[i] + moved)).epsilon(1e-5));
        }
    }
    SUBCASE("BPTT: spikes, kept membranes and the backward through time for every surrogate") {
        for (const surrogate g : {surrogate::rectangle(), surrogate::triangle(0.7f), surrogate::sigmoid(),
                                  surrogate::fast_sigmoid(), surrogate::atan()})
            for (const bool detach : {false, true})
                for (const bool constant : {false, true}) {
                    CAPTURE(static_cast<int>(g.kind));
                    CAPTURE(detach);
                    CAPTURE(constant);
                    layer_pair<spec, in> p;
                    detail::spiking_options o;
                    o.gradient = g;
                    o.detach_reset = detach;
                    auto c = context(b, true, detail::branch::bptt);
                    c.spiking = &o;
                    c.constant_input = constant;
                    const auto e = p.run(c, constant ? b : b * steps, b * steps, true, -0.5f, 1.5f);
                    CHECK(e.y_mismatch <= allowed);
                    if (Neuron::decay == 1.0f) CHECK(e.dx < tolerance);
                }
    }
}

}  // namespace

TEST_CASE("spiking layers: IF and LIF, both reset modes, both firing rules") {
    check_spiking_layer<if_neuron<>>();
    check_spiking_layer<if_neuron<reset::by_subtraction, firing::inclusive, constant_threshold<1>, 0>>();
    check_spiking_layer<lif_neuron<4>>();
}

TEST_SUITE_END();

TEST_SUITE_BEGIN("kernels");

TEST_CASE("optimisers update the device buffer as the CPU classes do") {
    const std::size_t n = 1000;
    // The model-level test below checks apply() end to end; here the kernels directly:
    std::vector<float> p = random_vector(n, 40), g = random_vector(n, 41);
    device& dev = test_device();
    {
        sgd host_opt(0.1, 0.9, true, 1e-3);
        std::vector<float> host = p;
        mirrored dp(p), dg(g), velocity(n);
        for (int step = 0; step < 3; ++step) {
            host_opt.step(std::span<float>(host), std::span<const float>(g));
            cuda_ops::sgd_step(dev, dp.d(), dg.d(), velocity.d(), n, 0.1f, 0.9f, 1e-3f, true, step == 0);
        }
        CHECK(relative_error(host, dp.from_device()) < tolerance);
    }
    {
        adam host_opt(1e-2, 1e-3);
        std::vector<float> host = p;
        mirrored dp(p), dg(g), m(n), v(n);
        for (int step = 1; step <= 3; ++step) {
            host_opt.step(std::span<float>(host), std::span<const float>(g));
            // The factors the CUDA model takes: the host optimiser's own (adam::coefficients).
            cuda_ops::adam_step(dev, dp.d(), dg.d(), m.d(), v.d(), n, host_opt.coefficients(static_cast<std::uint64_t>(step)));
        }
        CHECK(relative_error(host, dp.from_device()) < tolerance);
    }
}

namespace {
/// Row-major C = op(A) op(B) in double, the reference of the GEMM checks.
std::vector<float> reference_product(bool ta, bool tb, int m, int n, int k, const std::vector<float>& a, int lda,
                                     const std::vector<float>& b, int ldb) {
    std::vector<float> c(static_cast<std::size_t>(m) * n);
    for (int i = 0; i < m; ++i)
        for (int j = 0; j < n; ++j) {
            double s = 0.0;
            for (int l = 0; l < k; ++l)
                s += static_cast<double>(ta ? a[l * lda + i] : a[i * lda + l]) * (tb ? b[j * ldb + l] : b[l * ldb + j]);
            c[static_cast<std::size_t>(i) * n + j] = static_cast<float>(s);
        }
    return c;
}
}  // namespace

TEST_CASE("GEMMs: row-major products through the column-major sgemm, every transpose, padded rows, batches") {
    device& dev = test_device();
    const int m = 5, n = 7, k = 3;
    for (const bool ta : {false, true})
        for (const bool tb : {false, true}) {
            CAPTURE(ta);
            CAPTURE(tb);
            const int lda = (ta ? m : k) + 2, ldb = (tb ? k : n) + 1, ldc = n + 3;  // rows longer than the matrix
            mirrored a(random_vector(static_cast<std::size_t>(ta ? k : m) * lda, 60)),
                b(random_vector(static_cast<std::size_t>(ta ? n : n) * ldb + 64, 61));
            mirrored c(std::vector<float>(static_cast<std::size_t>(m) * ldc, std::numeric_limits<float>::quiet_NaN()));
            // beta = 0 must not read C, which holds NaN
            cuda_ops::gemm(dev, ta, tb, m, n, k, a.d(), lda, b.d(), ldb, c.d(), ldc);
            const std::vector<float> want = reference_product(ta, tb, m, n, k, a.host, lda, b.host, ldb);
            std::vector<float> got = c.from_device(), got_packed;
            for (int i = 0; i < m; ++i) got_packed.insert(got_packed.end(), got.begin() + i * ldc, got.begin() + i * ldc + n);
            CHECK(relative_error(want, got_packed) < tolerance);
            // beta = 1 adds to C
            cuda_ops::gemm(dev, ta, tb, m, n, k, a.d(), lda, b.d(), ldb, c.d(), ldc, 1.0f);
            got = c.from_device();
            std::vector<float> twice;
            for (int i = 0; i < m; ++i)
                for (int j = 0; j < n; ++j) twice.push_back(2.0f * got_packed[static_cast<std::size_t>(i) * n + j]);
            got_packed.clear();
            for (int i = 0; i < m; ++i) got_packed.insert(got_packed.end(), got.begin() + i * ldc, got.begin() + i * ldc + n);
            CHECK(relative_error(twice, got_packed) < tolerance);
        }
    // strided batches: three products, A shared (stride 0) as the convolution uses it
    const int count = 3;
    mirrored a(random_vector(static_cast<std::size_t>(m) * k, 62)), b(random_vector(static_cast<std::size_t>(count) * k * n, 63));
    mirrored c(static_cast<std::size_t>(count) * m * n);
    cuda_ops::gemm_batched(dev, false, false, m, n, k, a.d(), k, 0, b.d(), n, static_cast<long long>(k) * n, c.d(), n,
                           static_cast<long long>(m) * n, count);
    const std::vector<float> got = c.from_device();
    for (int i = 0; i < count; ++i) {
        const std::vector<float> bi(b.host.begin() + i * k * n, b.host.begin() + (i + 1) * k * n);
        const std::vector<float> want = reference_product(false, false, m, n, k, a.host, k, bi, n);
        CHECK(relative_error(want, std::vector<float>(got.begin() + i * m * n, got.begin() + (i + 1) * m * n)) < tolerance);
    }
    if constexpr (std::is_same_v<device, cuda_ops::host_device>) {
        // the host execution refuses what cuBLAS refuses (a leading dimension below the rows)
        const auto refused = [&](auto call, const char* what) {
            try {
                call();
                return std::string("accepted");
            } catch (const cuda_error& e) {
                return std::string(e.what()).find(what) != std::string::npos ? std::string("refused")
                                                                              : std::string(e.what());
            }
        };
        CHECK(refused([&] { dev.sgemm(false, false, m, n, k, 1.0f, a.d(), m - 1, b.d(), k, 0.0f, c.d(), m); },
                      "CUBLAS_STATUS_INVALID_VALUE (host execution: lda = 4 < 5)") == "refused");
        CHECK(refused([&] { dev.sgemm(false, true, m, n, k, 1.0f, a.d(), m, b.d(), n - 1, 0.0f, c.d(), m); },
                      "ldb = 6 < 7") == "refused");
        CHECK(refused([&] { dev.sgemm(false, false, m, n, k, 1.0f, a.d(), m, b.d(), k, 0.0f, c.d(), m - 1); },
                      "ldc = 4 < 5") == "refused");
        CHECK(refused([&] { dev.sgemm_strided_batched(false, false, m, n, k, 1.0f, a.d(), m, 0, b.d(), k, 0, 0.0f, c.d(), m, 0, -1); },
                      "batchCount = -1") == "refused");
    }
}

TEST_CASE("per-channel sums in double, one segment per channel") {
    const std::size_t batch = 3, channels = 4, plane = 70;  // more elements per channel than one block's threads
    mirrored x(random_vector(batch * channels * plane, 64)), out(channels);
    cuda_ops::channel_sum(test_device(), x.d(), batch, channels, plane, out.d());
    std::vector<float> want(channels);
    for (std::size_t c = 0; c < channels; ++c) {
        double s = 0.0;
        for (std::size_t n = 0; n < batch; ++n)
            for (std::size_t p = 0; p < plane; ++p) s += x.host[(n * channels + c) * plane + p];
        want[c] = static_cast<float>(s);
    }
    CHECK(relative_error(want, out.from_device()) < 1e-6);
}

TEST_CASE("pool backward passes gather: overlapping windows give the same bits run after run") {
    {
        // max pooling adds the gradients of the windows an input won, in window order:
        // additions only, so the CPU path's bits
        layer_pair<max_pool<3, 2>, image_shape(2, 9, 9)> p;
        const auto first = p.run(context(5, true), 5, 5, true);
        CHECK(first.dx_identical);
        const auto again = p.run(context(5, true), 5, 5, true);
        CHECK(again.device_dx == first.device_dx);
    }
    {
        // average pooling scales each term (a multiply-add a compiler may fuse)
        layer_pair<avg_pool<3, 2>, image_shape(2, 9, 9)> p;
        const auto first = p.run(context(5, true), 5, 5, true);
        CHECK(first.dx < tolerance);
        const auto again = p.run(context(5, true), 5, 5, true);
        CHECK(again.device_dx == first.device_dx);
    }
    // backward needs the winners of a training forward of the same batch
    layer_pair<max_pool<2>, image_shape(2, 8, 8)> p;
    mirrored dy(random_vector(3 * p.out_size, 65)), dx(3 * p.in_size);
    CHECK_THROWS_AS(p.g.backward(nullptr, nullptr, dy.d(), dx.d(), p.device_context(context(3, true)), p.dev),
                    snn2ann::invalid_argument);
}

TEST_CASE("accumulated max pooling of time-varying currents: the CPU path's values, bit for bit") {
    detail::spiking_options o;
    o.pooling = current_pooling::accumulated;
    const std::size_t b = 3, steps = 4;
    auto c = context(b * steps, false, detail::branch::snn);
    c.time_major = true;
    c.spiking = &o;
    {
        layer_pair<max_pool<2>, image_shape(3, 8, 8)> p;
        CHECK(p.run(c, b * steps, b * steps, false).y == 0.0);
    }
    {
        layer_pair<max_pool<3, 2>, image_shape(2, 9, 9)> p;
        CHECK(p.run(c, b * steps, b * steps, false).y == 0.0);
    }
}

TEST_CASE("the device of a process: SNN2ANN_CUDA_DEVICE, else its rank on its node, else 0") {
    CHECK(cuda_ops::choose_device(4, nullptr, -1) == 0);
    CHECK(cuda_ops::choose_device(4, nullptr, 2) == 2);
    CHECK(cuda_ops::choose_device(4, nullptr, 5) == 1);  // more ranks than GPUs: they share
    CHECK(cuda_ops::choose_device(4, "3", 1) == 3);
    CHECK(cuda_ops::choose_device(4, "", 1) == 1);
    CHECK_THROWS_WITH_AS(cuda_ops::choose_device(2, "2", 0),
                         "snn2ann: SNN2ANN_CUDA_DEVICE=2: not a device of this machine (2 CUDA devices, 0 to 1)",
                         snn2ann::invalid_argument);
    CHECK_THROWS_AS(cuda_ops::choose_device(2, "one", 0), snn2ann::invalid_argument);
}

TEST_SUITE_END();

namespace {
using small_net = network<input<1, 12, 12>, conv<8, 3>, batch_norm, max_pool<2>, spiking<>, conv<8, 3>, batch_norm,
                          max_pool<2>, spiking<>, flatten, dropout<20>, linear<32>, batch_norm, spiking<>, linear<3>>;
}

TEST_SUITE_BEGIN("models");

TEST_CASE("a whole model: same initial weights, same ANN pass and gradients, same SNN counts") {
    model<small_net, timesteps<4>> host(seed{5});
    model<small_net, timesteps<4>, tested> device(seed{5});
    CHECK(device.parameters_on_host() == std::vector<float>(host.parameters().begin(), host.parameters().end()));
    const auto data = test::bars(16, 1);
    const float* x = data.images.data();
    const std::int32_t* y = data.labels.data();

    const auto ann = rules::ann{}.options();
    std::vector<float> dy = random_vector(16 * 3, 50);
    const float* hy = host.forward(x, 16, ann, true, 1);
    const std::vector<float> host_logits(hy, hy + 16 * 3);
    const float* dyv = device.forward(x, 16, ann, true, 1);
    CHECK(relative_error(host_logits, std::vector<float>(dyv, dyv + 16 * 3)) < tolerance);
    host.backward(x, dy.data(), 16, ann);
    device.backward(x, dy.data(), 16, ann);
    CHECK(relative_error(std::vector<float>(host.gradients().begin(), host.gradients().end()),
                         device.gradients_on_host()) < 1e-4);  // through three BN layers

    // The SNN branch in evaluation mode: spike counts agree except where a membrane meets
    // its threshold within rounding (convolutions sum in another order on the GPU); the
    // logits agree when every count does.
    rules::snn2ann snn;
    const float* hs = snn.predict(host, x, 16);
    const std::vector<float> host_snn(hs, hs + 16 * 3);
    const float* ds = snn.predict(device, x, 16);
    const std::vector<float> device_snn(ds, ds + 16 * 3);
    // Per sample: whether every spike count of every spiking layer agrees.
    std::vector<bool> sample_agrees(16, true);
    std::size_t counts = 0, differing = 0;
    auto compare_counts = [&](auto& cpu_layer, auto& gpu_layer) {
        constexpr std::size_t neurons = std::remove_reference_t<decltype(cpu_layer)>::neurons;
        const std::size_t n = cpu_layer.counted_batch() * neurons;
        std::vector<float> g(n);
        device.device().copy_now(g.data(), gpu_layer.counts(), n * sizeof(float));
        for (std::size_t i = 0; i < n; ++i)
            if (g[i] != cpu_layer.counts()[i]) ++differing, sample_agrees[i / neurons] = false;
        counts += n;
    };
    compare_counts(host.layers().layer<3>(), device.layers().layer<3>());
    compare_counts(host.layers().layer<7>(), device.layers().layer<7>());
    compare_counts(host.layers().layer<12>(), device.layers().layer<12>());
    MESSAGE(differing << " of " << counts << " spike counts differ");
    CHECK(differing * 200 <= counts);  // at most 0.5%
    // A sample whose counts all agree has the CPU's logits (the head reads only them).
    std::size_t compared = 0;
    for (std::size_t b = 0; b < 16; ++b) {
        if (!sample_agrees[b]) continue;
        ++compared;
        const std::vector<float> h(host_snn.begin() + b * 3, host_snn.begin() + b * 3 + 3),
            d(device_snn.begin() + b * 3, device_snn.begin() + b * 3 + 3);
        CHECK(relative_error(h, d) < 1e-4);
    }
    CHECK(compared >= 12);

    // The rules' training step: on the GPU the loss runs on the device (ann_train_pass,
    // bptt_train_pass); the same loss, hits and gradients as on the CPU.
    {
        model<small_net, timesteps<4>> h2(seed{6});
        model<small_net, timesteps<4>, tested> d2(seed{6});
        rules::ann plain;
        const auto lh = plain.train_step(h2, x, y, 16, 2);
        const auto ld = plain.train_step(d2, x, y, 16, 2);
        CHECK(ld.loss == doctest::Approx(lh.loss).epsilon(1e-5));
        CHECK(ld.correct == lh.correct);
        CHECK(relative_error(std::vector<float>(h2.gradients().begin(), h2.gradients().end()),
                             d2.gradients_on_host()) < 1e-4);
        std::vector<std::int32_t> bad(y, y + 16);
        bad[3] = 7;
        CHECK_THROWS_AS(plain.train_step(d2, x, bad.data(), 16, 3), snn2ann::invalid_argument);
        // Label smoothing: the device's loss kernel runs the CPU's formula.
        model<small_net, timesteps<4>> h3(seed{6});
        model<small_net, timesteps<4>, tested> d3(seed{6});
        rules::bptt smoothed;
        smoothed.label_smoothing = 0.2f;
        const auto sh = smoothed.train_step(h3, x, y, 16, 2);
        const auto sd = smoothed.train_step(d3, x, y, 16, 2);
        CHECK(sd.loss == doctest::Approx(sh.loss).epsilon(1e-5));
        CHECK(relative_error(std::vector<float>(h3.gradients().begin(), h3.gradients().end()),
                             d3.gradients_on_host()) < 1e-4);
        smoothed.label_smoothing = 1.0f;
        CHECK_THROWS_AS(smoothed.train_step(d3, x, y, 16, 3), snn2ann::invalid_argument);
    }

    // The running statistics went through products summed in another order (GEMMs): the
    // same values within rounding, not necessarily the same bits.
    model<small_net, timesteps<4>> back;
    device.copy_to(back);
    CHECK(relative_error(std::vector<float>(host.state().begin(), host.state().end()),
                         std::vector<float>(back.state().begin(), back.state().end())) < 1e-5);
}

TEST_CASE("time-varying input: frames through BPTT and the SNN branch as on the CPU") {
    model<small_net, timesteps<4>> host(seed{7});
    model<small_net, timesteps<4>, tested> device(seed{7});
    auto data = data::repeat_frames(test::bars(16, 4), 4);
    for (std::size_t k = 0; k < data.images.size(); ++k) data.images[k] *= static_cast<float>((k / 7) % 3) * 0.5f;
    host.set_input_frames(4);
    device.set_input_frames(4);
    const float* x = data.images.data();
    const auto bptt = rules::bptt{}.options();
    const float* hb = host.bptt_forward(x, 16, bptt, false);
    const std::vector<float> host_bptt(hb, hb + 16 * 3);
    const float* db = device.bptt_forward(x, 16, bptt, false);
    CHECK(relative_error(host_bptt, std::vector<float>(db, db + 16 * 3)) < 1e-4);
    const auto ann = rules::ann{}.options();  // the ANN passes take the frames' mean
    const float* ha = host.forward(x, 16, ann, false);
    const std::vector<float> host_ann(ha, ha + 16 * 3);
    const float* da = device.forward(x, 16, ann, false);
    CHECK(relative_error(host_ann, std::vector<float>(da, da + 16 * 3)) < tolerance);
    rules::snn2ann snn;
    const float* hs = snn.predict(host, x, 16);
    const std::vector<float> host_snn(hs, hs + 16 * 3);
    const float* ds = snn.predict(device, x, 16);
    CHECK(relative_error(host_snn, std::vector<float>(ds, ds + 16 * 3)) < 1e-2);
}

TEST_CASE("training lowers the loss with each rule") {
    const auto data = test::bars(96, 2);
    auto first_and_last = [&](auto rule, auto opt) {
        model<small_net, timesteps<4>, tested> m(seed{9});
        trainer t(m, rule, opt);
        t.quiet();
        const auto r = t.fit(data, epochs(6), batch(32));
        return std::make_pair(r.front().loss, r.back().loss);
    };
    const auto [s0, s1] = first_and_last(rules::snn2ann{}, adam(3e-3));
    CHECK(s1 < 0.8 * s0);
    const auto [b0, b1] = first_and_last(rules::bptt{}, adam(3e-3));
    CHECK(b1 < 0.8 * b0);
    const auto [a0, a1] = first_and_last(rules::ann{}, sgd(0.05, 0.9));
    CHECK(a1 < 0.8 * a0);
}

TEST_CASE("a run saved mid-epoch and resumed in a new model continues as the uninterrupted run") {
    const auto data = test::bars(96, 2);
    const std::string path = "/tmp/snn2ann_cuda_state_" + std::string(device::name == std::string("host execution") ? "host_" : "gpu_") + std::to_string(::getpid()) + ".npz";
    auto run = [&](auto rule, auto opt) {
        // Uninterrupted: 3 epochs of 3 batches. Interrupted: stopped after step 4 (mid
        // epoch 2) with the state saved there, then resumed in another model and trainer.
        model<small_net, timesteps<4>, tested> whole(seed{9});
        trainer a(whole, rule, opt);
        const auto full = a.quiet().fit(data, epochs(3), batch(32));
        model<small_net, timesteps<4>, tested> first(seed{9});
        trainer b(first, rule, opt);
        struct stop_after_step_4 {
            std::string path;
            bool on_step_end(decltype(b)& t, const step_report& r) {
                if (r.step != 4) return false;
                t.save_state(path);
                return true;
            }
        };
        b.quiet().fit(data, epochs(3), batch(32), stop_after_step_4{path});
        model<small_net, timesteps<4>, tested> second(seed{9});
        trainer c(second, rule, opt);
        c.resume(path);
        CHECK(c.steps_done() == 5);
        const auto resumed = c.quiet().fit(data, epochs(3), batch(32));
        REQUIRE(resumed.size() == full.size());
        for (std::size_t e = 0; e < full.size(); ++e) CHECK(resumed[e].loss == doctest::Approx(full[e].loss).epsilon(1e-6));
        CHECK(relative_error(second.parameters_on_host(), whole.parameters_on_host()) < 1e-6);
        CHECK(relative_error(second.state_on_host(), whole.state_on_host()) < 1e-6);
        std::remove(path.c_str());
    };
    run(rules::snn2ann{}, adam(3e-3));
    run(rules::bptt{}, sgd(0.05, 0.9));
}

namespace {
using late_max_pool_net = network<input<1, 12, 12>, conv<6, 3>, batch_norm, spiking<>, max_pool<2>, conv<8, 3>,
                                  max_pool<2, 1>, spiking<>, flatten, linear<3>>;
}

TEST_CASE("the ANN branch reads only an SNN pass's counts, not a BPTT pass's") {
    model<small_net, timesteps<4>, tested> m(seed{3});
    const auto data = test::bars(8, 3);
    const float* x = data.images.data();
    const auto bptt = rules::bptt{}.options();
    const auto snn2ann_options = rules::snn2ann{}.options();
    m.bptt_forward(x, 8, bptt, false);
    CHECK_THROWS_WITH_AS(m.forward(x, 8, snn2ann_options, true), doctest::Contains("ANN branch"),
                         snn2ann::invalid_argument);
    m.snn_forward(x, 8, snn2ann_options);
    CHECK_NOTHROW(m.forward(x, 8, snn2ann_options, true));
}

TEST_CASE("accumulated max pooling in the SNN pass: before the first spiking layer plain, after it accumulated") {
    model<late_max_pool_net, timesteps<4>> host(seed{4});
    model<late_max_pool_net, timesteps<4>, tested> device(seed{4});
    const auto data = test::bars(10, 5);
    rules::snn2ann rule;
    rule.pooling = current_pooling::accumulated;
    const float* hs = rule.predict(host, data.images.data(), 10);
    const std::vector<float> host_snn(hs, hs + 10 * 3);
    const float* ds = rule.predict(device, data.images.data(), 10);
    CHECK(relative_error(host_snn, std::vector<float>(ds, ds + 10 * 3)) < 1e-4);
    std::vector<float> counts(10 * 8 * 2 * 2);
    device.device().copy_now(counts.data(), device.layers().layer<6>().counts(), counts.size() * sizeof(float));
    CHECK(counts == std::vector<float>(host.layers().layer<6>().counts(), host.layers().layer<6>().counts() + counts.size()));
}

TEST_CASE("the NaN guard: a skipped batch leaves the state as before it; a stopped run too") {
    auto data = test::bars(64, 8);
    for (std::size_t i = 0; i < data.image_size(); ++i) data.images[17 * data.image_size() + i] = std::nanf("");
    {
        model<small_net, timesteps<4>, tested> m(seed{2});
        trainer t(m, rules::snn2ann{}, adam(1e-3));
        t.quiet().on_non_finite(non_finite::skip);
        const auto r = t.fit(data, epochs(1), batch(16));
        CHECK(r.back().skipped_batches == 1);
        const std::vector<float> st = m.state_on_host(), w = m.parameters_on_host();
        CHECK(std::all_of(st.begin(), st.end(), [](float v) { return std::isfinite(v); }));
        CHECK(std::all_of(w.begin(), w.end(), [](float v) { return std::isfinite(v); }));
    }
    {
        // The state before the failing batch: a run stopped there by a callback.
        model<small_net, timesteps<4>, tested> m(seed{2});
        trainer t(m, rules::snn2ann{}, adam(1e-3));
        t.quiet();
        bool failed = false;
        try {
            t.fit(data, epochs(1), batch(16));
        } catch (const non_finite_error& e) {
            failed = true;
            CHECK(std::string(e.what()).find("sample 17 of the training set") != std::string::npos);
        }
        CHECK(failed);
        const std::size_t done = static_cast<std::size_t>(t.steps_done());
        model<small_net, timesteps<4>, tested> before(seed{2});
        trainer u(before, rules::snn2ann{}, adam(1e-3));
        struct stop_after {
            std::size_t steps;
            bool on_step_end(decltype(u)&, const step_report& r) { return r.step + 1 >= steps; }
        };
        if (done > 0) u.quiet().fit(data, epochs(1), batch(16), stop_after{done});
        CHECK(m.state_on_host() == before.state_on_host());
        CHECK(m.parameters_on_host() == before.parameters_on_host());
    }
}

TEST_SUITE_END();
