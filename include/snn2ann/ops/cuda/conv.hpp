// snn2ann/ops/cuda: 2-D convolution over a batch in chunks of images (so the column
// matrix stays under a bound): im2col, then one strided-batched GEMM per chunk for the
// outputs; backward takes the chunk's output gradient channel-major and makes dW one GEMM
// with k = images x pixels, and the column gradient one GEMM before col2im.
#pragma once

#include <algorithm>
#include <cstddef>

#include "../cpu/im2col.hpp"
#include "buffer.hpp"
#include "elementwise.hpp"
#include "gemm.hpp"
#include "im2col.hpp"

namespace snn2ann::inline v0::detail::cuda_ops {

template <class Device>
struct conv_workspace {
    device_buffer<float, Device> col, dcol, dy_channel_major;
};

/// Images per chunk: the column matrix of a chunk stays under 256 MiB.
inline std::size_t conv_chunk(const conv_geometry& g, std::size_t batch) {
    const std::size_t per_image = g.col_rows() * g.out_plane() * sizeof(float);
    return std::clamp<std::size_t>((std::size_t{256} << 20) / per_image, 1, batch);
}

/// y = W im2col(x) + bias_scale * b per image; W is oc x (c k k), b may be null.
template <class Device>
void conv_forward(const Device& d, const conv_geometry& g, std::size_t batch, const float* x,
                         const float* w, const float* b, float* y, conv_workspace<Device>& ws, float bias_scale) {
    const std::size_t chunk = conv_chunk(g, batch), plane = g.out_plane(), rows = g.col_rows();
    float* col = ws.col.ensure(rows * chunk * plane);
    for (std::size_t n0 = 0; n0 < batch; n0 += chunk) {
        const std::size_t n = std::min(chunk, batch - n0);
        im2col(d, g, n, x + n0 * g.in_size(), col);
        // image i: Y_i (oc x plane) = W (oc x rows) col[:, i*plane ...] (row stride n*plane)
        gemm_batched(d, false, false, g.oc, static_cast<int>(plane), static_cast<int>(rows), w, static_cast<int>(rows),
                     0, col, static_cast<int>(n * plane), static_cast<long long>(plane), y + n0 * g.out_size(),
                     static_cast<int>(plane), static_cast<long long>(g.out_size()), static_cast<int>(n));
    }
    if (b) add_bias(d, y, b, batch, static_cast<std::size_t>(g.oc), plane, bias_scale);
}

/// dW, db (if not null) and dx (if not null) are overwritten.
template <class Device>
void conv_backward(const Device& d, const conv_geometry& g, std::size_t batch, const float* x,
                          const float* w, const float* dy, float* dx, float* dw, float* db, conv_workspace<Device>& ws) {
    const std::size_t chunk = conv_chunk(g, batch), plane = g.out_plane(), rows = g.col_rows();
    float* col = ws.col.ensure(rows * chunk * plane);
    float* dyt = ws.dy_channel_major.ensure(static_cast<std::size_t>(g.oc) * chunk * plane);
    float* dcol = dx ? ws.dcol.ensure(rows * chunk * plane) : nullptr;
    for (std::size_t n0 = 0; n0 < batch; n0 += chunk) {
        const std::size_t n = std::min(chunk, batch - n0);
        const int cols = static_cast<int>(n * plane);
        im2col(d, g, n, x + n0 * g.in_size(), col);
        channel_major(d, dy + n0 * g.out_size(), dyt, n, static_cast<std::size_t>(g.oc), plane);
        // dW (oc x rows) (+)= dYt (oc x cols) col^T (cols x rows)
        gemm(d, false, true, g.oc, static_cast<int>(rows), cols, dyt, cols, col, cols, dw, static_cast<int>(rows),
             n0 == 0 ? 0.0f : 1.0f);
        if (dx) {
            // dcol (rows x cols) = W^T (rows x oc) dYt (oc x cols), then back to the pixels
            gemm(d, true, false, static_cast<int>(rows), cols, g.oc, w, static_cast<int>(rows), dyt, cols, dcol, cols);
            col2im(d, g, n, dcol, dx + n0 * g.in_size());
        }
    }
    if (db) channel_sum(d, dy, batch, static_cast<std::size_t>(g.oc), plane, db);
}

}  // namespace snn2ann::inline v0::detail::cuda_ops
