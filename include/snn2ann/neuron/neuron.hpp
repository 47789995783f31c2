// snn2ann/neuron: spiking neuron models as compile-time policies (docs/method.md, "Neurons").
//   V[t] = decay * U[t-1] + I[t]     (IF: decay 1; LIF: decay 1 - 1/tau; PLIF: tau trained)
//   s[t] = 1[V[t] > Vth]             (or >= with firing::inclusive)
//   U[t] = V[t] (1 - s[t])           (reset::to_zero) or V[t] - s[t] Vth (reset::by_subtraction)
// Membranes start at 0 for every sample. Thresholds are per neuron, initialised uniform
// [0, 1) by default or to a constant, and changed only by the training rule (ATA).
#pragma once

#include <cmath>
#include <concepts>
#include <cstdint>
#include <string>

#include "../core/rng.hpp"

namespace snn2ann::inline v0 {

/// What a spike does to the membrane: set it to 0, or subtract the threshold.
enum class reset { to_zero, by_subtraction };
/// When a neuron fires: V > Vth (strict), or V >= Vth (inclusive).
enum class firing { strict, inclusive };

/// Per-neuron thresholds drawn i.i.d. uniform in [0, 1) (the reference's default).
struct uniform_threshold {
    /// The threshold of neuron `i`.
    static float initial(const detail::counter_rng& rng, std::uint64_t i) { return rng.uniform(i); }
};
/// Every threshold starts at Num / Den (e.g. constant_threshold<1> for 1.0).
template <int Num, int Den = 1>
struct constant_threshold {
    static_assert(Num > 0 && Den > 0, "snn2ann::constant_threshold<Num, Den>: the threshold must be positive");
    /// Num / Den for every neuron.
    static float initial(const detail::counter_rng&, std::uint64_t) {
        return static_cast<float>(Num) / static_cast<float>(Den);
    }
};

namespace detail {
template <int DecayNum, int DecayDen, reset Reset, firing Firing, class Threshold, int MembraneDropoutPercent>
struct neuron_model {
    static_assert(MembraneDropoutPercent >= 0 && MembraneDropoutPercent < 100,
                  "snn2ann neuron: the membrane dropout percentage must lie in [0, 100)");
    static constexpr float decay = static_cast<float>(DecayNum) / static_cast<float>(DecayDen);
    /// The time constant tau of decay = 1 - 1/tau in steps (1 for IF, which does not leak).
    static constexpr int time_constant = DecayDen;
    static constexpr reset reset_mode = Reset;
    static constexpr firing firing_mode = Firing;
    /// Training-only dropout on the residual membrane U[t] (inverted scaling).
    static constexpr float membrane_dropout = static_cast<float>(MembraneDropoutPercent) / 100.0f;
    /// Membrane dropout draws `dropout_draw_bits`-bit uniform integers, 64 / bits of them per
    /// hash (draw `at` is field at % per_word of hash at / per_word), and drops the membrane
    /// when the draw is below `dropout_drop_below`. The fewest bits that make P(drop)
    /// exactly p: one for the default p = 0.5, two for 0.25 and 0.75, else sixteen (p to
    /// within 2^-17). Hashing is most of the SNN pass's neuron cost, so bits are not wasted.
    static constexpr int dropout_draw_bits =
        MembraneDropoutPercent % 50 == 0 ? 1 : MembraneDropoutPercent % 25 == 0 ? 2 : 16;
    static constexpr std::uint64_t dropout_draws_per_word = 64 / dropout_draw_bits;
    static constexpr std::uint64_t dropout_drop_below =
        (static_cast<std::uint64_t>(MembraneDropoutPercent) * (std::uint64_t{1} << dropout_draw_bits) + 50) / 100;
    /// Whether draw `at`, a field of the hash `word`, drops the membrane.
    static constexpr bool dropout_drops(std::uint64_t word, std::uint64_t at) {
        return dropout_field_drops(word, at % dropout_draws_per_word);
    }
    /// Whether field k (< dropout_draws_per_word) of the hash `word` drops the membrane.
    static constexpr bool dropout_field_drops(std::uint64_t word, std::uint64_t k) {
        const auto field = (word >> (dropout_draw_bits * k)) & ((std::uint64_t{1} << dropout_draw_bits) - 1);
        return field + 1 <= dropout_drop_below;  // field < below, without a pointless compare at p = 0
    }
    /// Whether membrane dropout drops draw `at` of the stream `rng` (the definition; the CPU
    /// loop hashes each word once for its per_word draws).
    static constexpr bool membrane_dropped(const counter_rng& rng, std::uint64_t at) {
        return dropout_drops(rng.bits(at / dropout_draws_per_word), at);
    }
    using threshold = Threshold;

    /// What the neuron computes (checkpoints record it). The thresholds' initial values
    /// do not count: the thresholds themselves are state, saved and loaded.
    static std::string describe() {
        std::string d = DecayNum == DecayDen ? "if_neuron<" : "lif_neuron<tau " + std::to_string(DecayDen) + ", ";
        d += Reset == reset::to_zero ? "reset to zero" : "reset by subtraction";
        d += Firing == firing::strict ? ", V > Vth" : ", V >= Vth";
        d += ", membrane dropout " + std::to_string(MembraneDropoutPercent) + "%>";
        return d;
    }

