// snn2ann/net: the CUDA executor of a network's layer list. It runs the layers by the
// same pass plan as the CPU sequence (layer/pass_plan.hpp: per-pass sample counts, B or
// T x B, BN folding, bias spreading, constant input and collapsed output) over the CPU
// sequence's layout (offsets, random streams, spiking positions), so both backends
// compute the same function; only the layers (layer/cuda_layers.hpp) and the buffers
// differ. Device is the execution (ops/cuda/execution.hpp): a GPU's, or the host's.
#pragma once

#include <array>
#include <cstddef>
#include <tuple>
#include <utility>

#include "../core/type_list.hpp"
#include "../layer/cuda_layers.hpp"
#include "../layer/pass_plan.hpp"
#include "../layer/sequence.hpp"
#include "../ops/cuda/buffer.hpp"
#include "../ops/cuda/elementwise.hpp"

namespace snn2ann::inline v0::detail {

template <shape In, class Specs, class Device>
struct gpu_chain;
template <shape In, class Device>
struct gpu_chain<In, type_list<>, Device> {
    using layers = type_list<>;
};
template <shape In, class Spec, class... Rest, class Device>
struct gpu_chain<In, type_list<Spec, Rest...>, Device> {
    using layers =
        typename concat<type_list<gpu_layer<Spec, In, Device>>,
                        typename gpu_chain<Spec::template impl<cpu, In>::out, type_list<Rest...>, Device>::layers>::type;
};

template <shape In, class Specs, class Device, class Layers = typename gpu_chain<In, Specs, Device>::layers>
class gpu_sequence;

template <shape In, class Specs, class Device, class... Layers>
class gpu_sequence<In, Specs, Device, type_list<Layers...>> {
public:
    /// The CPU sequence of the same specs: the layout (offsets, sizes, spiking positions).
    using layout = sequence<cpu, In, Specs>;
    /// The per-layer rules of every pass, the CPU sequence's.
    using plan = pass_plan<layout>;
    static constexpr std::size_t size = layout::size;
    static constexpr std::size_t param_count = layout::param_count, state_count = layout::state_count;
    static constexpr std::ptrdiff_t first_spiking = layout::first_spiking, last_spiking = layout::last_spiking;

    static void init(float* params, float* state, std::uint64_t seed, std::uint64_t stream) {
        layout::init(params, state, seed, stream);
    }

    /// ANN or BPTT pass (c.mode); output() then holds the last layer's output.
    void forward(const float* x, const layer_context& c, const Device& d) {
        input_ = x;
        forward_each(c, d, std::index_sequence_for<Layers...>{});
    }
    const float* output() const { return outputs_[size - 1].data(); }

    /// Back-propagates dy through the last forward (same batch); every gradient is set.
    void backward(const float* x, const float* dy, const layer_context& c, const Device& d) {
        const float* grad_out = dy;
        backward_each(x, grad_out, c, d, std::make_index_sequence<size>{});
    }

    /// The SNN branch over T steps (see sequence::snn_forward); returns B x out outputs.
    const float* snn_forward(const float* x, const layer_context& c, const Device& d) {
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
        return plan::template training_samples<I>(c);
    }
    template <std::size_t I>
    static layer_context pass_context(const layer_context& c) {
        return plan::template training_context<I>(c);
    }
    template <std::size_t... I>
    void forward_each(const layer_context& c, const Device& d, std::index_sequence<I...>) {
        (forward_one<I>(c, d), ...);
    }
    template <std::size_t I>
    void forward_one(const layer_context& c, const Device& d) {
        const float* in = I == 0 ? input_ : outputs_[I == 0 ? 0 : I - 1].data();
        float* out = outputs_[I].ensure(pass_samples<I>(c) * layout::out_sizes[I]);
        std::get<I>(layers_).forward(in, out, pass_context<I>(c), d);
    }
    template <std::size_t... I>
    void backward_each(const float* x, const float*& grad_out, const layer_context& c, const Device& d,
                       std::index_sequence<I...>) {
        (backward_one<size - 1 - I>(x, grad_out, c, d), ...);
    }
    template <std::size_t I>
    void backward_one(const float* x, const float*& grad_out, const layer_context& c, const Device& d) {
        const float* in = I == 0 ? x : outputs_[I == 0 ? 0 : I - 1].data();
        float* grad_in = nullptr;
        if constexpr (I > 0) grad_in = grads_[I % 2].ensure(pass_samples<I - 1>(c) * layout::out_sizes[I - 1]);
        std::get<I>(layers_).backward(in, outputs_[I].data(), grad_out, grad_in, pass_context<I>(c), d);
        grad_out = grad_in;
    }
    template <std::size_t... I>
    void snn_each(const float*& in, const layer_context& c, const Device& d, std::index_sequence<I...>) {
        (snn_one<I>(in, c, d), ...);
    }
    template <std::size_t I>
    void snn_one(const float*& in, const layer_context& c, const Device& d) {
        if constexpr (plan::folded_in_snn(I)) {
            return;  // this batch norm is inside the weights of the layer before it
        } else {
            auto [lc, out_samples] = plan::template snn_context<I>(c);
            if constexpr (layout::folds_next(I)) fold_batch_norm<I>(lc, d);
            auto& target = in == snn_buffers_[0].data() ? snn_buffers_[1] : snn_buffers_[0];
            float* out = target.ensure(out_samples * layout::out_sizes[I]);
            std::get<I>(layers_).forward(in, out, lc, d);
            in = out;
        }
    }
    template <std::size_t I>
    void fold_batch_norm(layer_context& lc, const Device& d) {
        using layer = std::tuple_element_t<I, std::tuple<Layers...>>;
        constexpr std::size_t channels = layer::reference::out_channels;
        constexpr std::size_t weights = layer::weight_count, per_channel = weights / channels;
        const float* gamma = lc.params + layer::param_count;
        const float* mean = lc.state + layer::state_count;
        float* w = folded_[I].ensure(layer::param_count);
        cuda_ops::fold_batch_norm(d, lc.params, lc.params + weights, gamma, gamma + channels, mean, mean + channels,
                             batch_norm::eps, channels, per_channel, w, w + weights);
        lc.params = w;
    }

    std::tuple<Layers...> layers_;
    std::array<cuda_ops::device_buffer<float, Device>, size> outputs_;
    std::array<cuda_ops::device_buffer<float, Device>, 2> grads_, snn_buffers_;
    std::array<cuda_ops::device_buffer<float, Device>, size> folded_;
    const float* input_ = nullptr;
};

}  // namespace snn2ann::inline v0::detail
