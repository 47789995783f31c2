// Every layer's backward against a central-difference numerical gradient.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <tuple>
#include <vector>

#include "gradient_check.hpp"
#include "skip.hpp"

namespace s = snn2ann;

namespace {
constexpr double tolerance = 2e-2;

// Float rounding of the loss limits the central difference to about 1e-7 / h; smooth
// layers (batch norm, whole blocks) take the larger step, kinked ones (ReLU, max) the smaller.
constexpr double kinked_step = 1e-3, smooth_step = 1e-2;

template <class Spec, s::shape In, bool Training = true>
void check(std::size_t batch, std::uint64_t seed, double h = kinked_step) {
    const auto r = test::check_gradients<Spec, In, Training>(batch, seed, h);
    INFO("worst input error " << r.worst_input << ", worst parameter error " << r.worst_param);
    CHECK(r.checked_inputs > 0);
    CHECK(r.worst_input < tolerance);
    CHECK(r.worst_param < tolerance);
}
}  // namespace

TEST_CASE("conv: 3x3 same padding, with bias") { check<s::conv<4, 3>, s::image_shape(3, 7, 6)>(3, 1); }
TEST_CASE("conv: 3x3 stride 2, padding 1") { check<s::conv<5, 3, 2, 1>, s::image_shape(2, 9, 8)>(2, 2); }
TEST_CASE("conv: 1x1 pointwise, no bias") { check<s::conv<6, 1, 1, 0, false>, s::image_shape(4, 5, 5)>(3, 3); }
TEST_CASE("conv: 5x5 unpadded, one input channel") { check<s::conv<3, 5, 1, 0>, s::image_shape(1, 9, 9)>(2, 4); }
TEST_CASE("conv: many images split into chunks") { check<s::conv<2, 3>, s::image_shape(2, 4, 4)>(19, 5); }
TEST_CASE("linear") { check<s::linear<7>, s::flat_shape(13)>(5, 6); }
TEST_CASE("linear without bias, batch over the chunk size") { check<s::linear<9, false>, s::flat_shape(6)>(70, 7); }
TEST_CASE("batch_norm on images, training statistics") { check<s::batch_norm, s::image_shape(3, 4, 5)>(4, 8, smooth_step); }
TEST_CASE("batch_norm on flat inputs, training statistics") { check<s::batch_norm, s::flat_shape(6)>(7, 9, smooth_step); }
TEST_CASE("batch_norm, evaluation statistics") { check<s::batch_norm, s::image_shape(3, 4, 4), false>(3, 10); }
TEST_CASE("max_pool 2x2") { check<s::max_pool<2>, s::image_shape(3, 6, 6)>(2, 11); }
TEST_CASE("max_pool 2x2 on odd sizes") { check<s::max_pool<2>, s::image_shape(2, 7, 5)>(2, 12); }
TEST_CASE("max_pool 3x3 stride 2") { check<s::max_pool<3, 2>, s::image_shape(2, 7, 7)>(2, 13); }
TEST_CASE("avg_pool 2x2") { check<s::avg_pool<2>, s::image_shape(3, 6, 4)>(2, 14); }
TEST_CASE("avg_pool 3x3 stride 1") { check<s::avg_pool<3, 1>, s::image_shape(2, 5, 5)>(2, 15); }
TEST_CASE("relu") { check<s::relu, s::image_shape(2, 5, 5)>(3, 16); }
TEST_CASE("flatten") { check<s::flatten, s::image_shape(2, 3, 4)>(3, 17); }
TEST_CASE("dropout in training (fixed mask per step)") { check<s::dropout<1, 2>, s::image_shape(2, 4, 4)>(3, 18); }
TEST_CASE("dropout in evaluation is the identity") { check<s::dropout<25>, s::flat_shape(10), false>(3, 19); }
// Composite checks leave out ReLU: a parameter step moves every pre-activation, and some
// would cross the kink; ReLU has its own check above.
TEST_CASE("residual block with a projection shortcut") {
    using block = s::residual<s::layers<s::conv<4, 3, 2, 1>, s::batch_norm, s::avg_pool<1>, s::conv<4, 3>>,
                              s::layers<s::conv<4, 1, 2, 0>, s::batch_norm>>;
    check<block, s::image_shape(2, 6, 6)>(3, 20, smooth_step);
}
TEST_CASE("BN before a max pool: its output is not kept for backward, and the gradients are the same") {
    using transient = s::network<s::input<2, 6, 6>, s::conv<4, 3>, s::batch_norm, s::max_pool<2>, s::relu,
                                 s::flatten, s::linear<3>>;
    // avg_pool<1> is the identity, and makes the sequence keep BN's output.
    using kept = s::network<s::input<2, 6, 6>, s::conv<4, 3>, s::batch_norm, s::avg_pool<1>, s::max_pool<2>,
                            s::relu, s::flatten, s::linear<3>>;
    // BN's backward reads its input, the pool's backward its kept winners: BN's output
    // lives in a gradient buffer until the pool has read it.
    static_assert(s::model<transient>::executor::keeps_output[1] == false);
    static_assert(s::model<kept>::executor::keeps_output[1] == true);
    s::model<transient> a{s::seed{5}};
    s::model<kept> b{s::seed{5}};
    REQUIRE(a.parameters().size() == b.parameters().size());
    std::copy(a.parameters().begin(), a.parameters().end(), b.parameters().begin());
    constexpr std::size_t batch = 5;
    const s::detail::counter_rng rng(6, 7);
    std::vector<float> x(batch * 2 * 6 * 6), dy(batch * 3);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = 2.0f * rng.uniform(i) - 1.0f;
    for (std::size_t i = 0; i < dy.size(); ++i) dy[i] = rng.uniform(1000 + i) - 0.5f;
    const float* ya = a.forward(x.data(), batch, true);
    const std::vector<float> out_a(ya, ya + dy.size());
    const float* yb = b.forward(x.data(), batch, true);
    CHECK(out_a == std::vector<float>(yb, yb + dy.size()));
    a.backward(x.data(), dy.data(), batch);
    b.backward(x.data(), dy.data(), batch);
    CHECK(std::equal(a.gradients().begin(), a.gradients().end(), b.gradients().begin(), b.gradients().end()));
    CHECK(std::any_of(a.gradients().begin(), a.gradients().end(), [](float g) { return g != 0.0f; }));
}
TEST_CASE("residual block with an identity shortcut") {
    using block = s::residual<s::layers<s::conv<3, 3>, s::batch_norm, s::conv<3, 3>>>;
    check<block, s::image_shape(3, 5, 5)>(2, 21, smooth_step);
}

TEST_CASE("dropout drops about p and scales the rest by 1/(1-p)") {
    using layer = s::dropout<1, 4>::impl<s::cpu, s::flat_shape(1000)>;
    layer l;
    std::vector<float> x(10000, 1.0f), y(10000);
    s::detail::layer_context c;
    c.batch = 10;
    c.training = true;
    l.forward(x.data(), y.data(), c);
    std::size_t zeros = 0;
    for (float v : y) {
        if (v == 0.0f) ++zeros;
        else CHECK(v == doctest::Approx(4.0f / 3.0f));
    }
    CHECK(zeros > 2300);
    CHECK(zeros < 2700);
}

TEST_CASE("max_pool routes ties to the first maximum") {
    using layer = s::max_pool<2>::impl<s::cpu, s::image_shape(1, 2, 2)>;
    layer l;
    std::vector<float> x{1.0f, 3.0f, 3.0f, 2.0f}, y(1), dy{5.0f}, dx(4);
    s::detail::layer_context c;
    c.batch = 1;
    c.training = true;
    l.forward(x.data(), y.data(), c);
    CHECK(y[0] == 3.0f);
    l.backward(nullptr, nullptr, dy.data(), dx.data(), c);  // the winner was kept: no input needed
    CHECK(dx == std::vector<float>{0.0f, 5.0f, 0.0f, 0.0f});
    // An evaluation forward keeps no winners: a backward after it is an error, not garbage.
    c.training = false;
    l.forward(x.data(), y.data(), c);
    CHECK_THROWS_AS(l.backward(nullptr, nullptr, dy.data(), dx.data(), c), s::invalid_argument);
}

