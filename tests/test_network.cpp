// Compile-time networks: shapes, parameter counts and offsets, block splicing.
#include <doctest/doctest.h>

#include <type_traits>
#include <utility>
#include <vector>

#include <snn2ann/snn2ann.hpp>

namespace s = snn2ann;

using reference = s::network<s::input<1, 28, 28>,
    s::conv<32, 3>, s::batch_norm, s::relu, s::max_pool<2>,
    s::conv<64, 3>, s::batch_norm, s::relu, s::max_pool<2>,
    s::flatten, s::linear<128>, s::relu, s::linear<10>>;

// Everything below is checked by the compiler; the test cases only make it visible.
static_assert(reference::input_shape == s::image_shape(1, 28, 28));
static_assert(reference::output_shape == s::flat_shape(10));
// Counted by hand: conv1 1*32*9 + 32, BN 2*32, conv2 32*64*9 + 64, BN 2*64,
// fc1 3136*128 + 128, fc2 128*10 + 10.
static_assert(reference::param_count == 320 + 64 + 18496 + 128 + 401536 + 1290);
static_assert(reference::state_count == 2 * 32 + 2 * 64);

template <int C>
using conv_bn_relu = s::layers<s::conv<C, 3>, s::batch_norm, s::relu>;
using spliced = s::network<s::input<1, 28, 28>, conv_bn_relu<32>, s::max_pool<2>, conv_bn_relu<64>, s::max_pool<2>,
                           s::flatten, s::layers<s::linear<128>, s::relu>, s::linear<10>>;
static_assert(std::is_same_v<spliced::layer_list, reference::layer_list>,
              "a block written as layers<...> must splice into the same flat list");

TEST_CASE("shapes are inferred layer by layer") {
    using exec = reference::executor<s::cpu>;
    CHECK(exec::size == 12);
    CHECK(exec::out_sizes[0] == 32u * 28 * 28);
    CHECK(exec::out_sizes[3] == 32u * 14 * 14);
    CHECK(exec::out_sizes[7] == 64u * 7 * 7);
    CHECK(exec::out_sizes[8] == 3136u);
    CHECK(exec::out_sizes[11] == 10u);
}

TEST_CASE("parameter offsets are prefix sums of the layers' counts") {
    using exec = reference::executor<s::cpu>;
    CHECK(exec::param_offsets[0] == 0);
    CHECK(exec::param_offsets[1] == 320);
    CHECK(exec::param_offsets[4] == 384);
    CHECK(exec::param_offsets[5] == 384 + 18496);
    CHECK(exec::param_offsets[12] == reference::param_count);
    CHECK(exec::state_offsets[2] == 64);
}

TEST_CASE("strided convolution and pooling shapes follow PyTorch's floor rule") {
    using net = s::network<s::input<3, 32, 32>, s::conv<8, 3, 2, 1>, s::max_pool<3, 2>, s::avg_pool<2>, s::flatten>;
    static_assert(net::output_shape == s::flat_shape(8 * 3 * 3));  // 32 -> 16 -> 7 -> 3
    CHECK(net::param_count == 8 * 27 + 8);
}

TEST_CASE("a residual block adds both paths' parameters") {
    using block = s::residual<s::layers<s::conv<16, 3, 2, 1>, s::batch_norm, s::relu, s::conv<16, 3>, s::batch_norm>,
                              s::layers<s::conv<16, 1, 2, 0>, s::batch_norm>>;
    using net = s::network<s::input<8, 8, 8>, block, s::relu>;
    static_assert(net::output_shape == s::image_shape(16, 4, 4));
    CHECK(net::param_count == (8 * 16 * 9 + 16) + 32 + (16 * 16 * 9 + 16) + 32 + (8 * 16 + 16) + 32);
    CHECK(net::state_count == 3 * 32);
}

