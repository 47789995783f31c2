// snn2ann/core: a flat type list and the splicing of nested `layers<...>` blocks into it.
// Blocks are spliced, not nested, so that a network stays one flat list (docs/design.md, idea 1).
#pragma once

#include <cstddef>

namespace snn2ann::inline v0 {

/// A block of layers; inside a network or another block it is spliced in place.
template <class... Layers>
struct layers {};

namespace detail {

template <class... Ts>
struct type_list {
    static constexpr std::size_t size = sizeof...(Ts);
};

template <class A, class B>
struct concat;
template <class... As, class... Bs>
struct concat<type_list<As...>, type_list<Bs...>> {
    using type = type_list<As..., Bs...>;
};

/// flatten<Ts...>::type: the type_list of Ts with every layers<...> spliced recursively.
template <class... Ts>
struct flatten_layers {
    using type = type_list<>;
};
template <class T, class... Rest>
struct flatten_layers<T, Rest...> {
    using type = typename concat<type_list<T>, typename flatten_layers<Rest...>::type>::type;
};
template <class... Inner, class... Rest>
struct flatten_layers<layers<Inner...>, Rest...> {
    using type = typename concat<typename flatten_layers<Inner...>::type,
                                 typename flatten_layers<Rest...>::type>::type;
};

}  // namespace detail
}  // namespace snn2ann::inline v0