TEST_CASE("batch_norm updates the running statistics like PyTorch (momentum 0.1, unbiased variance)") {
    using layer = s::batch_norm::impl<s::cpu, s::flat_shape(1)>;
    layer l;
    std::vector<float> params{1.0f, 0.0f}, state{0.0f, 1.0f}, x{1.0f, 2.0f, 3.0f, 6.0f}, y(4);
    s::detail::layer_context c;
    c.params = params.data();
    c.state = state.data();
    c.batch = 4;
    c.training = true;
    l.forward(x.data(), y.data(), c);
    CHECK(state[0] == doctest::Approx(0.1 * 3.0));
    CHECK(state[1] == doctest::Approx(0.9 + 0.1 * (14.0 / 3.0)));  // var of {1,2,3,6}, n - 1
    CHECK(y[3] == doctest::Approx(3.0 / std::sqrt(3.5 + 1e-5)).epsilon(1e-5));
}

namespace {
// im2col and col2im from their definitions, one entry at a time: the column matrix's row
// (c*K + kh)*K + kw, column oh*OW + ow holds input pixel (c, oh*S - P + kh, ow*S - P + kw).
void check_im2col(const s::detail::conv_geometry& g) {
    INFO("c " << g.c << " h " << g.h << " w " << g.w << " k " << g.k << " stride " << g.stride << " pad " << g.pad);
    std::vector<float> x(g.in_size());
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = 1.0f + static_cast<float>(i);
    std::vector<float> col(g.col_rows() * g.out_plane(), -7.0f), expected(col.size(), 0.0f);
    std::vector<float> dcol(col.size()), dx(x.size(), 0.5f), expected_dx(x.size(), 0.5f);
    for (std::size_t i = 0; i < dcol.size(); ++i) dcol[i] = 0.25f * static_cast<float>(i % 17) - 1.0f;
    for (int c = 0; c < g.c; ++c)
        for (int kh = 0; kh < g.k; ++kh)
            for (int kw = 0; kw < g.k; ++kw)
                for (int oh = 0; oh < g.oh; ++oh)
                    for (int ow = 0; ow < g.ow; ++ow) {
                        const int ih = oh * g.stride - g.pad + kh, iw = ow * g.stride - g.pad + kw;
                        const std::size_t at = ((static_cast<std::size_t>(c) * g.k + kh) * g.k + kw) * g.out_plane() +
                                               static_cast<std::size_t>(oh) * g.ow + ow;
                        if (ih < 0 || ih >= g.h || iw < 0 || iw >= g.w) continue;
                        const std::size_t pixel = (static_cast<std::size_t>(c) * g.h + ih) * g.w + iw;
                        expected[at] = x[pixel];
                        expected_dx[pixel] += dcol[at];
                    }
    s::detail::cpu_ops::im2col(g, x.data(), col.data());
    CHECK(col == expected);
    s::detail::cpu_ops::col2im_add(g, dcol.data(), dx.data());
    CHECK(dx == expected_dx);
}
}  // namespace

TEST_CASE("im2col and col2im follow their definition (shifted-plane and general paths)") {
    using g = s::detail::conv_geometry;
    check_im2col(g{3, 7, 6, 3, 1, 1, 4, 7, 6});    // 3x3 same: shifted planes
    check_im2col(g{2, 5, 5, 5, 1, 2, 1, 5, 5});    // 5x5 same: shifts of two lines
    check_im2col(g{1, 1, 4, 3, 1, 1, 1, 1, 4});    // one line: every kernel row but one is padding
    check_im2col(g{2, 6, 3, 1, 1, 0, 1, 6, 3});    // 1x1
    check_im2col(g{2, 9, 8, 3, 2, 1, 1, 5, 4});    // stride 2: general path
    check_im2col(g{1, 9, 9, 5, 1, 0, 1, 5, 5});    // unpadded: general path
}

TEST_CASE("max_pool 2x2 forward and backward equal their definition over many planes (blocks of line pairs)") {
    for (const auto& g : {s::detail::conv_geometry{30, 6, 6, 2, 2, 0, 30, 3, 3},
                          s::detail::conv_geometry{3, 4, 40, 2, 2, 0, 3, 2, 20},
                          s::detail::conv_geometry{2, 7, 5, 2, 2, 0, 2, 3, 2}}) {
        const std::size_t batch = 4;
        std::vector<float> x(batch * g.in_size()), y(batch * g.c * g.out_plane());
        const s::detail::counter_rng rng(3, 4);
        for (std::size_t i = 0; i < x.size(); ++i) x[i] = std::floor(8.0f * rng.uniform(i));  // with ties
        std::vector<std::uint8_t> corners(y.size(), 9);
        s::detail::cpu_ops::max_pool_forward(s::cpu{}, g, batch, x.data(), y.data(), nullptr, corners.data());
        // Without corners (a forward that no backward follows): the same maxima.
        std::vector<float> y_alone(y.size(), -1.0f);
        s::detail::cpu_ops::max_pool_forward(s::cpu{}, g, batch, x.data(), y_alone.data(), nullptr, nullptr);
        CHECK(y_alone == y);
        std::vector<float> dy(y.size()), dx(x.size(), -1.0f), expected_dx(x.size(), 0.0f);
        for (std::size_t i = 0; i < dy.size(); ++i) dy[i] = 1.0f + static_cast<float>(i);
        // Backward sees only the corners: the input may be gone by then.
        s::detail::cpu_ops::max_pool_backward(s::cpu{}, g, batch, dy.data(), nullptr, corners.data(), dx.data());
        std::size_t wrong = 0;
        for (std::size_t p = 0; p < batch * g.c; ++p)
            for (int oh = 0; oh < g.oh; ++oh)
                for (int ow = 0; ow < g.ow; ++ow) {
                    const float* in = x.data() + p * g.h * g.w;
                    const int at[4] = {2 * oh * g.w + 2 * ow, 2 * oh * g.w + 2 * ow + 1, (2 * oh + 1) * g.w + 2 * ow,
                                       (2 * oh + 1) * g.w + 2 * ow + 1};
                    int first = 0;  // the first maximum in window order gets the gradient
                    for (int k = 1; k < 4; ++k)
                        if (in[at[k]] > in[at[first]]) first = k;
                    const std::size_t o = p * g.out_plane() + oh * g.ow + ow;
                    wrong += y[o] != in[at[first]] || corners[o] != first;
                    expected_dx[p * g.h * g.w + at[first]] = dy[o];
                }
        CHECK(wrong == 0);
        CHECK(dx == expected_dx);
    }
}

// cpu_matmul::amx_split_bf16: operands split into bf16 hi + lo parts on Intel AMX tiles.

