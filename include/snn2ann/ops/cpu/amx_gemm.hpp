// snn2ann/ops/cpu: single-precision GEMM on Intel AMX tiles, for the convolutions.
//
// AMX multiplies bf16 matrices into fp32 sums at sixteen times AVX-512's FMA rate per
// core. bf16 keeps 8 of a float's 24 significand bits, so each operand is split into
// two bf16 parts, x = hi + lo with |x - hi - lo| <= 2^-18 |x|, and the product is
// summed from the three terms that matter, hi*hi + hi*lo + lo*hi (lo*lo is below float
// precision): close to fp32's accuracy, not bf16's. An operand whose values are all
// bf16 numbers already (spikes: 0 and 1) has no lo part, and its terms are skipped,
// so a spike-input convolution takes two passes and a gradient product three.
//
// Split in three, x = hi + lo + rest holds exactly (a float's 24 significand bits are
// three bf16's 8, for |x| >= 2^-100, where no part is below bf16's normal range), so
// against an exact operand every product is exact and only the fp32 sums round: the
// product of cpu_matmul::amx_exact_products, three passes.
//
// Operands are packed into AMX's layouts with rows, depth and columns padded to
// multiples of 32 (2 x 2 tiles of 16 x 16 results per step):
//  - A (rows x depth): row-major bf16;
//  - B (depth x cols): VNNI, pairs of consecutive depths interleaved per column.
// Linux hands AMX's tile registers to a process only on request (arch_prctl); amx_
// available() asks once and reports whether the CPU, the kernel and the build (x86-64
// Linux, GCC or Clang, not under nvcc) allow it. Elsewhere amx_multiply exists but must
// not be called (the callers check amx_available()).
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "../../core/error.hpp"

#if defined(__x86_64__) && defined(__linux__) && !defined(__CUDACC__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#include <immintrin.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace snn2ann::inline v0::detail::cpu_ops {

namespace amx_detail {
constexpr std::size_t tile = 16;   // rows of a tile, and fp32 columns of a result tile
constexpr std::size_t step = 32;   // bf16 depths per tile row; the padding of every dimension
constexpr std::size_t padded(std::size_t n) { return (n + step - 1) / step * step; }

/// x rounded to the nearest bf16 (ties to even), as the bf16's bits.
inline std::uint16_t to_bf16(float x) {
    const auto u = std::bit_cast<std::uint32_t>(x);
    return static_cast<std::uint16_t>((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
}
inline float from_bf16(std::uint16_t h) { return std::bit_cast<float>(static_cast<std::uint32_t>(h) << 16); }

/// x = hi + lo + (error at most 2^-18 |x|); returns whether lo is zero.
inline bool split(float x, std::uint16_t& hi, std::uint16_t& lo) {
    hi = to_bf16(x);
    lo = to_bf16(x - from_bf16(hi));  // exact difference: hi is x's nearest bf16
    return (lo & 0x7FFFu) == 0;
}
/// The third part: x - hi - lo, itself a bf16 number (both differences are exact, and
/// what is left of x's 24 bits after hi's and lo's 8 each fits in 8).
inline std::uint16_t rest_of(float x, std::uint16_t hi, std::uint16_t lo) {
    return to_bf16(x - from_bf16(hi) - from_bf16(lo));
}
}  // namespace amx_detail

/// Whether every one of n floats is a bf16 number (spikes are), writing their bf16 bits
/// to out; when not, out holds truncations and is not to be used.
inline bool to_bf16_exact(const float* x, std::size_t n, std::uint16_t* out) {
    std::uint32_t inexact = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const auto u = std::bit_cast<std::uint32_t>(x[i]);
        out[i] = static_cast<std::uint16_t>(u >> 16);
        inexact |= u & 0xFFFFu;  // bits that bf16 drops
    }
    return inexact == 0;
}

/// A matrix as an AMX operand: bf16 hi and lo parts, and with `parts` 3 the rest, in
/// caller-provided storage (storage_a or storage_b uint16 values for as many parts), in
/// the layout of its side. The storage must outlive the products that use the operand.
class amx_operand {
public:
    static std::size_t storage_a(std::size_t rows, std::size_t depth, std::size_t parts = 2) {
        return parts * amx_detail::padded(rows) * amx_detail::padded(depth);
    }
    static std::size_t storage_b(std::size_t depth, std::size_t cols, std::size_t parts = 2) {
        return parts * amx_detail::padded(depth) * amx_detail::padded(cols);
    }

