// The CUDA runtime execution where no GPU is needed: how the device query's answers are
// read (a machine without a GPU reports none; a driver too old or a broken install fails
// with the error's name instead of looking like a machine without a GPU) and what a user
// without a GPU sees when a model asks for one.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <string>

#include <snn2ann/cuda.cuh>

namespace {
using net = snn2ann::network<snn2ann::input<1, 4, 4>, snn2ann::flatten, snn2ann::linear<2>>;
namespace cuda_ops = snn2ann::detail::cuda_ops;
}  // namespace

TEST_CASE("the device query: no GPU is zero devices, a broken driver an error that names it") {
    CHECK(cuda_ops::device_count_from(cudaSuccess, 3, true) == 3);
    CHECK(cuda_ops::device_count_from(cudaErrorNoDevice, 0, true) == 0);
    CHECK(cuda_ops::device_count_from(cudaErrorInsufficientDriver, 0, false) == 0);  // no driver installed at all
    CHECK_THROWS_WITH_AS(cuda_ops::device_count_from(cudaErrorInsufficientDriver, 0, true),
                         doctest::Contains("cudaGetDeviceCount failed: cudaErrorInsufficientDriver"),
                         snn2ann::cuda_error);
    CHECK_THROWS_WITH_AS(cuda_ops::device_count_from(cudaErrorNotPermitted, 0, true),
                         doctest::Contains("cudaErrorNotPermitted"), snn2ann::cuda_error);
    CHECK_THROWS_AS(cuda_ops::device_count_from(cudaErrorUnknown, 0, false), snn2ann::cuda_error);
}

TEST_CASE("a model on a machine without a GPU: a clear error; the same model on the host execution runs") {
    if (cuda_ops::device_count() > 0) return;  // a GPU is here: test_cuda runs the models
    try {
        snn2ann::model<net, snn2ann::cuda> m;
        FAIL("a cuda model was created without a GPU");
    } catch (const snn2ann::cuda_error& e) {
        CHECK(std::string(e.what()).find("no CUDA device is available") != std::string::npos);
    }
    snn2ann::model<net, snn2ann::cuda_on_host> h{snn2ann::seed{1}};
    CHECK(h.parameters_on_host().size() == h.param_count);
}