TEST_CASE("AMX operands: hi + lo within 2^-16 of each value, 0/1 and other bf16 numbers need no lo part") {
    namespace o = s::detail::cpu_ops;
    const s::detail::counter_rng rng(31, 1);
    std::vector<float> a(37 * 45);
    for (std::size_t i = 0; i < a.size(); ++i) a[i] = (rng.uniform(i) - 0.5f) * 10.0f;
    std::vector<std::uint16_t> storage(o::amx_operand::storage_a(37, 45));
    o::amx_operand p;
    p.pack_a(a.data(), 45, 1, 37, 45, storage.data());
    CHECK_FALSE(p.exact());
    const std::size_t dp = 64;  // 45 padded to 32s
    double worst = 0.0;
    for (std::size_t i = 0; i < 37; ++i)
        for (std::size_t k = 0; k < dp; ++k) {
            const double v = double(o::amx_detail::from_bf16(p.hi()[i * dp + k])) + o::amx_detail::from_bf16(p.lo()[i * dp + k]);
            if (k >= 45) {
                CHECK(v == 0.0);  // padding
                continue;
            }
            worst = std::max(worst, std::abs(v - a[i * 45 + k]) / std::abs(a[i * 45 + k]));
        }
    CHECK(worst <= std::ldexp(1.0, -16));
    std::vector<float> spikes(a.size());
    for (std::size_t i = 0; i < a.size(); ++i) spikes[i] = rng.uniform(90000 + i) < 0.4f ? 1.0f : 0.0f;
    spikes[3] = -0.375f;  // also a bf16 number
    p.pack_b(spikes.data(), 45, 1, 37, 45, storage.data());
    CHECK(p.exact());
    // ... and packs the same from its bf16 bits (the path of spike inputs).
    std::vector<std::uint16_t> bits(spikes.size()), from_bits(storage.size());
    CHECK(o::to_bf16_exact(spikes.data(), spikes.size(), bits.data()));
    o::amx_operand q;
    q.pack_b_bf16(bits.data(), 45, 37, 45, from_bits.data());
    CHECK(std::equal(p.hi(), p.hi() + 64 * 64, q.hi()));
    CHECK_FALSE(o::to_bf16_exact(a.data(), a.size(), bits.data()));
    // B's transposed source gives the same packing.
    std::vector<float> transposed(a.size());
    for (std::size_t k = 0; k < 37; ++k)
        for (std::size_t j = 0; j < 45; ++j) transposed[j * 37 + k] = a[k * 45 + j];
    std::vector<std::uint16_t> rows_storage(storage.size()), columns_storage(storage.size());
    o::amx_operand rows, columns;
    rows.pack_b(a.data(), 45, 1, 37, 45, rows_storage.data());
    columns.pack_b(transposed.data(), 1, 37, 37, 45, columns_storage.data());
    CHECK(std::equal(rows.hi(), rows.hi() + 64 * 64, columns.hi()));
    CHECK(std::equal(rows.lo(), rows.lo() + 64 * 64, columns.lo()));
}

TEST_CASE("cpu_matmul_scope: the choice holds inside the scope, and the one before comes back after") {
    REQUIRE(s::current_cpu_matmul() == s::cpu_matmul::fp32);
    if (!s::amx_available()) {
        CHECK_THROWS_AS(s::cpu_matmul_scope{s::cpu_matmul::amx_split_bf16}, s::invalid_argument);
        CHECK(s::current_cpu_matmul() == s::cpu_matmul::fp32);
        return;
    }
    {
        const s::cpu_matmul_scope amx(s::cpu_matmul::amx_split_bf16);
        CHECK(s::current_cpu_matmul() == s::cpu_matmul::amx_split_bf16);
        {
            const s::cpu_matmul_scope fp32(s::cpu_matmul::fp32);
            CHECK(s::current_cpu_matmul() == s::cpu_matmul::fp32);
        }
        CHECK(s::current_cpu_matmul() == s::cpu_matmul::amx_split_bf16);  // the outer choice, not the default
    }
    CHECK(s::current_cpu_matmul() == s::cpu_matmul::fp32);
    try {
        const s::cpu_matmul_scope amx(s::cpu_matmul::amx_split_bf16);
        throw std::runtime_error("leaving the scope by an exception");
    } catch (const std::runtime_error&) {
    }
    CHECK(s::current_cpu_matmul() == s::cpu_matmul::fp32);
}

// Each operand's hi + lo is within 2^-18 of it and lo * lo is left out, so each product is
// within about 3 x 2^-18 of its exact value, and fp32 sums add their rounding: 2^-15 of the
// summed magnitudes bounds it with room (bf16 alone, hi * hi, would be off by 2^-8).
TEST_CASE("AMX product: within 2^-15 of the float64 sums, accumulating or not") {
    if (!s::amx_available()) {
        CHECK_THROWS_AS(s::use_cpu_matmul(s::cpu_matmul::amx_split_bf16), s::invalid_argument);
        TEST_SKIP("AMX is not available here: the AMX product is not run (its refusal was checked)");
    }
    namespace o = s::detail::cpu_ops;
    const s::detail::counter_rng rng(32, 1);
    for (const bool spikes : {false, true}) {
        constexpr std::size_t m = 35, k = 70, n = 50;  // every dimension has a partial tile
        std::vector<float> a(m * k), b(k * n), c(m * n);
        for (std::size_t i = 0; i < a.size(); ++i) a[i] = rng.uniform(i) - 0.5f;
        for (std::size_t i = 0; i < b.size(); ++i)
            b[i] = spikes ? float(rng.uniform(10000 + i) < 0.5f) : 3.0f * (rng.uniform(10000 + i) - 0.5f);
        for (std::size_t i = 0; i < c.size(); ++i) c[i] = rng.uniform(20000 + i);
        const std::vector<float> c0 = c;
        std::vector<std::uint16_t> sa(o::amx_operand::storage_a(m, k)), sb(o::amx_operand::storage_b(k, n));
        o::amx_operand pa, pb;
        pa.pack_a(a.data(), k, 1, m, k, sa.data());
        pb.pack_b(b.data(), n, 1, k, n, sb.data());
        CHECK(pb.exact() == spikes);
        for (const bool accumulate : {false, true}) {
            c = c0;
            o::amx_multiply(pa, pb, c.data(), n, accumulate);
            double worst = 0.0;
            for (std::size_t i = 0; i < m; ++i)
                for (std::size_t j = 0; j < n; ++j) {
                    double sum = accumulate ? c0[i * n + j] : 0.0, magnitude = std::abs(sum);
                    for (std::size_t q = 0; q < k; ++q) {
                        sum += double(a[i * k + q]) * b[q * n + j];
                        magnitude += std::abs(double(a[i * k + q]) * b[q * n + j]);
                    }
                    worst = std::max(worst, std::abs(c[i * n + j] - sum) / magnitude);
                }
            INFO("spikes " << spikes << ", accumulate " << accumulate);
            CHECK(worst <= std::ldexp(1.0, -15));
        }
    }
}

