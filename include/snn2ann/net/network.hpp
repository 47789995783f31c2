// snn2ann/net: a network is a flat type list, network<input<C, H, W>, layers...>, with
// every shape inferred at compile time. Blocks written as layers<...> are spliced in.
#pragma once

#include <type_traits>

#include "../core/backend.hpp"
#include "../core/shape.hpp"
#include "../core/type_list.hpp"
#include "../layer/sequence.hpp"

namespace snn2ann::inline v0 {

/// The shape of one input sample, C x H x W; the first entry of every network.
template <int Channels, int Height, int Width>
struct input {
    static_assert(Channels > 0 && Height > 0 && Width > 0,
                  "snn2ann::input<C, H, W>: every dimension must be positive");
    static constexpr shape value = image_shape(Channels, Height, Width);  ///< the sample shape
};

namespace detail {
template <class T>
struct is_input : std::false_type {};
template <int C, int H, int W>
struct is_input<input<C, H, W>> : std::true_type {};

template <class First>
constexpr shape input_shape_of() {
    if constexpr (is_input<First>::value) return First::value;
    else return image_shape(1, 1, 1);  // only reached after the static_assert below fired
}
}  // namespace detail

/// A network as a type: input<C, H, W> followed by its layers (conv2d, batch_norm,
/// spiking<...>, pooling, linear, residual blocks, ...; the zoo's types are examples).
/// model<network<...>, timesteps<T>> holds its weights; docs/guide.md lists the layers.
template <class First, class... Layers>
struct network {
    static_assert(detail::is_input<First>::value,
                  "snn2ann::network: the first entry must be snn2ann::input<C, H, W>, the shape of one "
                  "input sample");
    static_assert(sizeof...(Layers) > 0, "snn2ann::network: the network has no layer after its input");

    using layer_list = typename detail::flatten_layers<Layers...>::type;  ///< the layers, blocks flattened
    static constexpr shape input_shape = detail::input_shape_of<First>();  ///< of one sample

    /// The runnable chain of layers for a backend.
    template <class Backend>
    using executor = detail::sequence<Backend, input_shape, layer_list>;

    static constexpr shape output_shape = detail::chain<cpu, input_shape, layer_list>::out;  ///< of one sample
    static constexpr std::size_t param_count = executor<cpu>::param_count;  ///< trainable floats
    static constexpr std::size_t state_count = executor<cpu>::state_count;  ///< state floats (BN statistics, thresholds)
};

}  // namespace snn2ann::inline v0