    static constexpr bool fires(float v, float vth) {
        if constexpr (Firing == firing::strict) return v > vth;
        else return v >= vth;
    }
    /// U[t] from V[t] and the spike s[t].
    static constexpr float after_spike(float v, bool s, float vth) {
        if constexpr (Reset == reset::to_zero) return s ? 0.0f : v;
        else return s ? v - vth : v;
    }
    /// dU[t]/dV[t] in BPTT's backward, g = surrogate'(V[t] - Vth): (1 - s) - V g after a
    /// reset to zero, 1 - Vth g after a reset by subtraction; a detached reset drops the g
    /// term. The one formula of both backends.
    static constexpr float reset_derivative(float v, float vth, float g, bool detach) {
        if constexpr (Reset == reset::to_zero) return (fires(v, vth) ? 0.0f : 1.0f) - (detach ? 0.0f : v * g);
        else return 1.0f - (detach ? 0.0f : vth * g);
    }
    /// One step for one neuron: integrates i into u, returns the spike and leaves U[t] in u.
    static constexpr bool step(float& u, float i, float vth) {
        const float v = decay * u + i;
        const bool s = fires(v, vth);
        u = after_spike(v, s, vth);
        return s;
    }
};
}  // namespace detail

namespace detail {
/// What spiking<...> accepts: if_neuron<...>, lif_neuron<...>, or a model of that shape.
template <class N>
concept neuron = requires(float& u, float v, bool s, const counter_rng& rng, std::uint64_t at) {
    { N::decay } -> std::convertible_to<float>;
    { N::reset_mode } -> std::convertible_to<reset>;
    { N::membrane_dropout } -> std::convertible_to<float>;
    { N::fires(v, v) } -> std::same_as<bool>;
    { N::after_spike(v, s, v) } -> std::convertible_to<float>;
    { N::step(u, v, v) } -> std::same_as<bool>;
    { N::membrane_dropped(rng, at) } -> std::same_as<bool>;
    { N::threshold::initial(rng, at) } -> std::convertible_to<float>;
    { N::describe() } -> std::convertible_to<std::string>;
};
}  // namespace detail

/// Integrate-and-fire, no leak. Defaults are the SNN2ANN reference's: hard reset to zero,
/// strict firing, thresholds uniform [0, 1), membrane dropout 50% in training.
template <reset Reset = reset::to_zero, firing Firing = firing::strict, class Threshold = uniform_threshold,
          int MembraneDropoutPercent = 50>
struct if_neuron : detail::neuron_model<1, 1, Reset, Firing, Threshold, MembraneDropoutPercent> {};

/// Leaky integrate-and-fire with time constant Tau (decay 1 - 1/Tau per step).
template <int Tau, reset Reset = reset::to_zero, firing Firing = firing::strict,
          class Threshold = uniform_threshold, int MembraneDropoutPercent = 50>
struct lif_neuron : detail::neuron_model<Tau - 1, Tau, Reset, Firing, Threshold, MembraneDropoutPercent> {
    static_assert(Tau > 1, "snn2ann::lif_neuron<Tau>: Tau must be greater than 1");
};

/// Parametric LIF (PLIF, Fang et al., ICCV 2021): a LIF neuron whose time constant is
/// trained, one per spiking layer, as tau = 1 + exp(-w) with w in the parameter buffer
/// (tau > 1 for every w), starting at InitialTau. `decay` is the initial decay (1 - 1/tau);
/// the layer computes the current one from w (detail::plif_decay). BPTT trains w; SNN2ANN
/// runs its SNN branch with the current tau but trains no w (its gradient flows through
/// the ANN branch, which has no time constant), so w keeps its value there.
template <int InitialTau = 2, reset Reset = reset::to_zero, firing Firing = firing::strict,
          class Threshold = uniform_threshold, int MembraneDropoutPercent = 50>
struct plif_neuron
    : detail::neuron_model<InitialTau - 1, InitialTau, Reset, Firing, Threshold, MembraneDropoutPercent> {
    static_assert(InitialTau > 1, "snn2ann::plif_neuron<InitialTau>: the initial time constant must be greater than 1");
    using base = detail::neuron_model<InitialTau - 1, InitialTau, Reset, Firing, Threshold, MembraneDropoutPercent>;  ///< the LIF neuron it starts as
    static constexpr bool trained_time_constant = true;  ///< w is a parameter of the layer
    static constexpr int initial_tau = InitialTau;       ///< tau before training
    /// The neuron and its options, as checkpoints record them.
    static std::string describe() {
        const std::string lif = base::describe();  // "lif_neuron<tau T, reset ..., ...>"
        return "plif_neuron<initial tau " + std::to_string(InitialTau) + ", " + lif.substr(lif.find(", ") + 2);
    }
};

namespace detail {
/// A neuron whose time constant is a trained parameter (plif_neuron).
template <class N>
concept trained_time_constant = requires { N::trained_time_constant; } && N::trained_time_constant;
/// PLIF's decay for parameter w: 1 - 1/tau with tau = 1 + exp(-w).
inline float plif_decay(float w) { return 1.0f - 1.0f / (1.0f + std::exp(-w)); }
/// d decay / d w = -exp(-w) / tau^2.
inline double plif_decay_derivative(float w) {
    const double e = std::exp(-static_cast<double>(w)), tau = 1.0 + e;
    return -e / (tau * tau);
}
/// The w that gives time constant tau: -log(tau - 1).
inline float plif_initial_w(int tau) { return static_cast<float>(-std::log(static_cast<double>(tau) - 1.0)); }
}  // namespace detail

}  // namespace snn2ann::inline v0
