// snn2ann/ops/cpu: the mean over T steps of a time-major T x n array (a T-step pass's
// outputs averaged into what one sample set reports).
#pragma once

#include <cstddef>

namespace snn2ann::inline v0::detail::cpu_ops {

/// out[j] = (1/steps) sum_t y[t * n + j] for j < n.
inline void mean_over_steps(const float* y, std::size_t steps, std::size_t n, float* out) {
    const float inv = 1.0f / static_cast<float>(steps);
    for (std::size_t j = 0; j < n; ++j) {
        float sum = 0.0f;
        for (std::size_t t = 0; t < steps; ++t) sum += y[t * n + j];
        out[j] = sum * inv;
    }
}

}  // namespace snn2ann::inline v0::detail::cpu_ops
