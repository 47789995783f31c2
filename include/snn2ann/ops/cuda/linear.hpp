// snn2ann/ops/cuda: fully connected layer, y (B x out) = x (B x in) W^T + b, W (out x in).
#pragma once

#include <cstddef>

#include "elementwise.hpp"
#include "gemm.hpp"

namespace snn2ann::inline v0::detail::cuda_ops {

template <class Device>
void linear_forward(const Device& d, std::size_t batch, int in, int out, const float* x, const float* w,
                           const float* b, float* y, float bias_scale) {
    gemm(d, false, true, static_cast<int>(batch), out, in, x, in, w, in, y, out);
    if (b) add_bias(d, y, b, batch, static_cast<std::size_t>(out), 1, bias_scale);
}

/// dW, db (if not null) and dx (if not null) are overwritten.
template <class Device>
void linear_backward(const Device& d, std::size_t batch, int in, int out, const float* x,
                            const float* w, const float* dy, float* dx, float* dw, float* db) {
    const int rows = static_cast<int>(batch);
    gemm(d, true, false, out, in, rows, dy, out, x, in, dw, in);  // dW = dy^T x
    if (db) channel_sum(d, dy, batch, static_cast<std::size_t>(out), 1, db);
    if (dx) gemm(d, false, false, rows, in, out, dy, out, w, in, dx, in);  // dx = dy W
}

}  // namespace snn2ann::inline v0::detail::cuda_ops
