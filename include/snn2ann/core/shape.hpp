// snn2ann/core: the compile-time shape of one sample (the batch is the only runtime
// dimension). A flat tensor has h == w == 1 and flat == true.
#pragma once

#include <cstddef>

namespace snn2ann::inline v0 {

/// Shape of one sample: channels x height x width, or a flat vector of `c` features.
struct shape {
    int c = 0;          ///< channels (features when flat)
    int h = 1;          ///< height
    int w = 1;          ///< width
    bool flat = false;  ///< a vector of `c` features rather than an image

    /// Floats per sample.
    constexpr std::size_t size() const { return static_cast<std::size_t>(c) * h * w; }
    /// Floats per channel.
    constexpr std::size_t plane() const { return static_cast<std::size_t>(h) * w; }
    /// Equal in every field.
    friend constexpr bool operator==(const shape&, const shape&) = default;
};

constexpr shape image_shape(int c, int h, int w) { return shape{c, h, w, false}; }
constexpr shape flat_shape(int n) { return shape{n, 1, 1, true}; }

}  // namespace snn2ann::inline v0
