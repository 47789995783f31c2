// snn2ann/layer: the pass plan, the rules by which each layer of a chain runs in each
// pass, computed from the chain's compile-time layout alone: how many samples a layer
// sees (B or T x B), whether it steps through time, takes a constant input or hands on
// a firing rate, which factor its bias and its output get, which batch norms the SNN
// branch folds into the layer before. The CPU sequence (layer/sequence.hpp) and the CUDA
// one (net/cuda_sequence.hpp) both run their layers by it, so the two backends cannot
// drift apart on what a pass is; tests/test_network.cpp checks the plan on the host.
#pragma once

#include <algorithm>
#include <cstddef>

#include "context.hpp"

namespace snn2ann::inline v0::detail {

/// The plan of a chain whose compile-time layout (sequence_of<...>) is `Layout`: its
/// param_offsets, state_offsets, is_spiking, is_stepping_block, first_spiking,
/// last_spiking and folds_next.
template <class Layout>
struct pass_plan {
    /// Samples of layer I's output in an ANN or BPTT pass over chain.batch inputs: BPTT
    /// runs every layer from the first spiking one on over T x B samples (time-major), the
    /// layers before it once (their input is the same at every step), or over T x B
    /// samples too when the input varies in time (frames).
    template <std::size_t I>
    static std::size_t training_samples(const layer_context& chain) {
        if (chain.time_major) return chain.batch;  // inside a block of a T-step pass: already T x B
        if (chain.mode == branch::bptt && Layout::first_spiking >= 0 &&
            (position<I>() >= Layout::first_spiking || chain.time_varying_input))
            return chain.batch * static_cast<std::size_t>(chain.timesteps);
        return chain.batch;
    }

    /// Layer I's own context in an ANN or BPTT pass (its forward and its backward) of the
    /// chain's context `chain`.
    template <std::size_t I>
    static layer_context training_context(const layer_context& chain) {
        layer_context own = chain.at(Layout::param_offsets[I], Layout::state_offsets[I], I);
        // The ANN's head reads the network's last mapping unit's counts as rates, h_L / T.
        if constexpr (position<I>() == Layout::last_spiking)
            if (!chain.nested) own.output_scale = 1.0f / static_cast<float>(chain.timesteps);
        if (chain.time_major) {
            // A residual block's layers in a T-step pass: spiking layers step through time
            // on B samples of time-varying input; the others see the T x B samples.
            if constexpr (Layout::is_spiking[I]) {
                own.batch = chain.batch / static_cast<std::size_t>(chain.timesteps);
                own.constant_input = false;
                own.collapse_output = false;
            }
        } else if (chain.mode == branch::bptt) {
            // Spiking layers step through time on B samples; the others see T x B samples
            // (before the first spiking layer only when the input varies in time).
            const bool varying = chain.time_varying_input;
            if constexpr (Layout::is_spiking[I]) {
                own.constant_input = position<I>() == Layout::first_spiking && !varying;
            } else {
                own.batch = training_samples<I>(chain);
                own.time_major = Layout::first_spiking >= 0 && (position<I>() > Layout::first_spiking || varying);
                if constexpr (Layout::is_stepping_block[I]) {
                    // The first stepping position: the block takes the B samples of the
                    // constant input and repeats them over the T steps itself.
                    if (position<I>() == Layout::first_spiking && !varying) {
                        own.batch = chain.batch;
                        own.constant_input = true;
                    }
                }
            }
        }
        return own;
    }

    /// Layer I in the SNN pass: its context and the samples of its output.
    struct snn_layer {
        layer_context context;
        std::size_t out_samples = 0;
    };

    /// Layer I's part of the SNN pass of the chain's context `chain` (branch::snn; also the
    /// converted SNN of ANN-to-SNN conversion): layers before the first spiking layer run
    /// once on the batch (per step when the input varies in time), layers between
    /// spiking layers on T x B samples, each getting a T-th of its bias; the last spiking
    /// layer hands on its mean rate, and the head runs once on B samples with its whole
    /// bias. A converted SNN gives every step the full bias and runs its head per step.
    template <std::size_t I>
    static snn_layer snn_context(const layer_context& chain) {
        constexpr std::ptrdiff_t i = position<I>();
        constexpr bool head = i > Layout::last_spiking;  // also: no spiking layer at all
        const bool converted = chain.spiking && chain.spiking->converted;
        const std::size_t steps = static_cast<std::size_t>(chain.timesteps);
        // Before the first spiking layer, an encoded input changes from step to step.
        const bool per_step = Layout::first_spiking >= 0 &&
                              ((i > Layout::first_spiking && (i <= Layout::last_spiking || converted)) ||
                               (chain.time_varying_input && i < Layout::first_spiking));
        snn_layer s{chain.at(Layout::param_offsets[I], Layout::state_offsets[I], I), chain.batch};
        layer_context& own = s.context;
        own.bias_scale = head || converted ? 1.0f : 1.0f / static_cast<float>(chain.timesteps);
        if constexpr (Layout::is_spiking[I]) {
            own.constant_input = i == Layout::first_spiking && !chain.time_varying_input;
            own.collapse_output = i == Layout::last_spiking && !converted;
            if (!own.collapse_output) s.out_samples = chain.batch * steps;
        } else if (Layout::is_stepping_block[I] && i == Layout::first_spiking) {
            // A block that steps through time takes the constant input (B samples) and
            // repeats it over the steps, or an encoded input that is already T x B.
            if (chain.time_varying_input) {
                own.batch = chain.batch * steps;
                own.time_major = true;
            } else {
                own.constant_input = true;
            }
            s.out_samples = chain.batch * steps;
        } else if (per_step) {
            own.batch = chain.batch * steps;
            own.time_major = true;
            s.out_samples = own.batch;
        }
        return s;
    }

    /// Layer i's batch norm is folded into the weights of the layer before it in the SNN
    /// pass, which then skips it.
    static constexpr bool folded_in_snn(std::size_t i) { return i > 0 && Layout::folds_next(i - 1); }

private:
    template <std::size_t I>
    static constexpr std::ptrdiff_t position() {
        return static_cast<std::ptrdiff_t>(I);
    }
};

/// Samples per chunk of an SNN pass over `batch` samples at `timesteps` steps, for a
/// backend whose T-step activations should hold about `step_samples` samples: even
/// chunks of at most max(1, step_samples / T) samples, so the pass's memory does not
/// grow with T and the last chunk is not a sliver. 0 for an empty batch.
constexpr std::size_t snn_chunk(std::size_t batch, int timesteps, std::size_t step_samples) {
    const std::size_t per_chunk = std::max<std::size_t>(1, step_samples / static_cast<std::size_t>(timesteps));
    const std::size_t chunks = (batch + per_chunk - 1) / per_chunk;
    return chunks == 0 ? 0 : (batch + chunks - 1) / chunks;
}

}  // namespace snn2ann::inline v0::detail
