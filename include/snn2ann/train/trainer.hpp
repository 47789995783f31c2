// snn2ann/train: the training loop shared by every rule: seeded shuffled batches, one
// rule step and one optimiser step per batch, a learning-rate schedule per epoch, an
// evaluation and a report per epoch, a progress bar on a terminal.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <vector>

#include "../core/buffer.hpp"
#include "../core/denormals.hpp"
#include "../core/error.hpp"
#include "../core/rng.hpp"
#include "../core/shape.hpp"
#include "../data/dataset.hpp"
#include "../metrics/accuracy.hpp"
#include "../rules/rule.hpp"
#include "progress.hpp"
#include "schedule.hpp"

namespace snn2ann::inline v0 {

struct epochs {
    int value;
    constexpr explicit epochs(int n) : value(n) {}
};
struct batch {
    std::size_t value;
    constexpr explicit batch(std::size_t n) : value(n) {}
};

/// What one epoch did.
struct epoch_report {
    int epoch = 0;                ///< 1-based
    double loss = 0.0;            ///< mean training loss
    double train_accuracy = 0.0;  ///< on the training batches, in training mode
    double test_accuracy = -1.0;  ///< on the validation set (-1 when none was given)
    double seconds = 0.0;         ///< training time of the epoch, evaluation excluded
    double images_per_second = 0.0;
    double learning_rate = 0.0;
};

template <class Model, class Rule, class Optimizer>
class trainer {
    static_assert(training_rule<Rule, Model>,
                  "snn2ann::trainer{model, rule, optimizer}: the rule cannot train this model (a training rule "
                  "has options(), train_step(model, x, y, batch, step) and predict(model, x, batch): "
                  "rules::snn2ann, rules::bptt, rules::ann)");

public:
    trainer(Model& m, Rule rule, Optimizer opt) : model_(m), rule_(std::move(rule)), opt_(std::move(opt)) {
        base_lr_ = opt_.lr;
    }

    /// Evaluate on `d` after every epoch (the pointer must outlive fit()).
    trainer& validate_on(const data::dataset& d) {
        validation_ = &d;
        return *this;
    }
    /// Learning-rate factor per epoch (0-based), e.g. multi_step_lr{{100, 150, 175}}.
    trainer& schedule(std::function<double(int)> factor) {
        schedule_ = std::move(factor);
        return *this;
    }
    /// Called after every epoch; the default prints one line to stdout.
    trainer& on_epoch(std::function<void(const epoch_report&)> f) {
        on_epoch_ = std::move(f);
        return *this;
    }
    trainer& quiet(bool q = true) {
        quiet_ = q;
        return *this;
    }
    /// Flush denormal floats to zero during fit() (default on; see core/denormals.hpp).
    trainer& flush_denormals(bool on) {
        flush_denormals_ = on;
        return *this;
    }
    /// Stop after this many batches per epoch (0: all), for benchmarks and smoke tests.
    trainer& limit_batches(std::size_t n) {
        batch_limit_ = n;
        return *this;
    }

    /// Augments every gathered training batch in place, e.g. data::crop_flip{4}: called as
    /// f(x, count, sample shape, rng) with an rng keyed by (model seed, training step).
    trainer& augment(std::function<void(float*, std::size_t, shape, const detail::counter_rng&)> f) {
        augment_ = std::move(f);
        return *this;
    }

    Rule& rule() { return rule_; }
    Optimizer& optimizer() { return opt_; }

    std::vector<epoch_report> fit(const data::dataset& train, epochs e, batch b) {
        if (b.value == 0) throw invalid_argument("trainer::fit: the batch size is 0");
        if (e.value < 0) throw invalid_argument("trainer::fit: the number of epochs is negative");
        // Both sets are checked whole before the first step changes anything.
        data::validate(train, Model::input_shape, Model::output_shape.c, "trainer::fit (training set)");
        if (train.size() == 0) throw invalid_argument("trainer::fit: the training set is empty");
        if (validation_)
            data::validate(*validation_, Model::input_shape, Model::output_shape.c, "trainer::fit (validation set)");
        const detail::flush_denormals_scope flush(flush_denormals_);
        std::vector<epoch_report> reports;
        for (int ep = 0; ep < e.value; ++ep) {
            reports.push_back(run_epoch(train, b.value));
            if (validation_) reports.back().test_accuracy = evaluate(model_, *validation_, 256, rule_).accuracy;
            if (on_epoch_) on_epoch_(reports.back());
            else if (!quiet_) print(reports.back());
        }
        return reports;
    }

    static void print(const epoch_report& r) {
        std::printf("epoch %3d  loss %.4f  train %.2f%%", r.epoch, r.loss, 100.0 * r.train_accuracy);
        if (r.test_accuracy >= 0) std::printf("  test %.2f%%", 100.0 * r.test_accuracy);
        std::printf("  %.1f s  %.0f img/s  lr %.2g\n", r.seconds, r.images_per_second, r.learning_rate);
        std::fflush(stdout);
    }

private:
    epoch_report run_epoch(const data::dataset& train, std::size_t bs) {
        epoch_report r;
        r.epoch = ++epoch_;
        r.learning_rate = base_lr_ * (schedule_ ? schedule_(epoch_ - 1) : 1.0);
        opt_.lr = r.learning_rate;
        data::shuffled_order(order_, train.size(), model_.seed_value(), static_cast<std::uint64_t>(epoch_));
        std::size_t batches = (train.size() + bs - 1) / bs;
        if (batch_limit_) batches = std::min(batches, batch_limit_);
        float* x = x_.ensure(bs * train.image_size());
        std::int32_t* y = y_.ensure(bs);
        detail::progress_bar bar(!quiet_);
        double loss_sum = 0.0;
        std::size_t correct = 0, seen = 0;
        const auto t0 = std::chrono::steady_clock::now();
        for (std::size_t k = 0; k < batches; ++k) {
            const std::size_t first = k * bs, n = std::min(bs, train.size() - first);
            data::gather(train, order_.data() + first, n, x, y);
            if (augment_) augment_(x, n, train.sample_shape(), detail::counter_rng(model_.seed_value(), 0xa0600000ULL + step_));
            const loss_result lr = rule_.train_step(model_, x, y, n, step_++);
            // A GPU model keeps its parameters and the optimiser's state on the device.
            if constexpr (requires { model_.apply(opt_); }) model_.apply(opt_);
            else opt_.step(model_.parameters(), model_.gradients());
            loss_sum += lr.loss * static_cast<double>(n);
            correct += lr.correct;
            seen += n;
            const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            bar.update(k + 1, batches, loss_sum / static_cast<double>(seen), static_cast<double>(seen) / s);
        }
        r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        r.loss = loss_sum / static_cast<double>(seen);
        r.train_accuracy = static_cast<double>(correct) / static_cast<double>(seen);
        r.images_per_second = static_cast<double>(seen) / r.seconds;
        return r;
    }

    Model& model_;
    Rule rule_;
    Optimizer opt_;
    double base_lr_ = 0.0;
    const data::dataset* validation_ = nullptr;
    std::function<double(int)> schedule_;
    std::function<void(const epoch_report&)> on_epoch_;
    std::function<void(float*, std::size_t, shape, const detail::counter_rng&)> augment_;
    bool quiet_ = false;
    bool flush_denormals_ = true;
    std::size_t batch_limit_ = 0;
    int epoch_ = 0;
    std::uint64_t step_ = 0;
    std::vector<std::uint32_t> order_;
    detail::buffer<float> x_;
    detail::buffer<std::int32_t> y_;
};

}  // namespace snn2ann::inline v0
