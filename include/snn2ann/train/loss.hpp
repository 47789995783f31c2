// snn2ann/train: softmax cross-entropy, mean over the batch, with optional label smoothing.
// The per-sample formula is one function that the CPU loss and the CUDA backend's loss
// kernel (ops/cuda/loss.hpp) both call.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>

#include "../core/error.hpp"
#include "../core/exact_text.hpp"
#include "../core/host_device.hpp"

namespace snn2ann::inline v0 {

/// The loss of a batch and its correct predictions.
struct loss_result {
    double loss = 0.0;        ///< mean cross-entropy over the batch
    std::size_t correct = 0;  ///< samples whose argmax equals the label
};

namespace detail {
/// One sample's loss and whether its argmax is its label.
struct sample_loss {
    double loss;
    bool correct;
};

/// The cross-entropy of one sample's `classes` logits z against the target distribution
/// (1 - smoothing) onehot(y) + smoothing / classes (label smoothing as torch's
/// CrossEntropyLoss(label_smoothing) defines it; 0: the one-hot label), and its gradient
/// d = (softmax(z) - target) / batch. Computed against the largest logit, sums in double.
/// With smoothing 0 the extra terms are skipped, so results are those of the plain loss
/// to the bit.
SNN2ANN_HOST_DEVICE inline sample_loss sample_cross_entropy(const float* z, std::int32_t y, int classes, std::size_t batch,
                                                            float smoothing, float* d) {
    int best = 0;
    float zmax = z[0];
    for (int k = 1; k < classes; ++k)
        if (z[k] > zmax) zmax = z[k], best = k;
    double sum = 0.0;
    for (int k = 0; k < classes; ++k) sum += exp(static_cast<double>(z[k] - zmax));
    double loss = log(sum) - static_cast<double>(z[y] - zmax);
    if (smoothing != 0.0f) {
        // -sum_k target_k log p_k = log(sum) - (1 - s) z'_y - (s / K) sum_k z'_k, z' = z - zmax
        double shifted = 0.0;
        for (int k = 0; k < classes; ++k) shifted += static_cast<double>(z[k] - zmax);
        loss += static_cast<double>(smoothing) * (static_cast<double>(z[y] - zmax) - shifted / classes);
    }
    if (d) {
        const double inv = 1.0 / (sum * static_cast<double>(batch));
        const float spread = smoothing / (static_cast<float>(classes) * static_cast<float>(batch));
        for (int k = 0; k < classes; ++k) {
            d[k] = static_cast<float>(exp(static_cast<double>(z[k] - zmax)) * inv);
            if (smoothing != 0.0f) d[k] -= spread;
        }
        d[y] -= (1.0f - smoothing) / static_cast<float>(batch);
    }
    return {loss, best == y};
}

/// Throws unless 0 <= smoothing < 1 (names `who`).
inline void check_label_smoothing(float smoothing, const char* who) {
    if (!(smoothing >= 0.0f && smoothing < 1.0f))
        throw invalid_argument(std::string(who) + ": label smoothing must be in [0, 1), got " + exact_text(smoothing));
}
/// ", label smoothing s" where s is not 0, for a rule's describe() (states saved before the
/// option existed name none and resume).
inline std::string label_smoothing_text(float smoothing) {
    return smoothing != 0.0f ? ", label smoothing " + exact_text(smoothing) : std::string();
}
}  // namespace detail

/// Returns the mean loss and the number of correct argmax predictions; writes
/// dlogits = (softmax - target) / batch when dlogits is not null. The target is the
/// one-hot label, or with `label_smoothing` s the label's 1 - s plus s / classes on every
/// class. Throws on a label outside [0, classes) or a smoothing outside [0, 1).
inline loss_result softmax_cross_entropy(const float* logits, const std::int32_t* labels, std::size_t batch,
                                         int classes, float* dlogits, float label_smoothing = 0.0f) {
    detail::check_label_smoothing(label_smoothing, "softmax_cross_entropy");
    loss_result r;
    for (std::size_t n = 0; n < batch; ++n) {
        const std::int32_t y = labels[n];
        if (y < 0 || y >= classes)
            throw invalid_argument("softmax_cross_entropy: label " + std::to_string(y) + " of sample " +
                                   std::to_string(n) + " is outside [0, " + std::to_string(classes) + ")");
        const detail::sample_loss s = detail::sample_cross_entropy(logits + n * classes, y, classes, batch, label_smoothing,
                                                                    dlogits ? dlogits + n * classes : nullptr);
        r.loss += s.loss;
        r.correct += s.correct;
    }
    r.loss /= static_cast<double>(batch);
    return r;
}

}  // namespace snn2ann::inline v0
