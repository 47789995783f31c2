// SNN2ANN against spike-based BPTT on a network of leaky neurons that is not the reference
// one: conv 32 5x5 stride 2 -> BN -> LIF (tau 2), conv 64 3x3 -> BN -> LIF -> avg pool 2,
// linear 128 -> BN -> LIF, linear 10 (--net dropout: 25% dropout before the linear 128);
// T = 6; Adam 1e-3 with a cosine decay, batch 64, the same seeds and data for both rules.
// The protocol: each seed splits --validation images off the training images (by the seed),
// every epoch is validated, the best epoch's checkpoint (validation accuracy) is tested once
// on the test set; the table gives the mean and standard deviation over the seeds.
// --neuron picks the LIF's options (the defaults, or those tuned on the reference IF
// network); --ata-lowering and --silent-tolerance SNN2ANN's threshold lowering
// (docs/method.md, "Leaky neurons").
//   leaky_network [--epochs 8] [--seeds 1,2,3] [--train-limit 7000] [--validation 1000]
//                 [--rules snn2ann,bptt] [--net plain|dropout] [--neuron defaults|...]
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include <snn2ann/snn2ann.hpp>

#include "../examples/command_line.hpp"

namespace s = snn2ann;

namespace {
constexpr int T = 6;
/// The network, with LIF neurons `Lif` (tau 2).
template <class Lif>
using leaky_net = s::network<s::input<1, 28, 28>, s::conv<32, 5, 2, 2>, s::batch_norm, s::spiking<Lif>, s::conv<64, 3, 1, 1>,
                             s::batch_norm, s::spiking<Lif>, s::avg_pool<2>, s::flatten, s::linear<128>, s::batch_norm,
                             s::spiking<Lif>, s::linear<10>>;
/// The same with dropout (25%) on the spikes that enter the hidden linear layer.
template <class Lif>
using leaky_dropout_net =
    s::network<s::input<1, 28, 28>, s::conv<32, 5, 2, 2>, s::batch_norm, s::spiking<Lif>, s::conv<64, 3, 1, 1>, s::batch_norm,
               s::spiking<Lif>, s::avg_pool<2>, s::flatten, s::dropout<25>, s::linear<128>, s::batch_norm, s::spiking<Lif>,
               s::linear<10>>;
// The neuron's options: the defaults, and those docs/benchmarks.md tuned on the reference
// (IF) network, one at a time and together.
using lif_defaults = s::lif_neuron<2>;
using lif_subtraction = s::lif_neuron<2, s::reset::by_subtraction>;
using lif_no_membrane_dropout = s::lif_neuron<2, s::reset::to_zero, s::firing::strict, s::uniform_threshold, 0>;
using lif_threshold_1 = s::lif_neuron<2, s::reset::to_zero, s::firing::strict, s::constant_threshold<1>>;
using lif_reference_tuned = s::lif_neuron<2, s::reset::by_subtraction, s::firing::strict, s::constant_threshold<1>, 0>;

/// What one run gives: the chosen epoch's test accuracy and firing rates.
struct run_result {
    double test = 0;
    int best_epoch = 0;
    std::vector<double> firing_rates;  ///< per spiking layer, on the test set
};

/// " (epoch E, firing rates a b c)"
std::string chosen_text(const run_result& r) {
    std::string t = " (epoch " + std::to_string(r.best_epoch) + ", firing rates";
    for (const double f : r.firing_rates) {
        char v[16];
        std::snprintf(v, sizeof v, " %.4f", f);
        t += v;
    }
    return t + ")";
}

/// One run under the protocol: train on `data.train`, validate after every epoch, keep the
/// best epoch's checkpoint (validation accuracy), and test that checkpoint once.
template <class Net, class Rule>
run_result train(const Rule& rule, const s::data::validation_split& data, const s::data::dataset& test, int epochs,
                 unsigned seed, double& seconds, const std::string& checkpoint) {
    s::model<Net, s::timesteps<T>> model{s::seed{seed}};
    s::trainer trainer{model, rule, s::adam{1e-3}};
    s::callbacks::save_best best{checkpoint};
    trainer.quiet().schedule(s::cosine_lr{epochs}).validate_on(data.validation);
    for (const s::epoch_report& e : trainer.fit(data.train, s::epochs{epochs}, s::batch{64}, best)) seconds += e.seconds;
    s::model<Net, s::timesteps<T>> chosen{s::seed{seed}};
    s::io::load_checkpoint(chosen, checkpoint);
    run_result r{s::evaluate(chosen, test, 256, rule).accuracy, best.best_epoch(), {}};
    for (const auto& layer : s::measure_spikes(chosen, test, 256, rule).layers) r.firing_rates.push_back(layer.firing_rate);
    return r;
}

void summary(const char* name, const std::vector<double>& v, double seconds, int epochs) {
    double mean = 0, sd = 0;
    for (const double x : v) mean += x / static_cast<double>(v.size());
    for (const double x : v) sd += (x - mean) * (x - mean) / static_cast<double>(v.size() > 1 ? v.size() - 1 : 1);
    std::string each;
    for (const double x : v) each += (each.empty() ? "" : ", ") + std::to_string(100 * x).substr(0, 5);
    std::printf("| %s | %s | %.2f%% +- %.2f | %.1f |\n", name, each.c_str(), 100 * mean, 100 * std::sqrt(sd),
                seconds / static_cast<double>(v.size() * static_cast<std::size_t>(epochs)));
}

template <class Net>
void run_all(const s::data::split& data, const std::vector<unsigned>& seeds, int epochs, std::size_t validation,
             const s::rules::snn2ann* snn2ann_rule, bool run_bptt, const std::string& checkpoint) {
    const bool run_snn2ann = snn2ann_rule != nullptr;
    std::vector<double> snn2ann, bptt;
    double snn2ann_seconds = 0, bptt_seconds = 0;
    for (const unsigned seed : seeds) {
        const auto parts = s::data::split_off(data.train, validation, seed);
        std::printf("seed %u:", seed);
        if (run_snn2ann) {
            const run_result r = train<Net>(*snn2ann_rule, parts, data.test, epochs, seed, snn2ann_seconds, checkpoint);
            snn2ann.push_back(r.test);
            std::printf(" SNN2ANN %.2f%%%s", 100 * r.test, chosen_text(r).c_str());
        }
        if (run_bptt) {
            const run_result r = train<Net>(s::rules::bptt{}, parts, data.test, epochs, seed, bptt_seconds, checkpoint);
            bptt.push_back(r.test);
            std::printf(" BPTT %.2f%%%s", 100 * r.test, chosen_text(r).c_str());
        }
        std::printf("\n");
        std::fflush(stdout);
    }
    std::printf("\n| rule (LIF tau 2, T = %d, %d epochs, best by validation) | test accuracy per seed | mean +- sd | s / epoch |\n|---|---|---|---|\n",
                T, epochs);
    if (run_snn2ann) summary("SNN2ANN", snn2ann, snn2ann_seconds, epochs);
    if (run_bptt) summary("BPTT", bptt, bptt_seconds, epochs);
}
}  // namespace

