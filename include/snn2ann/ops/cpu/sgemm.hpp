// snn2ann/ops/cpu: the library's own single-precision GEMM kernel, chosen at run time.
//
// Eigen fixes its instruction set when the program is compiled: a program built without
// -march=native (a consumer that does not link snn2ann::native) multiplies with SSE2, at
// a third to a half of what the CPU can do. This kernel is compiled for AVX2 and FMA
// whatever the translation unit's flags (a function target attribute) and runs where the
// CPU has them (checked once); elsewhere, and where the translation unit already gives
// Eigen AVX-512, the callers use Eigen as before (ops/cpu/gemm.hpp, packed_gemm.hpp).
//
// The layout is the usual one of BLIS and OpenBLAS: B is packed in blocks of kc depths x
// nc columns, as panels of nr = 16 columns; A in blocks of mc rows x kc depths, as panels
// of mr = 6 rows; a 6 x 16 micro-kernel keeps its tile of C in twelve AVX registers
// through a block's depths. Where the CPU has AVX-512 (chosen at run time too), a 12 x 16
// micro-kernel takes two A panels at once, a row of the tile per AVX-512 register: twice
// the width on CPUs with two AVX-512 FMA units, and the same sums, since every element is
// a chain of fused multiply-adds in depth order whatever the register width. Each element
// of C is C + (sum of a block's products, in depth order), block after block: the same
// sums whatever the callers' split of the rows or columns over threads, and whichever
// micro-kernel ran.
#pragma once

#include <algorithm>
#include <cstddef>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#endif

#include "../../core/buffer.hpp"
#include "cpu_features.hpp"

namespace snn2ann::inline v0::detail::cpu_ops {

/// A matrix in memory: element (i, j) at data[i * row_stride + j * col_stride].
struct strided_matrix {
    const float* data;
    std::ptrdiff_t row_stride, col_stride;
    const float& operator()(std::ptrdiff_t i, std::ptrdiff_t j) const { return data[i * row_stride + j * col_stride]; }
};

namespace sgemm_detail {
inline constexpr std::ptrdiff_t mr = 6, nr = 16;
// A block of A (mc x kc, 144 KiB) stays in L2, a panel of B (kc x nr, 16 KiB) in L1.
inline constexpr std::ptrdiff_t kc = 256, mc = 144, nc = 4080;

/// Whether this CPU can run the kernel (x86-64 with AVX2 and FMA).
inline bool cpu_runs_kernel() { return cpu_has_avx2_fma(); }
/// Whether the callers use the kernel: where the CPU runs it, unless the translation unit
/// already gives Eigen AVX-512 (-march=native on such a CPU), whose kernel is wider.
inline bool kernel_available() {
#if defined(__AVX512F__)
    return false;
#else
    return cpu_runs_kernel();
#endif
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))

/// Packs rows [0, m) x depths [0, k) of a into panels of mr rows, depth-major within a
/// panel (mr values per depth), the last panel padded with zeros.
[[gnu::target("avx2,fma")]] inline void pack_a(const strided_matrix& a, std::ptrdiff_t m, std::ptrdiff_t k, float* out) {
    for (std::ptrdiff_t i0 = 0; i0 < m; i0 += mr) {
        const std::ptrdiff_t rows = std::min(mr, m - i0);
        for (std::ptrdiff_t p = 0; p < k; ++p) {
            std::ptrdiff_t i = 0;
            for (; i < rows; ++i) out[i] = a(i0 + i, p);
            for (; i < mr; ++i) out[i] = 0.0f;
            out += mr;
        }
    }
}

/// Transposes the 8 x 8 block of floats whose rows are r[0..8): r[i][j] -> r[j][i].
[[gnu::target("avx2,fma")]] inline void transpose8x8(__m256 (&r)[8]) {
    __m256 t[8], u[8];
    for (int i = 0; i < 8; i += 2) t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]), t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    for (int i = 0; i < 8; i += 4) {
        u[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44), u[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xee);
        u[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44), u[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xee);
    }
    for (int i = 0; i < 4; ++i)
        r[i] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x20), r[i + 4] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x31);
}

