// snn2ann/train: callbacks for trainer::fit(data, epochs, batch, callbacks...), in the
// manner of ensmallen's: any object with some of these member functions, each optional,
// called in the order the callbacks were given:
//   void on_fit_begin(Trainer&)                             before the first step of fit()
//   void on_step_begin(Trainer&, std::uint64_t step)        before each step; may set
//                                                           trainer.optimizer().lr (warm-up)
//   bool on_step_end(Trainer&, const step_report&)          after each step
//   bool on_epoch_end(Trainer&, const epoch_report&)        after each epoch and its validation
//   void on_fit_end(Trainer&, const std::vector<epoch_report>&)
// A hook that returns true (or a call of trainer.request_stop()) stops training after
// the current step or epoch; fit() then returns the epochs finished so far. Callbacks hold
// their own state (early stopping's best value, ...); early_stopping and save_best take
// theirs from the run's finished epochs (trainer.history()) when fit() begins, so a run
// continued by trainer.resume() stops and keeps the best epoch as the uninterrupted run.
#pragma once

#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "../core/error.hpp"
#include "../io/checkpoint.hpp"
#include "training_state.hpp"

namespace snn2ann::inline v0 {

/// What one training step did, for on_step_end.
struct step_report {
    int epoch = 0;              ///< 1-based, the epoch the step belongs to
    std::uint64_t step = 0;     ///< 0-based, over the whole run
    std::size_t batch = 0;      ///< 0-based within the epoch
    std::size_t batches = 0;    ///< in the epoch
    double loss = 0.0;  ///< mean training loss of the step's batch
    double learning_rate = 0.0;  ///< the rate the step trained at
    bool skipped = false;       ///< the batch was not finite and was skipped (non_finite::skip)
};

namespace callbacks {
/// The quantity early_stopping and save_best watch.
enum class monitor {
    validation_accuracy,  ///< higher is better; needs trainer.validate_on(data)
    validation_loss,      ///< lower is better; needs trainer.validate_on(data)
    training_loss,        ///< lower is better
};
}  // namespace callbacks

namespace detail {
/// The monitored value of an epoch, signed so that larger is always better.
inline double monitored_score(callbacks::monitor m, const epoch_report& r, const char* who) {
    if (m != callbacks::monitor::training_loss && r.test_accuracy < 0)
        throw invalid_argument(std::string(who) + ": it watches the validation set; give the trainer one with "
                                                  "validate_on(data), or monitor::training_loss");
    switch (m) {
        case callbacks::monitor::validation_accuracy: return r.test_accuracy;
        case callbacks::monitor::validation_loss: return -r.test_loss;
        case callbacks::monitor::training_loss: break;
    }
    return -r.loss;
}
/// Whether an epoch of the history has the monitored value: epochs trained without a
/// validation set have none of the validation monitors' (monitored_score throws for them
/// when they are new).
inline bool has_monitored_score(callbacks::monitor m, const epoch_report& r) {
    return m == callbacks::monitor::training_loss || r.test_accuracy >= 0;
}
}  // namespace detail

namespace callbacks {

/// One line per epoch on standard output (what fit() prints by default).
struct print_epochs {
    /// Prints `r` on rank 0.
    template <class Trainer>
    bool on_epoch_end(Trainer& t, const epoch_report& r) {
        if (t.is_root()) Trainer::print(r);  // data-parallel: rank 0 prints
        return false;
    }
};

/// Stops training when the monitored value has not improved by more than min_delta for
/// `patience` epochs in a row.
struct early_stopping {
    int patience = 5;  ///< epochs without improvement before training stops
    monitor what = monitor::validation_accuracy;  ///< the watched quantity
    double min_delta = 0.0;  ///< an improvement must exceed this

    /// Throws invalid_argument for a patience below 1.
    explicit early_stopping(int patience_epochs = 5, monitor m = monitor::validation_accuracy, double delta = 0.0)
        : patience(patience_epochs), what(m), min_delta(delta) {
        if (patience < 1) throw invalid_argument("callbacks::early_stopping: the patience must be at least 1 epoch");
    }
    /// Takes the best value and the epochs waited since from the run's finished epochs: a
    /// resumed run (trainer.resume) counts its patience from the epoch the uninterrupted
    /// run would. Nothing for a new run.
    template <class Trainer>
    void on_fit_begin(Trainer& t) {
        best_ = -std::numeric_limits<double>::infinity(), best_epoch_ = 0, waited_ = 0;
        for (const epoch_report& r : t.history())
            if (snn2ann::detail::has_monitored_score(what, r)) observe(r);
    }
    /// True (stop) after `patience` epochs without improvement.
    template <class Trainer>
    bool on_epoch_end(Trainer&, const epoch_report& r) {
        return observe(r);
    }
    /// The 1-based epoch of the best value so far (0 before the first epoch).
    int best_epoch() const { return best_epoch_; }

private:
    bool observe(const epoch_report& r) {
        const double s = snn2ann::detail::monitored_score(what, r, "callbacks::early_stopping");
        if (s > best_ + min_delta) {
            best_ = s, best_epoch_ = r.epoch, waited_ = 0;
            return false;
        }
        return ++waited_ >= patience;
    }

    double best_ = -std::numeric_limits<double>::infinity();
    int best_epoch_ = 0, waited_ = 0;
};

/// Saves the model (io::save_checkpoint, atomically) after every epoch that improves the
/// monitored value, so that `path` always holds the best epoch's weights and state. With
/// SNN2ANN the validation accuracy is the SNN branch's (what the rule reports).
struct save_best {
    std::string path;  ///< the checkpoint file the best epoch is written to
    monitor what = monitor::validation_accuracy;  ///< the watched quantity