TEST_CASE("model initialisation is a function of the seed") {
    s::model<reference> a{s::seed{5}}, b{s::seed{5}}, c{s::seed{6}};
    CHECK(std::equal(a.parameters().begin(), a.parameters().end(), b.parameters().begin()));
    CHECK_FALSE(std::equal(a.parameters().begin(), a.parameters().end(), c.parameters().begin()));
    // PyTorch's default bound 1/sqrt(fan_in) for conv1 (fan_in 9).
    const auto p = a.parameters();
    CHECK(*std::max_element(p.begin(), p.begin() + 288) <= 1.0f / 3.0f);
    CHECK(*std::min_element(p.begin(), p.begin() + 288) >= -1.0f / 3.0f);
    // BN gamma 1, beta 0; running mean 0, var 1.
    CHECK(p[320] == 1.0f);
    CHECK(p[352] == 0.0f);
    CHECK(a.state()[32] == 1.0f);
}

// The pass plan (layer/pass_plan.hpp), on the host: the CPU and the CUDA sequences run
// their layers by it, so these are the rules of both backends.
namespace {
template <class Neuron = s::if_neuron<>>
using planned = s::network<s::input<1, 8, 8>,
    s::conv<4, 3>, s::batch_norm, s::max_pool<2>, s::spiking<Neuron>,   // 0-3
    s::flatten, s::linear<16>, s::batch_norm, s::spiking<Neuron>,         // 4-7
    s::linear<10>>;                                                       // 8
using layout = planned<>::executor<s::cpu>;
using plan = s::detail::pass_plan<layout>;

s::detail::layer_context pass(s::detail::branch mode, std::size_t batch, int T) {
    s::detail::layer_context c;
    c.mode = mode;
    c.batch = batch;
    c.timesteps = T;
    return c;
}

template <std::size_t... I>
std::vector<std::size_t> training_samples(const s::detail::layer_context& c, std::index_sequence<I...>) {
    return {plan::training_samples<I>(c)...};
}
template <std::size_t... I>
std::vector<s::detail::layer_context> training_contexts(const s::detail::layer_context& c, std::index_sequence<I...>) {
    return {plan::training_context<I>(c)...};
}
template <std::size_t... I>
std::vector<plan::snn_layer> snn_layers(const s::detail::layer_context& c, std::index_sequence<I...>) {
    return {plan::snn_context<I>(c)...};
}
constexpr auto all = std::make_index_sequence<layout::size>{};
}  // namespace

TEST_CASE("pass plan: the layout marks spiking layers and the batch norms the SNN folds") {
    static_assert(layout::first_spiking == 3 && layout::last_spiking == 7);
    static_assert(layout::folds_next(0) && layout::folds_next(5));  // conv -> BN, linear -> BN
    static_assert(!layout::folds_next(1) && !layout::folds_next(8));
    static_assert(plan::folded_in_snn(1) && plan::folded_in_snn(6) && !plan::folded_in_snn(0) && !plan::folded_in_snn(2));
    CHECK(layout::size == 9);
}

TEST_CASE("pass plan: an ANN pass runs every layer once on the batch, the last spiking layer's output as a rate") {
    const auto c = pass(s::detail::branch::ann, 8, 4);
    const auto samples = training_samples(c, all);
    CHECK(samples == std::vector<std::size_t>(9, 8));
    const auto lc = training_contexts(c, all);
    for (std::size_t i = 0; i < lc.size(); ++i) {
        CAPTURE(i);
        CHECK(lc[i].batch == 8);
        CHECK(lc[i].time_major == false);
        CHECK(lc[i].output_scale == doctest::Approx(i == 7 ? 0.25 : 1.0));
        CHECK(lc[i].params == nullptr);
    }
}

TEST_CASE("pass plan: BPTT runs the layers from the first spiking one on over T x B samples, time-major") {
    const auto c = pass(s::detail::branch::bptt, 8, 4);
    CHECK(training_samples(c, all) == std::vector<std::size_t>{8, 8, 8, 32, 32, 32, 32, 32, 32});
    const auto lc = training_contexts(c, all);
    const std::vector<std::size_t> batch{8, 8, 8, 8, 32, 32, 32, 8, 32};  // spiking layers step B samples T times
    for (std::size_t i = 0; i < lc.size(); ++i) {
        CAPTURE(i);
        CHECK(lc[i].batch == batch[i]);
        CHECK(lc[i].time_major == (i > 3 && i != 7));
        CHECK(lc[i].constant_input == (i == 3));  // the first spiking layer's input is the same at every step
    }
}