    std::size_t rows() const { return rows_; }
    std::size_t cols() const { return cols_; }
    std::size_t depth() const { return depth_; }
    /// True when every value was a bf16 number: the lo part is zero and skipped.
    bool exact() const { return exact_; }
    /// True when the operand was split in three and is not exact: against an exact
    /// operand its rest is multiplied too, and the products are exact.
    bool has_rest() const { return rest_ != nullptr && !exact_; }
    const std::uint16_t* hi() const { return hi_; }
    const std::uint16_t* lo() const { return lo_; }
    const std::uint16_t* rest() const { return rest_; }

    /// As the left operand A (rows x depth), from a[i * row_stride + k * depth_stride],
    /// split in `parts` (2 or 3).
    void pack_a(const float* a, std::size_t row_stride, std::size_t depth_stride, std::size_t rows, std::size_t depth,
                std::uint16_t* storage, std::size_t parts = 2) {
        check_parts(parts);
        const std::size_t rp = amx_detail::padded(rows), dp = amx_detail::padded(depth);
        attach(storage, rp * dp, rows, depth, 0, parts);
        bool exact = true;
        for (std::size_t i = 0; i < rp; ++i) {
            std::uint16_t* h = hi_ + i * dp;
            std::uint16_t* l = lo_ + i * dp;
            std::uint16_t* r = rest_ ? rest_ + i * dp : nullptr;
            std::size_t k = 0;
            if (i < rows) {
                const float* src = a + i * row_stride;
                if (depth_stride == 1) exact &= split_run(src, depth, h, l, r);
                else
                    for (; k < depth; ++k) {
                        const float v = src[k * depth_stride];
                        exact &= amx_detail::split(v, h[k], l[k]);
                        if (r) r[k] = amx_detail::rest_of(v, h[k], l[k]);
                    }
                k = depth;
            }
            std::fill(h + k, h + dp, std::uint16_t{0});
            std::fill(l + k, l + dp, std::uint16_t{0});
            if (r) std::fill(r + k, r + dp, std::uint16_t{0});
        }
        exact_ = exact;
    }

    /// As the left operand A (rows x depth) from bf16 rows a + i * row_stride: exact, no lo part.
    void pack_a_bf16(const std::uint16_t* a, std::size_t row_stride, std::size_t rows, std::size_t depth,
                     std::uint16_t* storage) {
        const std::size_t rp = amx_detail::padded(rows), dp = amx_detail::padded(depth);
        attach(storage, rp * dp, rows, depth, 0, 1);
        for (std::size_t i = 0; i < rp; ++i) {
            std::uint16_t* h = hi_ + i * dp;
            const std::size_t k = i < rows ? depth : 0;
            if (k) std::copy(a + i * row_stride, a + i * row_stride + depth, h);
            std::fill(h + k, h + dp, std::uint16_t{0});
        }
        exact_ = true;
    }

    /// As the right operand B (depth x cols), from b[k * depth_stride + j * col_stride],
    /// split in `parts` (2 or 3); one of the strides must be 1.
    void pack_b(const float* b, std::size_t depth_stride, std::size_t col_stride, std::size_t depth, std::size_t cols,
                std::uint16_t* storage, std::size_t parts = 2) {
        if (depth_stride != 1 && col_stride != 1)
            throw invalid_argument("amx_operand::pack_b: one of the strides must be 1");
        check_parts(parts);
        const std::size_t cp = amx_detail::padded(cols), dp = amx_detail::padded(depth);
        attach(storage, dp * cp, 0, depth, cols, parts);
        exact_ = col_stride == 1 ? pack_b_rows(b, depth_stride, depth, cols) : pack_b_columns(b, col_stride, depth, cols);
    }

    /// As the right operand B (depth x cols) from bf16 rows b + k * depth_stride: exact.
    void pack_b_bf16(const std::uint16_t* b, std::size_t depth_stride, std::size_t depth, std::size_t cols,
                     std::uint16_t* storage) {
        const std::size_t cp = amx_detail::padded(cols), dp = amx_detail::padded(depth);
        attach(storage, dp * cp, 0, depth, cols, 1);
        for (std::size_t kk = 0; kk < dp / 2; ++kk) {
            std::uint16_t* w = hi_ + kk * 2 * cp;
            const std::size_t k = 2 * kk;
            const std::uint16_t* r0 = k < depth ? b + k * depth_stride : nullptr;
            const std::uint16_t* r1 = k + 1 < depth ? b + (k + 1) * depth_stride : nullptr;
            if (r0 && r1)
                for (std::size_t j = 0; j < cols; ++j) w[2 * j] = r0[j], w[2 * j + 1] = r1[j];
            else if (r0)
                for (std::size_t j = 0; j < cols; ++j) w[2 * j] = r0[j], w[2 * j + 1] = 0;
            std::fill(w + (r0 ? 2 * cols : 0), w + 2 * cp, std::uint16_t{0});
        }
        exact_ = true;
    }

