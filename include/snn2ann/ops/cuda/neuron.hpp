// snn2ann/ops/cuda: spiking neurons fused over all T steps. One index owns one neuron of
// one sample and keeps its membrane in a register for the whole run: the SNN branch
// writes only spikes (or the rate) and the count, BPTT's forward also V[t], and BPTT's
// backward walks the steps in reverse with dL/dU in a register. The neuron policies, the
// surrogate functions and ATA's raise are the CPU path's own constexpr functions
// (neuron/neuron.hpp, neuron/surrogate.hpp, layer/context.hpp).
#pragma once

#include <cstddef>
#include <cstdint>

#include "../../core/host_device.hpp"
#include "../../core/rng.hpp"
#include "../../layer/context.hpp"
#include "../../neuron/neuron.hpp"
#include "execution.hpp"

namespace snn2ann::inline v0::detail::cuda_ops {

/// What the SNN branch's T-step kernel needs besides the buffers.
struct snn_run {
    std::size_t batch, neurons, steps;
    std::size_t offset, total;  // this chunk's samples in the whole batch (counts, random draws)
    bool constant_input;        // the input is B samples, the same at every step
    bool collapse_output;       // write the mean rate (B samples) instead of T x B spikes
    bool dropout;               // membrane dropout (training)
    float keep_scale;
    counter_rng rng;
};

template <class Neuron>
struct snn_steps_body {
    snn_run r;
    const float *x, *vth;
    float *y, *counts;
    SNN2ANN_HOST_DEVICE void operator()(std::size_t j) const {
        const float inv_t = 1.0f / static_cast<float>(r.steps);
        const std::size_t b = j / r.neurons, i = j - b * r.neurons;
        const float threshold = vth[i];
        float u = 0.0f, count = 0.0f;
        for (std::size_t t = 0; t < r.steps; ++t) {
            const std::size_t base = (t * r.batch + b) * r.neurons;
            const float current = r.constant_input ? x[j] : x[base + i];
            const bool spike = Neuron::step(u, current, threshold);
            count += spike ? 1.0f : 0.0f;
            if (!r.collapse_output) y[base + i] = spike ? 1.0f : 0.0f;
            if (r.dropout) {
                // the CPU path's draw of (t, sample in batch, neuron)
                const std::size_t at = (t * r.total + r.offset + b) * r.neurons + i;
                u = Neuron::membrane_dropped(r.rng, at) ? 0.0f : u * r.keep_scale;
            }
        }
        counts[j] = count;
        if (r.collapse_output) y[j] = count * inv_t;
    }
};
template <class Neuron, class Device>
void snn_steps(const Device& d, const snn_run& r, const float* x, const float* vth, float* y, float* counts) {
    d.for_each(r.batch * r.neurons, snn_steps_body<Neuron>{r, x, vth, y, counts}, "snn_steps");
}

/// The mapping unit: h = c k, or 0 where the ANN's z <= 0 (ReSU); with `tally`, counts the
/// neurons the ANN holds inactive that fired in the SNN (tally[0], for ATA) and, with
/// `silent` too, the ANN-active neurons (tally[1]) and the silent ones among them (tally[2]).
struct mapping_body {
    const float *z, *counts;
    float* h;
    bool resu;
    float k;
    unsigned long long* tally;
    bool silent;
    SNN2ANN_HOST_DEVICE void operator()(std::size_t i) const {
        const bool inactive = !(z[i] > 0.0f);
        h[i] = resu && inactive ? 0.0f : counts[i] * k;
        if (!tally) return;
        // integer sums: exact in any order
        if (inactive && counts[i] > 0.0f) atomic_add(tally, 1);
        if (silent && !inactive) {
            atomic_add(tally + 1, 1);
            if (counts[i] == 0.0f) atomic_add(tally + 2, 1);
        }
    }
};
/// The ratios ATA decides on, from the tally of mapping_body over n neurons.
SNN2ANN_HOST_DEVICE inline double noisy_of(const unsigned long long* tally, std::size_t n) {
    return static_cast<double>(tally[0]) / static_cast<double>(n);
}
SNN2ANN_HOST_DEVICE inline double silent_of(const unsigned long long* tally) {
    return tally[1] > 0 ? static_cast<double>(tally[2]) / static_cast<double>(tally[1]) : 0.0;
}
/// ATA over a layer's thresholds, from the tally on the device (no host round trip):
/// ata::adjustment and ata::adjusted, the CPU path's.
struct ata_body {
    float* vth;
    const unsigned long long* tally;
    std::size_t n;
    ata a;
    bool leaky;
    SNN2ANN_HOST_DEVICE void operator()(std::size_t i) const {
        vth[i] = a.adjusted(vth[i], a.adjustment(noisy_of(tally, n), silent_of(tally), leaky));
    }
};
/// ATA with a step decided on the host (data-parallel training: the global batch's).
struct adjust_thresholds_body {
    float* vth;
    ata a;
    ata_step step;
    SNN2ANN_HOST_DEVICE void operator()(std::size_t i) const { vth[i] = a.adjusted(vth[i], step); }
};
template <class Device>
void ata_update(const Device& d, float* vth, std::size_t neurons, ata_step step, const ata& a) {
    if (step != ata_step::keep) d.for_each(neurons, adjust_thresholds_body{vth, a, step}, "adjust_thresholds");
}
/// The ANN branch's spiking layer; in training also the tally (3 counters) and, with `a`,
/// ATA for a layer of neurons that leak (or not).
template <class Device>
void mapping_forward(const Device& d, const float* z, const float* counts, float* h, std::size_t batch,
                     std::size_t neurons, bool resu, float k, unsigned long long* tally, bool silent, float* vth,
                     const ata* a, bool leaky) {
    const std::size_t n = batch * neurons;
    if (tally) d.fill_zero(tally, 3 * sizeof(unsigned long long));
    d.for_each(n, mapping_body{z, counts, h, resu, k, tally, silent}, "mapping");
    if (tally && a && a->enabled) d.for_each(neurons, ata_body{vth, tally, n, *a, leaky}, "ata");
}

/// BPTT forward: spikes of every step (T x B), counts, and V[t] when `kept` is not null.
template <class Neuron>
struct bptt_forward_body {
    std::size_t batch, neurons, steps;
    bool constant_input;
    const float *x, *vth;
    float *y, *counts, *kept;
    SNN2ANN_HOST_DEVICE void operator()(std::size_t j) const {
        const std::size_t b = j / neurons, i = j - b * neurons;
        const float threshold = vth[i];
        float u = 0.0f, count = 0.0f;
        for (std::size_t t = 0; t < steps; ++t) {
            const std::size_t at = (t * batch + b) * neurons + i;
            const float v = Neuron::decay * u + (constant_input ? x[j] : x[at]);
            const bool spike = Neuron::fires(v, threshold);
            if (kept) kept[at] = v;
            u = Neuron::after_spike(v, spike, threshold);
            count += spike ? 1.0f : 0.0f;
            y[at] = spike ? 1.0f : 0.0f;
        }
        counts[j] = count;
    }
};
template <class Neuron, class Device>
void bptt_forward(const Device& d, std::size_t batch, std::size_t neurons, std::size_t steps, bool constant_input,
                  const float* x, const float* vth, float* y, float* counts, float* kept) {
    d.for_each(batch * neurons, bptt_forward_body<Neuron>{batch, neurons, steps, constant_input, x, vth, y, counts, kept},
               "bptt_forward");
}

/// BPTT backward through time (the CPU path's formulas, layer/spiking.hpp): with
/// g = surrogate'(V[t] - Vth), dV = ds g + dU dU/dV, dI[t] = dV (summed over t for a
/// constant input), dU[t-1] = decay dV.
template <class Neuron, class Surrogate>
struct bptt_backward_body {
    std::size_t batch, neurons, steps;
    bool constant_input, detach;
    float alpha;
    const float *kept, *vth, *dy;
    float* dx;
    SNN2ANN_HOST_DEVICE void operator()(std::size_t j) const {
        const std::size_t b = j / neurons, i = j - b * neurons;
        const float threshold = vth[i];
        float du = 0.0f, summed = 0.0f;
        for (std::size_t t = steps; t-- > 0;) {
            const std::size_t at = (t * batch + b) * neurons + i;
            const float v = kept[at];
            const float g = Surrogate::derivative(v - threshold, alpha);
            const float dv = dy[at] * g + du * Neuron::reset_derivative(v, threshold, g, detach);
            if (constant_input) summed = t + 1 < steps ? summed + dv : dv;
            else dx[at] = dv;
            du = Neuron::decay * dv;
        }
        if (constant_input) dx[j] = summed;
    }
};
template <class Neuron, class Surrogate, class Device>
void bptt_backward(const Device& d, std::size_t batch, std::size_t neurons, std::size_t steps, bool constant_input,
                   bool detach, float alpha, const float* kept, const float* vth, const float* dy, float* dx) {
    d.for_each(batch * neurons,
               bptt_backward_body<Neuron, Surrogate>{batch, neurons, steps, constant_input, detach, alpha, kept, vth, dy,
                                                     dx},
               "bptt_backward");
}

}  // namespace snn2ann::inline v0::detail::cuda_ops
