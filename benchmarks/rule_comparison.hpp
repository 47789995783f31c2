// The three training rules on one network type and one data set, one rule per process (so
// that each peak memory is its own): SNN2ANN, spike-based BPTT and ANN-to-SNN conversion
// under the same seed, data, batch and epochs. benchmarks/compare_rules.sh runs the
// processes, the PyTorch peer, and prints the table; plot_comparison.py draws the figure.
//
// For a network of your own, write a main that reads the options, loads your data and
// runs the comparison, as compare_rules.cpp does:
//   snn2ann_bench::comparison_options o;
//   snn2ann_examples::command_line cli{"my_comparison", "..."};
//   snn2ann_bench::add_comparison_options(cli.app(), o);
//   if (const int rc = cli.parse(argc, argv); rc >= 0) return rc;  // --help, or a usage error
//   return snn2ann_bench::compare_rules<your_net_template>(o, train, test);
// where your_net_template<Neuron> is your network with spiking<Neuron> layers; --help
// lists the options.
// Output: one "epoch" line per epoch (test accuracy of the rule's SNN), then "result"
// lines (key=value) that the script parses, and for conversion one "conversion" line per T.
#pragma once

#include <sys/resource.h>

#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <snn2ann/data/augment.hpp>
#include <snn2ann/snn2ann.hpp>

#include "../examples/command_line.hpp"

namespace snn2ann_bench {
namespace s = snn2ann;

/// The largest T that compare_rules trains by SNN2ANN or BPTT (each T from 1 is one
/// compiled instance of both rules).
inline constexpr int max_timesteps = 8;

struct comparison_options {
    std::string rule = "snn2ann";
    int T = 4, epochs = 5, threads = 2, levels = 8;
    std::size_t batch = 64;
    std::uint64_t seed = 1;
    float alpha = 4.0f;
    std::string snn2ann_threshold = "uniform";
    std::string snn2ann_reset = "zero";  ///< SNN2ANN's reset: to zero (docs/method.md) or by subtraction
    int snn2ann_dropout = 50;  ///< SNN2ANN's membrane dropout percentage: 50 (docs/method.md) or 0
    snn2ann::ata ata{};        ///< SNN2ANN's threshold adjustment (docs/method.md's defaults)
    float spike_penalty = 0.0f;  ///< SNN2ANN's activity regularisation (rules::snn2ann::spike_penalty)
    std::string snn2ann_pooling = "per-step";  ///< SNN2ANN's max pooling of SNN currents
    std::string schedule = "cosine";
    std::string matmul = "fp32";  ///< the convolutions' matrix product: fp32, amx or amx-exact (snn2ann::cpu_matmul)
    // The recipe (the same for every rule): optimiser, warm-up, augmentation, loss.
    double lr = 1e-3;            ///< Adam's base learning rate
    double weight_decay = 0.0;   ///< AdamW's decoupled weight decay (0: Adam)
    double warmup_epochs = 0.0;  ///< linear warm-up of the learning rate over this many epochs
    int crop_padding = 0;        ///< random crop of the image padded by this many pixels (0: none)
    bool flip = false;           ///< random horizontal flip
    float label_smoothing = 0.0f;
    // The protocol: this many training images, split off by the seed, choose the epoch (the
    // best validation accuracy); the test set is evaluated once, on that epoch's weights.
    // 0: no split, the test set evaluated after every epoch and the last epoch reported.
    std::size_t validation = 0;
    std::string checkpoint = "compare_rules_best.ckpt";  ///< where the protocol keeps the best epoch
    // A long run in parts: the training state saved after every epoch (trainer.save_state),
    // and a state to continue from (trainer.resume; the same options, and under the
    // protocol the best epoch's `checkpoint` file of the interrupted run).
    std::string state, resume;
    int stop_after_epoch = 0;  ///< stop after this epoch of the run, as if interrupted (0: never)
    std::string net = "reference";  ///< the network's name, as the program that picks it calls it
    // For the data loader of the caller's main (0: all images; "": the default folder).
    std::size_t train_limit = 0, test_limit = 0;
    std::string data_dir;
};

/// BPTT's and conversion's neuron, as the peer and SpikingJelly users configure it:
/// threshold 1, reset by subtraction, V >= Vth, no membrane dropout.
using bptt_neuron = s::if_neuron<s::reset::by_subtraction, s::firing::inclusive, s::constant_threshold<1>, 0>;

inline double peak_rss_mib() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_maxrss) / 1024.0;
}

