// snn2ann/ops/cpu: single-precision GEMM on row-major arrays: the library's own kernel
// where the CPU has AVX2 and FMA (sgemm.hpp, chosen at run time), else Eigen's. Both run
// single-threaded here; the callers parallelise over chunks with oneTBB.
#pragma once

#include <cstddef>

#include <Eigen/Core>

#include "../../core/buffer.hpp"
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

/// C (m x n, row-major) (+)= A B by the library's kernel, with this thread's packing scratch.
inline void own_gemm(std::ptrdiff_t m, std::ptrdiff_t n, std::ptrdiff_t k, const strided_matrix& a,
                     const strided_matrix& b, float* c, bool accumulate) {
    thread_local buffer<float> scratch;
    sgemm(m, n, k, a, b, c, n, accumulate, scratch.ensure(sgemm_scratch_floats(m, n, k)));
}

/// C(MxN) (+)= A(MxK) * B(KxN)
inline void gemm_nn(std::ptrdiff_t m, std::ptrdiff_t n, std::ptrdiff_t k, const float* a,
                    const float* b, float* c, bool accumulate) {
    if (sgemm_detail::kernel_available()) return own_gemm(m, n, k, {a, k, 1}, {b, n, 1}, c, accumulate);
    if (accumulate)
        mat(c, m, n).noalias() += cmat(a, m, k) * cmat(b, k, n);
    else
        mat(c, m, n).noalias() = cmat(a, m, k) * cmat(b, k, n);
}
/// C(MxN) (+)= A(MxK) * B(NxK)^T
inline void gemm_nt(std::ptrdiff_t m, std::ptrdiff_t n, std::ptrdiff_t k, const float* a,
                    const float* b, float* c, bool accumulate) {
    if (sgemm_detail::kernel_available()) return own_gemm(m, n, k, {a, k, 1}, {b, 1, k}, c, accumulate);
    if (accumulate)
        mat(c, m, n).noalias() += cmat(a, m, k) * cmat(b, n, k).transpose();
    else
        mat(c, m, n).noalias() = cmat(a, m, k) * cmat(b, n, k).transpose();
}
/// C(MxN) = A(KxM)^T * B(KxN), A row-major with rows lda floats apart (lda >= M: A may be
/// some columns of a wider matrix).
inline void gemm_tn(std::ptrdiff_t m, std::ptrdiff_t n, std::ptrdiff_t k, const float* a, std::ptrdiff_t lda,
                    const float* b, float* c) {
    if (sgemm_detail::kernel_available()) return own_gemm(m, n, k, {a, 1, lda}, {b, n, 1}, c, false);
    const Eigen::Map<const row_major, 0, Eigen::OuterStride<>> at(a, k, m, Eigen::OuterStride<>(lda));
    mat(c, m, n).noalias() = at.transpose() * cmat(b, k, n);
}

}  // namespace snn2ann::inline v0::detail::cpu_ops
