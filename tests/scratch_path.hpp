// A path in the temporary directory that no other process uses: ctest runs test programs
// side by side, and two of them writing one fixed name is a race that fails at random.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>

namespace snn2ann_test {

inline std::filesystem::path scratch_path(const std::string& name) {
    return std::filesystem::temp_directory_path() / ("snn2ann_" + name + "_" + std::to_string(::getpid()));
}

}  // namespace snn2ann_test