/// Packs depths [0, k) x columns [0, n) of b into panels of nr columns, depth-major
/// within a panel (nr values per depth), the last panel padded with zeros.
[[gnu::target("avx2,fma")]] inline void pack_b(const strided_matrix& b, std::ptrdiff_t k, std::ptrdiff_t n, float* out) {
    for (std::ptrdiff_t j0 = 0; j0 < n; j0 += nr) {
        const std::ptrdiff_t cols = std::min(nr, n - j0);
        if (cols == nr && b.col_stride == 1) {
            for (std::ptrdiff_t p = 0; p < k; ++p, out += nr) {
                const float* src = b.data + p * b.row_stride + j0;
                _mm256_store_ps(out, _mm256_loadu_ps(src));
                _mm256_store_ps(out + 8, _mm256_loadu_ps(src + 8));
            }
            continue;
        }
        std::ptrdiff_t p = 0;
        if (cols == nr && b.row_stride == 1) {
            // B transposed (a product with B^T): a column's depths are contiguous, so eight
            // depths of eight columns are read as rows and transposed in registers.
            for (; p + 8 <= k; p += 8, out += 8 * nr)
                for (std::ptrdiff_t half = 0; half < nr; half += 8) {
                    __m256 r[8];
                    for (int j = 0; j < 8; ++j) r[j] = _mm256_loadu_ps(b.data + (j0 + half + j) * b.col_stride + p);
                    transpose8x8(r);
                    for (int q = 0; q < 8; ++q) _mm256_store_ps(out + q * nr + half, r[q]);
                }
        }
        for (; p < k; ++p, out += nr) {
            std::ptrdiff_t j = 0;
            for (; j < cols; ++j) out[j] = b(p, j0 + j);
            for (; j < nr; ++j) out[j] = 0.0f;
        }
    }
}

