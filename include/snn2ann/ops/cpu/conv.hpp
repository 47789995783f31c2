// snn2ann/ops/cpu: batched 2-D convolution, forward and backward, as im2col + GEMM per
// image, images split into chunks run by oneTBB. Weight gradients are summed per chunk
// and the chunks are added in order, so the result does not depend on the thread count;
// the column matrices are pure scratch, one per running thread (scratch_slots).
#pragma once

#include <array>
#include <cstddef>

#include "../../core/buffer.hpp"
#include "../../core/backend.hpp"
#include "../../core/parallel.hpp"
#include "../../core/scratch_slots.hpp"
#include "gemm.hpp"
#include "packed_gemm.hpp"
#include "im2col.hpp"

namespace snn2ann::inline v0::detail::ops {

template <class Backend>
struct conv_workspace;

/// Scratch memory of convolutions, reused across batches (a model's convolutions share
/// one; see layer_context::shared_conv_scratch): column matrices per running thread,
/// weight and bias gradients per chunk (for the fixed-order sum).
template <>
struct conv_workspace<cpu> {
    scratch_slots<float> col, dcol;
    std::array<buffer<float>, max_chunks> dw, db;
    packed_rhs weights;  // the pass's weights in the GEMM kernel's layout (packed_gemm.hpp)
};

/// y[n] = W * im2col(x[n]) + bias_scale * b for n in [0, batch). W is (oc x c*k*k), b may be null.
/// In column-major terms each image computes y[n]^T (plane x oc) += im2col(x[n])^T W^T,
/// with W^T packed once for the whole batch; the column matrix is packed into a second
/// scratch (the backward pass's dcol, the same size).
inline void conv_forward(cpu, const conv_geometry& g, std::size_t batch, const float* x, const float* w,
                         const float* b, float* y, conv_workspace<cpu>& ws, float bias_scale = 1.0f) {
    const auto rows = static_cast<Eigen::Index>(g.col_rows());
    const auto cols = static_cast<Eigen::Index>(g.out_plane());
    const std::size_t chunks = chunk_count(batch);
    const bool columns = !g.is_pointwise();
    if (columns) ws.col.prepare(chunks, g.col_rows() * g.out_plane());
    ws.weights.pack<Eigen::ColMajor>(w, rows, cols, rows, g.oc);
    ws.dcol.prepare(chunks, ws.weights.scratch_floats(cols));
    for_chunks(batch, chunks, [&](std::size_t, std::size_t n0, std::size_t n1) {
        auto col_lease = ws.col.acquire_unless(!columns);
        auto pack_lease = ws.dcol.acquire();
        float* col = col_lease.data();
        for (std::size_t n = n0; n < n1; ++n) {
            const float* xn = x + n * g.in_size();
            float* yn = y + n * g.out_size();
            if (col) im2col(g, xn, col);
            // The kernel accumulates: start from the bias (or zero).
            if (b) mat(yn, g.oc, cols).colwise() = Eigen::Map<const Eigen::VectorXf>(b, g.oc) * bias_scale;
            else std::fill(yn, yn + g.out_size(), 0.0f);
            ws.weights.multiply<Eigen::ColMajor>(col ? col : xn, cols, cols, yn, cols, pack_lease.data());
        }
    });
}

/// dw = sum_n dy[n] * im2col(x[n])^T, db = sum_n rowsum(dy[n]), and, when dx is not
/// null, dx[n] = col2im(W^T * dy[n]).
inline void conv_backward(cpu, const conv_geometry& g, std::size_t batch, const float* x, const float* w,
                          const float* dy, float* dx, float* dw, float* db, conv_workspace<cpu>& ws) {
    const auto rows = static_cast<std::ptrdiff_t>(g.col_rows());
    const auto cols = static_cast<std::ptrdiff_t>(g.out_plane());
    const std::size_t chunks = chunk_count(batch);
    const std::size_t wsize = g.col_rows() * static_cast<std::size_t>(g.oc);
    const bool columns = !g.is_pointwise(), dcolumns = columns && dx;
    // dx[n]'s columns: dcol[n]^T (plane x c*k*k) += dy[n]^T W, with W packed once; dy[n]^T is
    // packed into the column scratch, free again once dw has used it.
    if (dx) ws.weights.pack<Eigen::RowMajor>(w, rows, cols, g.oc, rows);
    const std::size_t pack_floats = dx ? ws.weights.scratch_floats(cols) : 0;
    if (columns || dx) ws.col.prepare(chunks, std::max(columns ? g.col_rows() * g.out_plane() : 0, pack_floats));
    if (dcolumns) ws.dcol.prepare(chunks, g.col_rows() * g.out_plane());
    for_chunks(batch, chunks, [&](std::size_t k, std::size_t n0, std::size_t n1) {
        auto col_lease = ws.col.acquire_unless(!columns && !dx);
        auto dcol_lease = ws.dcol.acquire_unless(!dcolumns);
        float* col = col_lease.data();
        float* dcol = dcol_lease.data();
        float* dwk = ws.dw[k].ensure(wsize);
        float* dbk = db ? ws.db[k].zeros(static_cast<std::size_t>(g.oc)) : nullptr;
        for (std::size_t n = n0; n < n1; ++n) {
            const float* xn = x + n * g.in_size();
            const float* dyn = dy + n * g.out_size();
            if (columns) im2col(g, xn, col);
            gemm_nt(g.oc, rows, cols, dyn, columns ? col : xn, dwk, n != n0);
            if (dbk) Eigen::Map<Eigen::VectorXf>(dbk, g.oc) += cmat(dyn, g.oc, cols).rowwise().sum();
            if (dx) {
                float* dxn = dx + n * g.in_size();
                float* target = dcol ? dcol : dxn;
                std::fill(target, target + g.col_rows() * g.out_plane(), 0.0f);
                ws.weights.multiply<Eigen::ColMajor>(dyn, cols, cols, target, cols, col);
                if (dcol) {
                    std::fill(dxn, dxn + g.in_size(), 0.0f);
                    col2im_add(g, dcol, dxn);
                }
            }
        }
    });
    // Fixed-order reduction of the per-chunk partial sums.
    Eigen::Map<Eigen::VectorXf> dw_all(dw, static_cast<std::ptrdiff_t>(wsize));
    dw_all = Eigen::Map<const Eigen::VectorXf>(ws.dw[0].data(), static_cast<std::ptrdiff_t>(wsize));
    if (db) Eigen::Map<Eigen::VectorXf>(db, g.oc) = Eigen::Map<const Eigen::VectorXf>(ws.db[0].data(), g.oc);
    for (std::size_t k = 1; k < chunks; ++k) {
        dw_all += Eigen::Map<const Eigen::VectorXf>(ws.dw[k].data(), static_cast<std::ptrdiff_t>(wsize));
        if (db)
            Eigen::Map<Eigen::VectorXf>(db, g.oc) += Eigen::Map<const Eigen::VectorXf>(ws.db[k].data(), g.oc);
    }
}

}  // namespace snn2ann::inline v0::detail::ops
