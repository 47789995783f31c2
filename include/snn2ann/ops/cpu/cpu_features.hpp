// snn2ann/ops/cpu: what the CPU the program runs on can do. The hot kernels have versions
// compiled for AVX2 and FMA, and for AVX-512, by function target attributes, whatever the
// program's flags (a consumer's default build targets baseline x86-64), and take them
// where the CPU has those instructions: the GEMM kernel (sgemm.hpp), the event-driven sums
// (event_driven.hpp), the sigmoid surrogate (sigmoid_derivative.hpp) and the batch norm's
// passes over a channel (channel_passes.hpp).
#pragma once

namespace snn2ann::inline v0::detail::cpu_ops {

/// Whether this translation unit is compiled with fused multiply-adds (-mfma, or
/// -march=native on a CPU that has them): Eigen's packets then multiply-add fused.
#if defined(__FMA__)
inline constexpr bool native_fma = true;
#else
inline constexpr bool native_fma = false;
#endif

/// Whether this CPU has AVX2 and FMA (x86-64 with GCC or Clang; checked once).
inline bool cpu_has_avx2_fma() {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    static const bool has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    return has;
#else
    return false;
#endif
}

/// Whether this CPU has AVX-512F besides AVX2 and FMA (checked once).
inline bool cpu_has_avx512f() {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    static const bool has = cpu_has_avx2_fma() && __builtin_cpu_supports("avx512f");
    return has;
#else
    return false;
#endif
}

/// The instruction sets a kernel has versions for. Where the versions give the same bits,
/// tests compare each one the CPU runs with `baseline`.
enum class simd_level { baseline, avx2, avx512 };

/// Whether this CPU runs `level` (AVX2 with FMA; AVX-512F with both).
inline bool cpu_runs(simd_level level) {
    switch (level) {
        case simd_level::avx2: return cpu_has_avx2_fma();
        case simd_level::avx512: return cpu_has_avx512f();
        case simd_level::baseline: break;
    }
    return true;
}

/// The widest level this CPU runs (checked once).
inline simd_level widest_simd_level() {
    static const simd_level widest = cpu_runs(simd_level::avx512) ? simd_level::avx512
                                     : cpu_runs(simd_level::avx2) ? simd_level::avx2
                                                                  : simd_level::baseline;
    return widest;
}

}  // namespace snn2ann::inline v0::detail::cpu_ops
