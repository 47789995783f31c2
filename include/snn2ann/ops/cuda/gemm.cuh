// snn2ann/ops/cuda: row-major GEMMs through cuBLAS. The library stores matrices row-major
// (as PyTorch); cuBLAS is column-major, and a row-major C = op(A) op(B) is the
// column-major C^T = op(B)^T op(A)^T, so each call swaps the operands and keeps the flags.
#pragma once

#include <cstddef>

#include "context.cuh"

namespace snn2ann::inline v0::detail::cuda_ops {

/// C (m x n, row stride ldc) = alpha op(A) op(B) + beta C, op(A) m x k, op(B) k x n; lda and
/// ldb are the row strides of A and B as stored.
inline void gemm(const device_context& d, bool trans_a, bool trans_b, int m, int n, int k, const float* a, int lda,
                 const float* b, int ldb, float* c, int ldc, float beta = 0.0f, float alpha = 1.0f) {
    check(cublasSgemm(d.blas(), trans_b ? CUBLAS_OP_T : CUBLAS_OP_N, trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, n, m, k,
                      &alpha, b, ldb, a, lda, &beta, c, ldc),
          "cublasSgemm");
}

/// `count` independent GEMMs as above, the i-th on A + i stride_a, B + i stride_b, C + i stride_c.
inline void gemm_batched(const device_context& d, bool trans_a, bool trans_b, int m, int n, int k, const float* a,
                         int lda, long long stride_a, const float* b, int ldb, long long stride_b, float* c, int ldc,
                         long long stride_c, int count) {
    const float alpha = 1.0f, beta = 0.0f;
    check(cublasSgemmStridedBatched(d.blas(), trans_b ? CUBLAS_OP_T : CUBLAS_OP_N, trans_a ? CUBLAS_OP_T : CUBLAS_OP_N,
                                    n, m, k, &alpha, b, ldb, stride_b, a, lda, stride_a, &beta, c, ldc, stride_c,
                                    count),
          "cublasSgemmStridedBatched");
}

}  // namespace snn2ann::inline v0::detail::cuda_ops