/// The library's workspace high-water mark of the first epoch the process trains, before
/// any evaluation (first_epoch_peak records it): the figure for training.
inline std::size_t& training_peak_bytes() {
    static std::size_t bytes = 0;
    return bytes;
}

/// The optimiser every rule trains with: Adam, or AdamW where the recipe decays weights.
inline s::adam recipe_optimizer(const comparison_options& o) {
    return s::adam{o.lr, o.weight_decay, o.weight_decay != 0.0};
}

/// The recipe's learning-rate schedule and augmentation, the same for every rule.
template <class Trainer>
void apply_recipe(const comparison_options& o, Trainer& trainer) {
    if (o.schedule == "cosine") trainer.schedule(s::cosine_lr{o.epochs});
    else if (o.schedule != "constant")
        throw std::invalid_argument("--schedule must be cosine or constant, not " + o.schedule);
    if (o.crop_padding > 0 || o.flip) trainer.augment(s::data::crop_flip{o.crop_padding, o.flip});
}

/// The recipe's warm-up as a callback: over warmup_epochs epochs of `train_size` images,
/// or none (a factor of 1 from the first step, which leaves the rate's bits alone).
inline s::callbacks::warmup recipe_warmup(const comparison_options& o, std::size_t train_size) {
    const auto steps_per_epoch = static_cast<double>((train_size + o.batch - 1) / o.batch);
    const auto steps = static_cast<std::uint64_t>(std::llround(o.warmup_epochs * steps_per_epoch));
    return steps > 0 ? s::callbacks::warmup{steps} : s::callbacks::warmup{1, 1.0};
}

/// Records the library's workspace high-water mark after every step of the first epoch
/// the process trains (epoch 1, or the first after a resume): the training figure, before
/// any evaluation (validation and test run at batch 256).
struct first_epoch_peak {
    int epoch = 1;
    template <class Trainer>
    void on_step_end(Trainer&, const s::step_report& r) const {
        if (r.epoch == epoch) training_peak_bytes() = s::workspace_stats().peak_bytes;
    }
};

/// Stops the run after epoch `epoch` (0: never), as an interruption would: the state and
/// the best epoch's file stay, for --resume.
struct stop_after {
    int epoch = 0;
    template <class Trainer>
    bool on_epoch_end(Trainer&, const s::epoch_report& r) const {
        return epoch > 0 && r.epoch >= epoch;
    }
};

/// What a run trains on: the training images, the validation split that chooses the epoch
/// (null without the protocol) and the test images.
struct run_data {
    const s::data::dataset& train;
    const s::data::dataset* validation;
    const s::data::dataset& test;
};

/// The data of a run under o's protocol: with o.validation > 0 the seed splits that many
/// images off `train` into `split` (which must outlive the result); otherwise all of
/// `train`, and no validation.
inline run_data protocol_data(const comparison_options& o, const s::data::dataset& train, const s::data::dataset& test,
                              std::optional<s::data::validation_split>& split) {
    if (o.validation == 0) return {train, nullptr, test};
    split = s::data::split_off(train, o.validation, o.seed);
    return {split->train, &split->validation, test};
}

