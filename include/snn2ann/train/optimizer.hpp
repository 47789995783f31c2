// snn2ann/train: optimisers over the model's one parameter buffer. An update is an
// element-wise loop over that buffer, so it parallelises without changing the result.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <Eigen/Core>

#include "../core/buffer.hpp"
#include "../core/parallel.hpp"
#include "../core/exact_text.hpp"

namespace snn2ann::inline v0 {
namespace detail {
inline constexpr std::size_t optimizer_grain = 1 << 15;
}

/// What an optimiser has learnt about the run so far, to save and restore it exactly:
/// named arrays (moments, velocity: one float per parameter) and named numbers (step
/// counts, whether it has started).
struct optimizer_snapshot {
    std::vector<std::pair<std::string, std::vector<float>>> arrays;
    std::vector<std::pair<std::string, double>> numbers;

    const std::vector<float>* array(const std::string& name) const {
        for (const auto& [n, a] : arrays)
            if (n == name) return &a;
        return nullptr;
    }
    double number(const std::string& name, double otherwise = 0.0) const {
        for (const auto& [n, v] : numbers)
            if (n == name) return v;
        return otherwise;
    }
};

/// Stochastic gradient descent with optional momentum, Nesterov momentum and L2 weight
/// decay (added to the gradient, as torch.optim.SGD).
class sgd {
public:
    double lr = 0.1, momentum = 0.0, weight_decay = 0.0;
    bool nesterov = false;

    explicit sgd(double learning_rate, double momentum_ = 0.0, bool nesterov_ = false, double decay = 0.0)
        : lr(learning_rate), momentum(momentum_), weight_decay(decay), nesterov(nesterov_) {}

    void step(std::span<float> params, std::span<const float> grads) {
        const std::size_t n = params.size();
        float* v = momentum != 0.0 ? velocity_.ensure(n) : nullptr;
        if (v && !started_) std::fill(v, v + n, 0.0f);
        const float lr_ = static_cast<float>(lr), mu = static_cast<float>(momentum),
                    wd = static_cast<float>(weight_decay);
        const bool first = !started_;
        detail::for_range(n, detail::optimizer_grain, [&](std::size_t b, std::size_t e) {
            for (std::size_t i = b; i < e; ++i) {
                float g = grads[i] + wd * params[i];
                if (v) {
                    v[i] = first ? g : mu * v[i] + g;
                    g = nesterov ? g + mu * v[i] : v[i];
                }
                params[i] -= lr_ * g;
            }
        });
        started_ = true;
    }

    /// The optimiser and its settings, the learning rate aside (a schedule moves it).
    std::string describe() const {
        return "sgd(momentum " + detail::exact_text(momentum) + (nesterov ? ", nesterov" : "") +
               ", weight decay " + detail::exact_text(weight_decay) + ")";
    }
    optimizer_snapshot snapshot(std::size_t params) const {
        optimizer_snapshot s;
        s.numbers.emplace_back("started", started_ ? 1.0 : 0.0);
        if (momentum != 0.0 && started_) s.arrays.emplace_back("velocity", std::vector<float>(velocity_.data(), velocity_.data() + params));
        return s;
    }
    /// Restores a snapshot of the same optimiser over `params` parameters (checked by the caller).
    void restore(const optimizer_snapshot& s, std::size_t params) {
        started_ = s.number("started") != 0.0;
        if (const auto* v = s.array("velocity")) std::copy(v->begin(), v->end(), velocity_.ensure(params));
    }

private:
    detail::buffer<float> velocity_;
    bool started_ = false;
};

/// Adam (Kingma & Ba) with bias correction. weight_decay is L2 added to the gradient as
/// in torch.optim.Adam; with decoupled = true it is AdamW's decay of the weights.
class adam {
public:
    double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0.0;
    bool decoupled = false;

    explicit adam(double learning_rate = 1e-3, double decay = 0.0, bool decoupled_decay = false)
        : lr(learning_rate), weight_decay(decay), decoupled(decoupled_decay) {}

