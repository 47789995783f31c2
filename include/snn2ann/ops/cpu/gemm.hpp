// snn2ann/ops/cpu: single-precision GEMM on row-major arrays: the library's own kernel
// where the CPU has AVX2 and FMA (sgemm.hpp, chosen at run time), else Eigen's. Both run
// single-threaded here; the callers parallelise over chunks with oneTBB.
#pragma once

#include <cstddef>

#include <Eigen/Core>

#include "sgemm.hpp"

namespace snn2ann::inline v0::detail::cpu_ops {

using row_major = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using matrix_map = Eigen::Map<row_major>;
using const_matrix_map = Eigen::Map<const row_major>;

inline const_matrix_map cmat(const float* p, std::ptrdiff_t rows, std::ptrdiff_t cols) {
    return const_matrix_map(p, rows, cols);
}
inline matrix_map mat(float* p, std::ptrdiff_t rows, std::ptrdiff_t cols) {
    return matrix_map(p, rows, cols);
}

/// Whether a product of m x n goes to the library's kernel: where it runs, and not for a
/// row or a column, which Eigen multiplies as a vector without packing.
inline bool own_kernel_for(std::ptrdiff_t m, std::ptrdiff_t n) {
    return m >= 4 && n >= 4 && sgemm_detail::kernel_available();
}
/// The packing scratch (floats) the functions below need to run an m x n x k product on
/// the library's kernel; 0 where Eigen's runs it.
inline std::size_t gemm_scratch_floats(std::ptrdiff_t m, std::ptrdiff_t n, std::ptrdiff_t k) {
    return own_kernel_for(m, n) ? sgemm_scratch_floats(m, n, k) : 0;
}

// Each runs the library's kernel where `scratch` (gemm_scratch_floats(m, n, k) floats, from
// the caller's workspace) is given and it applies, else Eigen's product.

/// C(MxN) (+)= A(MxK) * B(KxN)
inline void gemm_nn(std::ptrdiff_t m, std::ptrdiff_t n, std::ptrdiff_t k, const float* a,
                    const float* b, float* c, bool accumulate, float* scratch = nullptr) {
    if (scratch && own_kernel_for(m, n)) return sgemm(m, n, k, {a, k, 1}, {b, n, 1}, c, n, accumulate, scratch);
    if (accumulate)
        mat(c, m, n).noalias() += cmat(a, m, k) * cmat(b, k, n);
    else
        mat(c, m, n).noalias() = cmat(a, m, k) * cmat(b, k, n);
}
/// C(MxN) (+)= A(MxK) * B(NxK)^T
inline void gemm_nt(std::ptrdiff_t m, std::ptrdiff_t n, std::ptrdiff_t k, const float* a,
                    const float* b, float* c, bool accumulate, float* scratch = nullptr) {
    if (scratch && own_kernel_for(m, n)) return sgemm(m, n, k, {a, k, 1}, {b, 1, k}, c, n, accumulate, scratch);
    if (accumulate)
        mat(c, m, n).noalias() += cmat(a, m, k) * cmat(b, n, k).transpose();
    else
        mat(c, m, n).noalias() = cmat(a, m, k) * cmat(b, n, k).transpose();
}

}  // namespace snn2ann::inline v0::detail::cpu_ops