/// Trains `model` by `trainer` under the recipe, printing one "epoch" line per epoch
/// (`epoch_line` adds the rule's own figures). Under the protocol the epoch with the best
/// validation accuracy is kept in o.checkpoint and loaded back at the end; returns the
/// training seconds per epoch and the epoch whose weights the model holds. With o.state
/// the training state is saved after every epoch (after the best epoch's file, so that a
/// state never runs ahead of it); with o.resume the run goes on from a saved state, the
/// seconds per epoch counting the epochs before it too. Nothing when the run stopped
/// before its last epoch (o.stop_after_epoch), to go on with --resume.
template <class Model, class Trainer, class EpochLine>
std::optional<std::pair<double, int>> fit_recipe(const comparison_options& o, Model& model, Trainer& trainer,
                                                 const run_data& d, EpochLine epoch_line) {
    apply_recipe(o, trainer);
    if (!o.resume.empty()) {
        trainer.resume(o.resume);
        if (d.validation && !std::filesystem::exists(o.checkpoint))
            throw std::invalid_argument("--resume " + o.resume + ": the interrupted run's best epoch, " + o.checkpoint +
                                        ", is missing (give its --checkpoint)");
        std::printf("# resumed from %s after %d epochs\n", o.resume.c_str(), trainer.epochs_done());
        std::fflush(stdout);
    }
    trainer.quiet().on_epoch([&](const s::epoch_report& r) {
        std::printf("epoch %d", r.epoch);
        if (d.validation) std::printf(" validation_accuracy %.4f", r.test_accuracy);
        epoch_line(r);
        std::printf(" train_seconds %.2f images_per_second %.1f loss %.4f\n", r.seconds, r.images_per_second, r.loss);
        std::fflush(stdout);
    });
    s::reset_workspace_peak();
    const s::callbacks::warmup warm = recipe_warmup(o, d.train.size());
    const first_epoch_peak peak{trainer.epochs_done() + 1};
    const auto fit = [&](auto&... more) {
        if (trainer.epochs_done() >= o.epochs) {  // stopped after the last epoch's state: only the result is left
            (more.on_fit_begin(trainer), ...);
            return trainer.history();
        }
        const stop_after stop{o.stop_after_epoch};
        if (o.state.empty()) return trainer.fit(d.train, s::epochs{o.epochs}, s::batch{o.batch}, warm, peak, more...);
        return trainer.fit(d.train, s::epochs{o.epochs}, s::batch{o.batch}, warm, peak, more...,
                           s::callbacks::checkpoint_every::epochs(1, o.state), stop);
    };
    const auto stopped = [&] {
        if (trainer.epochs_done() >= o.epochs) return false;
        std::printf("# stopped after epoch %d of %d: go on with --resume %s\n", trainer.epochs_done(), o.epochs,
                    o.state.c_str());
        std::fflush(stdout);
        return true;
    };
    int epoch = o.epochs;
    std::vector<s::epoch_report> history;
    if (d.validation) {
        trainer.validate_on(*d.validation);
        s::callbacks::save_best best{o.checkpoint};
        history = fit(best);
        if (stopped()) return std::nullopt;
        s::io::load_checkpoint(model, o.checkpoint);
        std::remove(o.checkpoint.c_str());
        epoch = best.best_epoch();
    } else {
        history = fit();
        if (stopped()) return std::nullopt;
    }
    double seconds = 0.0;
    for (const s::epoch_report& r : history) seconds += r.seconds;
    return std::pair{seconds / static_cast<double>(history.size()), epoch};
}

inline void print_result(const comparison_options& o, double accuracy, double seconds_per_epoch, int epoch,
                         const s::spike_report& spikes) {
    // A ReLU ANN has no time steps: T=0.
    std::printf("result rule=%s T=%d epochs=%d accuracy=%.4f sec_per_epoch=%.2f workspace_peak_MiB=%.1f "
                "peak_rss_MiB=%.1f spikes_per_image=%.1f sops=%.4g snn_energy_uJ=%.3f ann_energy_uJ=%.3f "
                "chosen_epoch=%d\n",
                o.rule.c_str(), o.rule == "ann" ? 0 : o.T, o.epochs, accuracy, seconds_per_epoch,
                static_cast<double>(training_peak_bytes()) / (1024.0 * 1024.0), peak_rss_mib(),
                spikes.spikes_per_image, spikes.sops_per_image, spikes.snn_energy_uj, spikes.ann_energy_uj, epoch);
    std::fflush(stdout);
}

