// snn2ann/net: timesteps<T>, the number of SNN time steps as a model's compile-time option,
// and with_timesteps, which turns a T read at run time (a command line's --T) into one of
// a range of those types.
#pragma once

#include <string>
#include <type_traits>
#include <utility>

#include "../core/error.hpp"

namespace snn2ann::inline v0 {

/// Number of SNN time steps of a model (an option of model<>; 1 for a plain ANN).
template <int T>
struct timesteps {
    static_assert(T > 0, "snn2ann::timesteps<T>: T must be positive");
    static constexpr int value = T;  ///< the number of steps
};

namespace detail {
template <class T>
struct is_timesteps : std::false_type {};
template <int T>
struct is_timesteps<timesteps<T>> : std::true_type {};

template <int T, int Last, class F>
decltype(auto) call_with_timesteps(int steps, F& f) {
    if constexpr (T < Last) {
        if (steps != T) return call_with_timesteps<T + 1, Last>(steps, f);
    }
    return f(timesteps<T>{});
}
}  // namespace detail

/// Calls `f(timesteps<t>{})` for the t of [First, Last] that equals `steps`, and returns
/// what it returns (the same type for every t): a program takes T at run time while each
/// model keeps it as a type. Every t of the range is one instantiation of `f`, so the range
/// is what the program pays in compile time; a T outside it throws invalid_argument naming
/// the range.
///
///     return s::with_timesteps<1, 8>(options.T, [&]<int T>(s::timesteps<T>) {
///         s::model<net, s::timesteps<T>> model{s::seed{1}};
///         ...
///     });
template <int First, int Last, class F>
decltype(auto) with_timesteps(int steps, F&& f) {
    static_assert(0 < First && First <= Last,
                  "snn2ann::with_timesteps<First, Last>: the range must be non-empty and start at 1 or more");
    if (steps < First || steps > Last)
        throw invalid_argument("T = " + std::to_string(steps) + " is not one this program was compiled for (" +
                               std::to_string(First) + " to " + std::to_string(Last) + ")");
    return detail::call_with_timesteps<First, Last>(steps, f);
}

}  // namespace snn2ann::inline v0