/// C tile (mr x nr, row-major with leading dimension ldc; only rows x cols of it exist)
/// = (accumulate ? C : 0) + A panel * B panel over k depths.
[[gnu::target("avx2,fma")]] inline void micro_kernel(std::ptrdiff_t k, const float* a, const float* b, float* c,
                                             std::ptrdiff_t ldc, std::ptrdiff_t rows, std::ptrdiff_t cols,
                                             bool accumulate) {
    __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps(), c10 = _mm256_setzero_ps(),
           c11 = _mm256_setzero_ps(), c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps(),
           c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps(), c40 = _mm256_setzero_ps(),
           c41 = _mm256_setzero_ps(), c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
    for (std::ptrdiff_t p = 0; p < k; ++p, a += mr, b += nr) {
        const __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
        __m256 ai = _mm256_broadcast_ss(a);
        c00 = _mm256_fmadd_ps(ai, b0, c00), c01 = _mm256_fmadd_ps(ai, b1, c01);
        ai = _mm256_broadcast_ss(a + 1);
        c10 = _mm256_fmadd_ps(ai, b0, c10), c11 = _mm256_fmadd_ps(ai, b1, c11);
        ai = _mm256_broadcast_ss(a + 2);
        c20 = _mm256_fmadd_ps(ai, b0, c20), c21 = _mm256_fmadd_ps(ai, b1, c21);
        ai = _mm256_broadcast_ss(a + 3);
        c30 = _mm256_fmadd_ps(ai, b0, c30), c31 = _mm256_fmadd_ps(ai, b1, c31);
        ai = _mm256_broadcast_ss(a + 4);
        c40 = _mm256_fmadd_ps(ai, b0, c40), c41 = _mm256_fmadd_ps(ai, b1, c41);
        ai = _mm256_broadcast_ss(a + 5);
        c50 = _mm256_fmadd_ps(ai, b0, c50), c51 = _mm256_fmadd_ps(ai, b1, c51);
    }
    const __m256 tile[mr][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
    if (cols == nr) {
        for (std::ptrdiff_t i = 0; i < rows; ++i) {
            float* ci = c + i * ldc;
            __m256 lo = tile[i][0], hi = tile[i][1];
            if (accumulate) lo = _mm256_add_ps(_mm256_loadu_ps(ci), lo), hi = _mm256_add_ps(_mm256_loadu_ps(ci + 8), hi);
            _mm256_storeu_ps(ci, lo);
            _mm256_storeu_ps(ci + 8, hi);
        }
        return;
    }
    alignas(32) float part[nr];
    for (std::ptrdiff_t i = 0; i < rows; ++i) {
        _mm256_store_ps(part, tile[i][0]);
        _mm256_store_ps(part + 8, tile[i][1]);
        float* ci = c + i * ldc;
        for (std::ptrdiff_t j = 0; j < cols; ++j) ci[j] = accumulate ? ci[j] + part[j] : part[j];
    }
}

/// The AVX-512 micro-kernel: C tile (2 mr x nr; only rows x cols of it exist) = (accumulate
/// ? C : 0) + the two A panels a (rows 0 to 5) and a + mr k (rows 6 to 11) times the B panel,
/// over k depths; each row of the tile in one register, each element's products added in
/// depth order, as micro_kernel does.
[[gnu::target("avx512f")]] inline void wide_micro_kernel(std::ptrdiff_t k, const float* a, const float* b, float* c,
                                                         std::ptrdiff_t ldc, std::ptrdiff_t rows, std::ptrdiff_t cols,
                                                         bool accumulate) {
    const float* a2 = a + mr * k;
    __m512 c0 = _mm512_setzero_ps(), c1 = _mm512_setzero_ps(), c2 = _mm512_setzero_ps(), c3 = _mm512_setzero_ps(),
           c4 = _mm512_setzero_ps(), c5 = _mm512_setzero_ps(), c6 = _mm512_setzero_ps(), c7 = _mm512_setzero_ps(),
           c8 = _mm512_setzero_ps(), c9 = _mm512_setzero_ps(), c10 = _mm512_setzero_ps(), c11 = _mm512_setzero_ps();
    for (std::ptrdiff_t p = 0; p < k; ++p, a += mr, a2 += mr, b += nr) {
        const __m512 bp = _mm512_loadu_ps(b);  // panels are 64-byte aligned only where the scratch is
        c0 = _mm512_fmadd_ps(_mm512_set1_ps(a[0]), bp, c0);
        c1 = _mm512_fmadd_ps(_mm512_set1_ps(a[1]), bp, c1);
        c2 = _mm512_fmadd_ps(_mm512_set1_ps(a[2]), bp, c2);
        c3 = _mm512_fmadd_ps(_mm512_set1_ps(a[3]), bp, c3);
        c4 = _mm512_fmadd_ps(_mm512_set1_ps(a[4]), bp, c4);
        c5 = _mm512_fmadd_ps(_mm512_set1_ps(a[5]), bp, c5);
        c6 = _mm512_fmadd_ps(_mm512_set1_ps(a2[0]), bp, c6);
        c7 = _mm512_fmadd_ps(_mm512_set1_ps(a2[1]), bp, c7);
        c8 = _mm512_fmadd_ps(_mm512_set1_ps(a2[2]), bp, c8);
        c9 = _mm512_fmadd_ps(_mm512_set1_ps(a2[3]), bp, c9);
        c10 = _mm512_fmadd_ps(_mm512_set1_ps(a2[4]), bp, c10);
        c11 = _mm512_fmadd_ps(_mm512_set1_ps(a2[5]), bp, c11);
    }
    const __m512 tile[2 * mr] = {c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11};
    const auto mask = static_cast<__mmask16>(cols >= nr ? 0xFFFFu : (1u << cols) - 1u);
    for (std::ptrdiff_t i = 0; i < rows; ++i) {
        float* ci = c + i * ldc;
        __m512 v = tile[i];
        if (accumulate) v = _mm512_add_ps(_mm512_maskz_loadu_ps(mask, ci), v);
        _mm512_mask_storeu_ps(ci, mask, v);
    }
}

/// The AVX-512 micro-kernel on a pair of B panels: C tile (2 mr x 2 nr; only rows x cols of
/// it exist, cols > nr) = (accumulate ? C : 0) + the two A panels a and a + mr k times the B
/// panels b and b + nr k. Twenty-four accumulators take each broadcast of A twice: the
/// single-panel kernel issues a load per multiply-add and waits on the load ports, this one
/// two loads per three. Each element's products are still added in depth order.
[[gnu::target("avx512f")]] inline void wide_pair_micro_kernel(std::ptrdiff_t k, const float* a, const float* b,
                                                              float* c, std::ptrdiff_t ldc, std::ptrdiff_t rows,
                                                              std::ptrdiff_t cols, bool accumulate) {
    const float* a2 = a + mr * k;
    const float* b2 = b + nr * k;
    __m512 left[2 * mr], right[2 * mr];
    // The loops are unrolled so that the accumulators stay in registers. nvcc's front end
    // (a .cu file that includes the library) does not know GCC's pragma and warns, so
    // there the host compiler's own unrolling decides (the sums are the same either way).
#if !defined(__CUDACC__)
#pragma GCC unroll 12
#endif
    for (std::ptrdiff_t i = 0; i < 2 * mr; ++i) left[i] = _mm512_setzero_ps(), right[i] = _mm512_setzero_ps();
    for (std::ptrdiff_t p = 0; p < k; ++p, a += mr, a2 += mr, b += nr, b2 += nr) {
        const __m512 bl = _mm512_loadu_ps(b), br = _mm512_loadu_ps(b2);
#if !defined(__CUDACC__)
#pragma GCC unroll 6
#endif
        for (std::ptrdiff_t i = 0; i < mr; ++i) {
            const __m512 ai = _mm512_set1_ps(a[i]);
            left[i] = _mm512_fmadd_ps(ai, bl, left[i]);
            right[i] = _mm512_fmadd_ps(ai, br, right[i]);
        }
#if !defined(__CUDACC__)
#pragma GCC unroll 6
#endif
        for (std::ptrdiff_t i = 0; i < mr; ++i) {
            const __m512 ai = _mm512_set1_ps(a2[i]);
            left[mr + i] = _mm512_fmadd_ps(ai, bl, left[mr + i]);
            right[mr + i] = _mm512_fmadd_ps(ai, br, right[mr + i]);
        }
    }
    const auto mask = static_cast<__mmask16>(cols >= 2 * nr ? 0xFFFFu : (1u << (cols - nr)) - 1u);
    for (std::ptrdiff_t i = 0; i < rows; ++i) {
        float* ci = c + i * ldc;
        __m512 l = left[i], r = right[i];
        if (accumulate) l = _mm512_add_ps(_mm512_loadu_ps(ci), l), r = _mm512_add_ps(_mm512_maskz_loadu_ps(mask, ci + nr), r);
        _mm512_storeu_ps(ci, l);
        _mm512_mask_storeu_ps(ci + nr, mask, r);
    }
}

/// C (m x n, row-major, ldc) (+)= A * B over the packed block of B (k depths, n columns)
/// and the packed block of A (m rows, k depths).
[[gnu::target("avx2,fma")]] inline void macro_kernel(std::ptrdiff_t m, std::ptrdiff_t n, std::ptrdiff_t k,
                                             const float* packed_a, const float* packed_b, float* c,
                                             std::ptrdiff_t ldc, bool accumulate) {
    const bool wide = cpu_has_avx512f();
    for (std::ptrdiff_t j = 0; j < n; j += nr) {
        if (wide && n - j > nr && m > mr) {  // two B panels at once, then the lone A panel left if any
            std::ptrdiff_t i = 0;
            for (; i + mr < m; i += 2 * mr)
                wide_pair_micro_kernel(k, packed_a + i * k, packed_b + j * k, c + i * ldc + j, ldc,
                                       std::min(2 * mr, m - i), std::min(2 * nr, n - j), accumulate);
            for (std::ptrdiff_t jj = j; i < m && jj < std::min(n, j + 2 * nr); jj += nr)
                micro_kernel(k, packed_a + i * k, packed_b + jj * k, c + i * ldc + jj, ldc, m - i,
                             std::min(nr, n - jj), accumulate);
            j += nr;  // the loop adds the other
            continue;
        }
        for (std::ptrdiff_t i = 0; i < m;) {
            const std::ptrdiff_t rows = std::min(2 * mr, m - i);
            if (wide && rows > mr) {  // two panels of A in one pass
                wide_micro_kernel(k, packed_a + i * k, packed_b + j * k, c + i * ldc + j, ldc, rows, std::min(nr, n - j),
                                  accumulate);
                i += 2 * mr;
                continue;
            }
            micro_kernel(k, packed_a + i * k, packed_b + j * k, c + i * ldc + j, ldc, std::min(mr, m - i),
                         std::min(nr, n - j), accumulate);
            i += mr;
        }
    }
}
#endif

inline constexpr std::ptrdiff_t round_up(std::ptrdiff_t x, std::ptrdiff_t to) { return (x + to - 1) / to * to; }
/// A product of no depth: C = C, or 0 where it does not accumulate.
inline void empty_product(float* c, std::ptrdiff_t m, std::ptrdiff_t n, std::ptrdiff_t ldc, bool accumulate) {
    if (!accumulate)
        for (std::ptrdiff_t i = 0; i < m; ++i) std::fill(c + i * ldc, c + i * ldc + n, 0.0f);
}
}  // namespace sgemm_detail

