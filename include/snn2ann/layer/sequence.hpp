// snn2ann/layer: a chain of layers run one after the other, with shapes inferred at
// compile time and every layer's parameter and state offsets fixed at compile time.
// The network and the two paths of a residual block are sequences.
#pragma once

#include <array>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include "../core/buffer.hpp"
#include "../core/shape.hpp"
#include "../core/type_list.hpp"
#include "../ops/cpu/batch_norm.hpp"
#include "../train/step_profile.hpp"
#include "context.hpp"
#include "pass_plan.hpp"

namespace snn2ann::inline v0::detail {

/// A layer spec (the contract at the top of layer/context.hpp): a type with a nested
/// template impl<Backend, In>, the layer for input shape In.
template <class Spec, class Backend, shape In>
concept layer_spec = requires { typename Spec::template impl<Backend, In>; };

/// A layer implementation: its output shape, its slices of the parameter and state
/// buffers, init, forward and backward (the CPU backend's signatures; the CUDA backend's
/// layers are its own, layer/cuda_layers.hpp).
template <class L>
concept layer_implementation =
    requires(L& l, const float* x, float* y, float* p, const counter_rng& rng, const layer_context& c) {
        { L::out } -> std::convertible_to<shape>;
        { L::param_count } -> std::convertible_to<std::size_t>;
        { L::state_count } -> std::convertible_to<std::size_t>;
        L::init(p, p, rng);
        l.forward(x, y, c);
        l.backward(x, x, x, y, c);
    };

/// Stands in for an entry that is not a layer, after the static_assert that says so, so
/// that the compiler stops at that sentence.
template <shape In>
struct not_a_layer {
    static constexpr shape out = In;
    static constexpr std::size_t param_count = 0, state_count = 0;
    static void init(float*, float*, const counter_rng&) {}
    void forward(const float*, float*, const layer_context&) {}
    void backward(const float*, const float*, const float*, float*, const layer_context&) {}
};

/// The implementation of Spec on input shape In, checked against the contract.
template <class Backend, shape In, class Spec>
struct layer_of {
    static_assert(layer_spec<Spec, Backend, In>,
                  "snn2ann::network: an entry of the layer list is not a layer. A layer is a spec with a nested "
                  "template impl<Backend, In> (conv, linear, batch_norm, max_pool, spiking<Neuron>, residual, ...; "
                  "docs/extending.md); a neuron model goes inside spiking<...>");
    template <class S, bool = layer_spec<S, Backend, In>>
    struct pick {
        using type = not_a_layer<In>;
    };
    template <class S>
    struct pick<S, true> {
        using type = typename S::template impl<Backend, In>;
    };
    using type = typename pick<Spec>::type;
    static_assert(!std::is_same_v<Backend, cpu> || layer_implementation<type>,
                  "snn2ann::network: a layer's impl<Backend, In> does not meet the layer contract: it needs "
                  "static constexpr shape out, param_count and state_count, static init(params, state, rng), "
                  "forward(x, y, context) and backward(x, y, dy, dx, context) (layer/context.hpp, "
                  "docs/extending.md)");
};

/// chain<Backend, In, type_list<Specs...>>: the layer implementations of Specs applied in
/// order from input shape In, and the resulting output shape.
template <class Backend, shape In, class Specs>
struct chain;
template <class Backend, shape In>
struct chain<Backend, In, type_list<>> {
    using impls = type_list<>;
    static constexpr shape out = In;
};
template <class Backend, shape In, class Spec, class... Rest>
struct chain<Backend, In, type_list<Spec, Rest...>> {
    using head = typename layer_of<Backend, In, Spec>::type;
    using rest = chain<Backend, head::out, type_list<Rest...>>;
    using impls = typename concat<type_list<head>, typename rest::impls>::type;
    static constexpr shape out = rest::out;
};

template <class L>
concept spiking_layer = requires { L::is_spiking; };
template <class L>
concept weighted_layer = requires { L::macs; };

/// A block (residual) with spiking layers inside: it steps through time like a spiking layer.
template <class L>
concept stepping_block = requires { L::has_spiking; } && L::has_spiking;

/// Whether a layer holds neurons that leak (LIF), itself or inside a block.
template <class L>
constexpr bool has_leaky_neurons() {
    if constexpr (spiking_layer<L>) return L::neuron::decay != 1.0f;
    else if constexpr (requires { L::has_leaky_neurons; }) return L::has_leaky_neurons;
    else return false;
}

template <class L>
concept batch_norm_layer = requires { L::is_batch_norm; };
/// A convolution or linear layer with bias, whose weights a following BN can absorb.
template <class L>
concept foldable_layer = requires { L::has_bias; L::out_channels; } && L::has_bias;

/// A layer whose output is its input's memory read under another shape (flatten): the
/// SNN pass hands its input on instead of copying it.
template <class L>
concept reshaping_layer = requires { requires L::reshapes_only; };

/// Whether a layer's backward reads its output, or its input. Layers say so when it does
/// not (static constexpr bool backward_reads_output / backward_reads_input = false); the
/// default is the safe answer, yes.
template <class L>
constexpr bool backward_reads_output() {
    if constexpr (requires { L::backward_reads_output; }) return L::backward_reads_output;
    else return true;
}
template <class L>
constexpr bool backward_reads_input() {
    if constexpr (requires { L::backward_reads_input; }) return L::backward_reads_input;
    else return true;
}

/// "CxHxW" of a shape, "Nf" when flat.
inline std::string shape_text(shape s) {
    return s.flat ? std::to_string(s.c) + "f"
                  : std::to_string(s.c) + "x" + std::to_string(s.h) + "x" + std::to_string(s.w);
}

/// A layer's compile-time properties in words (its describe(); a layer of the user's own
/// without one is named by its shape and counts only).
template <class L>
std::string describe_layer() {
    if constexpr (requires { L::describe(); }) return L::describe();
    else return "a layer without describe()";
}

/// Where a layer sits: its index in its layer list and its offsets in the model's buffers.
struct layer_position {
    std::size_t index = 0, param_offset = 0, state_offset = 0;
};

template <class Impls>
class sequence_of;

template <class... Impls>
class sequence_of<type_list<Impls...>> {
public:
    static constexpr std::size_t size = sizeof...(Impls);
    static constexpr std::array<std::size_t, size + 1> param_offsets = [] {
        std::array<std::size_t, size + 1> o{};
        std::size_t i = 0, sum = 0;
        ((o[i++] = sum, sum += Impls::param_count), ...);
        o[size] = sum;
        return o;
    }();
    static constexpr std::array<std::size_t, size + 1> state_offsets = [] {
        std::array<std::size_t, size + 1> o{};
        std::size_t i = 0, sum = 0;
        ((o[i++] = sum, sum += Impls::state_count), ...);
        o[size] = sum;
        return o;
    }();
    static constexpr std::array<std::size_t, size> out_sizes{Impls::out.size()...};
    static constexpr std::size_t param_count = param_offsets[size];
    static constexpr std::size_t state_count = state_offsets[size];

