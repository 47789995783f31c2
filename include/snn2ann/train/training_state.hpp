// snn2ann/train: the training state, everything a run needs to continue exactly where it
// stopped, as one .npz archive written atomically (each member with its CRC):
//   training_state_version.npy   int32, this format's version (1)
//   the model's checkpoint        format_version, timesteps, signature, layerNN.params/state
//                                 (io/checkpoint.hpp: io::load_checkpoint reads them too)
//   rule.npy, optimizer.npy       what trained: the rule and the optimiser with their options
//   optimizer.numbers.npy         the optimiser's numbers (step count, whether it started),
//   optimizer.names.npy           named one per line, and optimizer.<array>.npy its arrays
//                                 (moments, velocity: one float per parameter)
//   trainer.npy                   int64: epochs done, global step, next batch of the epoch,
//                                 batch size, training-set size, the epoch's correct, SNN
//                                 correct, samples seen and skipped batches so far
//   trainer_sums.npy              float64: base learning rate, the epoch's summed loss
//   history.npy                   float64: one row of epoch_report per finished epoch
// Random numbers are counter-based, keyed by the model's seed and the step (membrane
// dropout, dropout, augmentation, Poisson frames) or the epoch (the data order), so the
// position is all of the randomness a run needs: nothing else is saved. A state is
// refused with an io_error when it belongs to another network or T (the checkpoint's
// checks), another rule, optimiser, base learning rate, or training set; resuming mid-
// epoch with another batch size is refused by fit().
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "../core/error.hpp"
#include "../io/checkpoint.hpp"
#include "../io/npy.hpp"
#include "../io/zip.hpp"
#include "optimizer.hpp"

