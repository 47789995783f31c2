// A reusable numerical gradient checker for any layer spec, in the spirit of dlib's
// test_layer: the loss is L = sum(y * r) for a fixed random r, its analytic gradients
// come from the layer's backward with dy = r, and each is compared with the central
// difference (L(v + h) - L(v - h)) / 2h computed in double from the float outputs.
#pragma once

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include <snn2ann/snn2ann.hpp>

namespace test {

struct gradient_report {
    double worst_input = 0.0, worst_param = 0.0;  // worst relative error
    std::size_t checked_inputs = 0, checked_params = 0;
};

inline double relative_error(double analytic, double numeric) {
    return std::abs(analytic - numeric) / std::max(1e-2, std::abs(analytic) + std::abs(numeric));
}

template <class Spec, snn2ann::shape In, bool Training = true>
gradient_report check_gradients(std::size_t batch, std::uint64_t seed, double h = 1e-3) {
    namespace s = snn2ann;
    using layer = typename Spec::template impl<s::cpu, In>;
    constexpr std::size_t in_size = In.size(), out_size = layer::out.size();
    const s::detail::counter_rng rng(seed, 99);
    std::vector<float> params(layer::param_count + 1), state(layer::state_count + 1), grads(layer::param_count + 1);
    layer::init(params.data(), state.data(), s::detail::counter_rng(seed, 1));
    // Perturb the initial parameters so that e.g. BN's gamma = 1, beta = 0 is not special.
    for (std::size_t i = 0; i < layer::param_count; ++i) params[i] += 0.2f * (rng.uniform(1000000 + i) - 0.5f);
    std::vector<float> x(batch * in_size), y(batch * out_size), r(batch * out_size), dx(batch * in_size);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = 2.0f * rng.uniform(i) - 1.0f;
    for (std::size_t i = 0; i < r.size(); ++i) r[i] = 2.0f * rng.uniform(5000000 + i) - 1.0f;

    layer l;
    s::detail::layer_context c;
    c.params = params.data();
    c.grads = grads.data();
    c.state = state.data();
    c.batch = batch;
    c.training = Training;
    c.seed = seed;
    c.step = 3;
    auto loss = [&] {
        l.forward(x.data(), y.data(), c);
        double sum = 0.0;
        for (std::size_t i = 0; i < y.size(); ++i) sum += static_cast<double>(y[i]) * r[i];
        return sum;
    };
    loss();
    l.backward(x.data(), y.data(), r.data(), dx.data(), c);
    const std::vector<float> analytic_params(grads.begin(), grads.end());

    gradient_report rep;
    auto probe = [&](float& v, double analytic) {
        const float keep = v;
        v = keep + static_cast<float>(h);
        const double up = loss();
        v = keep - static_cast<float>(h);
        const double down = loss();
        v = keep;
        // The step actually taken in float, not the nominal h.
        const double step = static_cast<double>(keep + static_cast<float>(h)) - (keep - static_cast<float>(h));
        return relative_error(analytic, (up - down) / step);
    };
    const std::size_t stride_in = std::max<std::size_t>(1, x.size() / 200);
    for (std::size_t i = 0; i < x.size(); i += stride_in, ++rep.checked_inputs)
        rep.worst_input = std::max(rep.worst_input, probe(x[i], dx[i]));
    const std::size_t stride_p = std::max<std::size_t>(1, layer::param_count / 200);
    for (std::size_t i = 0; i < layer::param_count; i += stride_p, ++rep.checked_params)
        rep.worst_param = std::max(rep.worst_param, probe(params[i], analytic_params[i]));
    return rep;
}

}  // namespace test