TEST_CASE("AMX exact products: three parts sum to each float exactly, and against spikes every product is exact") {
    namespace o = s::detail::cpu_ops;
    const s::detail::counter_rng rng(33, 1);
    constexpr std::size_t m = 35, k = 70, n = 50;
    // Weights over many magnitudes (2^-60 to 2^20), both signs.
    std::vector<float> a(m * k);
    for (std::size_t i = 0; i < a.size(); ++i)
        a[i] = std::ldexp(rng.uniform(i) - 0.5f, static_cast<int>(rng.uniform(5000 + i) * 80.0f) - 60);
    std::vector<std::uint16_t> sa(o::amx_operand::storage_a(m, k, 3));
    o::amx_operand pa;
    pa.pack_a(a.data(), k, 1, m, k, sa.data(), 3);
    REQUIRE(pa.has_rest());
    CHECK_THROWS_AS(pa.pack_a(a.data(), k, 1, m, k, sa.data(), 4), s::invalid_argument);
    const std::size_t dp = 96;  // 70 padded to 32s
    std::size_t inexact = 0;
    for (std::size_t i = 0; i < m; ++i)
        for (std::size_t q = 0; q < k; ++q) {
            const std::size_t at = i * dp + q;
            const double parts = double(o::amx_detail::from_bf16(pa.hi()[at])) + o::amx_detail::from_bf16(pa.lo()[at]) +
                                 o::amx_detail::from_bf16(pa.rest()[at]);
            inexact += parts != a[i * k + q];
        }
    CHECK(inexact == 0);
    // The same split from B's two layouts.
    std::vector<float> bt(k * m);
    for (std::size_t i = 0; i < m; ++i)
        for (std::size_t q = 0; q < k; ++q) bt[q * m + i] = a[i * k + q];
    std::vector<std::uint16_t> rows_storage(o::amx_operand::storage_b(k, m, 3)), columns_storage(rows_storage.size());
    o::amx_operand rows, columns;
    rows.pack_b(bt.data(), m, 1, k, m, rows_storage.data(), 3);
    columns.pack_b(a.data(), 1, k, k, m, columns_storage.data(), 3);
    CHECK(rows_storage == columns_storage);
    if (!s::amx_available()) {
        CHECK_THROWS_AS(s::use_cpu_matmul(s::cpu_matmul::amx_exact_products), s::invalid_argument);
        TEST_SKIP("AMX is not available here: the exact product is not run (its refusal and the split were checked)");
    }
    // Spikes with one 1 per column: each result is one weight, and must be that weight's
    // bits (two parts would give hi + lo, within 2^-18 of it).
    std::vector<float> one_hot(k * n, 0.0f), c(m * n);
    std::vector<std::size_t> row_of(n);
    for (std::size_t j = 0; j < n; ++j) row_of[j] = (j * 7) % k, one_hot[row_of[j] * n + j] = 1.0f;
    std::vector<std::uint16_t> sb(o::amx_operand::storage_b(k, n));
    o::amx_operand pb;
    pb.pack_b(one_hot.data(), n, 1, k, n, sb.data());
    REQUIRE(pb.exact());
    o::amx_multiply(pa, pb, c.data(), n, false);
    std::size_t wrong = 0;
    for (std::size_t i = 0; i < m; ++i)
        for (std::size_t j = 0; j < n; ++j) wrong += c[i * n + j] != a[i * k + row_of[j]];
    CHECK(wrong == 0);
    // The exact operand on the left: rows of spikes times a B split in three.
    std::vector<float> spikes_a(n * k, 0.0f), c2(n * m);
    for (std::size_t j = 0; j < n; ++j) spikes_a[j * k + row_of[j]] = 1.0f;
    std::vector<std::uint16_t> s2(o::amx_operand::storage_a(n, k));
    o::amx_operand left;
    left.pack_a(spikes_a.data(), k, 1, n, k, s2.data());
    o::amx_multiply(left, rows, c2.data(), m, false);
    wrong = 0;
    for (std::size_t j = 0; j < n; ++j)
        for (std::size_t i = 0; i < m; ++i) wrong += c2[j * m + i] != a[i * k + row_of[j]];
    CHECK(wrong == 0);
}

TEST_CASE("conv on AMX tiles with exact products, backward: spike images' dw within the fp32 sums' rounding, dx and db as fp32") {
    if (!s::amx_available()) TEST_SKIP("AMX is not available here");
    namespace ops = s::detail::cpu_ops;
    for (const auto& g : {s::detail::conv_geometry{5, 9, 8, 3, 1, 1, 40, 9, 8}, s::detail::conv_geometry{4, 6, 6, 1, 1, 0, 16, 6, 6}})
        for (const bool mixed : {false, true}) {
            CAPTURE(g.k);
            CAPTURE(mixed);
            constexpr std::size_t batch = 11;  // with mixed, images 6 to 10 are not spikes
            const s::detail::counter_rng rng(35, static_cast<std::uint64_t>(g.k) + mixed);
            std::vector<float> w(g.col_rows() * g.oc), x(batch * g.in_size()), dy(batch * g.out_size());
            for (std::size_t i = 0; i < w.size(); ++i) w[i] = rng.uniform(i) - 0.5f;
            for (std::size_t i = 0; i < x.size(); ++i)
                x[i] = mixed && i >= 6 * g.in_size() ? 2.0f * rng.uniform(1000 + i) - 1.0f : float(rng.uniform(1000 + i) < 0.3f);
            for (std::size_t i = 0; i < dy.size(); ++i) dy[i] = 2.0f * rng.uniform(900000 + i) - 1.0f;
            struct result {
                std::vector<float> dx, dw, db;
            };
            const auto run = [&](s::cpu_matmul m, int threads) {
                const s::cpu_matmul_scope scope(m);
                s::threads limit(threads);
                ops::conv_workspace<s::cpu> ws;
                result r{std::vector<float>(x.size()), std::vector<float>(w.size()), std::vector<float>(static_cast<std::size_t>(g.oc))};
                ops::conv_backward(s::cpu{}, g, batch, x.data(), w.data(), dy.data(), r.dx.data(), r.dw.data(), r.db.data(), ws);
                return r;
            };
            const result fp32 = run(s::cpu_matmul::fp32, 2), exact = run(s::cpu_matmul::amx_exact_products, 2);
            CHECK(exact.dx == fp32.dx);  // no input here is an exact operand of dx's product
            CHECK(exact.db == fp32.db);
            const double eps = std::numeric_limits<float>::epsilon();
            std::size_t differ = 0;
            for (int q = 0; q < g.oc; ++q)
                for (std::size_t r = 0; r < g.col_rows(); ++r) {
                    const int c = static_cast<int>(r) / (g.k * g.k), ky = static_cast<int>(r) / g.k % g.k, kx = static_cast<int>(r) % g.k;
                    double sum = 0.0, magnitude = 0.0;
                    for (std::size_t n = 0; n < batch; ++n)
                        for (int oy = 0; oy < g.oh; ++oy)
                            for (int ox = 0; ox < g.ow; ++ox) {
                                const int iy = oy * g.stride - g.pad + ky, ix = ox * g.stride - g.pad + kx;
                                if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w) continue;
                                const double term = double(dy[n * g.out_size() + (static_cast<std::size_t>(q) * g.oh + oy) * g.ow + ox]) *
                                                    x[n * g.in_size() + (static_cast<std::size_t>(c) * g.h + iy) * g.w + ix];
                                sum += term, magnitude += std::abs(term);
                            }
                    const std::size_t at = static_cast<std::size_t>(q) * g.col_rows() + r;
                    REQUIRE(std::abs(exact.dw[at] - sum) <= 3.0 * double(batch * g.out_plane() + 2) * eps * magnitude + 1e-30);
                    differ += exact.dw[at] != fp32.dw[at];
                }
            CHECK(differ > 0);  // the AMX path ran
            const result one_thread = run(s::cpu_matmul::amx_exact_products, 1);
            CHECK(one_thread.dw == exact.dw);
            CHECK(one_thread.dx == exact.dx);
        }
}

// The numerical gradient check cannot see AMX's conv: its 2^-17 rounding, divided by the
// difference step, swamps the comparison. The fp32 path passes that check above; the AMX
// path must then agree with it in outputs and gradients to within the product's accuracy.
template <class Spec, s::shape In>
void check_amx_against_fp32(std::size_t batch, std::uint64_t seed, bool spikes = false,
                            s::cpu_matmul product = s::cpu_matmul::amx_split_bf16) {
    using layer = typename Spec::template impl<s::cpu, In>;
    std::vector<float> params(layer::param_count), grads_fp32(layer::param_count), grads_amx(layer::param_count);
    layer::init(params.data(), nullptr, s::detail::counter_rng(seed, 1));
    const s::detail::counter_rng rng(seed, 99);
    std::vector<float> x(batch * In.size()), dy(batch * layer::out.size());
    // Spikes take the exact bf16 path (no lo part), other inputs the split one.
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = spikes ? float(rng.uniform(i) < 0.45f) : 2.0f * rng.uniform(i) - 1.0f;
    for (std::size_t i = 0; i < dy.size(); ++i) dy[i] = 2.0f * rng.uniform(5000000 + i) - 1.0f;
    const auto run = [&](std::vector<float>& grads) {
        std::vector<float> y(dy.size()), dx(x.size());
        layer l;
        s::detail::layer_context c;
        c.params = params.data();
        c.grads = grads.data();
        c.batch = batch;
        c.training = true;
        l.forward(x.data(), y.data(), c);
        l.backward(x.data(), y.data(), dy.data(), dx.data(), c);
        return std::pair{y, dx};
    };
    const auto [y_fp32, dx_fp32] = run(grads_fp32);
    const auto [y_amx, dx_amx] = [&] {
        s::cpu_matmul_scope amx(product);
        return run(grads_amx);
    }();
    // Worst difference relative to the largest magnitude of the fp32 result.
    const auto difference = [](const std::vector<float>& a, const std::vector<float>& b) {
        double worst = 0.0, largest = 0.0;
        for (std::size_t i = 0; i < a.size(); ++i) {
            worst = std::max(worst, double(std::abs(a[i] - b[i])));
            largest = std::max(largest, double(std::abs(a[i])));
        }
        return worst / largest;
    };
    CHECK(difference(y_fp32, y_amx) <= std::ldexp(1.0, -15));
    CHECK(difference(dx_fp32, dx_amx) <= std::ldexp(1.0, -15));
    CHECK(difference(grads_fp32, grads_amx) <= std::ldexp(1.0, -15));
}

