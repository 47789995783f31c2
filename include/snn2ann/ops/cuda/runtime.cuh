// snn2ann/ops/cuda: the GPU execution of the CUDA backend (execution.hpp) on the CUDA
// runtime and cuBLAS: one stream per model, a cuBLAS handle bound to it, element bodies
// as grid-stride kernels, segment bodies one block per segment with a fixed-tree block
// reduction (no atomics: the sums do not depend on scheduling). The kernels are templates
// of their bodies, so any number of translation units may include this header. Every
// runtime and cuBLAS call is checked; a failure raises cuda_error naming the call and the
// error. With synchronize_every_launch (or SNN2ANN_CUDA_SYNCHRONIZE=1 in the
// environment) each launch waits for its kernel, so a fault is reported under the name of
// the kernel that caused it rather than at the next synchronisation.
#pragma once

#ifndef __CUDACC__
#error "snn2ann/ops/cuda/runtime.cuh launches CUDA kernels: compile this file with nvcc"
#endif

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <dlfcn.h>

#include <cstddef>
#include <cstdlib>
#include <string>

#include "../../core/error.hpp"
#include "device_choice.hpp"
#include "execution.hpp"

namespace snn2ann::inline v0::detail::cuda_ops {

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

/// Whether the NVIDIA driver's library can be loaded at all.
inline bool driver_installed() {
    void* h = dlopen("libcuda.so.1", RTLD_LAZY | RTLD_LOCAL);
    if (h) dlclose(h);
    return h != nullptr;
}

/// The device count from cudaGetDeviceCount's answer: 0 where the machine has no GPU (no
/// device, or no NVIDIA driver installed at all); any other failure (a driver too old for
/// this CUDA, a broken installation) throws with the error's name, since a machine with
/// a GPU that cannot be used must not look like one without.
inline int device_count_from(cudaError_t status, int count, bool driver_present) {
    if (status == cudaSuccess) return count;
    if (status == cudaErrorNoDevice) return 0;
    if (status == cudaErrorInsufficientDriver && !driver_present) return 0;
    throw cuda_error(std::string("cudaGetDeviceCount failed: ") + cudaGetErrorName(status) + " (" +
                     cudaGetErrorString(status) + ")" +
                     (status == cudaErrorInsufficientDriver
                          ? "; the NVIDIA driver installed is older than this CUDA runtime needs"
                          : ""));
}

/// Number of CUDA devices; 0 where there is no GPU or no driver. Throws where a GPU's
/// driver or the CUDA installation is broken (device_count_from).
inline int device_count() {
    int n = 0;
    const cudaError_t status = cudaGetDeviceCount(&n);
    if (status != cudaSuccess) (void)cudaGetLastError();  // clear the error for later calls
    return device_count_from(status, n, status == cudaErrorInsufficientDriver && driver_installed());
}

inline constexpr int threads_per_block = 256;

/// Blocks for a grid-stride loop over n elements: enough to fill the GPU, never more
/// than the elements need.
inline unsigned blocks_for(std::size_t n) {
    const std::size_t b = (n + threads_per_block - 1) / threads_per_block;
    return static_cast<unsigned>(b < 1 ? 1 : (b > 65535 ? 65535 : b));
}

/// The sum of v over the block (threads_per_block threads); every thread gets it.
__device__ inline double block_sum(double v) {
    __shared__ double partial[threads_per_block];
    partial[threadIdx.x] = v;
    __syncthreads();
    for (unsigned half = threads_per_block / 2; half > 0; half /= 2) {
        if (threadIdx.x < half) partial[threadIdx.x] += partial[threadIdx.x + half];
        __syncthreads();
    }
    const double total = partial[0];
    __syncthreads();  // partial[] is reused by the caller's next sum
    return total;
}

/// The reducer of a segment run by a block: each thread sums a fixed stride of the
/// segment, the block adds the partial sums in a fixed tree.
struct block_reducer {
    template <class G>
    SNN2ANN_HOST_DEVICE double sum(std::size_t count, const G& g) const {
#if defined(__CUDA_ARCH__)
        double s = 0.0;
        for (std::size_t j = threadIdx.x; j < count; j += blockDim.x) s += g(j);
        return block_sum(s);
#else
        return serial_reducer{}.sum(count, g);  // never run: kernels run on the device
#endif
    }
    SNN2ANN_HOST_DEVICE bool leader() const {
#if defined(__CUDA_ARCH__)
        return threadIdx.x == 0;
#else
        return true;
#endif
    }
};

template <class Body>
__global__ void for_each_kernel(Body body, std::size_t n) {
    const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
    for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < n; i += stride) body(i);
}
template <class Body>
__global__ void for_each_segment_kernel(Body body, std::size_t segments) {
    const block_reducer r;
    for (std::size_t s = blockIdx.x; s < segments; s += gridDim.x) body(s, r);
}

class gpu_device {
public:
    static constexpr const char* name = "CUDA runtime";

