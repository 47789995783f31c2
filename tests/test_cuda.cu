// The CUDA backend against the CPU path. Every GPU layer runs on the same fresh random
// inputs, parameters and contexts as the CPU layer of the same spec; outputs and
// gradients must agree within 1e-5 of the largest value (fp32 GEMMs), spike counts
// exactly (the neuron arithmetic is the same; LIF may differ only at threshold ties).
// Then whole models: one init, the same passes, training that lowers the loss.
// Without a GPU the binary checks that a cuda model reports that clearly, then exits
// with 77, which ctest reports as "skipped".
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <type_traits>
#include <vector>

#include <snn2ann/cuda.cuh>

#include "synthetic_data.hpp"

namespace {

using namespace snn2ann;
namespace cuda_ops = snn2ann::detail::cuda_ops;

std::vector<float> random_vector(std::size_t n, std::uint64_t stream, float lo = -1.0f, float hi = 1.0f) {
    const detail::counter_rng rng(12345, stream);
    std::vector<float> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = lo + (hi - lo) * rng.uniform(i);
    return v;
}

/// A host vector and its device copy.
struct mirrored {
    std::vector<float> host;
    cuda_ops::device_buffer<float> device;
    explicit mirrored(std::vector<float> v) : host(std::move(v)) {
        device.ensure(std::max<std::size_t>(host.size(), 1));
        cuda_ops::check(cudaMemcpy(device.data(), host.data(), host.size() * sizeof(float), cudaMemcpyHostToDevice),
                   "cudaMemcpy");
    }
    explicit mirrored(std::size_t n) : mirrored(std::vector<float>(n, 0.0f)) {}
    std::vector<float> from_device() const {
        cuda_ops::check(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
        std::vector<float> v(host.size());
        cuda_ops::check(cudaMemcpy(v.data(), device.data(), v.size() * sizeof(float), cudaMemcpyDeviceToHost), "cudaMemcpy");
        return v;
    }
    float* h() { return host.data(); }
    float* d() { return device.data(); }
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
    using gpu_layer = detail::gpu_layer<Spec, In>;
    static constexpr std::size_t in_size = In.size(), out_size = cpu_layer::out.size();
    cpu_layer c;
    gpu_layer g;
    cuda_ops::device_context dev;
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
            e.dx = relative_error(dx.host, dx.from_device());
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
    SUBCASE("ANN branch: ReSU and STSU on the SNN's counts, ATA, ReLU's gradient") {
        for (const mapping_unit unit : {mapping_unit::resu, mapping_unit::stsu}) {
            layer_pair<spec, in> p;
            detail::spiking_options o;
            o.unit = unit;
            o.threshold_adjustment = ata{0.1f, 0.0f, 0.9f, true};  // tolerance 0: ATA fires
            auto s = context(b, false, detail::branch::snn);
            s.constant_input = s.collapse_output = true;
            s.spiking = &o;
            p.run(s, b, b, false, -0.5f, 1.5f);
            auto a = context(b, true, detail::branch::ann);
            a.spiking = &o;
            a.output_scale = 0.25f;
            const auto e = p.run(a, b, b, true);
            CHECK(e.y_mismatch <= allowed);
            CHECK(e.dx < tolerance);
            CHECK(e.state < tolerance);
            CHECK(p.g.noisy_ratio() == doctest::Approx(p.c.noisy_ratio()));
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

TEST_CASE("optimisers update the device buffer as the CPU classes do") {
    const std::size_t n = 1000;
    // The model-level test below checks apply() end to end; here the kernels directly:
    std::vector<float> p = random_vector(n, 40), g = random_vector(n, 41);
    cuda_ops::device_context dev;
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
using small_net = network<input<1, 12, 12>, conv<8, 3>, batch_norm, max_pool<2>, spiking<>, conv<8, 3>, batch_norm,
                          max_pool<2>, spiking<>, flatten, dropout<20>, linear<32>, batch_norm, spiking<>, linear<3>>;
}

TEST_CASE("a whole model: same initial weights, same ANN pass and gradients, same SNN counts") {
    model<small_net, timesteps<4>> host(seed{5});
    model<small_net, timesteps<4>, cuda> device(seed{5});
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
    std::size_t counts = 0, differing = 0;
    auto compare_counts = [&](auto& cpu_layer, auto& gpu_layer) {
        const std::size_t n = cpu_layer.counted_batch() * std::remove_reference_t<decltype(cpu_layer)>::neurons;
        std::vector<float> g(n);
        cuda_ops::check(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
        cuda_ops::check(cudaMemcpy(g.data(), gpu_layer.counts(), n * sizeof(float), cudaMemcpyDeviceToHost), "cudaMemcpy");
        for (std::size_t i = 0; i < n; ++i) differing += g[i] != cpu_layer.counts()[i];
        counts += n;
    };
    compare_counts(host.layers().layer<3>(), device.layers().layer<3>());
    compare_counts(host.layers().layer<7>(), device.layers().layer<7>());
    compare_counts(host.layers().layer<12>(), device.layers().layer<12>());
    MESSAGE(differing << " of " << counts << " spike counts differ");
    CHECK(differing * 200 <= counts);  // at most 0.5%
    if (differing == 0) CHECK(relative_error(host_snn, device_snn) < 1e-4);

    // The rules' training step: on the GPU the loss runs on the device (ann_train_pass,
    // bptt_train_pass); the same loss, hits and gradients as on the CPU.
    {
        model<small_net, timesteps<4>> h2(seed{6});
        model<small_net, timesteps<4>, cuda> d2(seed{6});
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
    }

    model<small_net, timesteps<4>> back;
    device.copy_to(back);
    CHECK(std::vector<float>(back.state().begin(), back.state().end()) ==
          std::vector<float>(host.state().begin(), host.state().end()));
}

TEST_CASE("time-varying input: frames through BPTT and the SNN branch as on the CPU") {
    model<small_net, timesteps<4>> host(seed{7});
    model<small_net, timesteps<4>, cuda> device(seed{7});
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

TEST_CASE("training on the GPU lowers the loss with each rule") {
    const auto data = test::bars(96, 2);
    auto first_and_last = [&](auto rule, auto opt) {
        model<small_net, timesteps<4>, cuda> m(seed{9});
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

TEST_CASE("a GPU run saved mid-epoch and resumed in a new model continues as the uninterrupted run") {
    const auto data = test::bars(96, 2);
    const std::string path = "/tmp/snn2ann_cuda_state_" + std::to_string(::getpid()) + ".npz";
    auto run = [&](auto rule, auto opt) {
        // Uninterrupted: 3 epochs of 3 batches. Interrupted: stopped after step 4 (mid
        // epoch 2) with the state saved there, then resumed in another model and trainer.
        model<small_net, timesteps<4>, cuda> whole(seed{9});
        trainer a(whole, rule, opt);
        const auto full = a.quiet().fit(data, epochs(3), batch(32));
        model<small_net, timesteps<4>, cuda> first(seed{9});
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
        model<small_net, timesteps<4>, cuda> second(seed{9});
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

int main(int argc, char** argv) {
    if (cuda_ops::device_count() == 0) {
        // What a user without a GPU sees: a clear error, not a crash.
        try {
            model<small_net, timesteps<4>, cuda> m;
            std::puts("test_cuda: a cuda model was created without a GPU");
            return 1;
        } catch (const cuda_error& e) {
            if (std::string(e.what()).find("no CUDA device") == std::string::npos) {
                std::printf("test_cuda: unexpected error text: %s\n", e.what());
                return 1;
            }
        }
        std::puts("test_cuda: no CUDA device here; the no-GPU error is clear; GPU tests skipped");
        return 77;  // ctest: SKIP_RETURN_CODE
    }
    doctest::Context context(argc, argv);
    return context.run();
}