namespace snn2ann::inline v0 {

/// What one epoch did.
struct epoch_report {
    int epoch = 0;                    ///< 1-based
    double loss = 0.0;                ///< mean training loss
    double train_accuracy = 0.0;      ///< on the training batches, in training mode: the branch the loss trains
    double snn_train_accuracy = -1.0; ///< SNN2ANN: the SNN branch on the same batches (-1: the rule has none)
    double test_accuracy = -1.0;      ///< on the validation set (-1 when none was given)
    double test_loss = -1.0;          ///< mean cross-entropy on the validation set (-1 when none)
    double seconds = 0.0;             ///< training time of the epoch (in this process), evaluation excluded
    double images_per_second = 0.0;   ///< training throughput of the epoch
    double learning_rate = 0.0;       ///< the schedule's rate of the epoch (before warm-up)
    std::size_t skipped_batches = 0;  ///< batches with a non-finite loss or gradient skipped (non_finite::skip)
};

namespace detail {

/// Where a trainer stands in its run, between two steps.
struct trainer_position {
    std::int64_t epochs_done = 0, step = 0, next_batch = 0, batch_size = 0, train_size = 0;
    std::int64_t correct = 0, snn_correct = 0, seen = 0, skipped = 0;  // the running epoch's counts so far
    double base_lr = 0.0, loss_sum = 0.0;
    std::vector<epoch_report> history;
};

inline constexpr std::int32_t training_state_version = 1;
inline constexpr std::size_t epoch_report_fields = 10;

inline std::string text_member(const std::string& s) {
    return io::write_npy(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
}

template <class Model, class Rule, class Optimizer>
void write_training_state(const std::string& path, Model& m, const Rule& rule, const optimizer_snapshot& opt,
                          const Optimizer& optimizer, const trainer_position& p) {
    std::vector<io::zip_entry> e = checkpoint_entries(m);
    e.push_back({"training_state_version.npy", io::write_npy(&training_state_version, 1)});
    e.push_back({"rule.npy", text_member(rule.describe())});
    e.push_back({"optimizer.npy", text_member(optimizer.describe())});
    std::vector<double> numbers;
    std::string names;
    for (const auto& [name, value] : opt.numbers) numbers.push_back(value), names += name + "\n";
    e.push_back({"optimizer.numbers.npy", io::write_npy(numbers.data(), numbers.size())});
    e.push_back({"optimizer.names.npy", text_member(names)});
    for (const auto& [name, values] : opt.arrays)
        e.push_back({"optimizer." + name + ".npy", io::write_npy(values.data(), values.size())});
    const std::int64_t counts[] = {p.epochs_done, p.step,    p.next_batch, p.batch_size, p.train_size,
                                   p.correct,     p.snn_correct, p.seen,   p.skipped};
    e.push_back({"trainer.npy", io::write_npy(counts, std::size(counts))});
    const double sums[] = {p.base_lr, p.loss_sum};
    e.push_back({"trainer_sums.npy", io::write_npy(sums, std::size(sums))});
    std::vector<double> rows;
    for (const auto& r : p.history)
        rows.insert(rows.end(), {static_cast<double>(r.epoch), r.loss, r.train_accuracy, r.snn_train_accuracy,
                                 r.test_accuracy, r.test_loss, r.seconds, r.images_per_second, r.learning_rate,
                                 static_cast<double>(r.skipped_batches)});
    e.push_back({"history.npy", io::write_npy(rows.data(), rows.size())});
    io::write_zip(path, e);
}

/// Reads a training state into m and `opt` after checking that it belongs to this model,
/// rule, optimiser and base learning rate; returns the trainer's position. Nothing
/// changes unless every check passes.
template <class Model, class Rule, class Optimizer>
trainer_position read_training_state(const std::string& path, Model& m, const Rule& rule, const Optimizer& optimizer,
                                     double base_lr, optimizer_snapshot& opt) {
    const std::size_t params = m.parameters().size();
    const auto entries = io::read_zip(path, largest_checkpoint_member(m) + 2 * sizeof(float) * params);
    const auto member = [&](const std::string& name) -> const io::zip_entry& {
        for (const auto& x : entries)
            if (x.name == name) return x;
        throw io_error(path, "not an snn2ann training state: member " + name + " is missing (a model checkpoint "
                             "saved by io::save_checkpoint holds weights only: load it with io::load_checkpoint)");
    };
    const auto text = [&](const std::string& name) {
        const auto bytes = io::read_npy<std::uint8_t>(member(name).bytes, path, name);
        return std::string(bytes.begin(), bytes.end());
    };
    const auto version = io::read_npy<std::int32_t>(member("training_state_version.npy").bytes, path,
                                                    "training_state_version.npy");
    if (version.size() != 1 || version[0] != training_state_version)
        throw io_error(path, "training state version " + std::to_string(version.empty() ? -1 : version[0]) +
                                 " is not supported (this library reads version " +
                                 std::to_string(training_state_version) + ")");
    if (const std::string saved = text("rule.npy"); saved != rule.describe())
        throw io_error(path, "the training state was saved by another rule: " + saved + ", this trainer's " +
                                 rule.describe());
    if (const std::string saved = text("optimizer.npy"); saved != optimizer.describe())
        throw io_error(path, "the training state was saved with another optimiser: " + saved + ", this trainer's " +
                                 optimizer.describe());
    const auto counts = io::read_npy<std::int64_t>(member("trainer.npy").bytes, path, "trainer.npy");
    const auto sums = io::read_npy<double>(member("trainer_sums.npy").bytes, path, "trainer_sums.npy");
    const auto rows = io::read_npy<double>(member("history.npy").bytes, path, "history.npy");
    if (counts.size() != 9 || sums.size() != 2 || rows.size() % epoch_report_fields != 0)
        throw io_error(path, "corrupt training state: the trainer's position has the wrong size");
    trainer_position p;
    p.epochs_done = counts[0], p.step = counts[1], p.next_batch = counts[2], p.batch_size = counts[3];
    p.train_size = counts[4], p.correct = counts[5], p.snn_correct = counts[6], p.seen = counts[7];
    p.skipped = counts[8], p.base_lr = sums[0], p.loss_sum = sums[1];
    for (const std::int64_t c : counts)
        if (c < 0) throw io_error(path, "corrupt training state: a negative count in the trainer's position");
    if (p.base_lr != base_lr)
        throw io_error(path, "the training state was saved with base learning rate " + exact_text(p.base_lr) +
                                 ", this trainer's is " + exact_text(base_lr));
    for (std::size_t i = 0; i < rows.size(); i += epoch_report_fields) {
        epoch_report r;
        r.epoch = static_cast<int>(rows[i]), r.loss = rows[i + 1], r.train_accuracy = rows[i + 2];
        r.snn_train_accuracy = rows[i + 3], r.test_accuracy = rows[i + 4], r.test_loss = rows[i + 5];
        r.seconds = rows[i + 6], r.images_per_second = rows[i + 7], r.learning_rate = rows[i + 8];
        r.skipped_batches = static_cast<std::size_t>(rows[i + 9]);
        p.history.push_back(r);
    }
    optimizer_snapshot s;
    const auto numbers = io::read_npy<double>(member("optimizer.numbers.npy").bytes, path, "optimizer.numbers.npy");
    std::vector<std::string> names(1);
    for (char c : text("optimizer.names.npy")) {
        if (c == '\n') names.emplace_back();
        else names.back().push_back(c);
    }
    names.pop_back();
    if (names.size() != numbers.size()) throw io_error(path, "corrupt training state: the optimiser's numbers");
    for (std::size_t i = 0; i < names.size(); ++i) s.numbers.emplace_back(names[i], numbers[i]);
    for (const auto& x : entries) {
        const std::string prefix = "optimizer.", suffix = ".npy";
        if (x.name.size() <= prefix.size() + suffix.size() || x.name.compare(0, prefix.size(), prefix) != 0) continue;
        const std::string name = x.name.substr(prefix.size(), x.name.size() - prefix.size() - suffix.size());
        if (name == "numbers" || name == "names") continue;
        auto values = io::read_npy<float>(x.bytes, path, x.name);
        if (values.size() != params)
            throw io_error(path, "member " + x.name + " holds " + std::to_string(values.size()) +
                                     " values, the model has " + std::to_string(params) + " parameters");
        s.arrays.emplace_back(name, std::move(values));
    }
    load_checkpoint_entries(m, entries, path, nullptr);  // the last check; it changes the model only if it passes
    opt = std::move(s);
    return p;
}

}  // namespace detail
}  // namespace snn2ann::inline v0
