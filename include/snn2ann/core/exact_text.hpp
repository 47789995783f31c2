// snn2ann/core: numbers as text that reads back exactly, for the descriptions that
// checkpoints and training states compare (a layer's eps, an optimiser's betas).
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>

namespace snn2ann::inline v0::detail {

/// A float in the fewest digits that read back as the same float ("0.1", "1e-05").
inline std::string exact_text(float v) {
    char text[32];
    for (int digits = 1; digits <= 9; ++digits) {
        std::snprintf(text, sizeof text, "%.*g", digits, static_cast<double>(v));
        if (std::strtof(text, nullptr) == v) break;
    }
    return text;
}

/// A double in the fewest digits that read back as the same double.
inline std::string exact_text(double v) {
    char text[40];
    for (int digits = 1; digits <= 17; ++digits) {
        std::snprintf(text, sizeof text, "%.*g", digits, v);
        if (std::strtod(text, nullptr) == v) break;
    }
    return text;
}

}  // namespace snn2ann::inline v0::detail