/// Floats of packing scratch sgemm needs for an m x n x k product.
inline std::size_t sgemm_scratch_floats(std::ptrdiff_t m, std::ptrdiff_t n, std::ptrdiff_t k) {
    namespace d = sgemm_detail;
    const std::ptrdiff_t depth = std::min(d::kc, k);
    return static_cast<std::size_t>(depth * (d::round_up(std::min(d::mc, m), d::mr) + d::round_up(std::min(d::nc, n), d::nr)));
}

/// C (m x n, row-major, leading dimension ldc) = (accumulate ? C : 0) + A (m x k) B (k x n),
/// on one thread, with the library's kernel: call only where sgemm_detail::cpu_runs_kernel().
/// `scratch` holds sgemm_scratch_floats(m, n, k) floats, 32-byte aligned.
inline void sgemm(std::ptrdiff_t m, std::ptrdiff_t n, std::ptrdiff_t k, const strided_matrix& a,
                  const strided_matrix& b, float* c, std::ptrdiff_t ldc, bool accumulate, float* scratch) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    namespace d = sgemm_detail;
    if (k == 0) return d::empty_product(c, m, n, ldc, accumulate);
    const std::ptrdiff_t depth = std::min(d::kc, k);
    float* packed_b = scratch;
    float* packed_a = scratch + depth * d::round_up(std::min(d::nc, n), d::nr);
    for (std::ptrdiff_t j = 0; j < n; j += d::nc) {
        const std::ptrdiff_t cols = std::min(d::nc, n - j);
        for (std::ptrdiff_t p = 0; p < k; p += d::kc) {
            const std::ptrdiff_t kn = std::min(d::kc, k - p);
            d::pack_b({b.data + p * b.row_stride + j * b.col_stride, b.row_stride, b.col_stride}, kn, cols, packed_b);
            for (std::ptrdiff_t i = 0; i < m; i += d::mc) {
                const std::ptrdiff_t rows = std::min(d::mc, m - i);
                d::pack_a({a.data + i * a.row_stride + p * a.col_stride, a.row_stride, a.col_stride}, rows, kn, packed_a);
                d::macro_kernel(rows, cols, kn, packed_a, packed_b, c + i * ldc + j, ldc, accumulate || p > 0);
            }
        }
    }
