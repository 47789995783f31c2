// snn2ann/ops/cuda: row-major GEMMs on an execution's column-major sgemm. The library
// stores matrices row-major (as PyTorch); cuBLAS is column-major, and a row-major
// C = op(A) op(B) is the column-major C^T = op(B)^T op(A)^T, so each call swaps the
// operands and keeps the flags. The host execution checks the swapped arguments as
// cuBLAS does, so a wrong swap fails on any machine.
#pragma once

namespace snn2ann::inline v0::detail::cuda_ops {

/// C (m x n, row stride ldc) = alpha op(A) op(B) + beta C, op(A) m x k, op(B) k x n; lda and
/// ldb are the row strides of A and B as stored.
template <class Device>
void gemm(const Device& d, bool trans_a, bool trans_b, int m, int n, int k, const float* a, int lda, const float* b,
          int ldb, float* c, int ldc, float beta = 0.0f, float alpha = 1.0f) {
    d.sgemm(trans_b, trans_a, n, m, k, alpha, b, ldb, a, lda, beta, c, ldc);
}

/// `count` independent GEMMs as above, the i-th on A + i stride_a, B + i stride_b, C + i stride_c.
template <class Device>
void gemm_batched(const Device& d, bool trans_a, bool trans_b, int m, int n, int k, const float* a, int lda,
                  long long stride_a, const float* b, int ldb, long long stride_b, float* c, int ldc,
                  long long stride_c, int count) {
    d.sgemm_strided_batched(trans_b, trans_a, n, m, k, 1.0f, b, ldb, stride_b, a, lda, stride_a, 0.0f, c, ldc, stride_c,
                            count);
}

}  // namespace snn2ann::inline v0::detail::cuda_ops