    /// As the left operand A (rows x depth), exact, whose bf16 rows the caller wrote into
    /// `storage` (storage_a(rows, depth, 1) values: row i at i * padded(depth); zeros in the
    /// padding).
    void use_packed_a(std::uint16_t* storage, std::size_t rows, std::size_t depth) {
        attach(storage, amx_detail::padded(rows) * amx_detail::padded(depth), rows, depth, 0, 1);
        exact_ = true;
    }

    /// As the right operand B (depth x cols), exact, whose VNNI words the caller wrote into
    /// `storage` (storage_b(depth, cols, 1) values: word (kk, j), depths 2kk and 2kk + 1 of
    /// column j, at word kk * padded(cols) + j; zeros in the padding).
    void use_packed_b(std::uint16_t* storage, std::size_t depth, std::size_t cols) {
        attach(storage, amx_detail::padded(depth) * amx_detail::padded(cols), 0, depth, cols, 1);
        exact_ = true;
    }

private:
    static void check_parts(std::size_t parts) {
        if (parts != 2 && parts != 3)
            throw invalid_argument("amx_operand: a float operand is split in 2 or 3 parts, not " + std::to_string(parts));
    }
    // parts 1 (bf16 input: hi only), 2 or 3.
    void attach(std::uint16_t* storage, std::size_t part, std::size_t rows, std::size_t depth, std::size_t cols,
                std::size_t parts) {
        hi_ = storage, lo_ = parts > 1 ? storage + part : nullptr, rest_ = parts > 2 ? storage + 2 * part : nullptr;
        rows_ = rows, depth_ = depth, cols_ = cols;
    }

    // Values split per pass into stack arrays by the packers below (2 * run per row pair
    // or column).
    static constexpr std::size_t run = 64;

    // VNNI: word (kk, j) holds the pair B[2kk][j] (low half), B[2kk + 1][j] (high half).
    // Rows of B contiguous: split two rows a run at a time, then interleave.
    bool pack_b_rows(const float* b, std::size_t depth_stride, std::size_t depth, std::size_t cols) {
        const std::size_t cp = amx_detail::padded(cols), dp = amx_detail::padded(depth);
        alignas(64) std::uint16_t h[2 * run], l[2 * run], r[2 * run];
        bool exact = true;
        for (std::size_t kk = 0; kk < dp / 2; ++kk) {
            std::uint16_t* wh = hi_ + kk * 2 * cp;
            std::uint16_t* wl = lo_ + kk * 2 * cp;
            std::uint16_t* wr = rest_ ? rest_ + kk * 2 * cp : nullptr;
            for (std::size_t j0 = 0; j0 < cp; j0 += run) {
                const std::size_t n = j0 < cols ? std::min(run, cols - j0) : 0;
                for (std::size_t s = 0; s < 2; ++s) {
                    const std::size_t k = 2 * kk + s;
                    std::uint16_t* hs = h + s * run;
                    std::uint16_t* ls = l + s * run;
                    std::uint16_t* rs = r + s * run;
                    if (k < depth && n) exact &= split_run(b + k * depth_stride + j0, n, hs, ls, wr ? rs : nullptr);
                    std::fill(hs + (k < depth ? n : 0), hs + run, std::uint16_t{0});
                    std::fill(ls + (k < depth ? n : 0), ls + run, std::uint16_t{0});
                    std::fill(rs + (k < depth && wr ? n : 0), rs + run, std::uint16_t{0});
                }
                const std::size_t m = std::min(run, cp - j0);
                for (std::size_t j = 0; j < m; ++j) {
                    wh[2 * (j0 + j)] = h[j], wh[2 * (j0 + j) + 1] = h[run + j];
                    wl[2 * (j0 + j)] = l[j], wl[2 * (j0 + j) + 1] = l[run + j];
                    if (wr) wr[2 * (j0 + j)] = r[j], wr[2 * (j0 + j) + 1] = r[run + j];
                }
            }
        }
        return exact;
    }

