// snn2ann/ops/cpu: batched 2-D convolution, forward and backward, as im2col + GEMM per
// image, images split into chunks run by oneTBB. Weight gradients are summed per chunk
// and the chunks are added in order, so the result does not depend on the thread count;
// the column matrices are pure scratch, one per running thread (scratch_slots).
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>

#include "../../core/buffer.hpp"
#include "../../core/backend.hpp"
#include "../../core/cpu_matmul.hpp"
#include "../../core/parallel.hpp"
#include "../../core/scratch_slots.hpp"
#include "amx_gemm.hpp"
#include "event_driven.hpp"
#include "gemm.hpp"
#include "packed_gemm.hpp"
#include "im2col.hpp"

namespace snn2ann::inline v0::detail::cpu_ops {

template <class Backend>
struct conv_workspace;

/// Scratch memory of convolutions, reused across batches (a model's convolutions share
/// one; see layer_context::shared_conv_scratch): column matrices per running thread,
/// weight and bias gradients per chunk (for the fixed-order sum).
template <>
struct conv_workspace<cpu> {
    scratch_slots<float> col, dcol;
    scratch_slots<float> gemm;  // the weight gradient's packing, where the library's kernel runs it
    std::array<buffer<float>, max_chunks> dw, db;
    // cpu_matmul::amx_exact_products: per chunk, dw^T (c*k*k x oc) of its images on AMX;
    // the forward's weights in channel-pair order (exact_forward::pack_image).
    std::array<buffer<float>, max_chunks> dw_amx;
    buffer<float> amx_pair_weights;
    packed_rhs weights;  // the pass's weights in the GEMM kernel's layout (packed_gemm.hpp)
    // cpu_matmul::amx_split_bf16 (amx_gemm.hpp): storage of the pass's weights as an
    // operand, and per running thread of an image's two operands and its bf16 input (a
    // spike input's, converted exactly; its bf16 columns use the operand's lo part).
    buffer<std::uint16_t> amx_weights;
    scratch_slots<std::uint16_t> amx_first, amx_second, amx_bf16;
    // Event-driven images (ops/cpu/event_driven.hpp): the pass's weights per input tap and
    // its scaled bias; per running thread an image's nonzero inputs and its sums.
    buffer<float> event_weights, event_bias;
    scratch_slots<std::uint32_t> active;
    scratch_slots<float> event_sums;
};

/// out = parts[0] + parts[1] + ... + parts[chunks - 1] over n floats, in that order (so the
/// result does not depend on the thread count); out may be parts[0] itself.
inline void sum_chunks(const std::array<buffer<float>, max_chunks>& parts, std::size_t chunks, std::size_t n,
                       float* out) {
    const auto size = static_cast<std::ptrdiff_t>(n);
    Eigen::Map<Eigen::VectorXf> sum(out, size);
    if (out != parts[0].data()) sum = Eigen::Map<const Eigen::VectorXf>(parts[0].data(), size);
    for (std::size_t k = 1; k < chunks; ++k) sum += Eigen::Map<const Eigen::VectorXf>(parts[k].data(), size);
}

inline bool conv_uses_amx() { return current_cpu_matmul() == cpu_matmul::amx_split_bf16; }
/// cpu_matmul::amx_exact_products: images whose input is bf16 numbers run on AMX with
/// exact products (amx_gemm.hpp), the rest as fp32.
inline bool conv_exact_amx() { return current_cpu_matmul() == cpu_matmul::amx_exact_products; }

inline void conv_forward_amx(const conv_geometry& g, std::size_t batch, const float* x, const float* w,
                             const float* b, float* y, conv_workspace<cpu>& ws, float bias_scale);

inline void conv_backward_amx(const conv_geometry& g, std::size_t batch, const float* x, const float* w,
                              const float* dy, float* dx, float* dw, float* db, conv_workspace<cpu>& ws);

/// An AMX operand's rows written by im2col of x (entries of T: bf16 values, or pairs of
/// them), padded: rows padded(out_plane()) entries apart, zeros past each row's end and in
/// the rows from col_rows() to `padded_rows`.
template <class T>
inline void im2col_padded(const conv_geometry& g, const T* x, T* operand, std::size_t padded_rows) {
    const std::size_t rows = g.col_rows(), cols = g.out_plane(), stride = amx_detail::padded(cols);
    im2col(g, x, operand, stride);
    for (std::size_t r = 0; r < rows; ++r) std::fill(operand + r * stride + cols, operand + (r + 1) * stride, T{});
    std::fill(operand + rows * stride, operand + padded_rows * stride, T{});
}

/// cpu_matmul::amx_exact_products' forward takes an image's channels in pairs: two
/// channels' bf16 values to a 32-bit word (the even channel in the low half), as AMX's
/// VNNI words pair consecutive depths. im2col over those words then writes the image's
/// right operand directly, with no column matrix of bf16 values to convert and
/// interleave; the weights' depth runs over (pair, kh, kw, channel within the pair).
namespace exact_forward {
inline conv_geometry channel_pairs(const conv_geometry& g) {
    conv_geometry pairs = g;
    pairs.c = (g.c + 1) / 2;
    return pairs;
}
/// Depth of the product: c*k*k, and a zero channel's taps for an odd c.
inline std::size_t depth(const conv_geometry& g) { return 2 * channel_pairs(g).col_rows(); }
/// W (oc x c*k*k) with its depth in channel-pair order into out (oc x depth(g)).
inline void weights_in_pair_order(const conv_geometry& g, const float* w, float* out) {
    const std::size_t taps = static_cast<std::size_t>(g.k) * g.k, d = depth(g), channels = 2 * (d / (2 * taps));
    for (std::size_t o = 0; o < static_cast<std::size_t>(g.oc); ++o)
        for (std::size_t c = 0; c < channels; ++c)
            for (std::size_t t = 0; t < taps; ++t)
                out[o * d + 2 * ((c / 2) * taps + t) + c % 2] =
                    c < static_cast<std::size_t>(g.c) ? w[o * g.col_rows() + c * taps + t] : 0.0f;
}
/// Words of scratch an image's channel pairs take.
inline std::size_t pair_words(const conv_geometry& g) { return channel_pairs(g).in_size(); }
/// The image's right operand (depth(g) x plane, VNNI words) in `operand` when every input
/// is a bf16 number (spikes, counts), its channel pairs in `pairs`; false otherwise (then
/// the operand is not to be used). The tile loads read the words the packing wrote as
/// uint32 through the operand's uint16 storage; no C++ code reads them as uint16.
inline bool pack_image(const conv_geometry& g, const float* xn, std::uint32_t* pairs, std::uint16_t* operand) {
    const std::size_t plane = static_cast<std::size_t>(g.h) * g.w, channels = static_cast<std::size_t>(g.c);
    std::uint32_t dropped = 0;  // bits that bf16 drops, over the image
    for (std::size_t c = 0; c < channels; c += 2) {
        const float* even = xn + c * plane;
        std::uint32_t* out = pairs + (c / 2) * plane;
        if (c + 1 < channels) {
            const float* odd = even + plane;
            for (std::size_t i = 0; i < plane; ++i) {
                const auto lo = std::bit_cast<std::uint32_t>(even[i]), hi = std::bit_cast<std::uint32_t>(odd[i]);
                dropped |= (lo | hi) & 0xFFFFu;
                out[i] = (lo >> 16) | (hi & 0xFFFF0000u);
            }
        } else {
            for (std::size_t i = 0; i < plane; ++i) {
                const auto lo = std::bit_cast<std::uint32_t>(even[i]);
                dropped |= lo & 0xFFFFu;
                out[i] = lo >> 16;
            }
        }
    }
    if (dropped != 0) return false;
    const conv_geometry gp = channel_pairs(g);
    im2col_padded(gp, static_cast<const std::uint32_t*>(pairs), reinterpret_cast<std::uint32_t*>(operand),
                  amx_detail::padded(depth(g)) / 2);
    return true;
}
}  // namespace exact_forward

/// cpu_matmul::amx_exact_products' weight gradient: the image's bf16 column matrix as AMX's
/// left operand (c*k*k x plane), im2col writing it in place in the operand's padded rows,
/// when every input is a bf16 number; false otherwise. `input16` holds the image in bf16.
inline bool exact_gradient_columns(const conv_geometry& g, const float* xn, std::uint16_t* input16,
                                   std::uint16_t* operand) {
    if (!to_bf16_exact(xn, g.in_size(), input16)) return false;
    im2col_padded(g, static_cast<const std::uint16_t*>(input16), operand, amx_detail::padded(g.col_rows()));
    return true;
}

/// y[n] = W * im2col(x[n]) + bias_scale * b for n in [0, batch). W is (oc x c*k*k), b may be null.
/// In column-major terms each image computes y[n]^T (plane x oc) += im2col(x[n])^T W^T,
/// with W^T packed once for the whole batch; the column matrix is packed into a second
/// scratch (the backward pass's dcol, the same size).
/// With `event_below` > 0 (an input of spikes, in the SNN branch), an image at most that
/// fraction of whose inputs are nonzero runs event-driven instead (ops/cpu/event_driven.hpp:
/// the same terms, summed in another order); the choice is the image's own, so the result
/// does not depend on the batch, its chunks or the thread count. Under
/// cpu_matmul::amx_exact_products an image whose inputs are all bf16 numbers runs on AMX
/// before either: exact products, the image's own choice too.
inline void conv_forward(cpu, const conv_geometry& g, std::size_t batch, const float* x, const float* w,
                         const float* b, float* y, conv_workspace<cpu>& ws, float bias_scale = 1.0f,
                         double event_below = 0.0) {
    const auto rows = static_cast<Eigen::Index>(g.col_rows());
    const auto cols = static_cast<Eigen::Index>(g.out_plane());
    if (conv_uses_amx()) return conv_forward_amx(g, batch, x, w, b, y, ws, bias_scale);
    const std::size_t chunks = chunk_count(batch);
    const bool columns = !g.is_pointwise();
    if (columns) ws.col.prepare(chunks, g.col_rows() * g.out_plane());
    ws.weights.pack<Eigen::ColMajor>(w, rows, cols, rows, g.oc);
    ws.dcol.prepare(chunks, ws.weights.scratch_floats(cols));
    const bool exact_amx = conv_exact_amx();
    const std::size_t plane = g.out_plane();
    amx_operand amx_weights;
    const std::size_t pair_depth = exact_forward::depth(g);
    if (exact_amx) {
        const auto oc = static_cast<std::size_t>(g.oc);
        float* ordered = ws.amx_pair_weights.ensure(oc * pair_depth);
        exact_forward::weights_in_pair_order(g, w, ordered);
        amx_weights.pack_a(ordered, pair_depth, 1, oc, pair_depth,
                           ws.amx_weights.ensure(amx_operand::storage_a(oc, pair_depth, 3)), 3);
        // Per running thread: the image's operand, and its channel pairs (two bf16 per word).
        ws.amx_first.prepare(chunks, amx_operand::storage_b(pair_depth, plane, 1));
        ws.amx_bf16.prepare(chunks, 2 * exact_forward::pair_words(g));
    }
    const bool events = event_below > 0.0;
    const auto most_active = static_cast<std::size_t>(event_below * static_cast<double>(g.in_size()));
    const float* event_bias = nullptr;
    if (events) {
        conv_scatter_weights(w, static_cast<std::size_t>(g.oc), g.col_rows(), ws.event_weights.ensure(g.col_rows() * g.oc));
        if (b) {
            float* scaled = ws.event_bias.ensure(static_cast<std::size_t>(g.oc));
            for (int q = 0; q < g.oc; ++q) scaled[q] = b[q] * bias_scale;
            event_bias = scaled;
        }
        ws.active.prepare(chunks, g.in_size() + static_cast<std::size_t>(g.h) * g.w);
        ws.event_sums.prepare(chunks, g.out_plane() * event_block_width(0, static_cast<std::size_t>(g.oc)));
    }
    for_chunks(batch, chunks, [&](std::size_t, std::size_t n0, std::size_t n1) {
        auto col_lease = ws.col.acquire_unless(!columns);
        auto pack_lease = ws.dcol.acquire();
        auto active_lease = ws.active.acquire_unless(!events);
        auto sums_lease = ws.event_sums.acquire_unless(!events);
        auto operand_lease = ws.amx_first.acquire_unless(!exact_amx);
        auto bf16_lease = ws.amx_bf16.acquire_unless(!exact_amx);
        float* col = col_lease.data();
        amx_operand image;
        for (std::size_t n = n0; n < n1; ++n) {
            const float* xn = x + n * g.in_size();
            float* yn = y + n * g.out_size();
            if (exact_amx && exact_forward::pack_image(g, xn, reinterpret_cast<std::uint32_t*>(bf16_lease.data()),
                                                       operand_lease.data())) {
                if (b) mat(yn, g.oc, cols).colwise() = Eigen::Map<const Eigen::VectorXf>(b, g.oc) * bias_scale;
                else std::fill(yn, yn + g.out_size(), 0.0f);
                image.use_packed_b(operand_lease.data(), pair_depth, plane);
                amx_multiply(amx_weights, image, yn, plane, true);
                continue;
            }
            if (events) {
                std::uint32_t* count = active_lease.data();  // per pixel, then the pixels' channels
                std::uint32_t* channel = count + static_cast<std::size_t>(g.h) * g.w;
                bool binary = false;
                if (active_channels(g, xn, count, channel, binary) <= most_active) {
                    conv_events(g, ws.event_weights.data(), event_bias, xn, count, channel, binary, sums_lease.data(), yn);
                    continue;
                }
            }
            if (col) im2col(g, xn, col);
            // The kernel accumulates: start from the bias (or zero).
            if (b) mat(yn, g.oc, cols).colwise() = Eigen::Map<const Eigen::VectorXf>(b, g.oc) * bias_scale;
            else std::fill(yn, yn + g.out_size(), 0.0f);
            ws.weights.multiply<Eigen::ColMajor>(col ? col : xn, cols, cols, yn, cols, pack_lease.data());
        }
    });
}

/// An image's column matrix (c*k*k x plane): in bf16 when its input converts exactly
/// (spikes), else in fp32. `columns` and `columns16` are null for pointwise convolutions,
/// whose input is its own column matrix.
struct image_columns {
    const std::uint16_t* bf16 = nullptr;  // set when exact
    const float* fp32 = nullptr;          // set otherwise
};
inline image_columns columns_of(const conv_geometry& g, const float* xn, float* columns, std::uint16_t* input16,
                                std::uint16_t* columns16) {
    if (to_bf16_exact(xn, g.in_size(), input16)) {
        if (!columns16) return {input16, nullptr};
        im2col(g, static_cast<const std::uint16_t*>(input16), columns16);
        return {columns16, nullptr};
    }
    if (!columns) return {nullptr, xn};
    im2col(g, xn, columns);
    return {nullptr, columns};
}

/// conv_forward on AMX tiles (cpu_matmul::amx_split_bf16): y[n] (oc x plane) += W im2col(x[n]).
inline void conv_forward_amx(const conv_geometry& g, std::size_t batch, const float* x, const float* w,
                             const float* b, float* y, conv_workspace<cpu>& ws, float bias_scale) {
    const std::size_t k_rows = g.col_rows(), plane = g.out_plane(), oc = static_cast<std::size_t>(g.oc);
    const std::size_t chunks = chunk_count(batch);
    const bool columns = !g.is_pointwise();
    amx_operand weights;
    weights.pack_a(w, k_rows, 1, oc, k_rows, ws.amx_weights.ensure(amx_operand::storage_a(oc, k_rows)));
    if (columns) ws.col.prepare(chunks, k_rows * plane);
    ws.amx_first.prepare(chunks, amx_operand::storage_b(k_rows, plane));
    const std::size_t lo_part = amx_operand::storage_b(k_rows, plane) / 2;
    ws.amx_bf16.prepare(chunks, g.in_size());
    for_chunks(batch, chunks, [&](std::size_t, std::size_t n0, std::size_t n1) {
        auto col_lease = ws.col.acquire_unless(!columns);
        auto operand_lease = ws.amx_first.acquire();
        auto bf16_lease = ws.amx_bf16.acquire();
        std::uint16_t* input16 = bf16_lease.data();
        amx_operand image;
        for (std::size_t n = n0; n < n1; ++n) {
            float* yn = y + n * g.out_size();
            // bf16 columns go where the operand's lo part would be: an exact operand has none.
            const image_columns c = columns_of(g, x + n * g.in_size(), col_lease.data(), input16,
                                               columns ? operand_lease.data() + lo_part : nullptr);
            if (c.bf16) image.pack_b_bf16(c.bf16, plane, k_rows, plane, operand_lease.data());
            else image.pack_b(c.fp32, plane, 1, k_rows, plane, operand_lease.data());
            if (b) mat(yn, g.oc, static_cast<std::ptrdiff_t>(plane)).colwise() = Eigen::Map<const Eigen::VectorXf>(b, g.oc) * bias_scale;
            amx_multiply(weights, image, yn, plane, b != nullptr);
        }
    });
}

/// conv_backward on AMX tiles: per image, dw^T (c*k*k x oc) += im2col(x[n]) dy[n]^T and
/// dcol (c*k*k x plane) = W^T dy[n]; the chunks' dw^T are summed in order and transposed
/// once.
inline void conv_backward_amx(const conv_geometry& g, std::size_t batch, const float* x, const float* w,
                              const float* dy, float* dx, float* dw, float* db, conv_workspace<cpu>& ws) {
    const std::size_t k_rows = g.col_rows(), plane = g.out_plane(), oc = static_cast<std::size_t>(g.oc);
    const auto cols = static_cast<std::ptrdiff_t>(plane);
    const std::size_t chunks = chunk_count(batch);
    const std::size_t wsize = k_rows * oc;
    const bool columns = !g.is_pointwise(), dcolumns = columns && dx;
    amx_operand weights_t;  // W^T (c*k*k x oc)
    if (dx) weights_t.pack_a(w, 1, k_rows, k_rows, oc, ws.amx_weights.ensure(amx_operand::storage_a(k_rows, oc)));
    if (columns) ws.col.prepare(chunks, k_rows * plane);
    if (dcolumns) ws.dcol.prepare(chunks, k_rows * plane);
    ws.amx_first.prepare(chunks, amx_operand::storage_a(k_rows, plane));
    ws.amx_second.prepare(chunks, std::max(amx_operand::storage_b(plane, oc), amx_operand::storage_b(oc, plane)));
    ws.amx_bf16.prepare(chunks, g.in_size());
    const std::size_t lo_part = amx_operand::storage_a(k_rows, plane) / 2;
    for_chunks(batch, chunks, [&](std::size_t k, std::size_t n0, std::size_t n1) {
        auto col_lease = ws.col.acquire_unless(!columns);
        auto dcol_lease = ws.dcol.acquire_unless(!dcolumns);
        auto first_lease = ws.amx_first.acquire();
        auto second_lease = ws.amx_second.acquire();
        auto bf16_lease = ws.amx_bf16.acquire();
        std::uint16_t* input16 = bf16_lease.data();
        float* dcol = dcol_lease.data();
        float* dwk = ws.dw[k].ensure(wsize);
        float* dbk = db ? ws.db[k].zeros(oc) : nullptr;
        amx_operand image_columns_a, gradient;
        for (std::size_t n = n0; n < n1; ++n) {
            const float* dyn = dy + n * g.out_size();
            const image_columns c = columns_of(g, x + n * g.in_size(), col_lease.data(), input16,
                                               columns ? first_lease.data() + lo_part : nullptr);
            if (c.bf16) image_columns_a.pack_a_bf16(c.bf16, plane, k_rows, plane, first_lease.data());
            else image_columns_a.pack_a(c.fp32, plane, 1, k_rows, plane, first_lease.data());
            gradient.pack_b(dyn, 1, plane, plane, oc, second_lease.data());  // dy[n]^T
            amx_multiply(image_columns_a, gradient, dwk, oc, n != n0);
            if (dbk) Eigen::Map<Eigen::VectorXf>(dbk, g.oc) += cmat(dyn, g.oc, cols).rowwise().sum();
            if (dx) {
                float* dxn = dx + n * g.in_size();
                gradient.pack_b(dyn, plane, 1, oc, plane, second_lease.data());  // dy[n]
                amx_multiply(weights_t, gradient, dcol ? dcol : dxn, plane, false);
                if (dcol) {
                    std::fill(dxn, dxn + g.in_size(), 0.0f);
                    col2im_add(g, dcol, dxn);
                }
            }
        }
    });
    // The chunks' dw^T (c*k*k x oc) summed in place, then dw = its transpose.
    sum_chunks(ws.dw, chunks, wsize, ws.dw[0].data());
    mat(dw, g.oc, static_cast<std::ptrdiff_t>(k_rows)) = cmat(ws.dw[0].data(), static_cast<std::ptrdiff_t>(k_rows), g.oc).transpose();
    if (db) sum_chunks(ws.db, chunks, oc, db);
}

/// dw = sum_n dy[n] * im2col(x[n])^T, db = sum_n rowsum(dy[n]), and, when dx is not
/// null, dx[n] = col2im(W^T * dy[n]). Under cpu_matmul::amx_exact_products an image whose
/// input is bf16 numbers adds its dw on AMX with exact products (dy split in three) to a
/// sum of its own per chunk; dw is then the fp32 images' sum plus those sums' (each
/// chunk's parts added in order, so neither the thread count nor another image's choice
/// changes a result). dx stays fp32.
inline void conv_backward(cpu, const conv_geometry& g, std::size_t batch, const float* x, const float* w,
                          const float* dy, float* dx, float* dw, float* db, conv_workspace<cpu>& ws) {
    const auto rows = static_cast<std::ptrdiff_t>(g.col_rows());
    const auto cols = static_cast<std::ptrdiff_t>(g.out_plane());
    const std::size_t chunks = chunk_count(batch);
    const std::size_t wsize = g.col_rows() * static_cast<std::size_t>(g.oc);
    const bool columns = !g.is_pointwise(), dcolumns = columns && dx;
    if (conv_uses_amx()) return conv_backward_amx(g, batch, x, w, dy, dx, dw, db, ws);
    // dx[n]'s columns: dcol[n]^T (plane x c*k*k) += dy[n]^T W, with W packed once; dy[n]^T is
    // packed into the column scratch, free again once dw has used it.
    if (dx) ws.weights.pack<Eigen::RowMajor>(w, rows, cols, g.oc, rows);
    const std::size_t pack_floats = dx ? ws.weights.scratch_floats(cols) : 0;
    if (columns || dx) ws.col.prepare(chunks, std::max(columns ? g.col_rows() * g.out_plane() : 0, pack_floats));
    if (dcolumns) ws.dcol.prepare(chunks, g.col_rows() * g.out_plane());
    const std::size_t gemm_floats = gemm_scratch_floats(g.oc, rows, cols);
    if (gemm_floats) ws.gemm.prepare(chunks, gemm_floats);
    const bool exact_amx = conv_exact_amx();
    const std::size_t k_rows = g.col_rows(), plane = g.out_plane(), oc = static_cast<std::size_t>(g.oc);
    if (exact_amx) {
        // An image's bf16 columns as the operand; dy[n]^T split in three; its bf16 input.
        ws.amx_first.prepare(chunks, amx_operand::storage_a(k_rows, plane, 1));
        ws.amx_second.prepare(chunks, amx_operand::storage_b(plane, oc, 3));
        ws.amx_bf16.prepare(chunks, g.in_size());
    }
    std::array<bool, max_chunks> chunk_used_amx{};
    for_chunks(batch, chunks, [&](std::size_t k, std::size_t n0, std::size_t n1) {
        auto col_lease = ws.col.acquire_unless(!columns && !dx);
        auto dcol_lease = ws.dcol.acquire_unless(!dcolumns);
        auto gemm_lease = ws.gemm.acquire_unless(gemm_floats == 0);
        auto first_lease = ws.amx_first.acquire_unless(!exact_amx);
        auto second_lease = ws.amx_second.acquire_unless(!exact_amx);
        auto bf16_lease = ws.amx_bf16.acquire_unless(!exact_amx);
        float* col = col_lease.data();
        float* dcol = dcol_lease.data();
        float* dwk = ws.dw[k].ensure(wsize);
        float* dwk_amx = exact_amx ? ws.dw_amx[k].ensure(wsize) : nullptr;
        float* dbk = db ? ws.db[k].zeros(static_cast<std::size_t>(g.oc)) : nullptr;
        bool used_fp32 = false, used_amx = false;
        amx_operand image_columns_a, gradient;
        for (std::size_t n = n0; n < n1; ++n) {
            const float* xn = x + n * g.in_size();
            const float* dyn = dy + n * g.out_size();
            if (exact_amx && exact_gradient_columns(g, xn, bf16_lease.data(), first_lease.data())) {
                image_columns_a.use_packed_a(first_lease.data(), k_rows, plane);
                gradient.pack_b(dyn, 1, plane, plane, oc, second_lease.data(), 3);  // dy[n]^T
                amx_multiply(image_columns_a, gradient, dwk_amx, oc, used_amx);
                used_amx = true;
            } else {
                if (columns) im2col(g, xn, col);
                gemm_nt(g.oc, rows, cols, dyn, columns ? col : xn, dwk, used_fp32, gemm_lease.data());
                used_fp32 = true;
            }
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
        // A path no image of the chunk took adds exact zeros.
        if (!used_fp32) std::fill(dwk, dwk + wsize, 0.0f);
        if (exact_amx && !used_amx) std::fill(dwk_amx, dwk_amx + wsize, 0.0f);
        chunk_used_amx[k] = used_amx;
    });
    sum_chunks(ws.dw, chunks, wsize, dw);
    if (std::find(chunk_used_amx.begin(), chunk_used_amx.begin() + static_cast<std::ptrdiff_t>(chunks), true) !=
        chunk_used_amx.begin() + static_cast<std::ptrdiff_t>(chunks)) {
        sum_chunks(ws.dw_amx, chunks, wsize, ws.dw_amx[0].data());
        mat(dw, g.oc, rows) += cmat(ws.dw_amx[0].data(), rows, g.oc).transpose();
    }
    if (db) sum_chunks(ws.db, chunks, static_cast<std::size_t>(g.oc), db);
}

}  // namespace snn2ann::inline v0::detail::cpu_ops
