// snn2ann/ops/cpu: fully connected layer over a batch, y (B x out) = x (B x in) W^T + b.
// Forward and dx split the batch rows, dW splits the output rows: no partial sums, so
// the result does not depend on the thread count. dW and db are overwritten.
#pragma once

#include <cstddef>

#include "../../core/backend.hpp"
#include "../../core/parallel.hpp"
#include "../../core/scratch_slots.hpp"
#include "gemm.hpp"

namespace snn2ann::inline v0::detail::cpu_ops {

// GEMMs of fewer rows waste their time packing the weight matrix.
inline constexpr std::size_t rows_per_chunk = 32;
// Below this many rows Eigen's product runs (a vector-matrix product for one row, as the
// inference engine's steps at batch 1 are): packing the weights would cost more than the
// product saves.
inline constexpr std::size_t own_kernel_rows = 16;

/// A linear layer's GEMM workspace for the library's kernel: the right-hand operand every
/// chunk multiplies (W^T, W, or x for dW), packed once per call, its panels in parallel,
/// and read by every chunk (packed per chunk, a layer of 4096 x 4096 weights on a few
/// hundred rows spent more time packing than multiplying); per running thread, its rows'
/// packing. Without one, or below own_kernel_rows, Eigen's product runs.
struct linear_workspace {
    sgemm_packed_rhs operand;
    scratch_slots<float> rows;
    /// The weights `operand` holds as W^T of a forward (null: it holds something else): a
    /// forward whose weights are as before (the SNN pass's chunks after the first) keeps it.
    const float* forward_weights = nullptr;
    int forward_in = 0, forward_out = 0;
};

namespace linear_detail {
/// Packs b (k x n) into ws.operand and prepares the rows' scratch for `chunks` chunks of
/// at most `most_rows` rows.
inline const sgemm_packed_rhs& share(linear_workspace& ws, const strided_matrix& b, std::ptrdiff_t k, std::ptrdiff_t n,
                                     std::size_t chunks, std::size_t most_rows) {
    ws.forward_weights = nullptr;
    ws.operand.pack(b, k, n, [](std::size_t panels, auto&& pack_range) {
        for_chunks(panels, chunk_count(panels, 4),
                   [&](std::size_t, std::size_t first, std::size_t last) { pack_range(first, last); });
    });
    ws.rows.prepare(chunks, ws.operand.scratch_floats(static_cast<std::ptrdiff_t>(most_rows)));
    return ws.operand;
}
/// C's rows = A's rows times the shared operand.
inline void multiply(linear_workspace& ws, const strided_matrix& a, std::ptrdiff_t rows, float* c, std::ptrdiff_t ldc) {
    auto scratch = ws.rows.acquire();
    ws.operand.multiply(a, rows, c, ldc, false, scratch.data());
}
/// The most items a chunk of n items gets when split into `chunks`.
inline std::size_t largest_chunk(std::size_t n, std::size_t chunks) { return (n + chunks - 1) / chunks; }
}  // namespace linear_detail

/// y = x W^T + b. `weights_as_before`: w holds the values of the previous forward with this
/// workspace (nothing wrote it since), whose packing ws may then keep.
inline void linear_forward(cpu, std::size_t batch, int in, int out, const float* x, const float* w,
                           const float* b, float* y, float bias_scale = 1.0f, linear_workspace* ws = nullptr,
                           bool weights_as_before = false) {
    const std::size_t chunks = chunk_count(batch, rows_per_chunk);
    const bool own = ws && batch >= own_kernel_rows && sgemm_detail::kernel_available();
    if (own) {
        const std::size_t most_rows = linear_detail::largest_chunk(batch, chunks);
        if (weights_as_before && ws->forward_weights == w && ws->forward_in == in && ws->forward_out == out) {
            ws->rows.prepare(chunks, ws->operand.scratch_floats(static_cast<std::ptrdiff_t>(most_rows)));
        } else {
            linear_detail::share(*ws, {w, 1, in}, in, out, chunks, most_rows);
            ws->forward_weights = w, ws->forward_in = in, ws->forward_out = out;
        }
    }
    for_chunks(batch, chunks, [&](std::size_t, std::size_t n0, std::size_t n1) {
        const auto rows = static_cast<std::ptrdiff_t>(n1 - n0);
        if (own) linear_detail::multiply(*ws, {x + n0 * in, in, 1}, rows, y + n0 * out, out);
        else gemm_nt(rows, out, in, x + n0 * in, w, y + n0 * out, false);
        if (b) mat(y + n0 * out, rows, out).rowwise() += Eigen::Map<const Eigen::RowVectorXf>(b, out) * bias_scale;
    });
}

inline void linear_backward(cpu, std::size_t batch, int in, int out, const float* x, const float* w,
                            const float* dy, float* dx, float* dw, float* db, linear_workspace* ws = nullptr) {
    const auto rows = static_cast<std::ptrdiff_t>(batch);
    const std::size_t outs = static_cast<std::size_t>(out);
    const bool own = ws && batch >= own_kernel_rows && sgemm_detail::kernel_available();
    // dW (out x in) = dy^T x, split by output rows.
    const std::size_t out_chunks = chunk_count(outs, 8);
    if (own) linear_detail::share(*ws, {x, in, 1}, rows, in, out_chunks, linear_detail::largest_chunk(outs, out_chunks));
    for_chunks(outs, out_chunks, [&](std::size_t, std::size_t o0, std::size_t o1) {
        const auto n = static_cast<std::ptrdiff_t>(o1 - o0);
        if (own) {
            linear_detail::multiply(*ws, {dy + o0, 1, out}, n, dw + o0 * in, in);
        } else {
            const Eigen::Map<const row_major, 0, Eigen::OuterStride<>> dyo(dy + o0, rows, n, Eigen::OuterStride<>(out));
            mat(dw + o0 * in, n, in).noalias() = dyo.transpose() * cmat(x, rows, in);
        }
        if (db)
            Eigen::Map<Eigen::RowVectorXf>(db + o0, n) =
                cmat(dy, rows, out).middleCols(static_cast<std::ptrdiff_t>(o0), n).colwise().sum();
    });
    if (!dx) return;
    const std::size_t chunks = chunk_count(batch, rows_per_chunk);
    if (own) linear_detail::share(*ws, {w, in, 1}, out, in, chunks, linear_detail::largest_chunk(batch, chunks));
    for_chunks(batch, chunks, [&](std::size_t, std::size_t n0, std::size_t n1) {
        const auto n = static_cast<std::ptrdiff_t>(n1 - n0);
        if (own) linear_detail::multiply(*ws, {dy + n0 * out, out, 1}, n, dx + n0 * in, in);
        else gemm_nn(n, in, out, dy + n0 * out, w, dx + n0 * in, false);
    });
}

}  // namespace snn2ann::inline v0::detail::cpu_ops