#else
    (void)m, (void)n, (void)k, (void)a, (void)b, (void)c, (void)ldc, (void)accumulate, (void)scratch;
#endif
}

/// A (m x k) packed once in the kernel's layout for many products C += A B: a
/// convolution's weights, multiplied with every image's columns. Call only where
/// sgemm_detail::cpu_runs_kernel().
class sgemm_packed_lhs {
public:
    void pack(const strided_matrix& a, std::ptrdiff_t m, std::ptrdiff_t k) {
        namespace d = sgemm_detail;
        m_ = m, k_ = k;
        const std::ptrdiff_t padded = d::round_up(m, d::mr);
        float* out = packed_.ensure(static_cast<std::size_t>(padded * k));
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
        for (std::ptrdiff_t p = 0; p < k; p += d::kc) {
            const std::ptrdiff_t kn = std::min(d::kc, k - p);
            for (std::ptrdiff_t i = 0; i < m; i += d::mc)
                d::pack_a({a.data + i * a.row_stride + p * a.col_stride, a.row_stride, a.col_stride},
                          std::min(d::mc, m - i), kn, out + block(p, i, kn));
        }
#else
        (void)a, (void)out;
#endif
    }
    /// C (m x n, row-major, leading dimension ldc) += A B with B (k x n); `scratch` holds
    /// scratch_floats(n) floats, 32-byte aligned.
    void multiply(const strided_matrix& b, std::ptrdiff_t n, float* c, std::ptrdiff_t ldc, float* scratch) const {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
        namespace d = sgemm_detail;
        for (std::ptrdiff_t j = 0; j < n; j += d::nc) {
            const std::ptrdiff_t cols = std::min(d::nc, n - j);
            for (std::ptrdiff_t p = 0; p < k_; p += d::kc) {
                const std::ptrdiff_t kn = std::min(d::kc, k_ - p);
                d::pack_b({b.data + p * b.row_stride + j * b.col_stride, b.row_stride, b.col_stride}, kn, cols, scratch);
                for (std::ptrdiff_t i = 0; i < m_; i += d::mc)
                    d::macro_kernel(std::min(d::mc, m_ - i), cols, kn, packed_.data() + block(p, i, kn), scratch,
                                    c + i * ldc + j, ldc, true);
            }
        }
#else
        (void)b, (void)n, (void)c, (void)ldc, (void)scratch;
#endif
    }
    /// Scratch floats multiply() needs for B of n columns.
    std::size_t scratch_floats(std::ptrdiff_t n) const {
        namespace d = sgemm_detail;
        return static_cast<std::size_t>(std::min(d::kc, k_) * d::round_up(std::min(d::nc, n), d::nr));
    }

private:
    // Depth slices before p hold p x padded rows; within slice p (kn deep), row blocks
    // before i hold i x kn floats.
    std::ptrdiff_t block(std::ptrdiff_t p, std::ptrdiff_t i, std::ptrdiff_t kn) const {
        return p * sgemm_detail::round_up(m_, sgemm_detail::mr) + i * kn;
    }
    buffer<float> packed_;
    std::ptrdiff_t m_ = 0, k_ = 0;
};