TEST_CASE("conv on AMX tiles agrees with the fp32 path: outputs, input and parameter gradients") {
    if (!s::amx_available()) TEST_SKIP("AMX is not available here");
    check_amx_against_fp32<s::conv<4, 3>, s::image_shape(3, 7, 6)>(3, 1);
    check_amx_against_fp32<s::conv<5, 3, 2, 1>, s::image_shape(2, 9, 8)>(2, 2);
    check_amx_against_fp32<s::conv<6, 1, 1, 0, false>, s::image_shape(4, 5, 5)>(3, 3);
    check_amx_against_fp32<s::conv<2, 3>, s::image_shape(2, 4, 4)>(19, 5);
    check_amx_against_fp32<s::conv<5, 3, 2, 1>, s::image_shape(2, 9, 8)>(2, 7, true);
    check_amx_against_fp32<s::conv<6, 1, 1, 0, false>, s::image_shape(4, 5, 5)>(3, 8, true);
    // The reference network's conv2, on real values and on spikes.
    check_amx_against_fp32<s::conv<64, 3>, s::image_shape(32, 14, 14)>(4, 6);
    check_amx_against_fp32<s::conv<64, 3>, s::image_shape(32, 14, 14)>(9, 9, true);
    // The exact products (spike images only: the others run as fp32).
    for (const bool spikes : {true, false}) {
        check_amx_against_fp32<s::conv<5, 3, 2, 1>, s::image_shape(2, 9, 8)>(2, 7, spikes, s::cpu_matmul::amx_exact_products);
        check_amx_against_fp32<s::conv<64, 3>, s::image_shape(32, 14, 14)>(9, 9, spikes, s::cpu_matmul::amx_exact_products);
    }
}

// Event-driven and dense images against the definition in double; with `exact_amx`, also
// cpu_matmul::amx_exact_products (needs AMX).
namespace {
void check_conv_on_spikes(bool exact_amx_too) {
    namespace ops = s::detail::cpu_ops;
    // 70 output channels run as blocks of 64 and 6, 40 as 32 and 8, 16 as one; strides 1
    // and 2; binary inputs (spikes) and other values (event frames).
    const s::detail::conv_geometry geometries[] = {
        {5, 9, 8, 3, 1, 1, 70, 9, 8}, {3, 11, 10, 5, 2, 2, 40, 6, 5}, {4, 6, 6, 1, 1, 0, 16, 6, 6}};
    for (const auto& g : geometries)
        for (const bool binary : {true, false}) {
            CAPTURE(g.oc);
            CAPTURE(binary);
            constexpr std::size_t batch = 9;
            const s::detail::counter_rng rng(7, static_cast<std::uint64_t>(g.oc) + binary);
            std::vector<float> w(g.col_rows() * g.oc), b(static_cast<std::size_t>(g.oc)), x(batch * g.in_size());
            for (std::size_t i = 0; i < w.size(); ++i) w[i] = 2.0f * rng.uniform(i) - 1.0f;
            for (std::size_t i = 0; i < b.size(); ++i) b[i] = 2.0f * rng.uniform(w.size() + i) - 1.0f;
            // Image n has a fraction n / 10 of nonzero inputs: the last ones are dense enough
            // for the automatic choice to run them as a product; image 0 is all zeros.
            for (std::size_t n = 0; n < batch; ++n)
                for (std::size_t i = 0; i < g.in_size(); ++i) {
                    const std::size_t k = n * g.in_size() + i;
                    const bool fires = rng.uniform(1000000 + k) < static_cast<float>(n) / 10.0f;
                    x[k] = fires ? (binary ? 1.0f : 4.0f * rng.uniform(2000000 + k) - 1.0f) : 0.0f;
                }
            const auto run = [&](double event_below, int threads) {
                s::threads limit(threads);
                ops::conv_workspace<s::cpu> ws;
                std::vector<float> y(batch * g.out_size());
                ops::conv_forward(s::cpu{}, g, batch, x.data(), w.data(), b.data(), y.data(), ws, 0.25f, event_below);
                return y;
            };
            const auto dense = run(0.0, 2), events = run(1.0, 2), automatic = run(0.5, 2);
            // cpu_matmul::amx_exact_products: spike images on AMX with exact products, the
            // rest as before.
            std::vector<float> exact_amx, exact_amx_one_thread;
            if (exact_amx_too) {
                const s::cpu_matmul_scope amx(s::cpu_matmul::amx_exact_products);
                exact_amx = run(0.5, 2), exact_amx_one_thread = run(0.5, 1);
            }
            // Both within the float sums' rounding of the definition, computed in double.
            const double eps = std::numeric_limits<float>::epsilon();
            std::size_t differ = 0;
            for (std::size_t n = 0; n < batch; ++n)
                for (int q = 0; q < g.oc; ++q)
                    for (int oy = 0; oy < g.oh; ++oy)
                        for (int ox = 0; ox < g.ow; ++ox) {
                            double sum = 0.25 * b[static_cast<std::size_t>(q)], magnitude = std::abs(sum);
                            for (int c = 0; c < g.c; ++c)
                                for (int ky = 0; ky < g.k; ++ky)
                                    for (int kx = 0; kx < g.k; ++kx) {
                                        const int iy = oy * g.stride - g.pad + ky, ix = ox * g.stride - g.pad + kx;
                                        if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w) continue;
                                        const double term =
                                            static_cast<double>(w[((static_cast<std::size_t>(q) * g.c + c) * g.k + ky) * g.k + kx]) *
                                            x[n * g.in_size() + (static_cast<std::size_t>(c) * g.h + iy) * g.w + ix];
                                        sum += term, magnitude += std::abs(term);
                                    }
                            const std::size_t k = n * g.out_size() + (static_cast<std::size_t>(q) * g.oh + oy) * g.ow + ox;
                            const double bound = static_cast<double>(g.col_rows() + 1) * eps * magnitude + 1e-30;
                            REQUIRE(std::abs(dense[k] - sum) <= bound);
                            REQUIRE(std::abs(events[k] - sum) <= bound);
                            // Three exact partial products per term, each summed in fp32.
                            if (binary && !exact_amx.empty()) REQUIRE(std::abs(exact_amx[k] - sum) <= 3.0 * bound);
                            differ += dense[k] != events[k];
                        }
            if (g.k > 1) CHECK(differ > 0);  // both paths ran: their sums group the terms apart
            // The automatic choice is the image's own: a sparse image as event-driven, a dense
            // one as the product, bit for bit; and no thread count changes a bit.
            for (std::size_t n = 0; n < batch; ++n) {
                const auto first = static_cast<std::ptrdiff_t>(n * g.out_size()), last = first + static_cast<std::ptrdiff_t>(g.out_size());
                const auto& expected = n <= 4 ? events : dense;  // at most half the inputs nonzero: events
                if (n == 5) continue;  // about half: either, by the draw
                CHECK(std::equal(automatic.begin() + first, automatic.begin() + last, expected.begin() + first));
            }
            CHECK(run(1.0, 1) == events);
            CHECK(run(0.5, 1) == automatic);
            if (!exact_amx.empty()) {
                CHECK(exact_amx_one_thread == exact_amx);
                if (binary) CHECK(exact_amx != automatic);  // the AMX path ran
                else CHECK(exact_amx == automatic);         // other inputs are not bf16 numbers: unchanged
            }
        }
}
}  // namespace

