// snn2ann/ops/cpu: event-driven currents of a convolution or an affine layer whose input is
// mostly zeros (spikes): the weights of the nonzero inputs are added to the outputs they
// reach, so the work follows the spikes instead of the input's size. The inference engine
// runs its layers on spikes so, and the SNN branch of training its convolutions
// (ops/cpu/conv.hpp), each choosing per image between this and the dense product by the
// fraction of its inputs that are nonzero.
//
// The sums: each output is bias + the sum of its nonzero terms (weight x input). The dense
// product adds the same terms (a zero input adds an exact zero), grouped in its kernel's
// order; here a convolution groups them by input pixel (the pixel's channels first), an
// affine layer adds them in the inputs' order. The two agree within the float sums'
// rounding, not to the bit (tests/test_layers.cpp checks both against double sums).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include <array>
#include <utility>

#include <Eigen/Core>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#endif

#include "cpu_features.hpp"
#include "im2col.hpp"

namespace snn2ann::inline v0::detail::cpu_ops {

/// Output channels a convolution's event-driven sums take at a time, from channel q0 of
/// oc: 64, 32 or 16 (whole vector registers, kept in them), else the rest (plain loops).
constexpr std::size_t event_block_width(std::size_t q0, std::size_t oc) {
    const std::size_t rest = oc - q0;
    return rest >= 64 ? 64 : rest >= 32 ? 32 : rest >= 16 ? 16 : rest;
}

/// The weights as the event-driven sums of an affine layer read them: row r (input r of an affine layer, or
/// (c, kh, kw) of a convolution) holds its weight to every output, contiguous. `w` is
/// outputs x per (row-major, the layers' own layout); `s` gets per x outputs.
inline void scatter_weights(const float* w, std::size_t outputs, std::size_t per, float* s) {
    for (std::size_t r = 0; r < per; ++r)
        for (std::size_t o = 0; o < outputs; ++o) s[r * outputs + o] = w[o * per + r];
}

/// The weights as conv_events reads them: for each block of output channels
/// (event_block_width), row r = (c, kh, kw) holds its weights to the block's channels,
/// contiguous, and one block's rows are one run of memory. `w` is oc x per (row-major);
/// `s` gets oc x per floats.
inline void conv_scatter_weights(const float* w, std::size_t oc, std::size_t per, float* s) {
    for (std::size_t q0 = 0, width = 0; q0 < oc; q0 += width) {
        width = event_block_width(q0, oc);
        float* block = s + q0 * per;
        for (std::size_t r = 0; r < per; ++r)
            for (std::size_t q = 0; q < width; ++q) block[r * width + q] = w[(q0 + q) * per + r];
    }
}

/// An image's nonzero inputs pixel by pixel, as conv_events reads them: pixel p = y w + x
/// has count[p] of them (h w entries), whose channels are channel[p c ...] in increasing
/// order (c h w entries). Returns how many there are in all; `binary` tells whether every
/// one is 1 (spikes).
inline std::size_t active_channels(const conv_geometry& g, const float* in, std::uint32_t* count,
                                   std::uint32_t* channel, bool& binary) {
    const std::size_t plane = static_cast<std::size_t>(g.h) * g.w, channels = static_cast<std::size_t>(g.c);
    std::fill(count, count + plane, 0u);
    bool ones = true;
    for (std::size_t c = 0; c < channels; ++c) {
        const float* xc = in + c * plane;
        for (std::size_t p = 0; p < plane; ++p) {  // branch-free compaction
            const float v = xc[p];
            channel[p * channels + count[p]] = static_cast<std::uint32_t>(c);
            count[p] += v != 0.0f;
            ones &= v == 0.0f || v == 1.0f;
        }
    }
    std::size_t total = 0;
    for (std::size_t p = 0; p < plane; ++p) total += count[p];
    binary = ones;
    return total;
}
/// The nonzero entries of in[0, n), in order; `list` holds n entries. Returns how many.
inline std::uint32_t active_entries(const float* in, std::size_t n, std::uint32_t* list) {
    std::uint32_t count = 0;
    for (std::size_t i = 0; i < n; ++i) {
        list[count] = static_cast<std::uint32_t>(i);
        count += in[i] != 0.0f;
    }
    return count;
}

/// dst[0, n) += v * src[0, n): one input's weights into the outputs it reaches, contiguous
/// and unaliased, so it vectorises.
inline void accumulate(float* __restrict dst, const float* __restrict src, std::size_t n, float v) {
    if (v == 1.0f) {
        for (std::size_t q = 0; q < n; ++q) dst[q] += src[q];
    } else {
        for (std::size_t q = 0; q < n; ++q) dst[q] += v * src[q];
    }
}

/// y[0, outs) = bias + the sum over the `count` nonzero inputs `active` of x[i] * s[i]
/// (s: scatter_weights of the layer). `bias` may be null (zero).
inline void affine_events(const float* s, const float* bias, std::size_t outs, const float* x,
                          const std::uint32_t* active, std::size_t count, float* y) {
    std::fill(y, y + outs, 0.0f);
    for (std::size_t a = 0; a < count; ++a) accumulate(y, s + active[a] * outs, outs, x[active[a]]);
    if (bias)
        for (std::size_t o = 0; o < outs; ++o) y[o] = bias[o] + y[o];
}

namespace event_detail {
using packet = Eigen::internal::packet_traits<float>::type;
inline constexpr std::size_t lanes = static_cast<std::size_t>(Eigen::internal::packet_traits<float>::size);
/// The most taps (kernel positions) the AVX2 blocks list per pixel: kernels up to 16 x 16.
inline constexpr std::size_t max_event_taps = 256;

/// Calls tap(out, t) for each output `out` that input pixel (iy, ix) reaches through kernel
/// tap t = ky k + kx, in increasing t.
template <class Tap>
inline void for_each_tap(const conv_geometry& g, int iy, int ix, Tap&& tap) {
    if (g.stride == 1) {
        // oy = iy + pad - ky in [0, oh): ky in [iy + pad - oh + 1, iy + pad], likewise kx
        // (no division).
        const int ky0 = std::max(0, iy + g.pad - g.oh + 1), ky1 = std::min(g.k - 1, iy + g.pad);
        const int kx0 = std::max(0, ix + g.pad - g.ow + 1), kx1 = std::min(g.k - 1, ix + g.pad);
        for (int ky = ky0; ky <= ky1; ++ky)
            for (int kx = kx0; kx <= kx1; ++kx)
                tap(static_cast<std::size_t>(iy + g.pad - ky) * g.ow + static_cast<std::size_t>(ix + g.pad - kx),
                    static_cast<std::size_t>(ky * g.k + kx));
        return;
    }
    for (int ky = 0; ky < g.k; ++ky) {
        const int ty = iy + g.pad - ky;
        if (ty < 0 || ty % g.stride || ty / g.stride >= g.oh) continue;
        for (int kx = 0; kx < g.k; ++kx) {
            const int tx = ix + g.pad - kx;
            if (tx < 0 || tx % g.stride || tx / g.stride >= g.ow) continue;
            tap(static_cast<std::size_t>(ty / g.stride) * g.ow + static_cast<std::size_t>(tx / g.stride),
                static_cast<std::size_t>(ky * g.k + kx));
        }
    }
}

/// One block of Width output channels (a multiple of the vector width, or 0: `width`, in
/// plain loops): for each pixel with nonzero inputs and each output a tap of it reaches,
/// the weights of the pixel's nonzero channels are summed in registers, then added to the
/// output's sums in acc ([plane][width]) once.
template <std::size_t Width, bool Binary>
inline void conv_events_block(const conv_geometry& g, const float* block, std::size_t width, const float* x,
                              const std::uint32_t* count, const std::uint32_t* channel, float* acc) {
    const std::size_t plane = static_cast<std::size_t>(g.h) * g.w, channels = static_cast<std::size_t>(g.c);
    const std::size_t taps = static_cast<std::size_t>(g.k) * g.k;
    std::fill(acc, acc + g.out_plane() * width, 0.0f);
    for (int iy = 0; iy < g.h; ++iy)
        for (int ix = 0; ix < g.w; ++ix) {
            const std::size_t p = static_cast<std::size_t>(iy) * g.w + ix, n = count[p];
            if (n == 0) continue;
            const std::uint32_t* cs = channel + p * channels;
            for_each_tap(g, iy, ix, [&](std::size_t out, std::size_t t) {
                float* o = acc + out * width;
                if constexpr (Width > 0) {
                    constexpr std::size_t vectors = Width / lanes;
                    packet sum[vectors];
                    for (std::size_t j = 0; j < vectors; ++j) sum[j] = Eigen::internal::pset1<packet>(0.0f);
                    for (std::size_t a = 0; a < n; ++a) {
                        const float* w = block + (cs[a] * taps + t) * Width;
                        if constexpr (Binary) {
                            for (std::size_t j = 0; j < vectors; ++j)
                                sum[j] = Eigen::internal::padd(sum[j], Eigen::internal::ploadu<packet>(w + j * lanes));
                        } else {
                            const packet v = Eigen::internal::pset1<packet>(x[cs[a] * plane + p]);
                            for (std::size_t j = 0; j < vectors; ++j)
                                sum[j] = Eigen::internal::pmadd(v, Eigen::internal::ploadu<packet>(w + j * lanes), sum[j]);
                        }
                    }
                    for (std::size_t j = 0; j < vectors; ++j)
                        Eigen::internal::pstoreu(o + j * lanes, Eigen::internal::padd(Eigen::internal::ploadu<packet>(o + j * lanes), sum[j]));
                } else {
                    for (std::size_t q = 0; q < width; ++q) {
                        float sum = 0.0f;
                        for (std::size_t a = 0; a < n; ++a) sum += x[cs[a] * plane + p] * block[(cs[a] * taps + t) * width + q];
                        o[q] += sum;
                    }
                }
            });
        }
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
/// The (output, tap) pairs input pixel (iy, ix) reaches, in for_each_tap's order; returns
/// how many. The vector versions below list a pixel's taps first, then sum: a lambda called
/// by for_each_tap would not inherit their target.
using reached_taps = std::array<std::pair<std::uint32_t, std::uint32_t>, max_event_taps>;
inline std::size_t list_taps(const conv_geometry& g, int iy, int ix, reached_taps& reached) {
    std::size_t r = 0;
    for_each_tap(g, iy, ix, [&](std::size_t out, std::size_t t) {
        reached[r++] = {static_cast<std::uint32_t>(out), static_cast<std::uint32_t>(t)};
    });
    return r;
}

/// The block's loop over input pixels, written once for the vector versions: for each
/// pixel with nonzero inputs, `pixel(p, channels, n, reached, r)` adds the weights of its n
/// nonzero channels for each of the r (output, tap) pairs it reaches to acc. The vector
/// versions' sums are functions with their own target, called once per pixel.
template <std::size_t Width, class Pixel>
void for_each_active_pixel(const conv_geometry& g, const std::uint32_t* count, const std::uint32_t* channel,
                           float* acc, Pixel&& pixel) {
    const std::size_t channels = static_cast<std::size_t>(g.c);
    std::fill(acc, acc + g.out_plane() * Width, 0.0f);
    reached_taps reached;
    for (int iy = 0; iy < g.h; ++iy)
        for (int ix = 0; ix < g.w; ++ix) {
            const std::size_t p = static_cast<std::size_t>(iy) * g.w + ix, n = count[p];
            if (n == 0) continue;
            pixel(p, channel + p * channels, n, reached, list_taps(g, iy, ix, reached));
        }
}

/// One pixel's sums (for_each_active_pixel) in AVX2 and FMA, whatever the program's flags:
/// a program built for baseline x86-64 (Eigen's packets of 4) sums as a native build does
/// (packets of 8, fused multiply-adds), where the CPU has them. `x` points at the pixel's
/// first channel (channels `plane` apart), `block` at the block's scattered weights.
template <std::size_t Width, bool Binary>
[[gnu::target("avx2,fma")]] void pixel_sums_avx2(const float* block, std::size_t taps, const float* x,
                                                 std::size_t plane, const std::uint32_t* cs, std::size_t n,
                                                 const reached_taps& reached, std::size_t r, float* acc) {
    constexpr std::size_t vectors = Width / 8;
    for (std::size_t k = 0; k < r; ++k) {
        float* o = acc + reached[k].first * Width;
        const std::size_t t = reached[k].second;
        __m256 sum[vectors];
        for (std::size_t j = 0; j < vectors; ++j) sum[j] = _mm256_setzero_ps();
        for (std::size_t a = 0; a < n; ++a) {
            const float* w = block + (cs[a] * taps + t) * Width;
            if constexpr (Binary) {
                for (std::size_t j = 0; j < vectors; ++j) sum[j] = _mm256_add_ps(sum[j], _mm256_loadu_ps(w + 8 * j));
            } else {
                const __m256 v = _mm256_set1_ps(x[cs[a] * plane]);
                for (std::size_t j = 0; j < vectors; ++j) sum[j] = _mm256_fmadd_ps(v, _mm256_loadu_ps(w + 8 * j), sum[j]);
            }
        }
        for (std::size_t j = 0; j < vectors; ++j) _mm256_storeu_ps(o + 8 * j, _mm256_add_ps(_mm256_loadu_ps(o + 8 * j), sum[j]));
    }
}

/// The same in AVX-512 where the CPU has it (half the loads and adds; a native build on
/// such a CPU gets it from Eigen's packets of 16). Each lane does what the AVX2 version's
/// does, so the sums have the same bits.
template <std::size_t Width, bool Binary>
[[gnu::target("avx512f")]] void pixel_sums_avx512(const float* block, std::size_t taps, const float* x,
                                                  std::size_t plane, const std::uint32_t* cs, std::size_t n,
                                                  const reached_taps& reached, std::size_t r, float* acc) {
    constexpr std::size_t vectors = Width / 16;
    for (std::size_t k = 0; k < r; ++k) {
        float* o = acc + reached[k].first * Width;
        const std::size_t t = reached[k].second;
        __m512 sum[vectors];
        for (std::size_t j = 0; j < vectors; ++j) sum[j] = _mm512_setzero_ps();
        for (std::size_t a = 0; a < n; ++a) {
            const float* w = block + (cs[a] * taps + t) * Width;
            if constexpr (Binary) {
                for (std::size_t j = 0; j < vectors; ++j) sum[j] = _mm512_add_ps(sum[j], _mm512_loadu_ps(w + 16 * j));
            } else {
                const __m512 v = _mm512_set1_ps(x[cs[a] * plane]);
                for (std::size_t j = 0; j < vectors; ++j) sum[j] = _mm512_fmadd_ps(v, _mm512_loadu_ps(w + 16 * j), sum[j]);
            }
        }
        for (std::size_t j = 0; j < vectors; ++j)
            _mm512_storeu_ps(o + 16 * j, _mm512_add_ps(_mm512_loadu_ps(o + 16 * j), sum[j]));
    }
}

/// conv_events_block<Width, Binary> (Width 16, 32 or 64) with the pixels' sums in AVX2
/// (Lanes 8) or AVX-512 (Lanes 16): the CPU must have the instructions.
template <std::size_t Lanes, std::size_t Width, bool Binary>
void conv_events_block_vector(const conv_geometry& g, const float* block, const float* x, const std::uint32_t* count,
                              const std::uint32_t* channel, float* acc) {
    static_assert(Lanes == 8 || Lanes == 16, "the vector blocks are AVX2's (8 lanes) or AVX-512's (16)");
    const std::size_t plane = static_cast<std::size_t>(g.h) * g.w, taps = static_cast<std::size_t>(g.k) * g.k;
    for_each_active_pixel<Width>(g, count, channel, acc,
                                 [&](std::size_t p, const std::uint32_t* cs, std::size_t n, const reached_taps& reached,
                                     std::size_t r) {
                                     if constexpr (Lanes == 16)
                                         pixel_sums_avx512<Width, Binary>(block, taps, x + p, plane, cs, n, reached, r, acc);
                                     else
                                         pixel_sums_avx2<Width, Binary>(block, taps, x + p, plane, cs, n, reached, r, acc);
                                 });
}
#endif

/// The blocks conv_events takes: AVX-512's or AVX2's where the program's own packets are
/// narrower and the CPU has the instructions (and the kernel's taps fit the list), else
/// the program's own (0).
inline unsigned event_block_lanes(const conv_geometry& g) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    if (static_cast<std::size_t>(g.k) * g.k > max_event_taps) return 0;
    if (lanes < 16 && cpu_has_avx512f()) return 16;
    if (lanes < 8 && cpu_has_avx2_fma()) return 8;
#else
    (void)g;
#endif
    return 0;
}
}  // namespace event_detail

/// One image's convolution (geometry g) from its nonzero inputs (active_channels: `count`,
/// `channel`, `binary`): y (oc x plane) = bias + the weights each nonzero input's taps reach,
/// times the input. `s` is conv_scatter_weights of the (oc x c k k) weights, `acc` scratch of
/// out_plane() x 64 floats. Block by block of output channels, pixel by pixel: the weights of
/// a pixel's nonzero channels for one tap are summed in vector registers and added to the
/// output the tap reaches once, not once per channel (the sums' stores were the bound).
inline void conv_events(const conv_geometry& g, const float* s, const float* bias, const float* x,
                        const std::uint32_t* count, const std::uint32_t* channel, bool binary, float* acc, float* y) {
    const std::size_t oc = static_cast<std::size_t>(g.oc), plane = g.out_plane(), per = g.col_rows();
    [[maybe_unused]] const unsigned vector_lanes = event_detail::event_block_lanes(g);
    for (std::size_t q0 = 0, width = 0; q0 < oc; q0 += width) {
        width = event_block_width(q0, oc);
        const float* block = s + q0 * per;
        const auto run = [&]<std::size_t Width>() {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
            if constexpr (Width > 0) {
                namespace ev = event_detail;
                if (vector_lanes == 16) {
                    if (binary) ev::conv_events_block_vector<16, Width, true>(g, block, x, count, channel, acc);
                    else ev::conv_events_block_vector<16, Width, false>(g, block, x, count, channel, acc);
                    return;
                }
                if (vector_lanes == 8) {
                    if (binary) ev::conv_events_block_vector<8, Width, true>(g, block, x, count, channel, acc);
                    else ev::conv_events_block_vector<8, Width, false>(g, block, x, count, channel, acc);
                    return;
                }
            }
#endif
            if (binary) event_detail::conv_events_block<Width, true>(g, block, width, x, count, channel, acc);
            else event_detail::conv_events_block<Width, false>(g, block, width, x, count, channel, acc);
        };
        constexpr std::size_t lanes = event_detail::lanes;
        if (width == 64 && 64 % lanes == 0) run.template operator()<64>();
        else if (width == 32 && 32 % lanes == 0) run.template operator()<32>();
        else if (width == 16 && 16 % lanes == 0) run.template operator()<16>();
        else run.template operator()<0>();
        // [plane][block] -> [block's channels][plane], with the bias.
        for (std::size_t q = 0; q < width; ++q) {
            const float b = bias ? bias[q0 + q] : 0.0f;
            float* yq = y + (q0 + q) * plane;
            for (std::size_t p = 0; p < plane; ++p) yq[p] = b + acc[p * width + q];
        }
    }
}

}  // namespace snn2ann::inline v0::detail::cpu_ops
