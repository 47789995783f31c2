// Compile-time networks: shapes, parameter counts and offsets, block splicing.
#include <doctest/doctest.h>

#include <type_traits>

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
