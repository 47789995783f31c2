// snn2ann/ops/cpu: single-precision GEMM on row-major arrays, through Eigen. Eigen runs
// single-threaded here; the callers parallelise over chunks with oneTBB.
#pragma once

#include <cstddef>

#include <Eigen/Core>

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

/// C(MxN) (+)= A(MxK) * B(KxN)
inline void gemm_nn(std::ptrdiff_t m, std::ptrdiff_t n, std::ptrdiff_t k, const float* a,
                    const float* b, float* c, bool accumulate) {
    if (accumulate)
        mat(c, m, n).noalias() += cmat(a, m, k) * cmat(b, k, n);
    else
        mat(c, m, n).noalias() = cmat(a, m, k) * cmat(b, k, n);
}
/// C(MxN) (+)= A(MxK) * B(NxK)^T
inline void gemm_nt(std::ptrdiff_t m, std::ptrdiff_t n, std::ptrdiff_t k, const float* a,
                    const float* b, float* c, bool accumulate) {
    if (accumulate)
        mat(c, m, n).noalias() += cmat(a, m, k) * cmat(b, n, k).transpose();
    else
        mat(c, m, n).noalias() = cmat(a, m, k) * cmat(b, n, k).transpose();
}

}  // namespace snn2ann::inline v0::detail::cpu_ops
