// snn2ann/ops/cuda: optimiser updates over the model's one parameter buffer, element by
// element with the CPU path's formulas and, for Adam, its factors (adam::coefficients).
#pragma once

#include <cmath>
#include <cstddef>

#include "../../core/host_device.hpp"
#include "../../train/optimizer.hpp"

namespace snn2ann::inline v0::detail::cuda_ops {

struct sgd_body {
    float *p;
    const float* g;
    float* v;
    float lr, mu, wd;
    bool nesterov, first;
    SNN2ANN_HOST_DEVICE void operator()(std::size_t i) const {
        float d = g[i] + wd * p[i];
        if (v) {
            v[i] = first ? d : mu * v[i] + d;
            d = nesterov ? d + mu * v[i] : v[i];
        }
        p[i] -= lr * d;
    }
};
template <class Device>
void sgd_step(const Device& d, float* p, const float* g, float* velocity, std::size_t n, float lr, float mu, float wd,
              bool nesterov, bool first) {
    d.for_each(n, sgd_body{p, g, velocity, lr, mu, wd, nesterov, first}, "sgd_step");
}

struct adam_body {
    float* p;
    const float* g;
    float *m, *v;
    adam_coefficients s;
    SNN2ANN_HOST_DEVICE void operator()(std::size_t i) const {
        const float gi = g[i] + s.l2 * p[i];
        m[i] = s.beta1 * m[i] + (1.0f - s.beta1) * gi;
        v[i] = s.beta2 * v[i] + (1.0f - s.beta2) * gi * gi;
        p[i] = p[i] * s.shrink - s.step_size * m[i] / (sqrtf(v[i]) * s.inv_sqrt_bc2 + s.eps);
    }
};
template <class Device>
void adam_step(const Device& d, float* p, const float* g, float* m, float* v, std::size_t n,
               const adam_coefficients& s) {
    d.for_each(n, adam_body{p, g, m, v, s}, "adam_step");
}

}  // namespace snn2ann::inline v0::detail::cuda_ops