    /// Layer i's output is kept from forward to backward only if its own backward or the
    /// next layer's reads it (the network's output always is). Any other output is
    /// transient: written into one of the gradient buffers, idle until backward (BN's
    /// output before a max pool, for one).
    static constexpr std::array<bool, size> keeps_output = [] {
        const std::array<bool, size> reads_output{backward_reads_output<Impls>()...};
        const std::array<bool, size> reads_input{backward_reads_input<Impls>()...};
        std::array<bool, size> keep{};
        for (std::size_t i = 0; i < size; ++i) keep[i] = i + 1 == size || reads_output[i] || reads_input[i + 1];
        return keep;
    }();
    static constexpr std::array<bool, size> is_spiking{spiking_layer<Impls>...};
    /// Some spiking layer (here or inside a block) runs leaky neurons: ANN-to-SNN
    /// conversion, whose theory needs integrate-and-fire neurons, refuses the network.
    static constexpr bool has_leaky_neurons = (detail::has_leaky_neurons<Impls>() || ... || false);
    static constexpr std::array<bool, size> is_stepping_block{stepping_block<Impls>...};
    static constexpr std::array<bool, size> is_batch_norm{batch_norm_layer<Impls>...};
    static constexpr std::array<bool, size> is_foldable{foldable_layer<Impls>...};
    /// Layer I is folded with the batch norm after it in the SNN branch.
    static constexpr bool folds_next(std::size_t i) { return i + 1 < size && is_foldable[i] && is_batch_norm[i + 1]; }
    /// Index of the first layer that steps through time (a spiking layer, or a block with
    /// spiking layers inside) and of the last spiking layer; -1 when there is none. From
    /// the first on, the SNN and BPTT passes carry T x B samples.
    static constexpr std::ptrdiff_t first_spiking = [] {
        for (std::size_t i = 0; i < size; ++i)
            if (is_spiking[i] || is_stepping_block[i]) return static_cast<std::ptrdiff_t>(i);
        return std::ptrdiff_t{-1};
    }();
    /// Index of the last layer that steps through time (-1: none); a network must end its
    /// stepping part with a spiking layer (last_stepping == last_spiking).
    static constexpr std::ptrdiff_t last_stepping = [] {
        std::ptrdiff_t last = -1;
        for (std::size_t i = 0; i < size; ++i)
            if (is_spiking[i] || is_stepping_block[i]) last = static_cast<std::ptrdiff_t>(i);
        return last;
    }();
    static constexpr std::ptrdiff_t last_spiking = [] {
        std::ptrdiff_t last = -1;
        for (std::size_t i = 0; i < size; ++i)
            if (is_spiking[i]) last = static_cast<std::ptrdiff_t>(i);
        return last;
    }();