int main(int argc, char** argv) {
    int epochs = 8, threads = 2;
    std::string lowering_text = "leaky-neurons";
    float silent_tolerance = s::ata{}.silent_tolerance;
    std::size_t train_limit = 7000, validation = 1000, test_limit = 0;
    std::vector<unsigned> seeds{1, 2, 3};
    std::vector<std::string> rules{"snn2ann", "bptt"};
    std::string dir, net = "plain", neuron = "defaults", checkpoint = "leaky_network_best.ckpt";
    snn2ann_examples::command_line cli{"leaky_network",
                                       "SNN2ANN against BPTT on a network of LIF neurons (tau 2), T = 6, over seeds."};
    cli.add_training_flags({.epochs = &epochs, .threads = &threads, .train_limit = &train_limit, .fashion_mnist = &dir});
    cli.app()
        .add_option("--validation", validation, "training images split off (by the run's seed) to choose the epoch")
        ->capture_default_str();
    cli.app().add_option("--test-limit", test_limit, "test on the first N images (0: all)")->capture_default_str();
    cli.app().add_option("--seeds", seeds, "the seeds, comma-separated")->delimiter(',')->capture_default_str();
    cli.app()
        .add_option("--rules", rules, "which rules to run: snn2ann, bptt or both, comma-separated")
        ->delimiter(',')
        ->check(CLI::IsMember({"snn2ann", "bptt"}))
        ->capture_default_str();
    cli.app()
        .add_option("--net", net, "plain, or dropout (25% before the hidden linear layer)")
        ->check(CLI::IsMember({"plain", "dropout"}))
        ->capture_default_str();
    cli.app()
        .add_option("--neuron", neuron, "the LIF neuron's options")
        ->check(CLI::IsMember({"defaults", "subtraction", "no-membrane-dropout", "threshold-1", "reference-tuned"}))
        ->capture_default_str();
    cli.app()
        .add_option("--ata-lowering", lowering_text, "which layers ATA may lower the thresholds of (SNN2ANN)")
        ->check(CLI::IsMember({"never", "leaky-neurons", "always"}))
        ->capture_default_str();
    cli.app()
        .add_option("--silent-tolerance", silent_tolerance, "ATA lowers where more of the ANN-active neurons are silent")
        ->capture_default_str();
    cli.app().add_option("--checkpoint", checkpoint, "where each run's best epoch is kept")->capture_default_str();
    if (const int rc = cli.parse(argc, argv); rc >= 0) return rc;
    try {
        const auto named = [&](const char* rule) { return std::find(rules.begin(), rules.end(), rule) != rules.end(); };
        const bool run_snn2ann = named("snn2ann"), run_bptt = named("bptt");
        s::threads limit(threads);
        const auto data = s::data::fashion_mnist(dir, train_limit, test_limit);
        s::rules::snn2ann snn2ann_rule;
        snn2ann_rule.threshold_adjustment.silent_tolerance = silent_tolerance;
        snn2ann_rule.threshold_adjustment.lowering = lowering_text == "never"           ? s::ata_lowering::never
                                                     : lowering_text == "leaky-neurons" ? s::ata_lowering::leaky_neurons
                                                                                        : s::ata_lowering::always;
        const auto run = [&]<class Net>() {
            run_all<Net>(data, seeds, epochs, validation, run_snn2ann ? &snn2ann_rule : nullptr, run_bptt, checkpoint);
        };
        if (net == "dropout") {
            if (neuron != "defaults") throw std::invalid_argument("--net dropout runs the default neuron only");
            run.template operator()<leaky_dropout_net<lif_defaults>>();
        } else if (neuron == "defaults") run.template operator()<leaky_net<lif_defaults>>();
        else if (neuron == "subtraction") run.template operator()<leaky_net<lif_subtraction>>();
        else if (neuron == "no-membrane-dropout") run.template operator()<leaky_net<lif_no_membrane_dropout>>();
        else if (neuron == "threshold-1") run.template operator()<leaky_net<lif_threshold_1>>();
        else run.template operator()<leaky_net<lif_reference_tuned>>();
        std::remove(checkpoint.c_str());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "leaky_network: %s\n", e.what());
        return 1;
    }
    return 0;
}