/// Trains with `rule` (evaluated with `evaluator`) under the recipe and prints the result
/// lines: without the protocol the test accuracy after every epoch and the last epoch's,
/// under it the validation accuracy after every epoch and the test accuracy of the best.
template <class Model, class Rule, class Evaluator>
int train_and_report(const comparison_options& o, Model& model, Rule rule, Evaluator evaluator, const run_data& d) {
    rule.label_smoothing = o.label_smoothing;
    s::trainer trainer{model, rule, recipe_optimizer(o)};
    const auto fitted = fit_recipe(o, model, trainer, d, [&](const s::epoch_report&) {
        if (!d.validation) std::printf(" test_accuracy %.4f", s::evaluate(model, d.test, o.batch, evaluator).accuracy);
    });
    if (!fitted) return 0;
    const auto [seconds, epoch] = *fitted;
    const double accuracy = s::evaluate(model, d.test, o.batch, evaluator).accuracy;
    print_result(o, accuracy, seconds, epoch, s::measure_spikes(model, d.test, o.batch, evaluator));
    return 0;
}

template <class Neuron, template <class> class Net, int T>
int run_snn2ann_with(const comparison_options& o, const run_data& d) {
    s::model<Net<Neuron>, s::timesteps<T>> model{s::seed{o.seed}};
    s::rules::snn2ann rule{s::mapping_unit::resu, o.ata};
    rule.spike_penalty = o.spike_penalty;
    if (o.snn2ann_pooling == "accumulated") rule.pooling = s::current_pooling::accumulated;
    return train_and_report(o, model, rule, rule, d);
}

/// SNN2ANN's neuron picked at run time from its three compile-time choices.
template <template <class> class Net, int T, s::reset Reset, class Threshold>
int run_snn2ann_dropout(const comparison_options& o, const run_data& d) {
    if (o.snn2ann_dropout == 0)
        return run_snn2ann_with<s::if_neuron<Reset, s::firing::strict, Threshold, 0>, Net, T>(o, d);
    return run_snn2ann_with<s::if_neuron<Reset, s::firing::strict, Threshold, 50>, Net, T>(o, d);
}
template <template <class> class Net, int T, s::reset Reset>
int run_snn2ann_threshold(const comparison_options& o, const run_data& d) {
    if (o.snn2ann_threshold == "1")
        return run_snn2ann_dropout<Net, T, Reset, s::constant_threshold<1>>(o, d);
    return run_snn2ann_dropout<Net, T, Reset, s::uniform_threshold>(o, d);
}

template <template <class> class Net, int T>
int run_snn2ann(const comparison_options& o, const run_data& d) {
    if (o.snn2ann_reset == "subtract") return run_snn2ann_threshold<Net, T, s::reset::by_subtraction>(o, d);
    return run_snn2ann_threshold<Net, T, s::reset::to_zero>(o, d);
}

template <template <class> class Net, int T>
int run_bptt(const comparison_options& o, const run_data& d) {
    s::model<Net<bptt_neuron>, s::timesteps<T>> model{s::seed{o.seed}};
    const s::rules::bptt rule{s::surrogate::sigmoid(o.alpha), true};
    return train_and_report(o, model, rule, rule, d);
}

/// The same network trained as a plain ANN (ReLU where the neurons are): the accuracy
/// the spiking rules are measured against. No spikes.
template <template <class> class Net>
int run_ann(const comparison_options& o, const run_data& d) {
    s::model<Net<bptt_neuron>> model{s::seed{o.seed}};
    s::rules::ann relu;
    relu.label_smoothing = o.label_smoothing;
    s::trainer trainer{model, relu, recipe_optimizer(o)};
    const auto fitted = fit_recipe(o, model, trainer, d, [&](const s::epoch_report&) {
        if (!d.validation) std::printf(" test_accuracy %.4f", s::evaluate(model, d.test, 256, relu).accuracy);
    });
    if (!fitted) return 0;
    const auto [seconds, epoch] = *fitted;
    print_result(o, s::evaluate(model, d.test, 256, relu).accuracy, seconds, epoch, s::spike_report{});
    return 0;
}