TEST_CASE("conv on spikes: event-driven images equal the definition as the dense product does, image by image") {
    check_conv_on_spikes(false);
}

TEST_CASE("conv on AMX tiles with exact products: spike images within the fp32 sums' rounding of the definition") {
    if (!s::amx_available()) TEST_SKIP("AMX is not available here");
    check_conv_on_spikes(true);
}

TEST_CASE("GEMM kernel: each element is its products' chain of fused multiply-adds in depth order, whichever micro-kernel runs") {
    // The AVX2 micro-kernel (6 rows) and, where the CPU has AVX-512, the wide one (12 rows)
    // add every product in depth order with one rounding per step, a block's chain (kc
    // depths) then added to C: the result is defined to the bit, so the two kernels, and
    // CPUs with and without AVX-512, agree exactly.
    namespace ops = s::detail::cpu_ops;
    if (!ops::sgemm_detail::cpu_runs_kernel()) TEST_SKIP("this CPU has no AVX2 and FMA");
    const s::detail::counter_rng rng(22, 5);
    std::uint64_t draw = 0;
    // Rows: pairs of panels, a lone panel, partial panels; columns across nr; depths across kc.
    for (const auto [m, n, k] : {std::array<std::ptrdiff_t, 3>{30, 37, 300}, {12, 16, 5}, {7, 3, 257}, {25, 50, 64}})
        for (const bool accumulate : {false, true}) {
            CAPTURE(m);
            CAPTURE(accumulate);
            std::vector<float> a(static_cast<std::size_t>(m * k)), b(static_cast<std::size_t>(k * n)),
                c(static_cast<std::size_t>(m * n));
            for (auto* v : {&a, &b, &c})
                for (float& x : *v) x = 2.0f * rng.uniform(draw++) - 1.0f;
            std::vector<float> expected = c;
            for (std::ptrdiff_t i = 0; i < m; ++i)
                for (std::ptrdiff_t j = 0; j < n; ++j) {
                    float& e = expected[static_cast<std::size_t>(i * n + j)];
                    for (std::ptrdiff_t p0 = 0; p0 < k; p0 += ops::sgemm_detail::kc) {
                        float chain = 0.0f;
                        for (std::ptrdiff_t p = p0; p < std::min(k, p0 + ops::sgemm_detail::kc); ++p)
                            chain = std::fma(a[static_cast<std::size_t>(i * k + p)], b[static_cast<std::size_t>(p * n + j)], chain);
                        e = (p0 == 0 && !accumulate) ? chain : e + chain;
                    }
                }
            s::detail::buffer<float> scratch;
            std::vector<float> c_nt = c;
            ops::sgemm(m, n, k, {a.data(), k, 1}, {b.data(), n, 1}, c.data(), n, accumulate,
                       scratch.ensure(ops::sgemm_scratch_floats(m, n, k)));
            CHECK(c == expected);
            // B given transposed (n x k, a product with B^T, as the weight gradient's), whose
            // packing reads a column's depths as rows: the same products.
            std::vector<float> bt(b.size());
            for (std::ptrdiff_t p = 0; p < k; ++p)
                for (std::ptrdiff_t j = 0; j < n; ++j)
                    bt[static_cast<std::size_t>(j * k + p)] = b[static_cast<std::size_t>(p * n + j)];
            ops::sgemm(m, n, k, {a.data(), k, 1}, {bt.data(), 1, k}, c_nt.data(), n, accumulate,
                       scratch.ensure(ops::sgemm_scratch_floats(m, n, k)));
            CHECK(c_nt == expected);
        }
}

namespace sigmoid_test {
/// Membranes across the threshold, far from it (the exponential clamped), and at it.
struct membranes {
    std::vector<float> v, vth;
    membranes() : v(4099), vth(v.size()) {
        const s::detail::counter_rng rng(23, 1);
        std::uint64_t draw = 0;
        for (std::size_t i = 0; i < v.size(); ++i) {
            const float spread = i % 3 == 0 ? 40.0f : i % 3 == 1 ? 2.0f : 0.1f;
            v[i] = spread * (2.0f * rng.uniform(draw++) - 1.0f);
            vth[i] = 0.5f + rng.uniform(draw++);
        }
        v[0] = vth[0];
    }
};
constexpr float steepnesses[] = {4.0f, 0.5f, 25.0f};
}  // namespace sigmoid_test

TEST_CASE("sigmoid surrogate: the BPTT backward's derivative is within a few ulp of the definition") {
    namespace ops = s::detail::cpu_ops;
    const sigmoid_test::membranes m;
    for (const float a : sigmoid_test::steepnesses) {
        CAPTURE(a);
        std::vector<float> g(m.v.size());
        ops::sigmoid_derivatives(ops::simd_level::baseline, m.v.data(), m.vth.data(), a, g.data(), g.size());
        for (std::size_t i = 0; i < g.size(); ++i) {
            // At the float difference v - vth, as the layer has it. Rounding -a |x| to float
            // moves e^(-a |x|) by a |x| units in the last place: the bound grows with it.
            const double x = m.v[i] - m.vth[i];
            const double exact = s::detail::surrogate_function<s::surrogate_kind::sigmoid>::derivative(x, double(a));
            if (exact < 1e-30) continue;  // the clamped range, below any gradient that matters
            const double ulp = std::ldexp(1.0, -23);
            CAPTURE(x);
            CHECK(std::abs(g[i] - exact) <= (4.0 + a * std::abs(x)) * ulp * exact);
        }
    }
}

TEST_CASE("AVX2 blocks: the sigmoid surrogate's vector versions give the one-lane reference's bits") {
    // The BPTT backward's sigmoid derivative runs in the widest version the CPU has (AVX-512,
    // AVX2, or one lane at a time); they do the same operations in the same order, so a
    // program's gradients do not depend on the CPU it runs on.
    namespace ops = s::detail::cpu_ops;
    if (!ops::cpu_runs(ops::simd_level::avx2)) TEST_SKIP("this CPU has no AVX2 and FMA");
    const sigmoid_test::membranes m;
    const std::size_t total = m.v.size();
    for (const float a : sigmoid_test::steepnesses) {
        CAPTURE(a);
        std::vector<float> reference(total);
        ops::sigmoid_derivatives(ops::simd_level::baseline, m.v.data(), m.vth.data(), a, reference.data(), total);
        for (const auto version : {ops::simd_level::avx2, ops::simd_level::avx512}) {
            if (!ops::cpu_runs(version)) continue;
            CAPTURE(static_cast<int>(version));
            // Lengths around one and two vectors, and a long one: the tails as well as the body.
            for (const std::size_t n : {std::size_t{1}, std::size_t{7}, std::size_t{8}, std::size_t{15}, std::size_t{17},
                                        std::size_t{31}, total}) {
                CAPTURE(n);
                std::vector<float> g(n, -1.0f);
                ops::sigmoid_derivatives(version, m.v.data() + total - n, m.vth.data() + total - n, a, g.data(), n);
                CHECK(std::equal(g.begin(), g.end(), reference.end() - static_cast<std::ptrdiff_t>(n)));
            }
        }
    }
}

