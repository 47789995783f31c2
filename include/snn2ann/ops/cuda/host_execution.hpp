// snn2ann/ops/cuda: the host execution of the CUDA backend (execution.hpp). The model,
// layers and kernel bodies of the CUDA backend run here unchanged on the CPU: element
// kernels as oneTBB loops, segment kernels one segment per task with its sums in index
// order (deterministic), "device" memory from the heap. Its GEMMs are cuBLAS's column-major
// sgemm and strided-batched sgemm computed with Eigen, and they check their arguments as
// cuBLAS does (dimensions, leading dimensions, beta == 0 never reads C), so the row-major
// to column-major swaps of the CUDA code are tested wherever this runs. New "device"
// memory is filled with NaN bytes, so a kernel that reads what nothing wrote shows up.
// What only a GPU can check (launch geometry, the block reduction, stream ordering, cuBLAS
// itself, device memory limits, fused multiply-add rounding) is listed in docs/design.md.
#pragma once

#include <Eigen/Core>

#include <cstddef>
#include <cstring>
#include <new>
#include <string>

#include "../../core/error.hpp"
#include "../../core/parallel.hpp"
#include "execution.hpp"

namespace snn2ann::inline v0::detail::cuda_ops {

class host_device {
public:
    static constexpr const char* name = "host execution";
    /// Element kernels run in chunks of at least this many indices.
    static constexpr std::size_t grain = std::size_t{1} << 13;

    static void* allocate(std::size_t bytes) {
        void* p = ::operator new(bytes, std::align_val_t{256});
        std::memset(p, 0xff, bytes);  // NaN floats and doubles, -1 integers: "uninitialised"
        return p;
    }
    static void deallocate(void* p) noexcept { ::operator delete(p, std::align_val_t{256}); }
    static void* allocate_pinned(std::size_t bytes) { return allocate(bytes); }
    static void deallocate_pinned(void* p) noexcept { deallocate(p); }

    void copy(void* to, const void* from, std::size_t bytes) const {
        if (bytes) std::memmove(to, from, bytes);
    }
    void copy_now(void* to, const void* from, std::size_t bytes) const { copy(to, from, bytes); }
    void fill_zero(void* p, std::size_t bytes) const {
        if (bytes) std::memset(p, 0, bytes);
    }
    void synchronize() const {}

    /// Everything before a record() is done when it returns.
    struct event {};
    void record(event&) const {}
    void wait(event&) const {}

    /// TF32 has no meaning here: the host's GEMMs are fp32.
    void allow_tf32(bool on) { tf32_ = on; }
    bool tf32() const { return tf32_; }
    /// Every kernel has finished when its launch returns.
    void synchronize_every_launch(bool) {}

    /// cuBLAS's cublasSgemm: C (m x n) = alpha op(A) op(B) + beta C, column-major.
    void sgemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* a, int lda, const float* b,
               int ldb, float beta, float* c, int ldc) const {
        check_gemm("cublasSgemm", trans_a, trans_b, m, n, k, lda, ldb, ldc);
        multiply(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }
    /// cuBLAS's cublasSgemmStridedBatched: `count` products, the i-th on A + i stride_a,
    /// B + i stride_b, C + i stride_c.
    void sgemm_strided_batched(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* a, int lda,
                               long long stride_a, const float* b, int ldb, long long stride_b, float beta, float* c,
                               int ldc, long long stride_c, int count) const {
        check_gemm("cublasSgemmStridedBatched", trans_a, trans_b, m, n, k, lda, ldb, ldc);
        if (count < 0) refuse("cublasSgemmStridedBatched", "batchCount = " + std::to_string(count) + " < 0");
        for_range(static_cast<std::size_t>(count), 1, [&](std::size_t first, std::size_t last) {
            for (std::size_t i = first; i < last; ++i) {
                const auto at = static_cast<long long>(i);
                multiply(trans_a, trans_b, m, n, k, alpha, a + at * stride_a, lda, b + at * stride_b, ldb, beta,
                         c + at * stride_c, ldc);
            }
        });
    }

    /// body(i) for every i in [0, n).
    template <class Body>
    void for_each(std::size_t n, const Body& body, const char* /*kernel*/) const {
        for_range(n, grain, [&](std::size_t first, std::size_t last) {
            for (std::size_t i = first; i < last; ++i) body(i);
        });
    }
    /// body(s, reducer) for every segment s in [0, segments), each by one task.
    template <class Body>
    void for_each_segment(std::size_t segments, const Body& body, const char* /*kernel*/) const {
        for_range(segments, 1, [&](std::size_t first, std::size_t last) {
            const serial_reducer r;
            for (std::size_t s = first; s < last; ++s) body(s, r);
        });
    }

private:
    [[noreturn]] static void refuse(const char* call, const std::string& why) {
        throw cuda_error(std::string(call) + " failed: CUBLAS_STATUS_INVALID_VALUE (host execution: " + why + ")");
    }
    /// cuBLAS's argument checks: CUBLAS_STATUS_INVALID_VALUE where one fails.
    static void check_gemm(const char* call, bool trans_a, bool trans_b, int m, int n, int k, int lda, int ldb,
                           int ldc) {
        if (m < 0 || n < 0 || k < 0)
            refuse(call, "m, n, k = " + std::to_string(m) + ", " + std::to_string(n) + ", " + std::to_string(k));
        const auto least = [](int v) { return v > 1 ? v : 1; };
        const int need_a = least(trans_a ? k : m), need_b = least(trans_b ? n : k), need_c = least(m);
        if (lda < need_a) refuse(call, "lda = " + std::to_string(lda) + " < " + std::to_string(need_a));
        if (ldb < need_b) refuse(call, "ldb = " + std::to_string(ldb) + " < " + std::to_string(need_b));
        if (ldc < need_c) refuse(call, "ldc = " + std::to_string(ldc) + " < " + std::to_string(need_c));
    }
    static void multiply(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* a, int lda,
                         const float* b, int ldb, float beta, float* c, int ldc) {
        using matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>;
        using stride = Eigen::OuterStride<>;
        if (m == 0 || n == 0) return;
        Eigen::Map<matrix, 0, stride> C(c, m, n, stride(ldc));
        if (beta == 0.0f) C.setZero();  // C is not read: it may hold anything, NaN included
        else if (beta != 1.0f) C *= beta;
        if (k == 0 || alpha == 0.0f) return;
        const Eigen::Map<const matrix, 0, stride> A(a, trans_a ? k : m, trans_a ? m : k, stride(lda));
        const Eigen::Map<const matrix, 0, stride> B(b, trans_b ? n : k, trans_b ? k : n, stride(ldb));
        if (!trans_a && !trans_b) C.noalias() += alpha * (A * B);
        else if (!trans_a) C.noalias() += alpha * (A * B.transpose());
        else if (!trans_b) C.noalias() += alpha * (A.transpose() * B);
        else C.noalias() += alpha * (A.transpose() * B.transpose());
    }

    bool tf32_ = false;
};

}  // namespace snn2ann::inline v0::detail::cuda_ops