    /// Every layer's compile-time properties and its output shape, "conv<...> -> 4x8x8, ...".
    static std::string describe_layers() {
        std::string d;
        ((d += (d.empty() ? "" : ", ") + describe_layer<Impls>() + " -> " + shape_text(Impls::out)), ...);
        return d.empty() ? "identity" : d;
    }

    /// Initialise every layer's parameters and state; layer i draws from stream (stream, i).
    static void init(float* params, float* state, std::uint64_t seed, std::uint64_t stream) {
        init_each(params, state, seed, stream, std::index_sequence_for<Impls...>{});
    }

    /// Runs every layer; output() then holds the last layer's output.
    void forward(const float* x, const layer_context& c) {
        forward_each(x, c, std::index_sequence_for<Impls...>{});
    }
    const float* output() const {
        if constexpr (size == 0) return input_;
        else return outputs_[size - 1].data();
    }
    float* output() {
        if constexpr (size == 0) return const_cast<float*>(input_);
        else return outputs_[size - 1].data();
    }
    /// Output of layer i of the last forward, for a layer whose output is kept
    /// (keeps_output); valid until the next forward or SNN pass.
    const float* output(std::size_t i) const { return outputs_[i].data(); }

    /// The first layer, in forward order, whose kept output of the last forward (ANN or
    /// BPTT pass) holds a NaN or an infinity; -1 when every kept output is finite.
    std::ptrdiff_t first_non_finite_output() const {
        for (std::size_t i = 0; i < size; ++i) {
            if (!keeps_output[i] || forward_samples_[i] == 0) continue;
            const float* y = outputs_[i].data();
            const std::size_t n = forward_samples_[i] * out_sizes[i];
            for (std::size_t k = 0; k < n; ++k)
                if (!std::isfinite(y[k])) return static_cast<std::ptrdiff_t>(i);
        }
        return -1;
    }
    /// Layer i in words: "layer 3: spiking<...> -> 4x8x8".
    static std::string layer_text(std::size_t i) {
        static const std::array<std::string, size == 0 ? 1 : size> texts = [] {
            std::array<std::string, size == 0 ? 1 : size> t{};
            std::size_t k = 0;
            ((t[k] = "layer " + std::to_string(k) + ": " + describe_layer<Impls>() + " -> " + shape_text(Impls::out),
              ++k),
             ...);
            return t;
        }();
        return texts[i];
    }