    void step(std::span<float> params, std::span<const float> grads) {
        const std::size_t n = params.size();
        if (t_ == 0) {
            m_.zeros(n);
            v_.zeros(n);
        }
        ++t_;
        const double bc1 = 1.0 - std::pow(beta1, static_cast<double>(t_));
        const double bc2 = 1.0 - std::pow(beta2, static_cast<double>(t_));
        const float step_size = static_cast<float>(lr / bc1);
        const float inv_sqrt_bc2 = static_cast<float>(1.0 / std::sqrt(bc2));
        const float b1 = static_cast<float>(beta1), b2 = static_cast<float>(beta2), e = static_cast<float>(eps);
        const float l2 = decoupled ? 0.0f : static_cast<float>(weight_decay);
        const float shrink = decoupled ? static_cast<float>(1.0 - lr * weight_decay) : 1.0f;
        float* m = m_.data();
        float* v = v_.data();
        const coefficients k{l2, b1, b2, shrink, step_size, inv_sqrt_bc2, e};
        detail::for_range(n, detail::optimizer_grain, [&](std::size_t i0, std::size_t i1) {
            update(params.data() + i0, grads.data() + i0, m + i0, v + i0, i1 - i0, k);
        });
    }
    std::uint64_t steps() const { return t_; }

    /// The optimiser and its settings, the learning rate aside (a schedule moves it).
    std::string describe() const {
        return std::string(decoupled ? "adamw" : "adam") + "(beta1 " + detail::exact_text(beta1) +
               ", beta2 " + detail::exact_text(beta2) + ", eps " +
               detail::exact_text(eps) + ", weight decay " +
               detail::exact_text(weight_decay) + ")";
    }
    optimizer_snapshot snapshot(std::size_t params) const {
        optimizer_snapshot s;
        s.numbers.emplace_back("steps", static_cast<double>(t_));
        if (t_ > 0) {
            s.arrays.emplace_back("m", std::vector<float>(m_.data(), m_.data() + params));
            s.arrays.emplace_back("v", std::vector<float>(v_.data(), v_.data() + params));
        }
        return s;
    }
    /// Restores a snapshot of the same optimiser over `params` parameters (checked by the caller).
    void restore(const optimizer_snapshot& s, std::size_t params) {
        t_ = static_cast<std::uint64_t>(s.number("steps"));
        if (t_ > 0) {
            const auto* m = s.array("m");
            const auto* v = s.array("v");
            m_.zeros(params);
            v_.zeros(params);
            if (m) std::copy(m->begin(), m->end(), m_.data());
            if (v) std::copy(v->begin(), v->end(), v_.data());
        }
    }

private:
    struct coefficients {
        float l2, b1, b2, shrink, step_size, inv_sqrt_bc2, eps;
    };
    // Blocks of Eigen array expressions, which vectorise, the square root included: a
    // plain loop's std::sqrt keeps errno semantics, which kept the compiler from
    // vectorising the loop. Eigen's vectorised square root refines an approximate
    // reciprocal root by a Newton step, so it may differ from std::sqrt in the last bits.
    // A block stays in L1 across its three statements.
    static void update(float* p, const float* grads, float* m, float* v, std::size_t n, const coefficients k) {
        constexpr std::size_t block = 1024;
        for (std::size_t i = 0; i < n; i += block) {
            const auto len = static_cast<Eigen::Index>(std::min(block, n - i));
            Eigen::Map<Eigen::ArrayXf> pm(p + i, len), mm(m + i, len), vm(v + i, len);
            const auto g = Eigen::Map<const Eigen::ArrayXf>(grads + i, len) + k.l2 * pm;
            mm = k.b1 * mm + (1.0f - k.b1) * g;
            vm = k.b2 * vm + (1.0f - k.b2) * g.square();
            pm = pm * k.shrink - k.step_size * mm / (vm.sqrt() * k.inv_sqrt_bc2 + k.eps);
        }
    }

    detail::buffer<float> m_, v_;
    std::uint64_t t_ = 0;
};

/// AdamW: Adam with decoupled weight decay (Loshchilov & Hutter), default decay 1e-2.
class adamw : public adam {
public:
    explicit adamw(double learning_rate = 1e-3, double decay = 1e-2) : adam(learning_rate, decay, true) {}
};

}  // namespace snn2ann::inline v0
