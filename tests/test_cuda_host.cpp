// The CUDA backend's checks (cuda/checks.hpp) on the host execution: the backend's
// model, layers, kernel bodies and GEMM calls run on the CPU, compiled by the host
// compiler, in every CI run. The program is two translation units (this one and
// cuda/second_unit.cpp), as a user's program of several files that use the backend is.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <snn2ann/cuda_on_host.hpp>

using tested = snn2ann::cuda_on_host;
#include "cuda/checks.hpp"

int second_unit_trains();  // cuda/second_unit.cpp

TEST_SUITE("models") {
    TEST_CASE("a second translation unit of the program uses the same backend") { CHECK(second_unit_trains() == 0); }
}