    /// Back-propagates dy (gradient of the last output) to dx (may be null), adding to the
    /// parameter gradients. Needs the forward of the same batch just before.
    void backward(const float* x, const float* dy, float* dx, const layer_context& c) {
        if constexpr (size == 0) {
            if (dx) std::copy(dy, dy + c.batch * in_size_, dx);
        } else {
            backward_each(x, dy, dx, c, std::make_index_sequence<size>{});
        }
    }

    template <std::size_t I>
    auto& layer() { return std::get<I>(layers_); }

    /// Bytes of the activations kept from the ANN forward for backward (one per layer,
    /// batch B: independent of T) and of the gradient ping-pong buffers.
    std::size_t ann_activation_bytes() const {
        std::size_t n = 0;
        for (const auto& b : outputs_) n += b.bytes();
        for (const auto& b : grads_) n += b.bytes();
        return n;
    }
    /// Bytes of the SNN branch's own T-step activation buffers: none where the sequence
    /// keeps two outputs or more, for the SNN pass then borrows two of the ANN's buffers
    /// (see snn_buffer).
    std::size_t snn_activation_bytes() const { return snn_buffers_[0].bytes() + snn_buffers_[1].bytes(); }

    /// Calls f(layer, index) for every layer, in order.
    template <class F>
    void for_each_layer(F&& f) {
        std::apply([&](auto&... l) {
            std::size_t i = 0;
            (f(l, i++), ...);
        }, layers_);
    }
    /// Calls f(layer, position) for every layer and, right after a residual block, for the
    /// layers inside it (main path, then shortcut), with each layer's offsets in the
    /// model's parameter and state buffers.
    template <class F>
    void for_each_layer_deep(F&& f, std::size_t param_base = 0, std::size_t state_base = 0) {
        for_each_layer([&](auto& l, std::size_t i) {
            const layer_position at{i, param_base + param_offsets[i], state_base + state_offsets[i]};
            f(l, at);
            if constexpr (requires { l.for_each_inner_layer(f, at); }) l.for_each_inner_layer(f, at);
        });
    }

    /// The SNN branch: T steps without a gradient graph (docs/design.md, idea 3). Layers before the
    /// first spiking layer see the same input at every step and run once on the batch;
    /// layers between spiking layers run all T steps as one batch of T x B samples; the
    /// last spiking layer hands on its mean firing rate, and the layers after it (the
    /// non-spiking head) run once on B samples. Only two buffers of T-step activations
    /// are live at any time, whatever the depth. Returns the outputs (B x out).
    const float* snn_forward(const float* x, const layer_context& c) {
        const float* in = x;
        snn_each(in, c, std::index_sequence_for<Impls...>{});
        return in;
    }