template <template <class> class Net>
int run_conversion(const comparison_options& o, const run_data& d) {
    s::model<Net<bptt_neuron>> model{s::seed{o.seed}};
    s::rules::ann qcfs{s::ann_activation::qcfs, o.levels};
    qcfs.label_smoothing = o.label_smoothing;
    const s::convert::options from_lambda{s::convert::threshold_source::lambda};
    s::trainer trainer{model, qcfs, recipe_optimizer(o)};
    // Without the protocol, the ANN and its conversion at T on the test set after each
    // epoch; under it, the ANN's validation accuracy chooses the epoch.
    const auto fitted = fit_recipe(o, model, trainer, d, [&](const s::epoch_report&) {
        if (d.validation) return;
        const double ann = s::evaluate(model, d.test, 256, qcfs).accuracy;
        s::convert::ann_to_snn(model, d.train, qcfs, from_lambda);
        const double snn = s::evaluate(model, d.test, 256, s::convert::converted_snn{o.T}).accuracy;
        std::printf(" test_accuracy %.4f ann_accuracy %.4f", snn, ann);
    });
    if (!fitted) return 0;
    const auto [seconds, epoch] = *fitted;
    const double ann = s::evaluate(model, d.test, 256, qcfs).accuracy;
    const auto thresholds = s::convert::ann_to_snn(model, d.train, qcfs, from_lambda);
    std::printf("ann accuracy=%.4f levels=%d thresholds", ann, o.levels);
    for (float t : thresholds) std::printf(" %.3f", t);
    std::printf("\n");
    // The same ANN with other numbers of levels: the converted SNN at T steps tracks it at
    // L = T (exactly at T = 1), and at large T its unquantised limit (L = 1024 here), so
    // what the SNN loses against the trained L is the quantisation, not the conversion.
    std::printf("ann_levels");
    for (int levels : {1, 2, 4, 8, 16, 32, 64, 1024})
        std::printf(" L%d=%.4f", levels,
                    s::evaluate(model, d.test, 256, s::rules::ann{s::ann_activation::qcfs, levels}).accuracy);
    std::printf("\n");
    for (const auto& p : s::convert::evaluate_converted(model, d.test, {1, 2, 4, 8, 16, 32, 64}, 256))
        std::printf("conversion T=%d accuracy=%.4f spikes_per_image=%.1f\n", p.timesteps, p.accuracy,
                    p.spikes_per_image);
    const s::convert::converted_snn at_t{o.T};
    print_result(o, s::evaluate(model, d.test, 256, at_t).accuracy, seconds, epoch,
                 s::measure_spikes(model, d.test, 256, at_t));
    return 0;
}

