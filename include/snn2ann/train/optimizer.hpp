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

/// The single-precision factors of one Adam step, computed once on the host by
/// adam::coefficients() for the CPU loop and the CUDA kernel alike, so that the two
/// backends' updates are the same formula with the same rounding of each factor.
struct adam_coefficients {
    float l2, beta1, beta2, shrink, step_size, inv_sqrt_bc2, eps;
};
}

/// What an optimiser has learnt about the run so far, to save and restore it exactly:
/// named arrays (moments, velocity: one float per parameter) and named numbers (step
/// counts, whether it has started).
struct optimizer_snapshot {
    std::vector<std::pair<std::string, std::vector<float>>> arrays;  ///< one float per parameter each: "velocity", "m", "v"
    std::vector<std::pair<std::string, double>> numbers;  ///< counters: "started", "steps"

    /// The array called `name`, or nullptr.
    const std::vector<float>* array(const std::string& name) const {
        for (const auto& [n, a] : arrays)
            if (n == name) return &a;
        return nullptr;
    }
    /// The number called `name`, or `otherwise`.
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
    double lr = 0.1;            ///< learning rate
    double momentum = 0.0;      ///< momentum factor (0: none)
    double weight_decay = 0.0;  ///< L2 decay added to the gradient
    bool nesterov = false;  ///< Nesterov momentum instead of heavy ball

    /// Plain SGD unless `momentum_` is not 0.
    explicit sgd(double learning_rate, double momentum_ = 0.0, bool nesterov_ = false, double decay = 0.0)
        : lr(learning_rate), momentum(momentum_), weight_decay(decay), nesterov(nesterov_) {}

    /// Updates `params` in place from `grads` (the same length).
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
    /// What restore() needs to continue exactly (velocity of `params` floats).
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
    double lr = 1e-3;           ///< learning rate
    double beta1 = 0.9;         ///< decay of the first moment
    double beta2 = 0.999;       ///< decay of the second moment
    double eps = 1e-8;          ///< added to the root of the second moment
    double weight_decay = 0.0;  ///< L2 (or AdamW's decoupled) decay
    bool decoupled = false;  ///< weight decay as AdamW's (see the class)

    /// Adam with the usual betas and eps.
    explicit adam(double learning_rate = 1e-3, double decay = 0.0, bool decoupled_decay = false)
        : lr(learning_rate), weight_decay(decay), decoupled(decoupled_decay) {}

    /// Updates `params` in place from `grads` (the same length).
    void step(std::span<float> params, std::span<const float> grads) {
        const std::size_t n = params.size();
        if (t_ == 0) {
            m_.zeros(n);
            v_.zeros(n);
        }
        ++t_;
        float* m = m_.data();
        float* v = v_.data();
        const detail::adam_coefficients k = coefficients(t_);
        detail::for_range(n, detail::optimizer_grain, [&](std::size_t i0, std::size_t i1) {
            update(params.data() + i0, grads.data() + i0, m + i0, v + i0, i1 - i0, k);
        });
    }
    /// The steps taken so far (the bias correction's t).
    std::uint64_t steps() const { return t_; }
    /// The factors of step `t` (1-based) with the current settings: bias corrections,
    /// the L2 term or AdamW's shrink of the weights.
    detail::adam_coefficients coefficients(std::uint64_t t) const {
        const double bc1 = 1.0 - std::pow(beta1, static_cast<double>(t));
        const double bc2 = 1.0 - std::pow(beta2, static_cast<double>(t));
        return {decoupled ? 0.0f : static_cast<float>(weight_decay),
                static_cast<float>(beta1),
                static_cast<float>(beta2),
                decoupled ? static_cast<float>(1.0 - lr * weight_decay) : 1.0f,
                static_cast<float>(lr / bc1),
                static_cast<float>(1.0 / std::sqrt(bc2)),
                static_cast<float>(eps)};
    }

    /// The optimiser and its settings, the learning rate aside (a schedule moves it).
    std::string describe() const {
        return std::string(decoupled ? "adamw" : "adam") + "(beta1 " + detail::exact_text(beta1) +
               ", beta2 " + detail::exact_text(beta2) + ", eps " +
               detail::exact_text(eps) + ", weight decay " +
               detail::exact_text(weight_decay) + ")";
    }
    /// What restore() needs to continue exactly (moments of `params` floats, step count).
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
    // Blocks of Eigen array expressions, which vectorise, the square root included: a
    // plain loop's std::sqrt keeps errno semantics, which kept the compiler from
    // vectorising the loop. Eigen's vectorised square root refines an approximate
    // reciprocal root by a Newton step, so it may differ from std::sqrt in the last bits.
    // A block stays in L1 across its three statements.
    static void update(float* p, const float* grads, float* m, float* v, std::size_t n, const detail::adam_coefficients k) {
        constexpr std::size_t block = 1024;
        for (std::size_t i = 0; i < n; i += block) {
            const auto len = static_cast<Eigen::Index>(std::min(block, n - i));
            Eigen::Map<Eigen::ArrayXf> pm(p + i, len), mm(m + i, len), vm(v + i, len);
            const auto g = Eigen::Map<const Eigen::ArrayXf>(grads + i, len) + k.l2 * pm;
            mm = k.beta1 * mm + (1.0f - k.beta1) * g;
            vm = k.beta2 * vm + (1.0f - k.beta2) * g.square();
            pm = pm * k.shrink - k.step_size * mm / (vm.sqrt() * k.inv_sqrt_bc2 + k.eps);
        }
    }

    detail::buffer<float> m_, v_;
    std::uint64_t t_ = 0;
};

/// AdamW: Adam with decoupled weight decay (Loshchilov & Hutter), default decay 1e-2.
class adamw : public adam {
public:
    /// AdamW with decay `decay`.
    explicit adamw(double learning_rate = 1e-3, double decay = 1e-2) : adam(learning_rate, decay, true) {}
};

}  // namespace snn2ann::inline v0
