// snn2ann/core: counter-based random numbers. A value is a pure function of
// (seed, stream, counter), so results do not depend on which thread draws them or in
// which order (docs/design.md, idea 7: deterministic by default).
#pragma once

#include <cmath>
#include <cstdint>

namespace snn2ann::inline v0 {

/// The seed of a model, a data order or a run.
struct seed {
    std::uint64_t value = 0;  ///< the seed
    /// The seed `v`.
    constexpr explicit seed(std::uint64_t v = 0) : value(v) {}
};

namespace detail {

/// SplitMix64 finaliser: a bijective 64-bit mixer with good avalanche.
constexpr std::uint64_t mix64(std::uint64_t z) {
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/// A stream of random numbers keyed by (seed, stream); draw i is independent of draw j.
class counter_rng {
public:
    constexpr counter_rng(std::uint64_t seed, std::uint64_t stream)
        : key_(mix64(seed ^ mix64(stream + 0x632be59bd9b4e019ULL))) {}

    constexpr std::uint64_t bits(std::uint64_t counter) const { return mix64(key_ ^ mix64(counter)); }

    /// Uniform in [0, 1) with 24 random bits (exact in float).
    constexpr float uniform(std::uint64_t counter) const {
        return static_cast<float>(bits(counter) >> 40) * (1.0f / 16777216.0f);
    }
    /// Standard normal by Box-Muller on two independent draws.
    float normal(std::uint64_t counter) const {
        const std::uint64_t b = bits(counter);
        const double u1 = (static_cast<double>(b >> 11) + 1.0) * (1.0 / 9007199254740993.0);
        const double u2 = static_cast<double>(bits(~counter) >> 11) * (1.0 / 9007199254740992.0);
        return static_cast<float>(std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2));
    }
    /// Uniform integer in [0, n) (n > 0), by multiply-shift; bias below 2^-32 for n < 2^32.
    constexpr std::uint64_t below(std::uint64_t counter, std::uint64_t n) const {
        return static_cast<std::uint64_t>((static_cast<unsigned __int128>(bits(counter)) * n) >> 64);
    }

private:
    std::uint64_t key_;
};

/// The library's random streams, one key each, in one table: a stream is
/// counter_rng(seed, key), and a draw's counter says what it is for. The CPU and CUDA
/// paths take the same keys, so they draw the same numbers.
namespace random_stream {
/// A stochastic layer's draws in a training step: the layer's position (layer_context's
/// stream), the step in the bits above 20, and a per-kind key below.
constexpr std::uint64_t layer(std::uint64_t position, std::uint64_t step) { return position ^ (step << 20); }
inline constexpr std::uint64_t dropout = 0;                 ///< dropout<N, D>'s masks: layer(...) ^ dropout
inline constexpr std::uint64_t membrane_dropout = 0x5111;   ///< the SNN pass's membrane dropout
/// Poisson input spikes of a training step: key ^ (step << 8).
inline constexpr std::uint64_t poisson_input = 0xe7c0de00;
constexpr std::uint64_t poisson(std::uint64_t step) { return poisson_input ^ (step << 8); }
/// Augmentation of a training step's batch: key + step.
inline constexpr std::uint64_t augmentation = 0xa0600000;
/// An epoch's shuffled order: key + epoch.
inline constexpr std::uint64_t epoch_order = 0x5eed0000;
/// Event augmentation (data::event_flip_translate): key ^ (epoch << 8).
inline constexpr std::uint64_t event_augmentation = 0xe7e70000;
/// The event emulator's pixel mismatch (the key) and noise (key ^ (sample + 1)).
inline constexpr std::uint64_t event_emulation = 0xdc5a0000;
/// The validation samples data::split_off draws (high bits: no step or position reaches them).
inline constexpr std::uint64_t validation_split = 0x5a11000000000000;
}  // namespace random_stream

}  // namespace detail
}  // namespace snn2ann::inline v0
