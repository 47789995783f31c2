// snn2ann/net: the CUDA executor of a network's layer list. It follows the CPU sequence
// (layer/sequence.hpp) pass for pass: the same layer offsets, random streams, per-pass
// sample counts (B or T x B), BN folding and bias spreading, so both backends compute the
// same function; only the layers (layer/cuda_layers.cuh) and the buffers differ.
#pragma once

#include <array>
#include <cstddef>
#include <tuple>
#include <utility>

#include "../core/type_list.hpp"
#include "../layer/cuda_layers.cuh"
#include "../layer/sequence.hpp"
#include "../ops/cuda/buffer.cuh"
#include "../ops/cuda/elementwise.cuh"

namespace snn2ann::inline v0::detail {

template <shape In, class Specs>
struct gpu_chain;
template <shape In>
struct gpu_chain<In, type_list<>> {
    using layers = type_list<>;
};
template <shape In, class Spec, class... Rest>
struct gpu_chain<In, type_list<Spec, Rest...>> {
    using layers = typename concat<type_list<gpu_layer<Spec, In>>,
                                   typename gpu_chain<Spec::template impl<cpu, In>::out, type_list<Rest...>>::layers>::type;
};

template <shape In, class Specs, class Layers = typename gpu_chain<In, Specs>::layers>
class gpu_sequence;

template <shape In, class Specs, class... Layers>
class gpu_sequence<In, Specs, type_list<Layers...>> {
public:
    /// The CPU sequence of the same specs: the plan (offsets, sizes, spiking positions).
    using plan = sequence<cpu, In, Specs>;
    static constexpr std::size_t size = plan::size;
    static constexpr std::size_t param_count = plan::param_count, state_count = plan::state_count;
    static constexpr std::ptrdiff_t first_spiking = plan::first_spiking, last_spiking = plan::last_spiking;

    static void init(float* params, float* state, std::uint64_t seed, std::uint64_t stream) {
        plan::init(params, state, seed, stream);
    }

    /// ANN or BPTT pass (c.mode); output() then holds the last layer's output.
    void forward(const float* x, const layer_context& c, const gpu::device_context& d) {
        input_ = x;
        forward_each(c, d, std::index_sequence_for<Layers...>{});
    }
    const float* output() const { return outputs_[size - 1].data(); }

    /// Back-propagates dy through the last forward (same batch); every gradient is set.
    void backward(const float* x, const float* dy, const layer_context& c, const gpu::device_context& d) {
        const float* grad_out = dy;
        backward_each(x, grad_out, c, d, std::make_index_sequence<size>{});
    }

    /// The SNN branch over T steps (see sequence::snn_forward); returns B x out outputs.
    const float* snn_forward(const float* x, const layer_context& c, const gpu::device_context& d) {
        const float* in = x;
        snn_each(in, c, d, std::index_sequence_for<Layers...>{});
        return in;
    }

    template <std::size_t I>
    auto& layer() { return std::get<I>(layers_); }