TEST_CASE("pass plan: the SNN pass spreads the bias over T steps before the head and collapses the last layer") {
    const auto c = pass(s::detail::branch::snn, 8, 4);
    const auto l = snn_layers(c, all);
    const std::vector<std::size_t> out{8, 8, 8, 32, 32, 32, 32, 8, 8};
    for (std::size_t i = 0; i < l.size(); ++i) {
        CAPTURE(i);
        CHECK(l[i].out_samples == out[i]);
        CHECK(l[i].context.bias_scale == doctest::Approx(i == 8 ? 1.0 : 0.25));
        CHECK(l[i].context.time_major == (i > 3 && i < 7));
        CHECK(l[i].context.constant_input == (i == 3));
        CHECK(l[i].context.collapse_output == (i == 7));
    }
}

TEST_CASE("pass plan: a time-varying input runs the layers before the first spiking one per step") {
    auto c = pass(s::detail::branch::snn, 8, 4);
    c.time_varying_input = true;
    const auto l = snn_layers(c, all);
    for (std::size_t i = 0; i < 3; ++i) {
        CAPTURE(i);
        CHECK(l[i].context.batch == 32);
        CHECK(l[i].context.time_major);
        CHECK(l[i].out_samples == 32);
    }
    CHECK_FALSE(l[3].context.constant_input);
}

TEST_CASE("pass plan: the converted SNN gives every step the whole bias and runs its head per step") {
    auto c = pass(s::detail::branch::snn, 8, 4);
    s::detail::spiking_options o;
    o.converted = true;
    c.spiking = &o;
    const auto l = snn_layers(c, all);
    for (std::size_t i = 0; i < l.size(); ++i) {
        CAPTURE(i);
        CHECK(l[i].context.bias_scale == doctest::Approx(1.0));
    }
    CHECK_FALSE(l[7].context.collapse_output);
    CHECK(l[7].out_samples == 32);
    CHECK(l[8].context.time_major);
    CHECK(l[8].out_samples == 32);
}

TEST_CASE("pass plan: SNN chunks are even and hold about the backend's budget of T-step samples") {
    using s::detail::snn_chunk;
    CHECK(snn_chunk(64, 4, 64) == 16);     // the CPU's budget
    CHECK(snn_chunk(64, 5, 64) == 11);     // 6 chunks of at most 12
    CHECK(snn_chunk(1000, 4, 1024) == 250);  // the GPU's: 4 chunks of at most 256
    CHECK(snn_chunk(3, 100, 64) == 1);
    CHECK(snn_chunk(0, 4, 64) == 0);
    for (std::size_t b = 1; b < 300; ++b) {
        const std::size_t k = snn_chunk(b, 4, 1024);
        CAPTURE(b);
        CHECK(k <= 256);
        CHECK((b + k - 1) / k * k - b < (b + k - 1) / k);  // the chunks differ by less than one sample each
    }
}

TEST_CASE("with_timesteps: a run-time T becomes the compile-time timesteps<T> of the range, or an error naming it") {
    // Each branch returns its own T and a model built at it: a dispatch that took the wrong
    // instance (an off-by-one in the recursion, the last T missed) would differ.
    for (int t = 1; t <= 8; ++t) {
        const int got = s::with_timesteps<1, 8>(t, [&]<int T>(s::timesteps<T>) {
            static_assert(s::model<s::network<s::input<1, 2, 2>, s::flatten, s::linear<2>>, s::timesteps<T>>::T == T);
            return T;
        });
        CHECK(got == t);
    }
    const auto only_three = [](auto t) { return decltype(t)::value; };
    CHECK(s::with_timesteps<3, 3>(3, only_three) == 3);
    for (int t : {0, 9, -1}) {
        CAPTURE(t);
        const auto outside = [t] { return s::with_timesteps<1, 8>(t, [](auto) { return 0; }); };
        CHECK_THROWS_WITH_AS(outside(),
                             doctest::Contains("is not one this program was compiled for (1 to 8)"),
                             s::invalid_argument);
    }
}
