// snn2ann/ops/cuda: spiking neurons fused over all T steps. One thread owns one neuron
// of one sample and keeps its membrane in a register for the whole run: the SNN branch
// writes only spikes (or the rate) and the count, BPTT's forward also V[t], and BPTT's
// backward walks the steps in reverse with dL/dU in a register. The neuron policies and
// surrogate functions are the CPU path's own constexpr functions (--expt-relaxed-constexpr).
#pragma once

#include <cstddef>
#include <cstdint>

#include "../../core/rng.hpp"
#include "elementwise.cuh"

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
__global__ void snn_steps_kernel(snn_run r, const float* x, const float* vth, float* y, float* counts) {
    const std::size_t total = r.batch * r.neurons;
    const float inv_t = 1.0f / static_cast<float>(r.steps);
    for (std::size_t j = first_index(); j < total; j += grid_stride()) {
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
}
template <class Neuron>
void snn_steps(const device_context& d, const snn_run& r, const float* x, const float* vth, float* y, float* counts) {
    snn_steps_kernel<Neuron><<<blocks_for(r.batch * r.neurons), threads_per_block, 0, d.stream()>>>(r, x, vth, y, counts);
    check_launch("snn_steps_kernel");
}

/// The mapping unit: h = c k, or 0 where the ANN's z <= 0 (ReSU); with `noisy`, counts the
/// neurons the ANN holds inactive that fired in the SNN (for ATA).
__global__ void mapping_kernel(const float* z, const float* counts, float* h, std::size_t n, bool resu, float k,
                               unsigned long long* noisy) {
    unsigned long long mine = 0;
    for (std::size_t i = first_index(); i < n; i += grid_stride()) {
        const bool inactive = !(z[i] > 0.0f);
        h[i] = resu && inactive ? 0.0f : counts[i] * k;
        mine += inactive && counts[i] > 0.0f;
    }
    if (noisy && mine) atomicAdd(noisy, mine);  // an integer sum: exact in any order
}
/// ATA: if noisy / n > tolerance, Vth = ema Vth + (1 - ema)(Vth + scale) for every neuron.
__global__ void ata_kernel(float* vth, std::size_t neurons, const unsigned long long* noisy, std::size_t n,
                           float tolerance, float ema, float scale) {
    if (static_cast<double>(*noisy) / static_cast<double>(n) <= tolerance) return;
    for (std::size_t i = first_index(); i < neurons; i += grid_stride()) vth[i] = ema * vth[i] + (1.0f - ema) * (vth[i] + scale);
}
struct ata_settings {
    bool enabled;
    float tolerance, ema, scale;
};
__global__ void raise_thresholds_kernel(float* vth, std::size_t neurons, float ema, float scale) {
    for (std::size_t i = first_index(); i < neurons; i += grid_stride()) vth[i] = ema * vth[i] + (1.0f - ema) * (vth[i] + scale);
}
/// ATA with a noisy ratio known on the host (data-parallel training: the global batch's).
inline void ata_update(const device_context& d, float* vth, std::size_t neurons, double noisy_ratio,
                       const ata_settings& ata) {
    if (!ata.enabled || noisy_ratio <= ata.tolerance) return;
    raise_thresholds_kernel<<<blocks_for(neurons), threads_per_block, 0, d.stream()>>>(vth, neurons, ata.ema, ata.scale);
    check_launch("raise_thresholds_kernel");
}
/// The ANN branch's spiking layer; in training also the noisy count and ATA (no host sync).
inline void mapping_forward(const device_context& d, const float* z, const float* counts, float* h, std::size_t batch,
                            std::size_t neurons, bool resu, float k, unsigned long long* noisy, float* vth,
                            const ata_settings* ata) {
    const std::size_t n = batch * neurons;
    if (noisy) check(cudaMemsetAsync(noisy, 0, sizeof(unsigned long long), d.stream()), "cudaMemsetAsync");
    mapping_kernel<<<blocks_for(n), threads_per_block, 0, d.stream()>>>(z, counts, h, n, resu, k, noisy);
    check_launch("mapping_kernel");
    if (noisy && ata && ata->enabled) {
        ata_kernel<<<blocks_for(neurons), threads_per_block, 0, d.stream()>>>(vth, neurons, noisy, n, ata->tolerance,
                                                                              ata->ema, ata->scale);
        check_launch("ata_kernel");
    }
}

/// BPTT forward: spikes of every step (T x B), counts, and V[t] when `kept` is not null.
template <class Neuron>
__global__ void bptt_forward_kernel(std::size_t batch, std::size_t neurons, std::size_t steps, bool constant_input,
                                    const float* x, const float* vth, float* y, float* counts, float* kept) {
    for (std::size_t j = first_index(); j < batch * neurons; j += grid_stride()) {
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
}
template <class Neuron>
void bptt_forward(const device_context& d, std::size_t batch, std::size_t neurons, std::size_t steps,
                  bool constant_input, const float* x, const float* vth, float* y, float* counts, float* kept) {
    bptt_forward_kernel<Neuron><<<blocks_for(batch * neurons), threads_per_block, 0, d.stream()>>>(
        batch, neurons, steps, constant_input, x, vth, y, counts, kept);
    check_launch("bptt_forward_kernel");
}

/// BPTT backward through time (the CPU path's formulas, layer/spiking.hpp): with
/// g = surrogate'(V[t] - Vth), dV = ds g + dU dU/dV, dI[t] = dV (summed over t for a
/// constant input), dU[t-1] = decay dV.
template <class Neuron, class Surrogate>
__global__ void bptt_backward_kernel(std::size_t batch, std::size_t neurons, std::size_t steps, bool constant_input,
                                     bool detach, float alpha, const float* kept, const float* vth, const float* dy,
                                     float* dx) {
    for (std::size_t j = first_index(); j < batch * neurons; j += grid_stride()) {
        const std::size_t b = j / neurons, i = j - b * neurons;
        const float threshold = vth[i];
        float du = 0.0f, summed = 0.0f;
        for (std::size_t t = steps; t-- > 0;) {
            const std::size_t at = (t * batch + b) * neurons + i;
            const float v = kept[at];
            const float g = Surrogate::derivative(v - threshold, alpha);
            float du_dv;
            if constexpr (Neuron::reset_mode == reset::to_zero)
                du_dv = (Neuron::fires(v, threshold) ? 0.0f : 1.0f) - (detach ? 0.0f : v * g);
            else
                du_dv = 1.0f - (detach ? 0.0f : threshold * g);
            const float dv = dy[at] * g + du * du_dv;
            if (constant_input) summed = t + 1 < steps ? summed + dv : dv;
            else dx[at] = dv;
            du = Neuron::decay * dv;
        }
        if (constant_input) dx[j] = summed;
    }
}
template <class Neuron, class Surrogate>
void bptt_backward(const device_context& d, std::size_t batch, std::size_t neurons, std::size_t steps,
                   bool constant_input, bool detach, float alpha, const float* kept, const float* vth, const float* dy,
                   float* dx) {
    bptt_backward_kernel<Neuron, Surrogate><<<blocks_for(batch * neurons), threads_per_block, 0, d.stream()>>>(
        batch, neurons, steps, constant_input, detach, alpha, kept, vth, dy, dx);
    check_launch("bptt_backward_kernel");
}

}  // namespace snn2ann::inline v0::detail::cuda_ops