    std::size_t in_size_ = 0;  // only for the empty sequence (identity)

private:
    template <std::size_t... I>
    static void init_each([[maybe_unused]] float* params, [[maybe_unused]] float* state,
                          [[maybe_unused]] std::uint64_t seed, [[maybe_unused]] std::uint64_t stream,
                          std::index_sequence<I...>) {
        (Impls::init(params + param_offsets[I], state + state_offsets[I], counter_rng(seed, stream * 131 + I + 1)),
         ...);
    }
    template <std::size_t... I>
    void forward_each(const float* x, const layer_context& c, std::index_sequence<I...>) {
        input_ = x;
        (forward_one<I>(c), ...);
    }
    using plan = pass_plan<sequence_of>;
    template <std::size_t I>
    static std::size_t pass_samples(const layer_context& c) {
        return plan::template training_samples<I>(c);
    }
    template <std::size_t I>
    static layer_context pass_context(const layer_context& c) {
        return plan::template training_context<I>(c);
    }
    /// Where layer i's forward writes its output: its own buffer if kept, else the
    /// gradient buffer of its parity (two transient outputs in a row do not collide).
    buffer<float>& forward_buffer(std::size_t i) { return keeps_output[i] ? outputs_[i] : grads_[i % 2]; }
    template <std::size_t I>
    void forward_one(const layer_context& c) {
        const float* in = I == 0 ? input_ : forward_buffer(I == 0 ? 0 : I - 1).data();
        forward_samples_[I] = pass_samples<I>(c);
        float* out = forward_buffer(I).ensure(pass_samples<I>(c) * out_sizes[I]);
        const step_timer timer = layer_timer<I>(c, c.mode == branch::bptt ? step_part::bptt_forward : step_part::ann_forward);
        std::get<I>(layers_).forward(in, out, pass_context<I>(c));
    }
    /// Times layer I in pass `p` of a training step a step_profile records; a residual
    /// block's inner layers are inside the block's time.
    template <std::size_t I>
    static step_timer layer_timer(const layer_context& c, step_part p) {
        return step_timer(p, I, &layer_text, !c.nested);
    }
    template <std::size_t... I>
    void snn_each(const float*& in, const layer_context& c, std::index_sequence<I...>) {
        (snn_one<I>(in, c), ...);
    }
    template <std::size_t I>
    void snn_one(const float*& in, const layer_context& c) {
        using layer = std::tuple_element_t<I, std::tuple<Impls...>>;
        if constexpr (plan::folded_in_snn(I)) {
            return;  // this batch norm is already inside the weights of the layer before it
        } else if constexpr (reshaping_layer<layer>) {
            return;  // the next layer reads the input as this one's output
        } else {
            const step_timer timer = layer_timer<I>(c, step_part::snn_branch);
            auto [lc, out_samples] = plan::template snn_context<I>(c);
            if constexpr (folds_next(I)) {
                // Chunks after the first of a pass reuse the first's folded weights.
                if (lc.params_as_before) lc.params = folded_[I].data();
                else fold_batch_norm<I>(lc);
            }
            // Write to whichever buffer does not hold the input (folded layers break the
            // even/odd alternation).
            auto& target = in == snn_buffer(0).data() ? snn_buffer(1) : snn_buffer(0);
            float* out = target.ensure(out_samples * out_sizes[I]);
            std::get<I>(layers_).forward(in, out, lc);
            in = out;
        }
    }
    /// BN after a conv/linear layer, folded with its running statistics (docs/method.md):
    /// W' = a W, b' = a (b - mean) + beta per output channel, a = gamma / sqrt(var + eps).
    /// The SNN then skips the BN pass over its T x B activations.
    template <std::size_t I>
    void fold_batch_norm(layer_context& lc) {
        using layer = std::tuple_element_t<I, std::tuple<Impls...>>;
        using bn = std::tuple_element_t<I + 1, std::tuple<Impls...>>;
        constexpr std::size_t channels = layer::out_channels, per_channel = layer::weight_count / channels;
        // lc is already at layer I; the BN's slices follow the layer's own.
        const float* gamma = lc.params + layer::param_count;
        const float* beta = gamma + channels;
        const float* mean = lc.state + layer::state_count;
        const float* var = mean + channels;
        float* w = folded_[I].ensure(layer::param_count);
        cpu_ops::fold_batch_norm(lc.params, lc.params + layer::weight_count, channels, per_channel, gamma, beta, mean, var,
                                 bn::eps_value, w, w + layer::weight_count);
        lc.params = w;
    }
    template <std::size_t... I>
    void backward_each(const float* x, const float* dy, float* dx, const layer_context& c,
                       std::index_sequence<I...>) {
        const float* grad_out = dy;
        // Layers run last to first; gradients ping-pong between two buffers.
        (backward_one<size - 1 - I>(x, grad_out, dx, c), ...);
    }
    template <std::size_t I>
    void backward_one(const float* x, const float*& grad_out, float* dx, const layer_context& c) {
        // Where no layer before this one trains and the caller wants no dx (a network's
        // first layers), their gradient is not computed: a first linear layer behind a
        // flatten skips its input's product, a third of its backward.
        if (!grad_out) return;  // this layer has no parameters either
        const float* in = I == 0 ? x : outputs_[I == 0 ? 0 : I - 1].data();
        float* grad_in = nullptr;
        if constexpr (I == 0) grad_in = dx;
        else if (dx || param_offsets[I] > 0) grad_in = grads_[I % 2].ensure(pass_samples<I - 1>(c) * out_sizes[I - 1]);
        // A transient input or output is not passed: the layer's backward does not read it.
        if constexpr (I > 0 && !keeps_output[I == 0 ? 0 : I - 1]) in = nullptr;
        const float* out = keeps_output[I] ? outputs_[I].data() : nullptr;
        {
            const step_timer timer =
                layer_timer<I>(c, c.mode == branch::bptt ? step_part::bptt_backward : step_part::ann_backward);
            std::get<I>(layers_).backward(in, out, grad_out, grad_in, pass_context<I>(c));
        }
        grad_out = grad_in;
        // The network's gradients from this layer's on are final: data-parallel training
        // may start averaging them while backward goes on.
        if constexpr (param_offsets[I] < param_offsets[size])
            if (c.group && !c.nested) c.group->gradients_ready(param_offsets[I]);
    }

