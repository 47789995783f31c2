// snn2ann/train: the training loop shared by every rule: seeded shuffled batches, one
// rule step and one optimiser step per batch, a learning-rate schedule per epoch, an
// evaluation and a report per epoch, a progress bar on a terminal, callbacks
// (train/callbacks.hpp), a guard against NaN and infinity (train/finite_guard.hpp), and a
// training state to save and resume from (train/training_state.hpp): a run that is
// interrupted and resumed computes the same weights, state and losses, bit for bit, as
// one that is not.
#pragma once

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "../core/buffer.hpp"
#include "../core/denormals.hpp"
#include "../core/error.hpp"
#include "../core/process_group.hpp"
#include "../core/rng.hpp"
#include "../core/shape.hpp"
#include "../data/dataset.hpp"
#include "../io/checkpoint.hpp"
#include "../metrics/accuracy.hpp"
#include "../metrics/sharded.hpp"
#include "../net/input_frames.hpp"
#include "../rules/rule.hpp"
#include "callbacks.hpp"
#include "finite_guard.hpp"
#include "progress.hpp"
#include "schedule.hpp"
#include "step_profile.hpp"
#include "training_state.hpp"

namespace snn2ann::inline v0 {

/// The number of epochs a run trains in all: fit(data, epochs{N}, ...) stops when N epochs
/// are done, counting those of earlier fit() calls and of a resumed state.
struct epochs {
    int value;  ///< epochs of the whole run
    /// Trains until `n` epochs are done.
    constexpr explicit epochs(int n) : value(n) {}
};
/// Samples per training step (the global batch when data-parallel).
struct batch {
    std::size_t value;  ///< samples per step
    /// A batch of `n` samples.
    constexpr explicit batch(std::size_t n) : value(n) {}
};

/// Trains a model by a rule (rules::snn2ann, rules::bptt, rules::ann) with an optimiser:
/// fit() runs epochs with callbacks, save_state/resume continue a run exactly, distribute()
/// makes it data-parallel. See docs/guide.md.
template <class Model, class Rule, class Optimizer>
class trainer {
    static_assert(training_rule<Rule, Model>,
                  "snn2ann::trainer{model, rule, optimizer}: the rule cannot train this model (a training rule "
                  "has options(), train_step(model, x, y, batch, step) and predict(model, x, batch): "
                  "rules::snn2ann, rules::bptt, rules::ann)");

public:
    /// Trains `m` (kept by reference) by `rule` with `opt`.
    trainer(Model& m, Rule rule, Optimizer opt) : model_(m), rule_(std::move(rule)), opt_(std::move(opt)) {
        position_.base_lr = opt_.lr;
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
    /// Called after every epoch instead of the default line on standard output (callbacks
    /// passed to fit() are the composable form).
    trainer& on_epoch(std::function<void(const epoch_report&)> f) {
        on_epoch_ = std::move(f);
        return *this;
    }
    /// No line per epoch.
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
    /// What a batch with a non-finite loss or gradient does: stop (default) or skip.
    trainer& on_non_finite(non_finite policy) {
        non_finite_ = policy;
        return *this;
    }

    /// Augments every gathered training batch in place, e.g. data::crop_flip{4}: called as
    /// f(x, count, sample shape, rng) with an rng keyed by (model seed, training step).
    trainer& augment(std::function<void(float*, std::size_t, shape, const detail::counter_rng&)> f) {
        augment_ = std::move(f);
        return *this;
    }

    /// Trains data-parallel over the ranks of `group` (an mpi::communicator, see
    /// <snn2ann/distributed.hpp>; it must outlive fit()): every rank runs the same program
    /// on the whole data set, each step's global batch is split over the ranks, gradients
    /// are averaged and the replicas stay identical; rank 0 prints and writes files.
    /// Checks here (and at every fit()) that all ranks hold the same network, T, rule,
    /// optimiser, weights, state and position, and throws on every rank otherwise.
    trainer& distribute(detail::process_group& group) {
        group_ = &group;
        require_same_replicas();
        return *this;
    }
    /// Whether this process prints and writes files: rank 0 of a data-parallel run, or the
    /// one process of a run that is not.
    bool is_root() const { return !group_ || group_->rank() == 0; }
    /// Whether any rank says yes (the process's own answer when it trains alone): for a
    /// callback whose decision (a time budget, say) must be the same on every rank.
    bool any_rank(bool yes) {
        if (!group_) return yes;
        std::int64_t v = yes ? 1 : 0;
        group_->sum(&v, 1);
        return v > 0;
    }

    /// The model, the rule and the optimiser it trains with (a callback may change the optimiser's rate).
    Model& model() { return model_; }
    Rule& rule() { return rule_; }  ///< see model()
    Optimizer& optimizer() { return opt_; }  ///< see model()
    /// Epochs finished, and steps taken, in the whole run (a resumed state's included).
    int epochs_done() const { return static_cast<int>(position_.epochs_done); }
    std::uint64_t steps_done() const { return static_cast<std::uint64_t>(position_.step); }  ///< see epochs_done()
    /// Every finished epoch of the run, a resumed state's included.
    const std::vector<epoch_report>& history() const { return position_.history; }
    /// Stops fit() after the current step (for callbacks).
    void request_stop() { stop_ = true; }

    /// Trains until `e` epochs of the run are done, in batches of `b`, with the callbacks
    /// (train/callbacks.hpp) in the order given; returns every finished epoch of the run.
    /// Both data sets are checked whole before the first step changes anything.
    template <class... Callbacks>
    std::vector<epoch_report> fit(const data::dataset& train, epochs e, batch b, Callbacks&&... callbacks) {
        if (b.value == 0) throw invalid_argument("trainer::fit: the batch size is 0");
        data::validate(train, Model::input_shape, Model::output_shape.c, "trainer::fit (training set)");
        if (train.size() == 0) throw invalid_argument("trainer::fit: the training set is empty");
        detail::require_frames_fit<Model>(train.frames, rule_, "trainer::fit (training set)");
        if (validation_) {
            data::validate(*validation_, Model::input_shape, Model::output_shape.c, "trainer::fit (validation set)");
            detail::require_frames_fit<Model>(validation_->frames, rule_, "trainer::fit (validation set)");
        }
        if (e.value <= position_.epochs_done)
            throw invalid_argument("trainer::fit: epochs{" + std::to_string(e.value) + "}, but " +
                                   std::to_string(position_.epochs_done) +
                                   " epochs of this run are done already: epochs{N} counts every epoch of the run "
                                   "(epochs{" + std::to_string(position_.epochs_done + 1) + "} trains one more)");
        // A resumed state belongs to its batch size (mid-epoch) and training set: said
        // as the state file's error, as resume() says the rest.
        const auto refuse = [&](const std::string& why) {
            if (resumed_from_.empty()) throw invalid_argument("trainer::fit: " + why);
            throw io_error(resumed_from_, "the training state does not fit this run: " + why);
        };
        if (position_.next_batch > 0 && static_cast<std::size_t>(position_.batch_size) != b.value)
            refuse("the run stopped in the middle of an epoch with batches of " + std::to_string(position_.batch_size) +
                   ", not " + std::to_string(b.value));
        if (position_.train_size > 0 && static_cast<std::size_t>(position_.train_size) != train.size())
            refuse("the run trained on " + std::to_string(position_.train_size) + " samples, this training set has " +
                   std::to_string(train.size()) + " (the data order depends on it)");
        if (group_) {
            if (b.value < static_cast<std::size_t>(group_->size()))
                throw invalid_argument("trainer::fit: a batch of " + std::to_string(b.value) + " over " +
                                       std::to_string(group_->size()) +
                                       " ranks (the batch is global: each rank takes its part, one sample at least)");
            require_same_replicas();
        }
        position_.batch_size = static_cast<std::int64_t>(b.value);
        position_.train_size = static_cast<std::int64_t>(train.size());
        const detail::flush_denormals_scope flush(flush_denormals_);
        stop_ = false;
        (hook_fit_begin(callbacks), ...);
        while (position_.epochs_done < e.value && !stop_) {
            epoch_report r;
            {
                const detail::input_frames_scope<Model> frames(model_, train.frames);
                if (!run_epoch(train, b.value, r, callbacks...)) break;  // stopped within the epoch
            }
            if (validation_) {
                const accuracy_result v = group_ ? detail::sharded_evaluate(*group_, model_, *validation_, 256, rule_)
                                                 : evaluate(model_, *validation_, 256, rule_);
                r.test_accuracy = v.accuracy, r.test_loss = v.loss;
            }
            position_.history.push_back(r);
            if (on_epoch_) on_epoch_(r);  // on every rank: it may evaluate over the ranks
            else if (!quiet_ && is_root()) print(r);
            ((stop_ = hook_epoch_end(callbacks, r) || stop_), ...);
            stop_ = any_rank(stop_);
        }
        (hook_fit_end(callbacks), ...);
        return position_.history;
    }

    /// Saves everything the run needs to continue exactly (train/training_state.hpp):
    /// weights, state, the optimiser's moments and counts, the position in the run.
    void save_state(const std::string& path) {
        if (!is_root()) return;  // the replicas are identical: rank 0 writes
        if constexpr (requires { model_.optimizer_snapshot(opt_); }) {
            auto host = model_.host_model();
            detail::write_training_state(path, host, rule_, model_.optimizer_snapshot(opt_), opt_, position_);
        } else {
            detail::write_training_state(path, model_, rule_, opt_.snapshot(model_.parameters().size()), opt_,
                                         position_);
        }
    }
    /// Continues from a state saved by save_state with the same network, T, rule,
    /// optimiser and base learning rate (checked; io_error otherwise): the next fit() goes
    /// on from the saved step. Schedules, callbacks, augmentation and the validation set
    /// are the caller's, as for the first run.
    void resume(const std::string& path) {
        optimizer_snapshot s;
        if constexpr (requires { model_.optimizer_snapshot(opt_); }) {
            auto host = model_.host_model();
            position_ = detail::read_training_state(path, host, rule_, opt_, position_.base_lr, s);
            model_.restore(host, s, opt_);
        } else {
            position_ = detail::read_training_state(path, model_, rule_, opt_, position_.base_lr, s);
            opt_.restore(s, model_.parameters().size());
        }
        resumed_from_ = path;
    }
    /// Saves the model alone (io::save_checkpoint), for save_best.
    void save_model(const std::string& path) {
        if (!is_root()) return;
        if constexpr (requires { model_.host_model(); }) {
            auto host = model_.host_model();
            io::save_checkpoint(host, path);
        } else {
            io::save_checkpoint(model_, path);
        }
    }

    /// The default line of an epoch on standard output.
    static void print(const epoch_report& r) {
        std::printf("epoch %3d  loss %.4f  train %.2f%%", r.epoch, r.loss, 100.0 * r.train_accuracy);
        if (r.snn_train_accuracy >= 0) std::printf(" (ANN branch), SNN %.2f%%", 100.0 * r.snn_train_accuracy);
        if (r.test_accuracy >= 0) std::printf("  test %.2f%%", 100.0 * r.test_accuracy);
        std::printf("  %.1f s  %.0f img/s  lr %.2g", r.seconds, r.images_per_second, r.learning_rate);
        if (r.skipped_batches) std::printf("  %zu non-finite batches skipped", r.skipped_batches);
        std::printf("\n");
        std::fflush(stdout);
    }

private:
    /// One epoch from the position's next batch; false when a callback or request_stop()
    /// stopped it before its end (the position then says where to continue).
    template <class... Callbacks>
    bool run_epoch(const data::dataset& train, std::size_t bs, epoch_report& r, Callbacks&... callbacks) {
        detail::trainer_position& p = position_;
        r.epoch = static_cast<int>(p.epochs_done) + 1;
        r.learning_rate = p.base_lr * (schedule_ ? schedule_(r.epoch - 1) : 1.0);
        data::shuffled_order(order_, train.size(), model_.seed_value(), static_cast<std::uint64_t>(r.epoch));
        std::size_t batches = (train.size() + bs - 1) / bs;
        // Data-parallel: a last batch with fewer samples than ranks is left out of the
        // epoch (fewer than ranks samples; the next epoch's order differs).
        if (group_ && train.size() % bs != 0 && train.size() % bs < static_cast<std::size_t>(group_->size()))
            --batches;
        if (batch_limit_) batches = std::min(batches, batch_limit_);
        float* x = x_.ensure(bs * train.image_size());
        std::int32_t* y = y_.ensure(bs);
        detail::progress_bar bar(!quiet_ && is_root());
        std::size_t done_here = 0;
        const auto t0 = std::chrono::steady_clock::now();
        for (auto k = static_cast<std::size_t>(p.next_batch); k < batches; ++k) {
            const std::size_t first = k * bs, n = std::min(bs, train.size() - first);
            const auto step = static_cast<std::uint64_t>(p.step);
            opt_.lr = r.learning_rate;
            (hook_step_begin(callbacks, step), ...);
            // Data-parallel: each rank trains on its part of the global batch, and the step's
            // figures are the global batch's. Augmentation draws by place in the batch, so a
            // rank that augments gathers and augments the whole batch; one that does not
            // gathers its part only.
            const detail::batch_part part = group_ ? detail::part_of_batch(n, group_->rank(), group_->size())
                                                   : detail::batch_part{0, n};
            const float* xs = x;
            const std::int32_t* ys = y;
            if (const detail::step_timer timer(step_part::data); augment_) {
                data::gather(train, order_.data() + first, n, x, y);
                // Frames of a sample are stacked as channels: one draw moves them all alike.
                augment_(x, n, image_shape(train.channels * train.frames, train.height, train.width),
                         detail::counter_rng(model_.seed_value(), detail::random_stream::augmentation + step));
                xs = x + part.first * train.image_size(), ys = y + part.first;
            } else {
                data::gather(train, order_.data() + first + part.first, part.count, x, y);
            }
            [[maybe_unused]] step_report s{r.epoch, step, k, batches, 0.0, opt_.lr, false};
            const bool guarded = non_finite_ != snn2ann::non_finite::unchecked;
            if (guarded) {
                const detail::step_timer timer(step_part::guard);
                keep_state_before_step();
            }
            loss_result lr;
            std::size_t snn_correct = 0;
            {
                const step_membership joined(group_, model_, part.first, n);
                lr = rule_.train_step(model_, xs, ys, part.count, step);
                if constexpr (requires { rule_.last_snn_correct(); }) snn_correct = rule_.last_snn_correct();
                if (group_) {
                    const detail::step_timer timer(step_part::exchange);
                    // A GPU model's gradients go through pinned host memory.
                    if constexpr (requires { model_.download_gradients(); }) model_.download_gradients();
                    group_->finish_gradients();
                    if constexpr (requires { model_.upload_gradients(); }) model_.upload_gradients();
                    double v[3] = {lr.loss * static_cast<double>(part.count), static_cast<double>(lr.correct),
                                   static_cast<double>(snn_correct)};
                    group_->sum(v, 3);
                    lr.loss = v[0] / static_cast<double>(n);
                    lr.correct = static_cast<std::size_t>(v[1]);
                    snn_correct = static_cast<std::size_t>(v[2]);
                }
            }
            s.loss = lr.loss;
            if (guarded && !step_is_finite(lr)) {
                if (non_finite_ == snn2ann::non_finite::stop)
                    throw non_finite_failure(train, xs, ys, part.count, r.epoch, step, k, first + part.first);
                restore_state_before_step();
                s.skipped = true;
                ++p.skipped;
            } else {
                if (group_) {
                    const detail::step_timer timer(step_part::exchange);
                    average_state();
                }
                const detail::step_timer timer(step_part::optimizer);
                // A GPU model keeps its parameters and the optimiser's state on the device.
                if constexpr (requires { model_.apply(opt_); }) model_.apply(opt_);
                else opt_.step(model_.parameters(), model_.gradients());
                p.loss_sum += lr.loss * static_cast<double>(n);
                p.correct += static_cast<std::int64_t>(lr.correct);
                p.snn_correct += static_cast<std::int64_t>(snn_correct);
                p.seen += static_cast<std::int64_t>(n);
            }
            ++p.step;
            p.next_batch = static_cast<std::int64_t>(k + 1);
            done_here += n;
            const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            bar.update(k + 1, batches, p.seen ? p.loss_sum / static_cast<double>(p.seen) : 0.0,
                       static_cast<double>(done_here) / seconds);
            ((stop_ = hook_step_end(callbacks, s) || stop_), ...);
            if (group_) stop_ = any_rank(stop_);
            if (stop_ && k + 1 < batches) return false;
        }
        r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        const double seen = static_cast<double>(p.seen);
        r.loss = p.seen ? p.loss_sum / seen : 0.0;
        r.train_accuracy = p.seen ? static_cast<double>(p.correct) / seen : 0.0;
        if constexpr (requires { rule_.last_snn_correct(); })
            r.snn_train_accuracy = p.seen ? static_cast<double>(p.snn_correct) / seen : 0.0;
        r.images_per_second = r.seconds > 0 ? static_cast<double>(done_here) / r.seconds : 0.0;
        r.skipped_batches = static_cast<std::size_t>(p.skipped);
        ++p.epochs_done;
        p.next_batch = 0, p.loss_sum = 0.0, p.correct = p.snn_correct = p.seen = p.skipped = 0;
        return true;
    }

    /// A data-parallel step's membership of the model in it (model::join_step), for the
    /// duration of the step's passes, also when one throws.
    struct step_membership {
        Model* model = nullptr;
        step_membership(detail::process_group* g, Model& m, std::size_t first, std::size_t global) {
            if (!g) return;
            m.join_step(*g, first, global);
            // The gradient buffer, or a GPU model's host copy of it.
            std::span<float> grads;
            if constexpr (requires { m.gradients(); }) grads = m.gradients();
            else grads = m.gradient_staging();
            g->begin_step(grads.data(), grads.size(), global);
            model = &m;
        }
        ~step_membership() {
            if (model) model->leave_step();
        }
        step_membership(const step_membership&) = delete;
        step_membership& operator=(const step_membership&) = delete;
    };
    /// Data-parallel: the state that is not trained by gradients (BN's running statistics,
    /// thresholds) is averaged over the ranks after every step, in double and rank order:
    /// the same bits on every rank, and values that are equal everywhere (ATA's
    /// thresholds, raised by the global batch's counts) stay exactly what they are.
    void average_state() {
        const auto average = [&](std::span<float> st) {
            std::vector<double>& v = state_sum_;
            v.assign(st.begin(), st.end());
            group_->sum(v.data(), v.size());
            const double ranks = group_->size();
            for (std::size_t i = 0; i < st.size(); ++i) st[i] = static_cast<float>(v[i] / ranks);
        };
        if constexpr (requires { model_.state(); }) {
            average(model_.state());
        } else {
            std::vector<float> st = model_.state_on_host();  // a GPU model
            average(st);
            model_.upload_state(st.data());
        }
    }
    /// Every rank holds the same network, T, rule, optimiser, weights, state and position.
    void require_same_replicas() {
        std::string network = "T " + std::to_string(Model::T);
        if constexpr (requires { Model::executor::describe_layers(); }) network += ", " + Model::executor::describe_layers();
        group_->require_equal(detail::fingerprint(network), "network or T");
        group_->require_equal(detail::fingerprint(rule_.describe()), "rule (" + rule_.describe() + ")");
        group_->require_equal(detail::fingerprint(opt_.describe()), "optimiser (" + opt_.describe() + ")");
        std::uint64_t h = 0;
        if constexpr (requires { model_.state(); model_.parameters(); }) {
            const auto w = model_.parameters();
            const auto st = model_.state();
            h = detail::fingerprint(st.data(), st.size_bytes(), detail::fingerprint(w.data(), w.size_bytes()));
        } else {
            const std::vector<float> w = model_.parameters_on_host(), st = model_.state_on_host();  // a GPU model
            h = detail::fingerprint(st.data(), st.size() * sizeof(float),
                                    detail::fingerprint(w.data(), w.size() * sizeof(float)));
        }
        group_->require_equal(h, "weights or state (every rank builds the model from the same seed)");
        const std::int64_t where[2] = {position_.epochs_done, position_.step};
        group_->require_equal(detail::fingerprint(where, sizeof where), "position in the run (epochs and steps done)");
    }

    /// The loss, and (where the gradients are in host memory) every gradient, are finite.
    bool step_is_finite(const loss_result& lr) {
        const detail::step_timer timer(step_part::guard);
        if (!std::isfinite(lr.loss)) return false;
        if constexpr (requires { model_.gradients(); }) return detail::all_finite(model_.gradients());
        else return model_.gradients_finite();  // a GPU model looks on its device
    }
    /// The model's state (BN statistics, thresholds: a training step changes them) before
    /// a step, so that a non-finite step can be undone or run again as it was.
    void keep_state_before_step() {
        if constexpr (requires { model_.state(); }) {
            const auto st = model_.state();
            std::copy(st.begin(), st.end(), state_before_.ensure(st.size()));
        } else {
            model_.keep_state_before_step();  // a GPU model keeps it on its device
        }
    }
    void restore_state_before_step() {
        if constexpr (requires { model_.state(); }) {
            const auto st = model_.state();
            std::copy(state_before_.data(), state_before_.data() + st.size(), st.begin());
        } else {
            model_.restore_state_before_step();
        }
    }
    /// The error for a non-finite step: the batch is run again from the state before it,
    /// layer outputs and gradients are looked at, and the model is left as before the batch.
    non_finite_error non_finite_failure(const data::dataset& train, const float* x, const std::int32_t* y, std::size_t n,
                                int epoch, std::uint64_t step, std::size_t batch_index, std::size_t first) {
        std::string where = "training produced a NaN or an infinity in epoch " + std::to_string(epoch) + ", step " +
                            std::to_string(step) + ", batch " + std::to_string(batch_index) + " of the epoch: ";
        if (const std::ptrdiff_t b = detail::first_non_finite_sample(x, n, train.image_size()); b >= 0) {
            where += "sample " + std::to_string(order_[first + static_cast<std::size_t>(b)]) +
                     " of the training set holds a non-finite value";
        } else if constexpr (requires { model_.state(); model_.layers().first_non_finite_output(); }) {
            restore_state_before_step();
            rule_.train_step(model_, x, y, n, step);
            where += detail::non_finite_layer(model_) + " is not finite";
        } else {
            where += "the loss is not finite";
        }
        restore_state_before_step();
        return non_finite_error(where + " (the model is left as before this batch)");
    }

    template <class C>
    void hook_fit_begin(C& c) {
        if constexpr (requires { c.on_fit_begin(*this); }) c.on_fit_begin(*this);
    }
    template <class C>
    void hook_step_begin(C& c, std::uint64_t step) {
        if constexpr (requires { c.on_step_begin(*this, step); }) c.on_step_begin(*this, step);
    }
    template <class C>
    bool hook_step_end(C& c, const step_report& s) {
        if constexpr (requires { { c.on_step_end(*this, s) } -> std::convertible_to<bool>; }) return c.on_step_end(*this, s);
        else if constexpr (requires { c.on_step_end(*this, s); }) return c.on_step_end(*this, s), false;
        else return false;
    }
    template <class C>
    bool hook_epoch_end(C& c, const epoch_report& r) {
        if constexpr (requires { { c.on_epoch_end(*this, r) } -> std::convertible_to<bool>; }) return c.on_epoch_end(*this, r);
        else if constexpr (requires { c.on_epoch_end(*this, r); }) return c.on_epoch_end(*this, r), false;
        else return false;
    }
    template <class C>
    void hook_fit_end(C& c) {
        if constexpr (requires { c.on_fit_end(*this, position_.history); }) c.on_fit_end(*this, position_.history);
    }

    Model& model_;
    Rule rule_;
    Optimizer opt_;
    const data::dataset* validation_ = nullptr;
    std::function<double(int)> schedule_;
    std::function<void(const epoch_report&)> on_epoch_;
    std::function<void(float*, std::size_t, shape, const detail::counter_rng&)> augment_;
    bool quiet_ = false;
    bool flush_denormals_ = true;
    bool stop_ = false;
    snn2ann::non_finite non_finite_ = snn2ann::non_finite::stop;
    std::size_t batch_limit_ = 0;
    detail::trainer_position position_;
    std::string resumed_from_;  // the state resume() read, for fit()'s messages
    detail::process_group* group_ = nullptr;  // data-parallel training (distribute)
    std::vector<double> state_sum_;
    std::vector<std::uint32_t> order_;
    detail::buffer<float> x_, state_before_;
    detail::buffer<std::int32_t> y_;
};

}  // namespace snn2ann::inline v0
