// snn2ann/neuron: surrogate gradients of the spike function for rules::bptt.
// A spike is s = H(x), x = V - Vth. Forward always uses the Heaviside step; backward
// replaces its derivative by that of a smooth step sigma (the "primitive" below), whose
// width or steepness is `alpha`:
//   rectangle    sigma'(x) = 1/a on |x| < a/2                       (a: width, default 1)
//   triangle     sigma'(x) = max(0, (a - |x|) / a^2)                 (a: half-width, default 1)
//   sigmoid      sigma'(x) = a s (1 - s), s = 1 / (1 + e^(-a x))      (a: steepness, default 4)
//   fast_sigmoid sigma'(x) = a / (2 (1 + a |x|)^2)  (SuperSpike)       (default 10)
//   atan         sigma'(x) = (a/2) / (1 + (pi/2 a x)^2)  (SpikingJelly ATan)  (default 2)
// Each sigma rises from 0 to 1, so every surrogate integrates to 1.
#pragma once

#include <algorithm>
#include <cmath>
#include <numbers>

namespace snn2ann::inline v0 {

/// The shape of a surrogate derivative of the spike (see surrogate).
enum class surrogate_kind { rectangle, triangle, sigmoid, fast_sigmoid, atan };

/// The surrogate derivative a BPTT run uses, and its width/steepness parameter.
struct surrogate {
    surrogate_kind kind = surrogate_kind::sigmoid;  ///< the shape
    float alpha = 4.0f;                             ///< its width (rectangle, triangle) or steepness

    /// The surrogates of the field, with SpikingJelly's default parameters: sigma'(x),
    /// x = V - Vth, is a box of `width` (rectangle), a hat of half-width `width`
    /// (triangle), or the derivative of sigmoid(alpha x), of 1/2 + alpha x / (2 (1 +
    /// alpha |x|)) (fast sigmoid), of 1/2 + atan(pi alpha x / 2) / pi (atan).
    ///@{
    static constexpr surrogate rectangle(float width = 1.0f) { return {surrogate_kind::rectangle, width}; }
    static constexpr surrogate triangle(float width = 1.0f) { return {surrogate_kind::triangle, width}; }
    static constexpr surrogate sigmoid(float steepness = 4.0f) { return {surrogate_kind::sigmoid, steepness}; }
    static constexpr surrogate fast_sigmoid(float steepness = 10.0f) { return {surrogate_kind::fast_sigmoid, steepness}; }
    static constexpr surrogate atan(float steepness = 2.0f) { return {surrogate_kind::atan, steepness}; }
    ///@}
};

namespace detail {

/// sigma and sigma' of one surrogate kind; templated on the number type so that tests can
/// evaluate them in double.
template <surrogate_kind K>
struct surrogate_function;

template <>
struct surrogate_function<surrogate_kind::rectangle> {
    template <class R>
    static constexpr R derivative(R x, R a) { return std::abs(x) < a / 2 ? 1 / a : R(0); }
    template <class R>
    static constexpr R primitive(R x, R a) { return std::clamp(x / a + R(0.5), R(0), R(1)); }
};
template <>
struct surrogate_function<surrogate_kind::triangle> {
    template <class R>
    static constexpr R derivative(R x, R a) { return std::max(R(0), (a - std::abs(x)) / (a * a)); }
    template <class R>
    static constexpr R primitive(R x, R a) {
        if (x <= -a) return R(0);
        if (x >= a) return R(1);
        return x < 0 ? (x + a) * (x + a) / (2 * a * a) : 1 - (a - x) * (a - x) / (2 * a * a);
    }
};
template <>
struct surrogate_function<surrogate_kind::sigmoid> {
    template <class R>
    static constexpr R derivative(R x, R a) {
        // a s (1 - s) at |x| (the derivative is even), as a e s^2 with e = e^(-a |x|) in
        // (0, 1]: 1 - s would cancel where s nears 1, and e^(a |x|) would overflow.
        const R e = std::exp(-a * std::abs(x));
        const R s = 1 / (1 + e);
        return a * e * s * s;
    }
    template <class R>
    static constexpr R primitive(R x, R a) { return 1 / (1 + std::exp(-a * x)); }
};
template <>
struct surrogate_function<surrogate_kind::fast_sigmoid> {
    template <class R>
    static constexpr R derivative(R x, R a) {
        const R d = 1 + a * std::abs(x);
        return a / (2 * d * d);
    }
    template <class R>
    static constexpr R primitive(R x, R a) { return R(0.5) + a * x / (2 * (1 + a * std::abs(x))); }
};
template <>
struct surrogate_function<surrogate_kind::atan> {
    template <class R>
    static constexpr R derivative(R x, R a) {
        const R k = std::numbers::pi_v<R> / 2 * a * x;
        return a / 2 / (1 + k * k);
    }
    template <class R>
    static constexpr R primitive(R x, R a) { return R(0.5) + std::atan(std::numbers::pi_v<R> / 2 * a * x) / std::numbers::pi_v<R>; }
};

/// Calls f(surrogate_function<K>{}) for the kind chosen at run time, so the inner loops
/// that use it are compiled once per kind without a branch per element.
template <class F>
decltype(auto) visit_surrogate(surrogate_kind k, F&& f) {
    switch (k) {
        case surrogate_kind::rectangle: return f(surrogate_function<surrogate_kind::rectangle>{});
        case surrogate_kind::triangle: return f(surrogate_function<surrogate_kind::triangle>{});
        case surrogate_kind::fast_sigmoid: return f(surrogate_function<surrogate_kind::fast_sigmoid>{});
        case surrogate_kind::atan: return f(surrogate_function<surrogate_kind::atan>{});
        case surrogate_kind::sigmoid: break;
    }
    return f(surrogate_function<surrogate_kind::sigmoid>{});
}

}  // namespace detail
}  // namespace snn2ann::inline v0
