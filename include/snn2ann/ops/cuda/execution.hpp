// snn2ann/ops/cuda: what the CUDA backend's kernels and model are written against, and
// the pieces both executions share. A kernel is a body, a __host__ __device__ function
// object of one index (an element kernel: body(i) for i in [0, n)) or of one segment and
// a reducer (body(s, r) for s in [0, segments): per-channel sums, where r.sum(count, g)
// is the sum of g(j) over j in [0, count) in double and r.leader() says which thread
// writes the result). An execution runs the bodies and provides the rest:
//
//   static void* allocate(bytes), deallocate(p); allocate_pinned(bytes), deallocate_pinned(p)
//   void copy(to, from, bytes) const           stream-ordered, any direction
//   void copy_now(to, from, bytes) const       after the stream's work, synchronous
//   void fill_zero(p, bytes) const             stream-ordered
//   void synchronize() const
//   event, record(event&) const, wait(event&) const
//   void sgemm(...) const, sgemm_strided_batched(...) const    column-major, as cuBLAS
//   void for_each(n, body, kernel_name) const, for_each_segment(segments, body, kernel_name) const
//
// Two executions implement it: gpu_device (runtime.cuh: CUDA streams, cuBLAS, grid-stride
// kernels and a block reduction; nvcc only) and host_device (host_execution.hpp: oneTBB,
// Eigen, segments summed in a fixed order; any C++20 compiler). The model, its sequence,
// its layers and the kernel bodies are the same code for both.
#pragma once

#include <atomic>
#include <cstddef>

#include "../../core/host_device.hpp"

namespace snn2ann::inline v0::detail::cuda_ops {

/// The reducer of a segment run by one thread: the sum in index order.
struct serial_reducer {
    template <class G>
    SNN2ANN_HOST_DEVICE double sum(std::size_t count, const G& g) const {
        double s = 0.0;
        for (std::size_t j = 0; j < count; ++j) s += g(j);
        return s;
    }
    SNN2ANN_HOST_DEVICE bool leader() const { return true; }
};

/// *at += v for an integer count, from any thread of either execution (exact in any order).
SNN2ANN_HOST_DEVICE inline void atomic_add(unsigned long long* at, unsigned long long v) {
#if defined(__CUDA_ARCH__)
    atomicAdd(at, v);
#else
    std::atomic_ref<unsigned long long>(*at).fetch_add(v, std::memory_order_relaxed);
#endif
}

/// Index of element j (0 .. batch*plane) of channel c in an NCHW batch.
SNN2ANN_HOST_DEVICE inline std::size_t channel_element(std::size_t j, std::size_t c, std::size_t channels,
                                                       std::size_t plane) {
    const std::size_t n = j / plane;
    return (n * channels + c) * plane + (j - n * plane);
}

}  // namespace snn2ann::inline v0::detail::cuda_ops