    // Columns of B contiguous (B is a transposed row-major matrix): a column's consecutive
    // pairs are its words. Sixteen columns at a time are split into words, and each VNNI
    // row then gets sixteen words in one contiguous run.
    bool pack_b_columns(const float* b, std::size_t col_stride, std::size_t depth, std::size_t cols) {
        const std::size_t cp = amx_detail::padded(cols), dp = amx_detail::padded(depth);
        constexpr std::size_t group = 16;  // columns per pass, each with run words (2 * run depths)
        alignas(64) std::uint32_t h[group][run], l[group][run], r3[group][run];
        bool exact = true;
        for (std::size_t j0 = 0; j0 < cp; j0 += group)
            for (std::size_t k0 = 0; k0 < dp; k0 += 2 * run) {
                const std::size_t n = k0 < depth ? std::min(2 * run, depth - k0) : 0;
                for (std::size_t r = 0; r < group; ++r) {
                    const std::size_t j = j0 + r, m = j < cols ? n : 0;  // padding columns and depths: zeros
                    exact &= split_words(m ? b + j * col_stride + k0 : nullptr, m, h[r], l[r], rest_ ? r3[r] : nullptr);
                }
                const std::size_t words = std::min(run, (dp - k0) / 2);
                for (std::size_t w = 0; w < words; ++w) {
                    std::uint32_t gh[group], gl[group], gr[group];
                    for (std::size_t r = 0; r < group; ++r) gh[r] = h[r][w], gl[r] = l[r][w];
                    const std::size_t at = (k0 / 2 + w) * 2 * cp + 2 * j0;
                    std::memcpy(hi_ + at, gh, sizeof gh);
                    std::memcpy(lo_ + at, gl, sizeof gl);
                    if (rest_) {
                        for (std::size_t r = 0; r < group; ++r) gr[r] = r3[r][w];
                        std::memcpy(rest_ + at, gr, sizeof gr);
                    }
                }
            }
        return exact;
    }

    // n values (n <= 2 * run, zero-padded to 2 * run) split into hi, lo and (when `rest`
    // is not null) rest words of consecutive pairs.
    static bool split_words(const float* x, std::size_t n, std::uint32_t* hi, std::uint32_t* lo, std::uint32_t* rest) {
        alignas(64) std::uint16_t h[2 * run], l[2 * run], r[2 * run];
        const bool exact = n == 0 || split_run(x, n, h, l, rest ? r : nullptr);
        std::fill(h + n, h + 2 * run, std::uint16_t{0});
        std::fill(l + n, l + 2 * run, std::uint16_t{0});
        std::memcpy(hi, h, sizeof h);
        std::memcpy(lo, l, sizeof l);
        if (rest) {
            std::fill(r + n, r + 2 * run, std::uint16_t{0});
            std::memcpy(rest, r, sizeof r);
        }
        return exact;
    }

    // A contiguous run, in a loop the compiler vectorises (no early exit, no branch); the
    // rest part too when `rest` is not null.
    static bool split_run(const float* x, std::size_t n, std::uint16_t* hi, std::uint16_t* lo, std::uint16_t* rest) {
        std::uint16_t inexact = 0;
        for (std::size_t k = 0; k < n; ++k) {
            const std::uint16_t h = amx_detail::to_bf16(x[k]);
            const std::uint16_t l = amx_detail::to_bf16(x[k] - amx_detail::from_bf16(h));
            hi[k] = h, lo[k] = l;
            inexact |= static_cast<std::uint16_t>(l & 0x7FFFu);
        }
        if (rest)
            for (std::size_t k = 0; k < n; ++k) rest[k] = amx_detail::rest_of(x[k], hi[k], lo[k]);
        return inexact == 0;
    }