    /// Device bytes of the activation and gradient buffers now held.
    std::size_t activation_bytes() const {
        std::size_t n = grads_[0].bytes() + grads_[1].bytes() + snn_buffers_[0].bytes() + snn_buffers_[1].bytes();
        for (const auto& b : outputs_) n += b.bytes();
        return n;
    }

private:
    template <std::size_t I>
    static std::size_t pass_samples(const layer_context& c) {
        if (c.mode == branch::bptt && first_spiking >= 0 && static_cast<std::ptrdiff_t>(I) >= first_spiking)
            return c.batch * static_cast<std::size_t>(c.timesteps);
        return c.batch;
    }
    template <std::size_t I>
    static layer_context pass_context(const layer_context& c) {
        layer_context lc = c.at(plan::param_offsets[I], plan::state_offsets[I], I);
        if constexpr (static_cast<std::ptrdiff_t>(I) == last_spiking) lc.output_scale = 1.0f / c.timesteps;
        if (c.mode == branch::bptt) {
            if constexpr (plan::is_spiking[I]) {
                lc.constant_input = static_cast<std::ptrdiff_t>(I) == first_spiking;
            } else {
                lc.batch = pass_samples<I>(c);
                lc.time_major = first_spiking >= 0 && static_cast<std::ptrdiff_t>(I) > first_spiking;
            }
        }
        return lc;
    }
    template <std::size_t... I>
    void forward_each(const layer_context& c, const gpu::device_context& d, std::index_sequence<I...>) {
        (forward_one<I>(c, d), ...);
    }
    template <std::size_t I>
    void forward_one(const layer_context& c, const gpu::device_context& d) {
        const float* in = I == 0 ? input_ : outputs_[I == 0 ? 0 : I - 1].data();
        float* out = outputs_[I].ensure(pass_samples<I>(c) * plan::out_sizes[I]);
        std::get<I>(layers_).forward(in, out, pass_context<I>(c), d);
    }
    template <std::size_t... I>
    void backward_each(const float* x, const float*& grad_out, const layer_context& c, const gpu::device_context& d,
                       std::index_sequence<I...>) {
        (backward_one<size - 1 - I>(x, grad_out, c, d), ...);
    }
    template <std::size_t I>
    void backward_one(const float* x, const float*& grad_out, const layer_context& c, const gpu::device_context& d) {
        const float* in = I == 0 ? x : outputs_[I == 0 ? 0 : I - 1].data();
        float* grad_in = nullptr;
        if constexpr (I > 0) grad_in = grads_[I % 2].ensure(pass_samples<I - 1>(c) * plan::out_sizes[I - 1]);
        std::get<I>(layers_).backward(in, outputs_[I].data(), grad_out, grad_in, pass_context<I>(c), d);
        grad_out = grad_in;
    }
    template <std::size_t... I>
    void snn_each(const float*& in, const layer_context& c, const gpu::device_context& d, std::index_sequence<I...>) {
        (snn_one<I>(in, c, d), ...);
    }
    template <std::size_t I>
    void snn_one(const float*& in, const layer_context& c, const gpu::device_context& d) {
        constexpr auto i = static_cast<std::ptrdiff_t>(I);
        constexpr bool head = i > last_spiking;
        const bool per_step = first_spiking >= 0 && i > first_spiking && i <= last_spiking;
        layer_context lc = c.at(plan::param_offsets[I], plan::state_offsets[I], I);
        lc.bias_scale = head ? 1.0f : 1.0f / c.timesteps;
        std::size_t out_samples = c.batch;
        if constexpr (plan::is_spiking[I]) {
            lc.constant_input = i == first_spiking;
            lc.collapse_output = i == last_spiking;
            if (!lc.collapse_output) out_samples = c.batch * c.timesteps;
        } else if (per_step) {
            lc.batch = c.batch * c.timesteps;
            lc.time_major = true;
            out_samples = lc.batch;
        }
        if constexpr (I > 0 && plan::folds_next(I - 1)) {
            return;  // this batch norm is inside the weights of the layer before it
        } else {
            if constexpr (plan::folds_next(I)) fold_batch_norm<I>(lc, d);
            auto& target = in == snn_buffers_[0].data() ? snn_buffers_[1] : snn_buffers_[0];
            float* out = target.ensure(out_samples * plan::out_sizes[I]);
            std::get<I>(layers_).forward(in, out, lc, d);
            in = out;
        }
    }
    template <std::size_t I>
    void fold_batch_norm(layer_context& lc, const gpu::device_context& d) {
        using layer = std::tuple_element_t<I, std::tuple<Layers...>>;
        constexpr std::size_t channels = layer::reference::out_channels;
        constexpr std::size_t weights = layer::weight_count, per_channel = weights / channels;
        const float* gamma = lc.params + layer::param_count;
        const float* mean = lc.state + layer::state_count;
        float* w = folded_[I].ensure(layer::param_count);
        gpu::fold_batch_norm(d, lc.params, lc.params + weights, gamma, gamma + channels, mean, mean + channels,
                             batch_norm::eps, channels, per_channel, w, w + weights);
        lc.params = w;
    }

    std::tuple<Layers...> layers_;
    std::array<gpu::device_buffer<float>, size> outputs_;
    std::array<gpu::device_buffer<float>, 2> grads_, snn_buffers_;
    std::array<gpu::device_buffer<float>, size> folded_;
    const float* input_ = nullptr;
};

}  // namespace snn2ann::inline v0::detail
