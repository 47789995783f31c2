// The CUDA backend's checks (cuda/checks.hpp) on a GPU, compiled by nvcc: what the host
// execution (test_cuda_host) cannot check, launch geometry, the block reduction, stream
// ordering, cuBLAS itself and the device's rounding, plus a fault reported under the
// kernel's name. Without a GPU the program exits with 77, which ctest reports as
// skipped; what needs no GPU (the device query's errors, the no-GPU error) is the test
// cuda.runtime (test_cuda_runtime.cu).
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>

#include <snn2ann/cuda.cuh>

using tested = snn2ann::cuda;
#include "cuda/checks.hpp"

int second_unit_trains();  // cuda/second_unit.cu

TEST_SUITE("models") {
    TEST_CASE("a second translation unit of the program uses the same backend") { CHECK(second_unit_trains() == 0); }
}

namespace {
/// Writes through a null pointer: a fault inside the kernel.
struct faulting_body {
    float* p;
    __host__ __device__ void operator()(std::size_t i) const { p[i * 1024 * 1024] = 1.0f; }
};
}  // namespace

TEST_SUITE("kernels") {
    TEST_CASE("synchronize_every_launch: a kernel's fault is reported under its name") {
        // Last: a fault leaves the CUDA context unusable for the rest of the process.
        snn2ann::detail::cuda_ops::gpu_device d;
        d.synchronize_every_launch(true);
        CHECK_THROWS_WITH_AS(d.for_each(1 << 20, faulting_body{nullptr}, "faulting_kernel"),
                             doctest::Contains("faulting_kernel (synchronised after launch) failed"),
                             snn2ann::cuda_error);
    }
}

int main(int argc, char** argv) {
    if (snn2ann::detail::cuda_ops::device_count() == 0) {
        std::puts("test_cuda: no CUDA device here; the GPU checks are skipped (cuda.host ran them on the host execution)");
        return 77;  // ctest: SKIP_RETURN_CODE
    }
    doctest::Context context(argc, argv);
    context.setOption("order-by", "file");  // the faulting kernel last
    return context.run();
}