    /// The SNN pass's two ping-pong buffers: the ANN outputs of the two widest layers.
    /// Those hold nothing live between a backward and the next forward, and a training
    /// step runs its SNN pass before the ANN forward that refills them, so the SNN pass
    /// needs no activation memory of its own (they grow if a pass needs more). A
    /// sequence with fewer than two kept outputs has its own pair.
    static constexpr std::array<std::size_t, 2> widest_layers = [] {
        std::array<std::size_t, 2> w{size, size};  // size: none
        for (std::size_t i = 0; i < size; ++i) {
            if (!keeps_output[i]) continue;
            if (w[0] == size || out_sizes[i] > out_sizes[w[0]]) w = {i, w[0]};
            else if (w[1] == size || out_sizes[i] > out_sizes[w[1]]) w[1] = i;
        }
        return w;
    }();
    buffer<float>& snn_buffer(std::size_t k) {
        if constexpr (widest_layers[1] < size) return outputs_[widest_layers[k]];
        else return snn_buffers_[k];
    }

    std::tuple<Impls...> layers_;
    std::array<buffer<float>, size == 0 ? 1 : size> outputs_;
    std::array<buffer<float>, 2> grads_;
    std::array<buffer<float>, 2> snn_buffers_;  // only where fewer than two outputs are kept
    std::array<buffer<float>, size == 0 ? 1 : size> folded_;  // BN-folded weights per layer
    std::array<std::size_t, size == 0 ? 1 : size> forward_samples_{};  // samples of each output of the last forward
    const float* input_ = nullptr;
};

/// ANN-to-SNN conversion's compile-time check of a network (docs/method.md, "Why
/// conversion needs IF neurons").
template <class Sequence>
constexpr void require_integrate_and_fire() {
    static_assert(!Sequence::has_leaky_neurons,
                  "snn2ann::convert: the network's spiking layers run leaky neurons (lif_neuron<Tau>); ANN-to-SNN "
                  "conversion needs integrate-and-fire neurons, whose spike counts are the ANN's quantised "
                  "activations (a leak drains charge in proportion to the membrane, so a LIF neuron's count is "
                  "no function of its mean input, and inputs below (1 - 1/Tau) Vth never fire). Declare the "
                  "network with if_neuron<...> for conversion: rules::ann trains the same weights whatever "
                  "the neuron");
}

/// model::forward(x, batch, training)'s compile-time check: without a rule's options, only
/// a network without spiking layers has nothing to choose.
template <class Sequence>
constexpr void require_no_spiking_layers() {
    static_assert(Sequence::first_spiking < 0,
                  "snn2ann::model::forward(x, batch, training): the network has spiking layers, so say what they "
                  "compute: forward(x, batch, rule.options(), training) with the rule that runs the pass, or "
                  "rule.predict(model, x, batch)");
}

/// The executor of Specs on input shape In.
template <class Backend, shape In, class Specs>
using sequence = sequence_of<typename chain<Backend, In, Specs>::impls>;

}  // namespace snn2ann::inline v0::detail
