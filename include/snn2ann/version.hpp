// snn2ann: version of the library and of its ABI namespace.
#pragma once

namespace snn2ann::inline v0 {

/// Semantic version of the library; the inline namespace `v0` changes with the ABI.
struct version_info {
    int major;  ///< incompatible API changes
    int minor;  ///< compatible additions
    int patch;  ///< fixes
};
inline constexpr version_info version{0, 2, 0};

}  // namespace snn2ann::inline v0
