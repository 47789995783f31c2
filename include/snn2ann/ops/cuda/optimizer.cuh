// snn2ann/ops/cuda: optimiser updates over the model's one parameter buffer, element by
// element with the CPU path's formulas and, for Adam, its factors (adam::coefficients).
#pragma once

#include <cstddef>

#include "../../train/optimizer.hpp"
#include "elementwise.cuh"

namespace snn2ann::inline v0::detail::cuda_ops {

__global__ void sgd_kernel(float* p, const float* g, float* v, std::size_t n, float lr, float mu, float wd,
                           bool nesterov, bool first) {
    for (std::size_t i = first_index(); i < n; i += grid_stride()) {
        float d = g[i] + wd * p[i];
        if (v) {
            v[i] = first ? d : mu * v[i] + d;
            d = nesterov ? d + mu * v[i] : v[i];
        }
        p[i] -= lr * d;
    }
}
inline void sgd_step(const device_context& d, float* p, const float* g, float* velocity, std::size_t n, float lr,
                     float mu, float wd, bool nesterov, bool first) {
    sgd_kernel<<<blocks_for(n), threads_per_block, 0, d.stream()>>>(p, g, velocity, n, lr, mu, wd, nesterov, first);
    check_launch("sgd_kernel");
}

__global__ void adam_kernel(float* p, const float* g, float* m, float* v, std::size_t n, adam_coefficients s) {
    for (std::size_t i = first_index(); i < n; i += grid_stride()) {
        const float gi = g[i] + s.l2 * p[i];
        m[i] = s.beta1 * m[i] + (1.0f - s.beta1) * gi;
        v[i] = s.beta2 * v[i] + (1.0f - s.beta2) * gi * gi;
        p[i] = p[i] * s.shrink - s.step_size * m[i] / (sqrtf(v[i]) * s.inv_sqrt_bc2 + s.eps);
    }
}
inline void adam_step(const device_context& d, float* p, const float* g, float* m, float* v, std::size_t n,
                      const adam_coefficients& s) {
    adam_kernel<<<blocks_for(n), threads_per_block, 0, d.stream()>>>(p, g, m, v, n, s);
    check_launch("adam_kernel");
}

}  // namespace snn2ann::inline v0::detail::cuda_ops