    std::uint16_t* hi_ = nullptr;
    std::uint16_t* lo_ = nullptr;
    std::uint16_t* rest_ = nullptr;
    std::size_t rows_ = 0, depth_ = 0, cols_ = 0;
    bool exact_ = true;
};

#if defined(__x86_64__) && defined(__linux__) && !defined(__CUDACC__) && (defined(__GNUC__) || defined(__clang__))

/// Whether this CPU, kernel and build can run amx_multiply (asked once per process).
inline bool amx_available() {
    static const bool available = [] {
        unsigned a = 0, b = 0, c = 0, d = 0;
        if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
        const bool tile = (d >> 24) & 1u, bf16 = (d >> 22) & 1u;
        // Linux: ARCH_REQ_XCOMP_PERM (0x1023) for XFEATURE_XTILEDATA (18).
        return tile && bf16 && syscall(SYS_arch_prctl, 0x1023, 18) == 0;
    }();
    return available;
}

namespace amx_detail {
// The kernel's 2 x 2 block: tiles 0-3 hold the results, 4 and 5 two row tiles of A, 6
// and 7 two column tiles of B (tile numbers must be literals in the intrinsics).
__attribute__((target("amx-tile,amx-bf16"), always_inline)) inline void load_a(const std::uint16_t* a, std::size_t rows,
                                                                              std::size_t stride) {
    _tile_loadd(4, a, stride);
    _tile_loadd(5, a + rows, stride);
}
__attribute__((target("amx-tile,amx-bf16"), always_inline)) inline void load_b(const std::uint16_t* b, std::size_t cols,
                                                                              std::size_t stride) {
    _tile_loadd(6, b, stride);
    _tile_loadd(7, b + cols, stride);
}
__attribute__((target("amx-tile,amx-bf16"), always_inline)) inline void multiply_block() {
    _tile_dpbf16ps(0, 4, 6);
    _tile_dpbf16ps(1, 4, 7);
    _tile_dpbf16ps(2, 5, 6);
    _tile_dpbf16ps(3, 5, 7);
}
}  // namespace amx_detail

/// C (a.rows() x b.cols(), row-major, leading dimension ldc) = A B, or += A B when
/// `accumulate`. Requires amx_available() and a.depth() == b.depth(). The terms: hi hi,
/// hi lo and lo hi where both operands are split; against an exact operand, every part
/// of the other (the rest too where it has one: exact products).
__attribute__((target("amx-tile,amx-bf16"))) inline void amx_multiply(const amx_operand& a, const amx_operand& b,
                                                                        float* c, std::size_t ldc, bool accumulate) {
    using amx_detail::tile, amx_detail::load_a, amx_detail::load_b, amx_detail::multiply_block;
    struct alignas(64) tile_config {
        std::uint8_t palette = 1, start_row = 0, reserved[14]{};
        std::uint16_t bytes_per_row[16]{};
        std::uint8_t rows[16]{};
    } config;
    for (int t = 0; t < 8; ++t) config.bytes_per_row[t] = 64, config.rows[t] = tile;
    _tile_loadconfig(&config);
    const std::size_t rp = amx_detail::padded(a.rows()), cp = amx_detail::padded(b.cols());
    const std::size_t dp = amx_detail::padded(a.depth());
    const std::size_t a_stride = dp * sizeof(std::uint16_t), b_stride = 2 * cp * sizeof(std::uint16_t);
    const std::size_t a_next = tile * dp, b_next = 2 * tile;  // the second row / column tile
    alignas(64) float block[4][tile * tile];
    for (std::size_t i = 0; i < rp; i += 2 * tile)
        for (std::size_t j = 0; j < cp; j += 2 * tile) {
            _tile_zero(0);
            _tile_zero(1);
            _tile_zero(2);
            _tile_zero(3);
            for (std::size_t k = 0; k < dp; k += amx_detail::step) {
                const std::size_t ao = i * dp + k, bo = k * cp + 2 * j;
                load_a(a.hi() + ao, a_next, a_stride);
                load_b(b.hi() + bo, b_next, b_stride);
                multiply_block();  // hi * hi
                if (!b.exact()) {  // hi * lo
                    load_b(b.lo() + bo, b_next, b_stride);
                    multiply_block();
                    if (a.exact() && b.has_rest()) {  // hi * rest
                        load_b(b.rest() + bo, b_next, b_stride);
                        multiply_block();
                    }
                    if (!a.exact()) load_b(b.hi() + bo, b_next, b_stride);
                }
                if (!a.exact()) {  // lo * hi
                    load_a(a.lo() + ao, a_next, a_stride);
                    multiply_block();
                    if (b.exact() && a.has_rest()) {  // rest * hi
                        load_a(a.rest() + ao, a_next, a_stride);
                        multiply_block();
                    }
                }
            }
            _tile_stored(0, block[0], tile * sizeof(float));
            _tile_stored(1, block[1], tile * sizeof(float));
            _tile_stored(2, block[2], tile * sizeof(float));
            _tile_stored(3, block[3], tile * sizeof(float));
            // The results inside C (padding rows and columns are dropped).
            for (std::size_t q = 0; q < 4; ++q) {
                const std::size_t i0 = i + (q / 2) * tile, j0 = j + (q % 2) * tile;
                if (i0 >= a.rows() || j0 >= b.cols()) continue;
                const std::size_t ni = std::min(tile, a.rows() - i0), nj = std::min(tile, b.cols() - j0);
                for (std::size_t r = 0; r < ni; ++r) {
                    float* out = c + (i0 + r) * ldc + j0;
                    const float* in = block[q] + r * tile;
                    if (accumulate)
                        for (std::size_t s = 0; s < nj; ++s) out[s] += in[s];
                    else
                        for (std::size_t s = 0; s < nj; ++s) out[s] = in[s];
                }
            }
        }
    _tile_release();
}

#else

inline bool amx_available() { return false; }

inline void amx_multiply(const amx_operand&, const amx_operand&, float*, std::size_t, bool) {}

#endif

}  // namespace snn2ann::inline v0::detail::cpu_ops
