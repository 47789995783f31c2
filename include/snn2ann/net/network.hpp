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
    static constexpr shape value = image_shape(Channels, Height, Width);
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

template <class First, class... Layers>
struct network {
    static_assert(detail::is_input<First>::value,
                  "snn2ann::network: the first entry must be snn2ann::input<C, H, W>, the shape of one "
                  "input sample");
    static_assert(sizeof...(Layers) > 0, "snn2ann::network: the network has no layer after its input");

    using layer_list = typename detail::flatten_layers<Layers...>::type;
    static constexpr shape input_shape = detail::input_shape_of<First>();

    /// The runnable chain of layers for a backend.
    template <class Backend>
    using executor = detail::sequence<Backend, input_shape, layer_list>;

    static constexpr shape output_shape = detail::chain<cpu, input_shape, layer_list>::out;
    static constexpr std::size_t param_count = executor<cpu>::param_count;
    static constexpr std::size_t state_count = executor<cpu>::state_count;
};

}  // namespace snn2ann::inline v0