/// Adds the comparison's options to `app`, reading into `o` (a choice that is not one of
/// those listed is a usage error).
inline void add_comparison_options(CLI::App& app, comparison_options& o) {
    const auto choice = [](std::initializer_list<std::string> allowed) { return CLI::IsMember(allowed); };
    app.add_option("--rule", o.rule, "the rule (ann: the same network as a ReLU ANN)")
        ->check(choice({"snn2ann", "bptt", "ann2snn", "ann"}))
        ->capture_default_str();
    app.add_option("--T", o.T,
                   "time steps: 1 to " + std::to_string(max_timesteps) + " for SNN2ANN and BPTT, any for the conversion")
        ->check(CLI::Validator(
            [](const std::string& v) {  // a non-number is left to the conversion's message
                int t = 0;
                const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), t);
                return std::string(ec == std::errc{} && end == v.data() + v.size() && t < 1 ? "T must be 1 or more" : "");
            },
            "", "positive"))
        ->capture_default_str();
    app.add_option("--epochs", o.epochs, "epochs to train")->capture_default_str();
    app.add_option("--batch", o.batch, "samples per step")->capture_default_str();
    app.add_option("--threads", o.threads, "worker threads")->capture_default_str();
    app.add_option("--seed", o.seed, "seed of the weights and of every draw")->capture_default_str();
    app.add_option("--levels", o.levels, "QCFS levels of the conversion's ANN")->capture_default_str();
    app.add_option("--surrogate-alpha", o.alpha, "BPTT's sigmoid surrogate steepness")->capture_default_str();
    app.add_option("--snn2ann-threshold", o.snn2ann_threshold,
                   "SNN2ANN's initial thresholds: uniform in [0, 1) per neuron, or 1.0")
        ->check(choice({"uniform", "1"}))->capture_default_str();
    app.add_option("--snn2ann-reset", o.snn2ann_reset, "SNN2ANN's reset: to zero or by subtraction")
        ->check(choice({"zero", "subtract"}))->capture_default_str();
    app.add_option("--snn2ann-dropout", o.snn2ann_dropout, "SNN2ANN's membrane dropout, percent")
        ->check(CLI::IsMember({50, 0}))->capture_default_str();
    app.add_option("--ata-tolerance", o.ata.tolerance, "ATA's fraction of noisy neurons")->capture_default_str();
    app.add_option("--ata-scale", o.ata.scale, "ATA's threshold step")->capture_default_str();
    app.add_option("--spike-penalty", o.spike_penalty, "SNN2ANN's activity regularisation")->capture_default_str();
    app.add_option("--snn2ann-pooling", o.snn2ann_pooling, "SNN2ANN's max pooling of the SNN's currents")
        ->check(choice({"per-step", "accumulated"}))->capture_default_str();
    snn2ann_examples::add_matmul_option(app, o.matmul);
    app.add_option("--schedule", o.schedule, "the learning rate decayed by a cosine over the epochs, or constant")
        ->check(choice({"cosine", "constant"}))->capture_default_str();
    app.add_option("--lr", o.lr, "Adam's base learning rate")->capture_default_str();
    app.add_option("--weight-decay", o.weight_decay, "AdamW's decoupled weight decay (0: Adam)")->capture_default_str();
    app.add_option("--warmup-epochs", o.warmup_epochs, "linear warm-up of the learning rate, in epochs")
        ->capture_default_str();
    app.add_option("--crop-padding", o.crop_padding, "random crop of the image padded by N pixels (0: none)")
        ->check(CLI::NonNegativeNumber)->capture_default_str();
    app.add_flag("--flip", o.flip, "random horizontal flip of half the images");
    app.add_option("--label-smoothing", o.label_smoothing, "the loss's label smoothing, in [0, 1)")
        ->capture_default_str();
    app.add_option("--validation", o.validation,
                   "the protocol: split N training images off by the seed, keep the epoch of best validation "
                   "accuracy, test it once (0: test after every epoch, report the last)")
        ->capture_default_str();
    app.add_option("--checkpoint", o.checkpoint, "where the protocol keeps the best epoch")->capture_default_str();
    CLI::Option* state =
        app.add_option("--state", o.state, "save the training state in FILE after every epoch, for --resume")
            ->type_name("FILE");
    app.add_option("--stop-after-epoch", o.stop_after_epoch,
                   "stop after epoch N of the run, as if interrupted, to go on with --resume (0: never)")
        ->needs(state)->check(CLI::NonNegativeNumber);
    app.add_option("--resume", o.resume,
                   "continue the run saved by --state in FILE (the same options; under the protocol, with the "
                   "interrupted run's --checkpoint file)")
        ->type_name("FILE")->check(CLI::ExistingFile);
    app.add_option("--train-limit", o.train_limit, "train on the first N images (0: all)");
    app.add_option("--test-limit", o.test_limit, "test on the first N images (0: all)");
    app.add_option("--data", o.data_dir, "Fashion-MNIST's folder (default: the Debian package's)")->type_name("DIR");
    // Once every option is read (the range of --T depends on --rule), before any data is.
    app.callback([&o] {
        if (!(o.label_smoothing >= 0.0f && o.label_smoothing < 1.0f))
            throw CLI::ValidationError("--label-smoothing", std::to_string(o.label_smoothing) + " is not in [0, 1)");
        if (o.rule != "ann2snn" && o.rule != "ann" && o.T > max_timesteps)
            throw CLI::ValidationError("--T", std::to_string(o.T) + " is more than this program was compiled for: " +
                                                  o.rule + " takes 1 to " + std::to_string(max_timesteps));
    });
}