    /// Writes the best epoch's checkpoint to `file`.
    explicit save_best(std::string file, monitor m = monitor::validation_accuracy) : path(std::move(file)), what(m) {}
    /// Takes the best of the run's finished epochs, whose weights `path` holds already
    /// (written before the run was interrupted): after trainer.resume, a later epoch
    /// replaces them only if it is better, as in the uninterrupted run. Nothing for a new run.
    template <class Trainer>
    void on_fit_begin(Trainer& t) {
        best_ = -std::numeric_limits<double>::infinity(), best_epoch_ = 0;
        for (const epoch_report& r : t.history()) {
            if (!snn2ann::detail::has_monitored_score(what, r)) continue;
            if (const double s = snn2ann::detail::monitored_score(what, r, "callbacks::save_best"); s > best_)
                best_ = s, best_epoch_ = r.epoch;
        }
    }
    /// Saves the model when the epoch improves the watched value.
    template <class Trainer>
    bool on_epoch_end(Trainer& t, const epoch_report& r) {
        const double s = snn2ann::detail::monitored_score(what, r, "callbacks::save_best");
        if (s > best_) {
            best_ = s, best_epoch_ = r.epoch;
            t.save_model(path);
        }
        return false;
    }
    /// The 1-based epoch whose weights `path` holds (0 before the first save).
    int best_epoch() const { return best_epoch_; }

private:
    double best_ = -std::numeric_limits<double>::infinity();
    int best_epoch_ = 0;
};

/// Saves the training state (trainer.save_state(path), atomically) every `every` steps or
/// epochs, so that trainer.resume(path) continues from the last save.
struct checkpoint_every {
    std::string path;  ///< the training-state file
    std::uint64_t every_steps = 0;  ///< save after every this many steps (0: not by steps)
    int every_epochs = 0;  ///< save after every this many epochs (0: not by epochs)

    /// Saves every `n` steps to `file`.
    static checkpoint_every steps(std::uint64_t n, std::string file) { return {std::move(file), n, 0}; }
    /// Saves every `n` epochs to `file`.
    static checkpoint_every epochs(int n, std::string file) { return {std::move(file), 0, n}; }

    /// Throws invalid_argument when neither interval is set.
    template <class Trainer>
    void on_fit_begin(Trainer&) const {
        if (every_steps == 0 && every_epochs <= 0)
            throw invalid_argument("callbacks::checkpoint_every: every 0 steps and 0 epochs");
    }
    /// Saves after every `every_steps`-th step.
    template <class Trainer>
    bool on_step_end(Trainer& t, const step_report& r) {
        if (every_steps && (r.step + 1) % every_steps == 0) t.save_state(path);
        return false;
    }
    /// Saves after every `every_epochs`-th epoch.
    template <class Trainer>
    bool on_epoch_end(Trainer& t, const epoch_report& r) {
        if (every_epochs > 0 && r.epoch % every_epochs == 0) t.save_state(path);
        return false;
    }
};

/// Linear learning-rate warm-up over the first `steps` steps of the run: step s (0-based)
/// trains at the scheduled rate times start + (1 - start)(s + 1) / steps.
struct warmup {
    std::uint64_t steps = 1;  ///< warm-up length in steps
    double start_factor = 0.0;  ///< the factor at step 0 before the linear ramp

    /// Throws invalid_argument for 0 steps.
    explicit warmup(std::uint64_t warm_steps, double start = 0.0) : steps(warm_steps), start_factor(start) {
        if (steps == 0) throw invalid_argument("callbacks::warmup: 0 steps");
    }
    /// The learning-rate factor of 0-based step `step` (1 after the warm-up).
    double factor(std::uint64_t step) const {
        if (step >= steps) return 1.0;
        return start_factor + (1.0 - start_factor) * static_cast<double>(step + 1) / static_cast<double>(steps);
    }
    /// Scales the step's learning rate by factor(step).
    template <class Trainer>
    void on_step_begin(Trainer& t, std::uint64_t step) const {
        t.optimizer().lr *= factor(step);
    }
};

/// Saves the training state to `path` and stops once `seconds` of wall-clock time have
/// passed since fit() began (checked after every step): a run cut to fit a time slot that
/// trainer.resume(path) continues.
struct time_budget {
    double seconds = 0.0;  ///< wall-clock budget of fit()
    std::string path;  ///< the training-state file written when the budget is spent

    /// Saves to `file` and stops after `budget_seconds`.
    time_budget(double budget_seconds, std::string file) : seconds(budget_seconds), path(std::move(file)) {}
    /// Starts the clock.
    template <class Trainer>
    void on_fit_begin(Trainer&) {
        start_ = std::chrono::steady_clock::now();
    }
    /// True (stop) once the budget is spent on any rank, after saving the state.
    template <class Trainer>
    bool on_step_end(Trainer& t, const step_report&) {
        // Data-parallel: the clocks of the ranks differ, the decision must not.
        const bool spent = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count() >= seconds;
        if (!t.any_rank(spent)) return false;
        t.save_state(path);
        stopped_ = true;
        return true;
    }
    /// Whether the budget stopped the run.
    bool stopped() const { return stopped_; }

private:
    std::chrono::steady_clock::time_point start_{};
    bool stopped_ = false;
};

}  // namespace callbacks
}  // namespace snn2ann::inline v0
