// snn2ann/ops/cpu: the sigmoid surrogate's derivative on a block of neurons, chosen at
// run time.
//
// BPTT's backward evaluates g = a s (1 - s), s = 1 / (1 + e^(-a x)), once per neuron and
// step, as neuron/surrogate.hpp defines it: a e s^2 with e = e^(-a |x|), s = 1 / (1 + e).
// With std::exp the loop stays scalar (a libm call each); with Eigen's exp it runs in the
// packets the translation unit was compiled for, SSE2 in a consumer's default build, where
// it cost three times what it costs in AVX-512. So the exponential is written out here
// once (Cephes' expf: x = n ln 2 + r, a degree-6 polynomial in r, times 2^n), in three
// versions of the same operations in the same order: 16 lanes (AVX-512), 8 lanes (AVX2 and
// FMA) and one (the reference and the fallback). Every operation is an IEEE one (multiply,
// fused multiply-add, add, divide, floor, the exponent's integer arithmetic), so a lane
// gives the same bits whichever version ran: a program's results do not depend on the
// CPU it runs on (tests/test_layers.cpp checks each version against the reference).
#pragma once

#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#endif

#include "cpu_features.hpp"

namespace snn2ann::inline v0::detail::cpu_ops {

namespace sigmoid_detail {
// e^x for x in [lowest, 0]: 2^n stays a normal float (n >= -126). Below it the sigmoid's
// derivative is below 1e-37 either way.
inline constexpr float lowest = -87.0f;
inline constexpr float log2e = 1.44269504088896341f;
// ln 2 in two parts, the first with few mantissa bits, so that n ln2_high is exact.
inline constexpr float ln2_high = 0.693359375f, ln2_low = -2.12194440e-4f;
// Cephes' polynomial for (e^r - 1 - r) / r^2, highest degree first.
inline constexpr float p0 = 1.9875691500e-4f, p1 = 1.3981999507e-3f, p2 = 8.3334519073e-3f, p3 = 4.1665795894e-2f,
                       p4 = 1.6666665459e-1f, p5 = 5.0000001201e-1f;

/// The reference: one neuron's derivative at x = v - vth. The vector versions below do
/// these operations, in this order, on 8 or 16 lanes.
inline float one(float v, float vth, float a) {
    float x = -a * std::abs(v - vth);
    x = x > lowest ? x : lowest;  // as maxps orders its operands
    const float n = std::floor(std::fma(x, log2e, 0.5f));
    float r = std::fma(n, -ln2_high, x);
    r = std::fma(n, -ln2_low, r);
    const float r2 = r * r;
    float p = std::fma(p0, r, p1);
    p = std::fma(p, r, p2);
    p = std::fma(p, r, p3);
    p = std::fma(p, r, p4);
    p = std::fma(p, r, p5);
    p = std::fma(p, r2, r) + 1.0f;
    const float two_to_n = std::bit_cast<float>(static_cast<std::uint32_t>(static_cast<std::int32_t>(n) + 127) << 23);
    // p 2^n is exact (p > 1 where n = -126: a normal float), so a compiler that fuses it
    // into 1 + e rounds as the vector versions do.
    const float e = p * two_to_n;
    const float s = 1.0f / (1.0f + e);
    return a * e * s * s;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
[[gnu::target("avx2,fma")]] inline __m256 eight(__m256 v, __m256 vth, __m256 a) {
    const __m256 distance = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), _mm256_sub_ps(v, vth));
    __m256 x = _mm256_mul_ps(_mm256_sub_ps(_mm256_setzero_ps(), a), distance);
    x = _mm256_max_ps(x, _mm256_set1_ps(lowest));
    const __m256 n = _mm256_floor_ps(_mm256_fmadd_ps(x, _mm256_set1_ps(log2e), _mm256_set1_ps(0.5f)));
    __m256 r = _mm256_fmadd_ps(n, _mm256_set1_ps(-ln2_high), x);
    r = _mm256_fmadd_ps(n, _mm256_set1_ps(-ln2_low), r);
    const __m256 r2 = _mm256_mul_ps(r, r);
    __m256 p = _mm256_fmadd_ps(_mm256_set1_ps(p0), r, _mm256_set1_ps(p1));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(p2));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(p3));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(p4));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(p5));
    p = _mm256_add_ps(_mm256_fmadd_ps(p, r2, r), _mm256_set1_ps(1.0f));
    const __m256 two_to_n = _mm256_castsi256_ps(
        _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvttps_epi32(n), _mm256_set1_epi32(127)), 23));
    const __m256 e = _mm256_mul_ps(p, two_to_n);
    const __m256 s = _mm256_div_ps(_mm256_set1_ps(1.0f), _mm256_add_ps(_mm256_set1_ps(1.0f), e));
    return _mm256_mul_ps(_mm256_mul_ps(_mm256_mul_ps(a, e), s), s);
}