/// "2, 4, 8": the compiled T values of a network, for a message.
template <int... Ts>
std::string compiled_list() {
    std::string t;
    ((t += (t.empty() ? "" : ", ") + std::to_string(Ts)), ...);
    return t;
}

/// SNN2ANN or BPTT at a compile-time T: what compare_rules instantiates once per T.
template <template <class> class Net, int T>
int train_at(const comparison_options& o, const run_data& d) {
    if (o.rule == "snn2ann") return run_snn2ann<Net, T>(o, d);
    return run_bptt<Net, T>(o, d);
}

/// Runs o.rule on network Net<Neuron>, with T one of Ts (every T from 1 to max_timesteps
/// when none are listed; each is a compiled instance of train_at). Under the protocol
/// (o.validation > 0) the seed splits the validation images off `train` first.
template <template <class> class Net, int... Ts>
int compare_rules(const comparison_options& o, const s::data::dataset& train, const s::data::dataset& test) {
    s::threads limit(o.threads);
    s::use_cpu_matmul(snn2ann_examples::cpu_matmul_named(o.matmul));
    std::optional<s::data::validation_split> split;
    const run_data d = protocol_data(o, train, test, split);
    std::printf("# compare_rules: net %s rule %s T %d epochs %d batch %zu threads %d seed %llu schedule %s matmul %s "
                "train %zu validation %zu test %zu\n",
                o.net.c_str(), o.rule.c_str(), o.T, o.epochs, o.batch, o.threads,
                static_cast<unsigned long long>(o.seed), o.schedule.c_str(), o.matmul.c_str(), d.train.size(),
                d.validation ? d.validation->size() : std::size_t{0}, test.size());
    std::printf("# recipe: --lr %g --weight-decay %g --warmup-epochs %g --crop-padding %d --flip %d "
                "--label-smoothing %g\n",
                o.lr, o.weight_decay, o.warmup_epochs, o.crop_padding, o.flip ? 1 : 0,
                static_cast<double>(o.label_smoothing));
    if (o.rule == "snn2ann")
        std::printf("# snn2ann options: --snn2ann-threshold %s --snn2ann-reset %s --snn2ann-dropout %d "
                    "--snn2ann-pooling %s --ata-tolerance %g --ata-scale %g --spike-penalty %g\n",
                    o.snn2ann_threshold.c_str(), o.snn2ann_reset.c_str(), o.snn2ann_dropout, o.snn2ann_pooling.c_str(),
                    static_cast<double>(o.ata.tolerance), static_cast<double>(o.ata.scale),
                    static_cast<double>(o.spike_penalty));
    std::fflush(stdout);
    if (o.rule == "ann2snn") return run_conversion<Net>(o, d);  // T is a run-time value there
    if (o.rule == "ann") return run_ann<Net>(o, d);
    if constexpr (sizeof...(Ts) == 0) {
        return s::with_timesteps<1, max_timesteps>(o.T, [&]<int T>(s::timesteps<T>) { return train_at<Net, T>(o, d); });
    } else {
        int rc = -1;
        ((o.T == Ts && (rc = train_at<Net, Ts>(o, d), true)) || ...);
        if (rc < 0) throw std::invalid_argument("--T " + std::to_string(o.T) + ": this network is compiled for T = " +
                                                compiled_list<Ts...>());
        return rc;
    }
}

}  // namespace snn2ann_bench
