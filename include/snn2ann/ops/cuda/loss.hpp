// snn2ann/ops/cuda: softmax cross-entropy on the device, one index per sample, with the
// CPU path's formulas (train/loss.hpp): per-sample losses in double and hits come back
// (2 B values instead of B x classes logits), dlogits = (softmax - onehot) / B stays on
// the device for backward. Labels are checked on the host before they are uploaded.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "../../core/host_device.hpp"

namespace snn2ann::inline v0::detail::cuda_ops {

struct softmax_cross_entropy_body {
    const float* logits;
    const std::int32_t* labels;
    std::size_t batch;
    int classes;
    float* dlogits;
    double* losses;
    std::int32_t* hits;
    SNN2ANN_HOST_DEVICE void operator()(std::size_t n) const {
        const float* z = logits + n * classes;
        const std::int32_t y = labels[n];
        int best = 0;
        float zmax = z[0];
        for (int k = 1; k < classes; ++k)
            if (z[k] > zmax) zmax = z[k], best = k;
        double sum = 0.0;
        for (int k = 0; k < classes; ++k) sum += exp(static_cast<double>(z[k] - zmax));
        losses[n] = log(sum) - static_cast<double>(z[y] - zmax);
        hits[n] = best == y;
        float* d = dlogits + n * classes;
        const double inv = 1.0 / (sum * static_cast<double>(batch));
        for (int k = 0; k < classes; ++k) d[k] = static_cast<float>(exp(static_cast<double>(z[k] - zmax)) * inv);
        d[y] -= 1.0f / static_cast<float>(batch);
    }
};
template <class Device>
void softmax_cross_entropy(const Device& d, const float* logits, const std::int32_t* labels, std::size_t batch,
                           int classes, float* dlogits, double* losses, std::int32_t* hits) {
    d.for_each(batch, softmax_cross_entropy_body{logits, labels, batch, classes, dlogits, losses, hits},
               "softmax_cross_entropy");
}

}  // namespace snn2ann::inline v0::detail::cuda_ops