TEST_CASE("AVX2 blocks: the event-driven sums compiled for AVX2 equal the definition, AVX-512's and a native build's bits") {
    namespace ops = s::detail::cpu_ops;
    namespace ev = s::detail::cpu_ops::event_detail;
    if (!ops::cpu_has_avx2_fma()) TEST_SKIP("this CPU has no AVX2 and FMA");
    // Strides 1 and 2, kernels 3 and 5, padding; blocks of 64, 32 and 16 channels.
    const s::detail::conv_geometry geometries[] = {{5, 9, 8, 3, 1, 1, 64, 9, 8}, {3, 11, 10, 5, 2, 2, 32, 6, 5},
                                                  {6, 7, 7, 3, 1, 0, 16, 5, 5}};
    std::size_t compared = 0;
    for (const auto& g : geometries)
        for (const bool binary : {true, false}) {
            CAPTURE(g.oc);
            CAPTURE(binary);
            const s::detail::counter_rng rng(9, static_cast<std::uint64_t>(g.oc) + binary);
            std::vector<float> w(g.col_rows() * g.oc), x(g.in_size()), scattered(w.size());
            for (std::size_t i = 0; i < w.size(); ++i) w[i] = 2.0f * rng.uniform(i) - 1.0f;
            for (std::size_t i = 0; i < x.size(); ++i)
                x[i] = rng.uniform(100000 + i) < 0.3f ? (binary ? 1.0f : 4.0f * rng.uniform(200000 + i) - 1.0f) : 0.0f;
            ops::conv_scatter_weights(w.data(), static_cast<std::size_t>(g.oc), g.col_rows(), scattered.data());
            std::vector<std::uint32_t> count(static_cast<std::size_t>(g.h) * g.w), channel(g.in_size());
            bool ones = false;
            ops::active_channels(g, x.data(), count.data(), channel.data(), ones);
            REQUIRE(ones == binary);
            std::vector<float> avx2(g.out_plane() * g.oc), packets(avx2.size()), avx512(avx2.size());
            const bool has_avx512 = ops::cpu_has_avx512f();
            const auto run = [&]<std::size_t Width>() {
                if (binary) {
                    ev::conv_events_block_vector<8, Width, true>(g, scattered.data(), x.data(), count.data(), channel.data(), avx2.data());
                    ev::conv_events_block<Width, true>(g, scattered.data(), Width, x.data(), count.data(), channel.data(), packets.data());
                    if (has_avx512)
                        ev::conv_events_block_vector<16, Width, true>(g, scattered.data(), x.data(), count.data(), channel.data(), avx512.data());
                } else {
                    ev::conv_events_block_vector<8, Width, false>(g, scattered.data(), x.data(), count.data(), channel.data(), avx2.data());
                    ev::conv_events_block<Width, false>(g, scattered.data(), Width, x.data(), count.data(), channel.data(), packets.data());
                    if (has_avx512)
                        ev::conv_events_block_vector<16, Width, false>(g, scattered.data(), x.data(), count.data(), channel.data(), avx512.data());
                }
            };
            if (g.oc == 64) run.template operator()<64>();
            else if (g.oc == 32) run.template operator()<32>();
            else run.template operator()<16>();
            // The definition in double, [plane][channel] as the blocks keep it.
            const double eps = std::numeric_limits<float>::epsilon();
            for (int o = 0; o < g.oc; ++o)
                for (int oy = 0; oy < g.oh; ++oy)
                    for (int ox = 0; ox < g.ow; ++ox) {
                        double sum = 0.0, magnitude = 0.0;
                        std::size_t terms = 0;
                        for (int c = 0; c < g.c; ++c)
                            for (int ky = 0; ky < g.k; ++ky)
                                for (int kx = 0; kx < g.k; ++kx) {
                                    const int iy = oy * g.stride - g.pad + ky, ix = ox * g.stride - g.pad + kx;
                                    if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w) continue;
                                    const double term = static_cast<double>(w[((static_cast<std::size_t>(o) * g.c + c) * g.k + ky) * g.k + kx]) *
                                                        x[(static_cast<std::size_t>(c) * g.h + iy) * g.w + ix];
                                    sum += term, magnitude += std::abs(term), terms += term != 0.0;
                                }
                        const std::size_t at = (static_cast<std::size_t>(oy) * g.ow + ox) * g.oc + o;
                        CHECK(std::abs(avx2[at] - sum) <= static_cast<double>(terms + 1) * eps * magnitude);
                        ++compared;
                    }
            // Where the program's own packets are AVX2's with fused multiply-adds (a native
            // build on such a CPU), the two are the same instructions: the same bits.
            if constexpr (ev::lanes == 8 && s::detail::cpu_ops::native_fma) CHECK(avx2 == packets);
            // The AVX-512 blocks, where the CPU has them, do each lane's operations as the
            // AVX2 blocks do: the same bits (and a native AVX-512 build's).
            if (has_avx512) CHECK(avx512 == avx2);
            if constexpr (ev::lanes == 16) CHECK(avx512 == packets);
        }
    CHECK(compared == 64 * 9 * 8 * 2 + 32 * 6 * 5 * 2 + 16 * 5 * 5 * 2);
}

TEST_CASE("AVX2 blocks: the batch norm's channel passes give the same bits in every version, and their definition") {
    // Each version sums a plane in sixteen lanes, adds them in one tree and the tail after,
    // and fuses every multiply-add: the batch statistics and gradients do not depend on the
    // CPU or the program's -march.
    namespace ops = s::detail::cpu_ops;
    if (!ops::cpu_runs(ops::simd_level::avx2)) TEST_SKIP("this CPU has no AVX2 and FMA");
    struct outputs {
        double sum, squares, sdy, sdyx;
        std::vector<float> y, dx;
        bool operator==(const outputs&) const = default;
    };
    // Planes of the reference network's layers (784, 196, 49, a flat batch's 1) and tails.
    for (const std::size_t plane : {std::size_t{784}, std::size_t{196}, std::size_t{49}, std::size_t{1},
                                    std::size_t{16}, std::size_t{31}}) {
        CAPTURE(plane);
        constexpr std::size_t batch = 5, channels = 3, c = 1;
        const s::detail::counter_rng rng(31, plane);
        std::vector<float> x(batch * channels * plane), dy(x.size());
        for (std::size_t i = 0; i < x.size(); ++i) x[i] = 3.0f * rng.uniform(2 * i) - 1.0f, dy[i] = rng.uniform(2 * i + 1) - 0.5f;
        const ops::channel_planes xc{x.data() + c * plane, channels * plane, batch, plane},
            dyc{dy.data() + c * plane, channels * plane, batch, plane};
        const float mean = 0.4f;
        const auto run = [&](ops::simd_level level) {
            return ops::with_channel_passes(level, [&](auto passes) {
                outputs o{passes.sum(xc), passes.squared_deviation(xc, mean), 0.0, 0.0, std::vector<float>(x.size()),
                          std::vector<float>(x.size())};
                std::tie(o.sdy, o.sdyx) = passes.gradient_sums(dyc, xc.first, mean);
                passes.affine(xc, 1.5f, -0.25f, o.y.data() + c * plane);
                passes.input_gradient(dyc, xc.first, mean, 0.75f, 0.01f, 0.2f, o.dx.data() + c * plane);
                return o;
            });
        };
        const outputs reference = run(ops::simd_level::baseline);
        // The definition, in double.
        double sum = 0.0, squares = 0.0, sdy = 0.0, sdyx = 0.0, magnitude = 0.0;
        for (std::size_t n = 0; n < batch; ++n)
            for (std::size_t i = 0; i < plane; ++i) {
                const std::size_t at = (n * channels + c) * plane + i;
                sum += x[at], magnitude += std::abs(x[at]), squares += (x[at] - mean) * (x[at] - mean);
                sdy += dy[at], sdyx += dy[at] * (x[at] - mean);
                CHECK(reference.y[at] == doctest::Approx(1.5 * x[at] - 0.25).epsilon(1e-6));
                CHECK(reference.dx[at] == doctest::Approx(0.75 * (dy[at] - 0.01 - (x[at] - mean) * 0.2)).epsilon(1e-5));
            }
        const double bound = 1e-6 * (magnitude + 1.0) * 16;
        CHECK(std::abs(reference.sum - sum) <= bound);
        CHECK(std::abs(reference.squares - squares) <= 4 * bound);
        CHECK(std::abs(reference.sdy - sdy) <= bound);
        CHECK(std::abs(reference.sdyx - sdyx) <= 4 * bound);
        for (const auto level : {ops::simd_level::avx2, ops::simd_level::avx512}) {
            if (!ops::cpu_runs(level)) continue;
            CAPTURE(static_cast<int>(level));
            CHECK(run(level) == reference);
        }
    }
}

