// snn2ann/ops/cuda: softmax cross-entropy on the device, one index per sample, by the CPU
// path's formula (train/loss.hpp's sample_cross_entropy, label smoothing included):
// per-sample losses in double and hits come back (2 B values instead of B x classes
// logits), dlogits = (softmax - target) / B stays on the device for backward. Labels and
// the smoothing are checked on the host before the launch.
#pragma once

#include <cstddef>
#include <cstdint>

#include "../../core/host_device.hpp"
#include "../../train/loss.hpp"

namespace snn2ann::inline v0::detail::cuda_ops {

struct softmax_cross_entropy_body {
    const float* logits;
    const std::int32_t* labels;
    std::size_t batch;
    int classes;
    float smoothing;
    float* dlogits;
    double* losses;
    std::int32_t* hits;
    SNN2ANN_HOST_DEVICE void operator()(std::size_t n) const {
        const sample_loss s =
            sample_cross_entropy(logits + n * classes, labels[n], classes, batch, smoothing, dlogits + n * classes);
        losses[n] = s.loss;
        hits[n] = s.correct;
    }
};
template <class Device>
void softmax_cross_entropy(const Device& d, const float* logits, const std::int32_t* labels, std::size_t batch,
                           int classes, float smoothing, float* dlogits, double* losses, std::int32_t* hits) {
    d.for_each(batch, softmax_cross_entropy_body{logits, labels, batch, classes, smoothing, dlogits, losses, hits},
               "softmax_cross_entropy");
}

}  // namespace snn2ann::inline v0::detail::cuda_ops
