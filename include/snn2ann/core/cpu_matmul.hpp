// snn2ann/core: how the CPU backend's convolutions multiply matrices.
//  - fp32 (default): Eigen's single-precision kernel.
//  - amx_split_bf16: Intel AMX tiles (Sapphire Rapids and later, on Linux), each fp32
//    operand split into two bf16 parts and the three significant partial products summed
//    in fp32 (ops/cpu/amx_gemm.hpp): results within about 2^-17 of the fp32 sums, not
//    bit-identical to them, at several times the speed. Spike operands (0 and 1) are
//    bf16 numbers already and need no split.
//  - amx_exact_products: AMX only where a convolution's input is bf16 numbers (spikes,
//    spike counts up to 256, event frames), in its forward pass and its weight gradient:
//    the other operand (weights, output gradients) split into three bf16 parts that sum
//    to it exactly, so every product is exact and only the fp32 sums round, in another
//    order than fp32's (as the event-driven sums do): no accuracy is given up. Every other
//    product (convolutions on images, input gradients, linear layers) runs as fp32.
// The choice is process-wide, like the thread count, and can change between batches.
#pragma once

#include <atomic>

#include "../ops/cpu/amx_gemm.hpp"
#include "error.hpp"

namespace snn2ann::inline v0 {

enum class cpu_matmul { fp32, amx_split_bf16, amx_exact_products };

namespace detail {
inline std::atomic<cpu_matmul>& cpu_matmul_setting() {
    static std::atomic<cpu_matmul> setting{cpu_matmul::fp32};
    return setting;
}
}  // namespace detail

/// Whether this machine can run cpu_matmul::amx_split_bf16 and amx_exact_products (CPU,
/// operating system, build).
inline bool amx_available() { return detail::cpu_ops::amx_available(); }

/// Selects the CPU convolutions' matrix product; throws invalid_argument for either AMX
/// product where amx_available() is false.
inline void use_cpu_matmul(cpu_matmul m) {
    if (m != cpu_matmul::fp32 && !amx_available())
        throw invalid_argument("use_cpu_matmul: AMX (amx-tile, amx-bf16) is not available on this machine");
    detail::cpu_matmul_setting().store(m, std::memory_order_relaxed);
}
inline cpu_matmul current_cpu_matmul() { return detail::cpu_matmul_setting().load(std::memory_order_relaxed); }

/// use_cpu_matmul(m) for the scope's lifetime; the choice before it comes back at the end,
/// also when the scope is left by an exception (as snn2ann::threads does for the count).
class cpu_matmul_scope {
public:
    /// Uses `m` until the scope ends.
    explicit cpu_matmul_scope(cpu_matmul m) : previous_(current_cpu_matmul()) { use_cpu_matmul(m); }
    ~cpu_matmul_scope() { detail::cpu_matmul_setting().store(previous_, std::memory_order_relaxed); }
    cpu_matmul_scope(const cpu_matmul_scope&) = delete;
    cpu_matmul_scope& operator=(const cpu_matmul_scope&) = delete;

private:
    cpu_matmul previous_;
};

}  // namespace snn2ann::inline v0
