// snn2ann/data: training-time augmentation of a gathered batch, the CIFAR recipe of
// docs/method.md: a random crop of the image padded by `padding` pixels, and a horizontal flip
// with probability 1/2. Draws are a function of (seed, step, sample), so training stays
// reproducible and independent of the thread count.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "../core/buffer.hpp"
#include "../core/error.hpp"
#include "../core/parallel.hpp"
#include "../core/rng.hpp"
#include "../core/shape.hpp"

namespace snn2ann::inline v0::data {

/// Random crop of the image padded by `padding` pixels and random horizontal flip, drawn
/// per sample and epoch from the seed (CIFAR's augmentation, as torchvision's RandomCrop
/// and RandomHorizontalFlip).
struct crop_flip {
    int padding = 4;    ///< pixels of padding on each side
    bool flip = true;   ///< flip half of the images
    /// Value of the padded pixels per channel (empty: 0). For data normalised with
    /// (x - mean) / std, pass -mean / std to pad with black as torchvision does.
    std::vector<float> fill{};

    /// Padding `pad`, flipping if `mirror`, padded pixels `fill_values`.
    explicit crop_flip(int pad = 4, bool mirror = true, std::vector<float> fill_values = {})
        : padding(pad), flip(mirror), fill(std::move(fill_values)) {}

    /// Augments `count` samples of shape s in place.
    void operator()(float* x, std::size_t count, shape s, const snn2ann::detail::counter_rng& rng) const {
        if (s.flat) throw invalid_argument("data::crop_flip: the samples are flat, not images");
        // A sample of frames comes with its frames' channels stacked: the fill values of one
        // frame's channels repeat over the frames.
        if (!fill.empty() && (s.c % static_cast<int>(fill.size()) != 0))
            throw invalid_argument("data::crop_flip: " + std::to_string(fill.size()) + " fill values for " +
                                   std::to_string(s.c) + " channels");
        const int h = s.h, w = s.w, range = 2 * padding + 1;
        const std::size_t plane = static_cast<std::size_t>(h) * w;
        // One copy of the batch, reused from batch to batch: augmenting allocates nothing
        // in the steady state.
        float* source = scratch_.ensure(count * s.size());
        std::copy(x, x + count * s.size(), source);
        snn2ann::detail::for_range(count, 4, [&](std::size_t b0, std::size_t b1) {
            for (std::size_t n = b0; n < b1; ++n) {
                const std::uint64_t bits = rng.bits(n);
                const int dy = static_cast<int>(bits % range) - padding;
                const int dx = static_cast<int>((bits >> 16) % range) - padding;
                const bool mirror = flip && ((bits >> 32) & 1u);
                for (int c = 0; c < s.c; ++c) {
                    float* p = x + (n * s.c + c) * plane;
                    const float* copy = source + (n * s.c + c) * plane;
                    const float pad = fill.empty() ? 0.0f : fill[static_cast<std::size_t>(c) % fill.size()];
                    for (int y = 0; y < h; ++y)
                        for (int xx = 0; xx < w; ++xx) {
                            // output (y, xx) is input (y + dy, x' + dx), x' mirrored when flipping
                            const int sy = y + dy, sx = (mirror ? w - 1 - xx : xx) + dx;
                            p[y * w + xx] = sy >= 0 && sy < h && sx >= 0 && sx < w ? copy[sy * w + sx] : pad;
                        }
                }
            }
        });
    }

private:
    mutable snn2ann::detail::buffer<float> scratch_;  // the batch before augmentation
};

}  // namespace snn2ann::inline v0::data
