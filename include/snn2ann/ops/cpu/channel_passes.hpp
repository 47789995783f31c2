// snn2ann/ops/cpu: the batch norm's passes over one channel of an NCHW batch (its plane in
// every sample), chosen at run time.
//
// Eigen's reductions sum in the packets the translation unit was compiled for: four floats
// in a consumer's default build (a third slower than AVX-512's sixteen), and a different
// order, hence other bits, in every instruction set. Here each plane is summed in sixteen
// lanes whatever the instructions (lane l takes elements l, l + 16, ...; the lanes are then
// added in a fixed tree and the tail after them in order) and every multiply-add is fused,
// in three versions: AVX-512 (one register of sixteen lanes), AVX2 with FMA (two of eight)
// and one float at a time, the plane sums in intrinsics (compilers do not vectorise sixteen
// scalar accumulators reliably), the channel loops and the elementwise passes written once
// and compiled for each target by function target attributes. The three give the same
// bits, so a program's batch statistics do not depend on the CPU or on -march
// (tests/test_layers.cpp compares them). A plane's sum is a float; the planes' sums are
// added in double, in sample order.
#pragma once

#include <cmath>
#include <cstddef>
#include <utility>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#endif

#include "cpu_features.hpp"

namespace snn2ann::inline v0::detail::cpu_ops {

/// One channel's planes: plane n (of `plane` floats) at first + n * stride, n < planes.
struct channel_planes {
    const float* first;
    std::size_t stride, planes, plane;
    const float* at(std::size_t n) const { return first + n * stride; }
};

namespace channel_detail {
inline constexpr std::size_t lanes = 16;

// A plane's sums: lane l adds the terms of elements l, l + 16, ..., l + 16 (r - 1) (r whole
// rounds), in order; then the lanes are added in a tree (lane l and l + 8, then l + 4, l + 2,
// l + 1), and the terms of the tail after it, in order. Each version below keeps the sixteen
// lanes in its own registers and does exactly that.

/// The tree over sixteen lane sums.
inline float lane_tree(float (&acc)[lanes]) {
    for (std::size_t half = lanes / 2; half > 0; half /= 2)
        for (std::size_t l = 0; l < half; ++l) acc[l] += acc[l + half];
    return acc[0];
}

/// The plane sums one float at a time: the reference, and the fallback.
struct baseline_planes {
    static float sum(const float* x, std::size_t n) {
        float acc[lanes] = {};
        std::size_t i = 0;
        for (; i + lanes <= n; i += lanes)
            for (std::size_t l = 0; l < lanes; ++l) acc[l] += x[i + l];
        float total = lane_tree(acc);
        for (; i < n; ++i) total += x[i];
        return total;
    }
    /// Sum of (x - mean)^2, each term fused into its lane: fma(d, d, acc).
    static float squared_deviation(const float* x, std::size_t n, float mean) {
        float acc[lanes] = {};
        std::size_t i = 0;
        for (; i + lanes <= n; i += lanes)
            for (std::size_t l = 0; l < lanes; ++l) {
                const float d = x[i + l] - mean;
                acc[l] = std::fma(d, d, acc[l]);
            }
        float total = lane_tree(acc);
        for (; i < n; ++i) {
            const float d = x[i] - mean;
            total = std::fma(d, d, total);
        }
        return total;
    }
    /// {sum of dy, sum of dy (x - mean)}, the second's terms fused: fma(dy, x - mean, acc).
    static std::pair<float, float> sum_and_dot(const float* dy, const float* x, std::size_t n, float mean) {
        float sums[lanes] = {}, dots[lanes] = {};
        std::size_t i = 0;
        for (; i + lanes <= n; i += lanes)
            for (std::size_t l = 0; l < lanes; ++l) {
                sums[l] += dy[i + l];
                dots[l] = std::fma(dy[i + l], x[i + l] - mean, dots[l]);
            }
        float sum = lane_tree(sums), dot = lane_tree(dots);
        for (; i < n; ++i) sum += dy[i], dot = std::fma(dy[i], x[i] - mean, dot);
        return {sum, dot};
    }
};

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
/// The plane sums in AVX2: lanes 0-7 in one register, 8-15 in another.
struct avx2_planes {
    [[gnu::target("avx2,fma")]] static float tree(__m256 low, __m256 high) {
        const __m256 eight = _mm256_add_ps(low, high);                                                  // l + 8
        const __m128 four = _mm_add_ps(_mm256_castps256_ps128(eight), _mm256_extractf128_ps(eight, 1));  // l + 4
        const __m128 two = _mm_add_ps(four, _mm_movehl_ps(four, four));                                 // l + 2
        return _mm_cvtss_f32(_mm_add_ss(two, _mm_shuffle_ps(two, two, 1)));                              // l + 1
    }
    [[gnu::target("avx2,fma")]] static float sum(const float* x, std::size_t n) {
        __m256 low = _mm256_setzero_ps(), high = _mm256_setzero_ps();
        std::size_t i = 0;
        for (; i + lanes <= n; i += lanes)
            low = _mm256_add_ps(low, _mm256_loadu_ps(x + i)), high = _mm256_add_ps(high, _mm256_loadu_ps(x + i + 8));
        float total = tree(low, high);
        for (; i < n; ++i) total += x[i];
        return total;
    }
    [[gnu::target("avx2,fma")]] static float squared_deviation(const float* x, std::size_t n, float mean) {
        const __m256 m = _mm256_set1_ps(mean);
        __m256 low = _mm256_setzero_ps(), high = _mm256_setzero_ps();
        std::size_t i = 0;
        for (; i + lanes <= n; i += lanes) {
            const __m256 dl = _mm256_sub_ps(_mm256_loadu_ps(x + i), m), dh = _mm256_sub_ps(_mm256_loadu_ps(x + i + 8), m);
            low = _mm256_fmadd_ps(dl, dl, low), high = _mm256_fmadd_ps(dh, dh, high);
        }
        float total = tree(low, high);
        for (; i < n; ++i) {
            const float d = x[i] - mean;
            total = std::fma(d, d, total);
        }
        return total;
    }
    [[gnu::target("avx2,fma")]] static std::pair<float, float> sum_and_dot(const float* dy, const float* x,
                                                                           std::size_t n, float mean) {
        const __m256 m = _mm256_set1_ps(mean);
        __m256 sl = _mm256_setzero_ps(), sh = _mm256_setzero_ps(), dl = _mm256_setzero_ps(), dh = _mm256_setzero_ps();
        std::size_t i = 0;
        for (; i + lanes <= n; i += lanes) {
            const __m256 gl = _mm256_loadu_ps(dy + i), gh = _mm256_loadu_ps(dy + i + 8);
            sl = _mm256_add_ps(sl, gl), sh = _mm256_add_ps(sh, gh);
            dl = _mm256_fmadd_ps(gl, _mm256_sub_ps(_mm256_loadu_ps(x + i), m), dl);
            dh = _mm256_fmadd_ps(gh, _mm256_sub_ps(_mm256_loadu_ps(x + i + 8), m), dh);
        }
        float sum = tree(sl, sh), dot = tree(dl, dh);
        for (; i < n; ++i) sum += dy[i], dot = std::fma(dy[i], x[i] - mean, dot);
        return {sum, dot};
    }
};

/// The plane sums in AVX-512: the sixteen lanes in one register.
struct avx512_planes {
    /// The tree: the halves extracted with an all-lanes mask (GCC 12's unmasked extraction, and
    /// the cast to the low half, pass an "undefined" vector that -Wmaybe-uninitialized reports
    /// in every includer).
    [[gnu::target("avx512f,avx2,fma")]] static float tree(__m512 lanes16) {
        const __m512d all = _mm512_castps_pd(lanes16);
        const __m256d low = _mm512_mask_extractf64x4_pd(_mm256_setzero_pd(), 0xf, all, 0);
        const __m256d high = _mm512_mask_extractf64x4_pd(_mm256_setzero_pd(), 0xf, all, 1);
        return avx2_planes::tree(_mm256_castpd_ps(low), _mm256_castpd_ps(high));
    }
    [[gnu::target("avx512f,avx2,fma")]] static float sum(const float* x, std::size_t n) {
        __m512 acc = _mm512_setzero_ps();
        std::size_t i = 0;
        for (; i + lanes <= n; i += lanes) acc = _mm512_add_ps(acc, _mm512_loadu_ps(x + i));
        float total = tree(acc);
        for (; i < n; ++i) total += x[i];
        return total;
    }
    [[gnu::target("avx512f,avx2,fma")]] static float squared_deviation(const float* x, std::size_t n, float mean) {
        const __m512 m = _mm512_set1_ps(mean);
        __m512 acc = _mm512_setzero_ps();
        std::size_t i = 0;
        for (; i + lanes <= n; i += lanes) {
            const __m512 d = _mm512_sub_ps(_mm512_loadu_ps(x + i), m);
            acc = _mm512_fmadd_ps(d, d, acc);
        }
        float total = tree(acc);
        for (; i < n; ++i) {
            const float d = x[i] - mean;
            total = std::fma(d, d, total);
        }
        return total;
    }
    [[gnu::target("avx512f,avx2,fma")]] static std::pair<float, float> sum_and_dot(const float* dy, const float* x,
                                                                                   std::size_t n, float mean) {
        const __m512 m = _mm512_set1_ps(mean);
        __m512 sums = _mm512_setzero_ps(), dots = _mm512_setzero_ps();
        std::size_t i = 0;
        for (; i + lanes <= n; i += lanes) {
            const __m512 g = _mm512_loadu_ps(dy + i);
            sums = _mm512_add_ps(sums, g);
            dots = _mm512_fmadd_ps(g, _mm512_sub_ps(_mm512_loadu_ps(x + i), m), dots);
        }
        float sum = tree(sums), dot = tree(dots);
        for (; i < n; ++i) sum += dy[i], dot = std::fma(dy[i], x[i] - mean, dot);
        return {sum, dot};
    }
};
#endif

/// out[i] = value(i) for i < n, sixteen at a time through a local block: the compiler
/// vectorises the block's loops without proving that out does not alias the inputs.
template <class Value>
[[gnu::always_inline]] inline void map_plane(std::size_t n, float* out, Value value) {
    std::size_t i = 0;
    for (; i + lanes <= n; i += lanes) {
        float block[lanes];
        for (std::size_t l = 0; l < lanes; ++l) block[l] = value(i + l);
        for (std::size_t l = 0; l < lanes; ++l) out[i + l] = block[l];
    }
    for (; i < n; ++i) out[i] = value(i);
}

/// The passes over a channel, written once over the plane sums of one version (Planes).
/// The elementwise ones are compiled in that version's target by its wrapper below; every
/// multiply-add is a std::fma, never a product the compiler may fuse with an addition in
/// one version and not in another.
template <class Planes>
struct passes {
    /// The sum of x, plane sums added in double in sample order.
    [[gnu::always_inline]] static double sum(const channel_planes& x) {
        double total = 0.0;
        for (std::size_t n = 0; n < x.planes; ++n) total += Planes::sum(x.at(n), x.plane);
        return total;
    }
    [[gnu::always_inline]] static double squared_deviation(const channel_planes& x, float mean) {
        double total = 0.0;
        for (std::size_t n = 0; n < x.planes; ++n) total += Planes::squared_deviation(x.at(n), x.plane, mean);
        return total;
    }
    /// y = a x + b, y laid out as x.
    [[gnu::always_inline]] static void affine(const channel_planes& x, float a, float b, float* y) {
        for (std::size_t n = 0; n < x.planes; ++n) {
            const float* p = x.at(n);
            map_plane(x.plane, y + n * x.stride, [p, a, b](std::size_t i) { return std::fma(p[i], a, b); });
        }
    }
    /// {sum of dy, sum of dy (x - mean)}, x laid out as dy.
    [[gnu::always_inline]] static std::pair<double, double> gradient_sums(const channel_planes& dy, const float* x,
                                                                         float mean) {
        double sdy = 0.0, sdyx = 0.0;
        for (std::size_t n = 0; n < dy.planes; ++n) {
            const auto [s, d] = Planes::sum_and_dot(dy.at(n), x + n * dy.stride, dy.plane, mean);
            sdy += s, sdyx += d;
        }
        return {sdy, sdyx};
    }
    /// dx = k (dy - mean_dy - (x - mean) mean_dyx), x and dx laid out as dy.
    [[gnu::always_inline]] static void input_gradient(const channel_planes& dy, const float* x, float mean, float k,
                                                      float mean_dy, float mean_dyx, float* dx) {
        for (std::size_t n = 0; n < dy.planes; ++n) {
            const float* d = dy.at(n);
            const float* p = x + n * dy.stride;
            map_plane(dy.plane, dx + n * dy.stride,
                      [=](std::size_t i) { return k * std::fma(mean - p[i], mean_dyx, d[i] - mean_dy); });
        }
    }
};

/// The passes compiled for the program's flags.
struct baseline_passes {
    using p = passes<baseline_planes>;
    static double sum(const channel_planes& x) { return p::sum(x); }
    static double squared_deviation(const channel_planes& x, float mean) { return p::squared_deviation(x, mean); }
    static void affine(const channel_planes& x, float a, float b, float* y) { p::affine(x, a, b, y); }
    static std::pair<double, double> gradient_sums(const channel_planes& dy, const float* x, float mean) {
        return p::gradient_sums(dy, x, mean);
    }
    static void input_gradient(const channel_planes& dy, const float* x, float mean, float k, float mean_dy,
                               float mean_dyx, float* dx) {
        p::input_gradient(dy, x, mean, k, mean_dy, mean_dyx, dx);
    }
};

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
/// The passes compiled for AVX2 and FMA: the always-inline bodies take the target on.
struct avx2_passes {
    using p = passes<avx2_planes>;
    [[gnu::target("avx2,fma")]] static double sum(const channel_planes& x) { return p::sum(x); }
    [[gnu::target("avx2,fma")]] static double squared_deviation(const channel_planes& x, float mean) {
        return p::squared_deviation(x, mean);
    }
    [[gnu::target("avx2,fma")]] static void affine(const channel_planes& x, float a, float b, float* y) {
        p::affine(x, a, b, y);
    }
    [[gnu::target("avx2,fma")]] static std::pair<double, double> gradient_sums(const channel_planes& dy,
                                                                               const float* x, float mean) {
        return p::gradient_sums(dy, x, mean);
    }
    [[gnu::target("avx2,fma")]] static void input_gradient(const channel_planes& dy, const float* x, float mean,
                                                           float k, float mean_dy, float mean_dyx, float* dx) {
        p::input_gradient(dy, x, mean, k, mean_dy, mean_dyx, dx);
    }
};

/// The passes compiled for AVX-512.
struct avx512_passes {
    using p = passes<avx512_planes>;
    [[gnu::target("avx512f,avx2,fma")]] static double sum(const channel_planes& x) { return p::sum(x); }
    [[gnu::target("avx512f,avx2,fma")]] static double squared_deviation(const channel_planes& x, float mean) {
        return p::squared_deviation(x, mean);
    }
    [[gnu::target("avx512f,avx2,fma")]] static void affine(const channel_planes& x, float a, float b, float* y) {
        p::affine(x, a, b, y);
    }
    [[gnu::target("avx512f,avx2,fma")]] static std::pair<double, double> gradient_sums(const channel_planes& dy,
                                                                                       const float* x, float mean) {
        return p::gradient_sums(dy, x, mean);
    }
    [[gnu::target("avx512f,avx2,fma")]] static void input_gradient(const channel_planes& dy, const float* x,
                                                                   float mean, float k, float mean_dy,
                                                                   float mean_dyx, float* dx) {
        p::input_gradient(dy, x, mean, k, mean_dy, mean_dyx, dx);
    }
};
#endif
}  // namespace channel_detail

/// f(P{}) with P the channel passes compiled for `level` (which the CPU must run:
/// cpu_runs(level)); P has sum, squared_deviation, affine, gradient_sums and
/// input_gradient (channel_detail::passes says what each computes).
template <class F>
decltype(auto) with_channel_passes(simd_level level, F&& f) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    if (level == simd_level::avx512) return f(channel_detail::avx512_passes{});
    if (level == simd_level::avx2) return f(channel_detail::avx2_passes{});
#endif
    (void)level;
    return f(channel_detail::baseline_passes{});
}

/// The same with the widest passes this CPU runs.
template <class F>
decltype(auto) with_channel_passes(F&& f) {
    return with_channel_passes(widest_simd_level(), static_cast<F&&>(f));
}

}  // namespace snn2ann::inline v0::detail::cpu_ops