// The AVX-512 instructions without a mask are written with an all-lanes mask and the lane
// values they replace: GCC 12's unmasked forms pass an "undefined" vector that
// -Wmaybe-uninitialized reports in every program that includes this header.
[[gnu::target("avx512f")]] inline __m512 sixteen(__m512 v, __m512 vth, __m512 a) {
    constexpr __mmask16 all = 0xffff;
    __m512 x = _mm512_mul_ps(_mm512_sub_ps(_mm512_setzero_ps(), a), _mm512_abs_ps(_mm512_sub_ps(v, vth)));
    x = _mm512_mask_max_ps(x, all, x, _mm512_set1_ps(lowest));
    __m512 n = _mm512_fmadd_ps(x, _mm512_set1_ps(log2e), _mm512_set1_ps(0.5f));
    n = _mm512_mask_roundscale_ps(n, all, n, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fmadd_ps(n, _mm512_set1_ps(-ln2_high), x);
    r = _mm512_fmadd_ps(n, _mm512_set1_ps(-ln2_low), r);
    const __m512 r2 = _mm512_mul_ps(r, r);
    __m512 p = _mm512_fmadd_ps(_mm512_set1_ps(p0), r, _mm512_set1_ps(p1));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(p2));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(p3));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(p4));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(p5));
    p = _mm512_add_ps(_mm512_fmadd_ps(p, r2, r), _mm512_set1_ps(1.0f));
    const __m512i zero = _mm512_setzero_si512();
    const __m512i biased = _mm512_add_epi32(_mm512_mask_cvttps_epi32(zero, all, n), _mm512_set1_epi32(127));
    const __m512 two_to_n = _mm512_castsi512_ps(_mm512_mask_slli_epi32(zero, all, biased, 23));
    const __m512 e = _mm512_mul_ps(p, two_to_n);
    const __m512 s = _mm512_div_ps(_mm512_set1_ps(1.0f), _mm512_add_ps(_mm512_set1_ps(1.0f), e));
    return _mm512_mul_ps(_mm512_mul_ps(_mm512_mul_ps(a, e), s), s);
}

[[gnu::target("avx2,fma")]] inline void block_avx2(const float* v, const float* vth, float a, float* g, std::size_t n) {
    std::size_t i = 0;
    for (const __m256 av = _mm256_set1_ps(a); i + 8 <= n; i += 8)
        _mm256_storeu_ps(g + i, eight(_mm256_loadu_ps(v + i), _mm256_loadu_ps(vth + i), av));
    for (; i < n; ++i) g[i] = one(v[i], vth[i], a);
}

[[gnu::target("avx512f")]] inline void block_avx512(const float* v, const float* vth, float a, float* g,
                                                    std::size_t n) {
    std::size_t i = 0;
    const __m512 av = _mm512_set1_ps(a);
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(g + i, sixteen(_mm512_loadu_ps(v + i), _mm512_loadu_ps(vth + i), av));
    if (i < n) {  // the tail in one masked pass: the lanes' bits do not depend on the width
        const __mmask16 mask = static_cast<__mmask16>((1u << (n - i)) - 1u);
        _mm512_mask_storeu_ps(g + i, mask, sixteen(_mm512_maskz_loadu_ps(mask, v + i), _mm512_maskz_loadu_ps(mask, vth + i), av));
    }
}
#endif

inline void block_reference(const float* v, const float* vth, float a, float* g, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) g[i] = one(v[i], vth[i], a);
}
}  // namespace sigmoid_detail

/// g[i] = a s (1 - s), s = 1 / (1 + e^(-a (v[i] - vth[i]))), for n neurons: the derivative of
/// sigmoid(a x) at x = v - vth, within a few ulp of it, in the version for `level` (which the
/// CPU must run: cpu_runs(level)).
inline void sigmoid_derivatives(simd_level level, const float* v, const float* vth, float a, float* g,
                                std::size_t n) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    if (level == simd_level::avx512) return sigmoid_detail::block_avx512(v, vth, a, g, n);
    if (level == simd_level::avx2) return sigmoid_detail::block_avx2(v, vth, a, g, n);
#endif
    sigmoid_detail::block_reference(v, vth, a, g, n);
}

/// The same in the widest version this CPU runs.
inline void sigmoid_derivatives(const float* v, const float* vth, float a, float* g, std::size_t n) {
    sigmoid_derivatives(widest_simd_level(), v, vth, a, g, n);
}

}  // namespace snn2ann::inline v0::detail::cpu_ops
