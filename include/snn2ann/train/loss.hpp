// snn2ann/train: softmax cross-entropy, mean over the batch.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>

#include "../core/error.hpp"

namespace snn2ann::inline v0 {

/// The loss of a batch and its correct predictions.
struct loss_result {
    double loss = 0.0;        ///< mean cross-entropy over the batch
    std::size_t correct = 0;  ///< samples whose argmax equals the label
};

/// Returns the mean loss and the number of correct argmax predictions; writes
/// dlogits = (softmax - onehot) / batch when dlogits is not null. Throws on a label
/// outside [0, classes).
inline loss_result softmax_cross_entropy(const float* logits, const std::int32_t* labels, std::size_t batch,
                                         int classes, float* dlogits) {
    loss_result r;
    for (std::size_t n = 0; n < batch; ++n) {
        const float* z = logits + n * classes;
        const std::int32_t y = labels[n];
        if (y < 0 || y >= classes)
            throw invalid_argument("softmax_cross_entropy: label " + std::to_string(y) + " of sample " +
                                   std::to_string(n) + " is outside [0, " + std::to_string(classes) + ")");
        int best = 0;
        float zmax = z[0];
        for (int k = 1; k < classes; ++k)
            if (z[k] > zmax) zmax = z[k], best = k;
        double sum = 0.0;
        for (int k = 0; k < classes; ++k) sum += std::exp(static_cast<double>(z[k] - zmax));
        r.loss += std::log(sum) - static_cast<double>(z[y] - zmax);
        r.correct += best == y;
        if (dlogits) {
            float* d = dlogits + n * classes;
            const double inv = 1.0 / (sum * static_cast<double>(batch));
            for (int k = 0; k < classes; ++k)
                d[k] = static_cast<float>(std::exp(static_cast<double>(z[k] - zmax)) * inv);
            d[y] -= 1.0f / static_cast<float>(batch);
        }
    }
    r.loss /= static_cast<double>(batch);
    return r;
}

}  // namespace snn2ann::inline v0