TEST_CASE("linear kernel: a forward whose weights are as before keeps their packing, and only then") {
    namespace ops = s::detail::cpu_ops;
    // The library's kernel runs linear layers where the program does not give Eigen AVX-512.
    if (!ops::sgemm_detail::kernel_available()) TEST_SKIP("linear layers multiply with Eigen's product in this build");
    constexpr std::size_t batch = 40;
    constexpr int in = 70, out = 20;
    const s::detail::counter_rng rng(5, 1);
    std::vector<float> x(batch * in), w(out * in), w2(out * in), dy(batch * out), dx(batch * in), dw(out * in);
    std::uint64_t draw = 0;
    for (auto* v : {&x, &w, &w2, &dy})
        for (float& e : *v) e = 2.0f * rng.uniform(draw++) - 1.0f;
    const auto forward = [&](const std::vector<float>& weights, ops::linear_workspace* ws, bool as_before) {
        std::vector<float> y(batch * out);
        ops::linear_forward(s::cpu{}, batch, in, out, x.data(), weights.data(), nullptr, y.data(), 1.0f, ws, as_before);
        return y;
    };
    ops::linear_workspace fresh;
    const auto y = forward(w, &fresh, false);
    ops::linear_workspace ws;
    CHECK(forward(w, &ws, false) == y);
    CHECK(forward(w, &ws, true) == y);  // the packing kept
    // A backward packs other operands into the workspace: the next forward packs W again.
    ops::linear_backward(s::cpu{}, batch, in, out, x.data(), w.data(), dy.data(), dx.data(), dw.data(), nullptr, &ws);
    CHECK(forward(w, &ws, true) == y);
    // Other weights are packed, whatever the caller says.
    ops::linear_workspace fresh2;
    CHECK(forward(w2, &ws, true) == forward(w2, &fresh2, false));
}

TEST_CASE("GEMM kernel: the library's AVX2 kernel equals float64 sums within rounding, in every shape and layout") {
    namespace ops = s::detail::cpu_ops;
    if (!ops::sgemm_detail::cpu_runs_kernel()) TEST_SKIP("this CPU has no AVX2 and FMA");
    const s::detail::counter_rng rng(21, 4);
    std::uint64_t draw = 0;
    const auto fill = [&](std::vector<float>& v) {
        for (float& x : v) x = 2.0f * rng.uniform(draw++) - 1.0f;
    };
    // Edges of every blocking: rows across mr = 6 and mc = 144, columns across nr = 16,
    // depths across kc = 256, none at all; transposed operands; C wider than the product.
    struct shape {
        std::ptrdiff_t m, n, k;
    };
    const std::vector<shape> shapes{{1, 1, 1},    {5, 15, 3},   {6, 16, 256}, {7, 17, 257}, {13, 33, 600},
                                    {150, 20, 40}, {2, 4097, 3}, {40, 9, 0},  {12, 64, 513}};
    std::size_t compared = 0;
    for (const shape& sh : shapes)
        for (int layout = 0; layout < 4; ++layout)
            for (bool accumulate : {false, true}) {
                const std::ptrdiff_t m = sh.m, n = sh.n, k = sh.k;
                const bool ta = layout & 1, tb = layout & 2;
                INFO("m " << m << " n " << n << " k " << k << " transposed A " << ta << " B " << tb << " accumulate "
                          << accumulate);
                const std::ptrdiff_t ldc = n + 3;
                std::vector<float> a(static_cast<std::size_t>(m * k) + 1), b(static_cast<std::size_t>(k * n) + 1),
                    c(static_cast<std::size_t>(m * ldc));
                fill(a), fill(b), fill(c);
                const std::vector<float> before = c;
                const ops::strided_matrix av = ta ? ops::strided_matrix{a.data(), 1, m} : ops::strided_matrix{a.data(), k, 1};
                const ops::strided_matrix bv = tb ? ops::strided_matrix{b.data(), 1, k} : ops::strided_matrix{b.data(), n, 1};
                s::detail::buffer<float> scratch;
                ops::sgemm(m, n, k, av, bv, c.data(), ldc, accumulate, scratch.ensure(ops::sgemm_scratch_floats(m, n, k)));
                for (std::ptrdiff_t i = 0; i < m; ++i)
                    for (std::ptrdiff_t j = 0; j < ldc; ++j) {
                        const float got = c[static_cast<std::size_t>(i * ldc + j)];
                        const float was = before[static_cast<std::size_t>(i * ldc + j)];
                        if (j >= n) {  // past the product: untouched
                            REQUIRE(got == was);
                            continue;
                        }
                        double sum = accumulate ? was : 0.0, magnitude = std::abs(sum);
                        for (std::ptrdiff_t p = 0; p < k; ++p) {
                            const double term = static_cast<double>(av(i, p)) * bv(p, j);
                            sum += term, magnitude += std::abs(term);
                        }
                        const double bound = static_cast<double>(k + 1) * 0x1p-24 * magnitude;
                        REQUIRE(std::abs(got - sum) <= bound);
                        ++compared;
                    }
            }
    CHECK(compared > 50000);

    // A packed once (a convolution's weights) gives the bits of sgemm's accumulation, and
    // rows computed apart (another thread split) the bits of rows computed together.
    const std::ptrdiff_t m = 70, n = 45, k = 300;
    std::vector<float> a(static_cast<std::size_t>(m * k)), b(static_cast<std::size_t>(k * n)), c0(static_cast<std::size_t>(m * n));
    fill(a), fill(b), fill(c0);
    std::vector<float> whole = c0, packed = c0, split = c0;
    s::detail::buffer<float> scratch;
    float* sc = scratch.ensure(ops::sgemm_scratch_floats(m, n, k));
    ops::sgemm(m, n, k, {a.data(), k, 1}, {b.data(), n, 1}, whole.data(), n, true, sc);
    ops::sgemm_packed_lhs lhs;
    lhs.pack({a.data(), k, 1}, m, k);
    s::detail::buffer<float> lhs_scratch;
    lhs.multiply({b.data(), n, 1}, n, packed.data(), n, lhs_scratch.ensure(lhs.scratch_floats(n)));
    ops::sgemm(31, n, k, {a.data(), k, 1}, {b.data(), n, 1}, split.data(), n, true, sc);
    ops::sgemm(m - 31, n, k, {a.data() + 31 * k, k, 1}, {b.data(), n, 1}, split.data() + 31 * n, n, true, sc);
    CHECK(packed == whole);
    CHECK(split == whole);
    // B packed once (a linear layer's weights, shared by the threads), its panels packed
    // in two ranges, and a transposed B: the bits of sgemm again.
    std::vector<float> bt(b.size());
    for (std::ptrdiff_t p = 0; p < k; ++p)
        for (std::ptrdiff_t j = 0; j < n; ++j) bt[static_cast<std::size_t>(j * k + p)] = b[static_cast<std::size_t>(p * n + j)];
    for (const ops::strided_matrix& bv : {ops::strided_matrix{b.data(), n, 1}, ops::strided_matrix{bt.data(), 1, k}}) {
        ops::sgemm_packed_rhs rhs;
        rhs.pack(bv, k, n, [](std::size_t panels, auto&& pack_range) {
            pack_range(std::size_t{0}, panels / 2);
            pack_range(panels / 2, panels);
        });
        std::vector<float> shared = c0;
        s::detail::buffer<float> rhs_scratch;
        rhs.multiply({a.data(), k, 1}, m, shared.data(), n, true, rhs_scratch.ensure(rhs.scratch_floats(m)));
        CHECK(shared == whole);
    }
}