/// B (k x n) packed once in the kernel's layout for many products C = A B: a linear
/// layer's weights, shared by the threads that multiply their rows of the batch with them.
/// Call only where sgemm_detail::cpu_runs_kernel().
class sgemm_packed_rhs {
public:
    /// Packs b; the column panels are packed in parallel by `parallel_panels(count, f)`,
    /// which calls f(first, last) over [0, count) (a serial call does as well).
    template <class Parallel>
    void pack(const strided_matrix& b, std::ptrdiff_t k, std::ptrdiff_t n, Parallel&& parallel_panels) {
        namespace d = sgemm_detail;
        k_ = k, n_ = n;
        float* out = packed_.ensure(static_cast<std::size_t>(k * d::round_up(n, d::nr)));
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
        const std::ptrdiff_t panels = (n + d::nr - 1) / d::nr;
        parallel_panels(static_cast<std::size_t>(panels), [&](std::size_t first, std::size_t last) {
            for (std::ptrdiff_t p = 0; p < k; p += d::kc) {
                const std::ptrdiff_t kn = std::min(d::kc, k - p);
                const std::ptrdiff_t j0 = static_cast<std::ptrdiff_t>(first) * d::nr;
                const std::ptrdiff_t j1 = std::min(n, static_cast<std::ptrdiff_t>(last) * d::nr);
                d::pack_b({b.data + p * b.row_stride + j0 * b.col_stride, b.row_stride, b.col_stride}, kn, j1 - j0,
                          out + p * d::round_up(n, d::nr) + j0 * kn);
            }
        });
#else
        (void)b, (void)out, (void)parallel_panels;
#endif
    }
    /// C (m x n, row-major, leading dimension ldc) = (accumulate ? C : 0) + A B with A
    /// (m x k); `scratch` holds scratch_floats(m) floats, 32-byte aligned.
    void multiply(const strided_matrix& a, std::ptrdiff_t m, float* c, std::ptrdiff_t ldc, bool accumulate,
                  float* scratch) const {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
        namespace d = sgemm_detail;
        if (k_ == 0) return d::empty_product(c, m, n_, ldc, accumulate);
        for (std::ptrdiff_t i = 0; i < m; i += d::mc) {
            const std::ptrdiff_t rows = std::min(d::mc, m - i);
            for (std::ptrdiff_t p = 0; p < k_; p += d::kc) {
                const std::ptrdiff_t kn = std::min(d::kc, k_ - p);
                d::pack_a({a.data + i * a.row_stride + p * a.col_stride, a.row_stride, a.col_stride}, rows, kn, scratch);
                d::macro_kernel(rows, n_, kn, scratch, packed_.data() + p * d::round_up(n_, d::nr), c + i * ldc, ldc,
                                accumulate || p > 0);
            }
        }
#else
        (void)a, (void)m, (void)c, (void)ldc, (void)accumulate, (void)scratch;
#endif
    }
    /// Scratch floats multiply() needs for A of m rows.
    std::size_t scratch_floats(std::ptrdiff_t m) const {
        namespace d = sgemm_detail;
        return static_cast<std::size_t>(std::min(d::kc, k_) * d::round_up(std::min(d::mc, m), d::mr));
    }

private:
    buffer<float> packed_;
    std::ptrdiff_t k_ = 0, n_ = 0;
};

}  // namespace snn2ann::inline v0::detail::cpu_ops
