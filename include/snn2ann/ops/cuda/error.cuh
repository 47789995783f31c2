// snn2ann/ops/cuda: every CUDA runtime and cuBLAS call is checked; a failure raises
// snn2ann::cuda_error naming the call and the error (no macros: call sites pass the
// call's name).
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <string>

#include "../../core/error.hpp"

namespace snn2ann::inline v0 {

/// A CUDA runtime or cuBLAS call failed, or no GPU is there to run on.
class cuda_error : public error {
public:
    explicit cuda_error(const std::string& what) : error("snn2ann: " + what) {}
};

namespace detail::cuda_ops {

inline void check(cudaError_t status, const char* call) {
    if (status != cudaSuccess)
        throw cuda_error(std::string(call) + " failed: " + cudaGetErrorName(status) + " (" +
                         cudaGetErrorString(status) + ")");
}
inline void check(cublasStatus_t status, const char* call) {
    if (status != CUBLAS_STATUS_SUCCESS)
        throw cuda_error(std::string(call) + " failed: " + cublasGetStatusName(status) + " (" +
                         cublasGetStatusString(status) + ")");
}
/// After a kernel launch: a bad launch configuration shows up here, not at the launch.
inline void check_launch(const char* kernel) { check(cudaGetLastError(), kernel); }

/// Number of CUDA devices; 0 when there is none or no driver (never throws).
inline int device_count() noexcept {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
        (void)cudaGetLastError();  // clear the sticky "no device" error
        return 0;
    }
    return n;
}
/// Throws a cuda_error that says so when no GPU can run the model.
inline void require_device(const char* who) {
    if (device_count() == 0)
        throw cuda_error(std::string(who) + ": no CUDA device is available (cudaGetDeviceCount found none); "
                         "use the cpu backend on this machine");
}

}  // namespace detail::cuda_ops
}  // namespace snn2ann::inline v0
