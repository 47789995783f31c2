// snn2ann/ops/cpu: fully connected layer over a batch, y (B x out) = x (B x in) W^T + b.
// Forward and dx split the batch rows, dW splits the output rows: no partial sums, so
// the result does not depend on the thread count. dW and db are overwritten.
#pragma once

#include <cstddef>

#include "../../core/backend.hpp"
#include "../../core/parallel.hpp"
#include "gemm.hpp"

namespace snn2ann::inline v0::detail::cpu_ops {

// GEMMs of fewer rows waste their time packing the weight matrix.
inline constexpr std::size_t rows_per_chunk = 32;

inline void linear_forward(cpu, std::size_t batch, int in, int out, const float* x, const float* w,
                           const float* b, float* y, float bias_scale = 1.0f) {
    for_chunks(batch, chunk_count(batch, rows_per_chunk), [&](std::size_t, std::size_t n0, std::size_t n1) {
        const auto rows = static_cast<std::ptrdiff_t>(n1 - n0);
        gemm_nt(rows, out, in, x + n0 * in, w, y + n0 * out, false);
        if (b) mat(y + n0 * out, rows, out).rowwise() += Eigen::Map<const Eigen::RowVectorXf>(b, out) * bias_scale;
    });
}

inline void linear_backward(cpu, std::size_t batch, int in, int out, const float* x, const float* w,
                            const float* dy, float* dx, float* dw, float* db) {
    const auto rows = static_cast<std::ptrdiff_t>(batch);
    const std::size_t outs = static_cast<std::size_t>(out);
    for_chunks(outs, chunk_count(outs, 8), [&](std::size_t, std::size_t o0, std::size_t o1) {
        const auto n = static_cast<std::ptrdiff_t>(o1 - o0);
        gemm_tn(n, in, rows, dy + o0, out, x, dw + o0 * in);
        if (db) Eigen::Map<Eigen::RowVectorXf>(db + o0, n) = cmat(dy, rows, out).middleCols(static_cast<std::ptrdiff_t>(o0), n).colwise().sum();
    });
    if (!dx) return;
    for_chunks(batch, chunk_count(batch, rows_per_chunk), [&](std::size_t, std::size_t n0, std::size_t n1) {
        gemm_nn(static_cast<std::ptrdiff_t>(n1 - n0), in, out, dy + n0 * out, w, dx + n0 * in, false);
    });
}

}  // namespace snn2ann::inline v0::detail::cpu_ops
