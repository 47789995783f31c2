// snn2ann/ops/cpu: GEMM with the right-hand operand packed once and reused, for
// convolutions, which multiply the same weights with every image's column matrix.
//
// Eigen's GEMM packs both operands into its kernel's panel layout on every call. A
// convolution calls it once per image with the same weights, so the weights were packed
// T x B times per pass (packing was a tenth of BPTT's time), and every call also
// worked out its cache blocking and allocated its packing buffers anew. Here the weights
// are packed once per pass, in Eigen's own layout, and each image only packs its column
// matrix into caller-provided scratch before Eigen's kernel (gebp) runs: the same kernel,
// blocking and sums as Eigen's GEMM, in the same order.
//
// This uses Eigen's internal product kernels (Eigen/src/Core/products/
// GeneralBlockPanelKernel.h) as Eigen 3.4 defines them; the convolution tests check the
// results against their definitions. Where the library's own kernel runs (sgemm.hpp: a
// CPU with AVX2 and FMA, whatever the compiler flags), the weights are packed in its
// layout instead and each image's columns packed and multiplied by it.
#pragma once

#include <algorithm>
#include <cstddef>

#include <Eigen/Core>

#include "../../core/buffer.hpp"
#include "sgemm.hpp"

namespace snn2ann::inline v0::detail::cpu_ops {

namespace packed_gemm_detail {
using index = Eigen::Index;
using traits = Eigen::internal::gebp_traits<float, float>;
template <int Order>
using operand = Eigen::internal::const_blas_data_mapper<float, index, Order>;
using result = Eigen::internal::blas_data_mapper<float, index, Eigen::ColMajor, Eigen::Unaligned, 1>;
template <int Order>
using pack_lhs = Eigen::internal::gemm_pack_lhs<float, index, operand<Order>, traits::mr, traits::LhsProgress,
                                                typename traits::LhsPacket4Packing, Order>;
template <int Order>
using pack_rhs = Eigen::internal::gemm_pack_rhs<float, index, operand<Order>, traits::nr, Order>;
using kernel = Eigen::internal::gebp_kernel<float, float, index, result, traits::mr, traits::nr, false, false>;
}  // namespace packed_gemm_detail

/// B (depth x cols) packed for C (rows x cols) += A (rows x depth) * B, in Eigen's cache
/// blocking for that shape: slices of kc depths, each in blocks of nc columns.
class packed_rhs {
public:
    using index = Eigen::Index;

    /// Packs B, stored in Order (Eigen::ColMajor or Eigen::RowMajor) with leading
    /// dimension ld, for products with `rows` rows of A.
    template <int Order>
    void pack(const float* b, index ld, index rows, index depth, index cols) {
        depth_ = depth, cols_ = cols;
        own_kernel_ = sgemm_detail::kernel_available();
        if (own_kernel_) {  // C^T = B^T A^T: B^T is the kernel's left operand, packed once
            own_.pack(Order == Eigen::ColMajor ? strided_matrix{b, ld, 1} : strided_matrix{b, 1, ld}, cols, depth);
            return;
        }
        index m = rows;
        kc_ = depth, nc_ = cols;
        Eigen::internal::computeProductBlockingSizes<float, float>(kc_, m, nc_, index{1});
        float* out = packed_.ensure(static_cast<std::size_t>(depth * cols));
        const packed_gemm_detail::operand<Order> rhs(b, ld);
        packed_gemm_detail::pack_rhs<Order> pack;
        for (index k = 0; k < depth; k += kc_) {
            const index kn = std::min(kc_, depth - k);
            for (index j = 0; j < cols; j += nc_) pack(out + block(k, j, kn), rhs.getSubMapper(k, j), kn, std::min(nc_, cols - j));
        }
    }

    /// C (rows x cols, column-major, leading dimension ldc) += A * B with A (rows x depth)
    /// stored in Order with leading dimension lda; `scratch` holds rows x min(depth, kc)
    /// floats for A's packing (scratch_floats).
    template <int Order>
    void multiply(const float* a, index lda, index rows, float* c, index ldc, float* scratch) const {
        if (own_kernel_)
            return own_.multiply(Order == Eigen::ColMajor ? strided_matrix{a, lda, 1} : strided_matrix{a, 1, lda}, rows,
                                 c, ldc, scratch);
        const packed_gemm_detail::operand<Order> lhs(a, lda);
        const packed_gemm_detail::result res(c, ldc);
        packed_gemm_detail::pack_lhs<Order> pack;
        packed_gemm_detail::kernel gebp;
        for (index k = 0; k < depth_; k += kc_) {
            const index kn = std::min(kc_, depth_ - k);
            pack(scratch, lhs.getSubMapper(0, k), kn, rows);
            for (index j = 0; j < cols_; j += nc_)
                gebp(res.getSubMapper(0, j), scratch, packed_.data() + block(k, j, kn), rows, kn,
                     std::min(nc_, cols_ - j), 1.0f);
        }
    }

    /// Scratch floats multiply() needs for A of `rows` rows.
    std::size_t scratch_floats(index rows) const {
        if (own_kernel_) return own_.scratch_floats(rows);
        return static_cast<std::size_t>(rows * std::min(kc_, depth_));
    }

private:
    // Slices before k hold k x cols_ floats; within slice k, blocks before column j hold
    // kn x j floats.
    index block(index k, index j, index kn) const { return k * cols_ + kn * j; }

    buffer<float> packed_;
    index depth_ = 0, cols_ = 0, kc_ = 0, nc_ = 0;
    bool own_kernel_ = false;
    sgemm_packed_lhs own_;
};

}  // namespace snn2ann::inline v0::detail::cpu_ops