    /// Binds this thread to the process's GPU (device_for_this_process) and makes the
    /// model's stream and cuBLAS handle there. Throws cuda_error when no GPU is there.
    gpu_device() {
        const int count = device_count();
        if (count == 0)
            throw cuda_error("snn2ann cuda backend: no CUDA device is available (cudaGetDeviceCount found none); "
                             "use the cpu backend on this machine, or cuda_on_host to run the CUDA code on the CPU");
        device_ = device_for_this_process(count);
        check(cudaSetDevice(device_), "cudaSetDevice");
        // A blocking stream: it orders itself with the legacy default stream, so plain
        // cudaMemcpy calls never race its kernels.
        check(cudaStreamCreate(&stream_), "cudaStreamCreate");
        check(cublasCreate(&blas_), "cublasCreate");
        check(cublasSetStream(blas_, stream_), "cublasSetStream");
        const char* sync = std::getenv("SNN2ANN_CUDA_SYNCHRONIZE");
        synchronize_launches_ = sync && *sync && std::string(sync) != "0";
    }
    gpu_device(const gpu_device&) = delete;
    gpu_device& operator=(const gpu_device&) = delete;
    ~gpu_device() {
        (void)cublasDestroy(blas_);
        (void)cudaStreamDestroy(stream_);
    }

    static void* allocate(std::size_t bytes) {
        void* p = nullptr;
        check(cudaMalloc(&p, bytes), "cudaMalloc");
        return p;
    }
    static void deallocate(void* p) noexcept { (void)cudaFree(p); }
    static void* allocate_pinned(std::size_t bytes) {
        void* p = nullptr;
        check(cudaMallocHost(&p, bytes), "cudaMallocHost");
        return p;
    }
    static void deallocate_pinned(void* p) noexcept { (void)cudaFreeHost(p); }

    void copy(void* to, const void* from, std::size_t bytes) const {
        if (bytes) check(cudaMemcpyAsync(to, from, bytes, cudaMemcpyDefault, stream_), "cudaMemcpyAsync");
    }
    void copy_now(void* to, const void* from, std::size_t bytes) const {
        synchronize();
        if (bytes) check(cudaMemcpy(to, from, bytes, cudaMemcpyDefault), "cudaMemcpy");
    }
    void fill_zero(void* p, std::size_t bytes) const {
        if (bytes) check(cudaMemsetAsync(p, 0, bytes, stream_), "cudaMemsetAsync");
    }
    void synchronize() const { check(cudaStreamSynchronize(stream_), "cudaStreamSynchronize"); }

    /// A point in the stream (cudaEvent_t without timing).
    class event {
    public:
        event() { check(cudaEventCreateWithFlags(&e_, cudaEventDisableTiming), "cudaEventCreateWithFlags"); }
        event(const event&) = delete;
        event& operator=(const event&) = delete;
        ~event() { (void)cudaEventDestroy(e_); }
        cudaEvent_t get() const { return e_; }

    private:
        cudaEvent_t e_ = nullptr;
    };
    void record(event& e) const { check(cudaEventRecord(e.get(), stream_), "cudaEventRecord"); }
    void wait(event& e) const { check(cudaEventSynchronize(e.get()), "cudaEventSynchronize"); }

    /// fp32 GEMMs (default) or TF32 tensor-core GEMMs (about 10 mantissa bits per product).
    void allow_tf32(bool on) {
        check(cublasSetMathMode(blas_, on ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH), "cublasSetMathMode");
        tf32_ = on;
    }
    bool tf32() const { return tf32_; }
    /// Each launch waits for its kernel and reports a fault under the kernel's name.
    void synchronize_every_launch(bool on) { synchronize_launches_ = on; }

    void sgemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* a, int lda, const float* b,
               int ldb, float beta, float* c, int ldc) const {
        check(cublasSgemm(blas_, trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, trans_b ? CUBLAS_OP_T : CUBLAS_OP_N, m, n, k,
                          &alpha, a, lda, b, ldb, &beta, c, ldc),
              "cublasSgemm");
        after_launch("cublasSgemm");
    }
    void sgemm_strided_batched(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* a, int lda,
                               long long stride_a, const float* b, int ldb, long long stride_b, float beta, float* c,
                               int ldc, long long stride_c, int count) const {
        check(cublasSgemmStridedBatched(blas_, trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, trans_b ? CUBLAS_OP_T : CUBLAS_OP_N,
                                        m, n, k, &alpha, a, lda, stride_a, b, ldb, stride_b, &beta, c, ldc, stride_c,
                                        count),
              "cublasSgemmStridedBatched");
        after_launch("cublasSgemmStridedBatched");
    }

    template <class Body>
    void for_each(std::size_t n, const Body& body, const char* kernel) const {
        if (n == 0) return;
        for_each_kernel<Body><<<blocks_for(n), threads_per_block, 0, stream_>>>(body, n);
        after_launch(kernel);
    }
    template <class Body>
    void for_each_segment(std::size_t segments, const Body& body, const char* kernel) const {
        if (segments == 0) return;
        const unsigned blocks = static_cast<unsigned>(segments < 65535 ? segments : 65535);
        for_each_segment_kernel<Body><<<blocks, threads_per_block, 0, stream_>>>(body, segments);
        after_launch(kernel);
    }

    cudaStream_t stream() const { return stream_; }
    cublasHandle_t blas() const { return blas_; }
    int device() const { return device_; }

private:
    /// A bad launch shows up here; a fault inside the kernel only at a synchronisation,
    /// which synchronize_every_launch brings here.
    void after_launch(const char* kernel) const {
        check(cudaGetLastError(), kernel);
        if (synchronize_launches_)
            check(cudaStreamSynchronize(stream_), (std::string(kernel) + " (synchronised after launch)").c_str());
    }

    int device_ = 0;
    cudaStream_t stream_ = nullptr;
    cublasHandle_t blas_ = nullptr;
    bool tf32_ = false;
    bool synchronize_launches_ = false;
};

}  // namespace snn2ann::inline v0::detail::cuda_ops
