// A small synthetic classification task shared by the training tests.
#pragma once

#include <cstdint>

#include <snn2ann/snn2ann.hpp>

namespace test {

/// Three classes of 1x12x12 images: a bright top band, a bright left half, or noise only.
inline snn2ann::data::dataset bars(std::size_t n, std::uint64_t seed) {
    snn2ann::data::dataset d;
    d.channels = 1;
    d.height = d.width = 12;
    d.classes = 3;
    const snn2ann::detail::counter_rng rng(seed, 0);
    for (std::size_t i = 0; i < n; ++i) {
        const int label = static_cast<int>(i % 3);
        d.labels.push_back(label);
        for (int y = 0; y < 12; ++y)
            for (int x = 0; x < 12; ++x) {
                float v = 0.3f * rng.uniform(i * 144 + y * 12 + x);
                if ((label == 0 && y < 4) || (label == 1 && x < 6)) v += 0.7f;
                d.images.push_back(v);
            }
    }
    return d;
}

}  // namespace test
