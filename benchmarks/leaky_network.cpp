// SNN2ANN against spike-based BPTT on a network of leaky neurons that is not the reference
// one: conv 32 5x5 stride 2 -> BN -> LIF (tau 2), conv 64 3x3 -> BN -> LIF -> avg pool 2,
// linear 128 -> BN -> LIF, linear 10; T = 6; each rule with the library's defaults, Adam
// 1e-3 with a cosine decay, batch 64, the same seeds and data. Prints each run's final test
// accuracy and the mean and standard deviation over the seeds (the test set: a measurement
// of the gap, not a protocol that chooses anything on it).
//   leaky_network [--epochs 4] [--seeds 1,2,3] [--train-limit 6000] [--test-limit 2000] [--threads 2] [--data DIR]
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include <snn2ann/snn2ann.hpp>

#include "../examples/command_line.hpp"

namespace s = snn2ann;

namespace {
constexpr int T = 6;
using lif = s::lif_neuron<2>;
using leaky_net = s::network<s::input<1, 28, 28>, s::conv<32, 5, 2, 2>, s::batch_norm, s::spiking<lif>, s::conv<64, 3, 1, 1>,
                             s::batch_norm, s::spiking<lif>, s::avg_pool<2>, s::flatten, s::linear<128>, s::batch_norm,
                             s::spiking<lif>, s::linear<10>>;

template <class Rule>
double train(const Rule& rule, const s::data::split& data, int epochs, unsigned seed, double& seconds) {
    s::model<leaky_net, s::timesteps<T>> model{s::seed{seed}};
    s::trainer trainer{model, rule, s::adam{1e-3}};
    trainer.quiet().schedule(s::cosine_lr{epochs});
    trainer.on_epoch([&](const s::epoch_report& e) { seconds += e.seconds; });
    trainer.fit(data.train, s::epochs{epochs}, s::batch{64});
    return s::evaluate(model, data.test, 256, rule).accuracy;
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
}  // namespace

int main(int argc, char** argv) {
    int epochs = 4, threads = 2;
    std::size_t train_limit = 6000, test_limit = 2000;
    std::string dir, seeds_text = "1,2,3";
    snn2ann_examples::command_line cli{"leaky_network",
                                       "SNN2ANN against BPTT on a network of LIF neurons (tau 2), T = 6, over seeds."};
    cli.add_training_flags({.epochs = &epochs, .threads = &threads, .train_limit = &train_limit, .fashion_mnist = &dir});
    cli.app().add_option("--test-limit", test_limit, "test on the first N images (0: all)")->capture_default_str();
    cli.app().add_option("--seeds", seeds_text, "the seeds, comma-separated")->capture_default_str();
    if (const int rc = cli.parse(argc, argv); rc >= 0) return rc;
    try {
        std::vector<unsigned> seeds;
        for (std::size_t at = 0; at < seeds_text.size();) {
            const std::size_t end = std::min(seeds_text.find(',', at), seeds_text.size());
            seeds.push_back(static_cast<unsigned>(std::stoul(seeds_text.substr(at, end - at))));
            at = end + 1;
        }
        s::threads limit(threads);
        const auto data = s::data::fashion_mnist(dir, train_limit, test_limit);
        std::vector<double> snn2ann, bptt;
        double snn2ann_seconds = 0, bptt_seconds = 0;
        for (const unsigned seed : seeds) {
            snn2ann.push_back(train(s::rules::snn2ann{}, data, epochs, seed, snn2ann_seconds));
            bptt.push_back(train(s::rules::bptt{}, data, epochs, seed, bptt_seconds));
            std::printf("seed %u: SNN2ANN %.2f%%, BPTT %.2f%%\n", seed, 100 * snn2ann.back(), 100 * bptt.back());
            std::fflush(stdout);
        }
        std::printf("\n| rule (LIF tau 2, T = %d, %d epochs) | test accuracy per seed | mean +- sd | s / epoch |\n|---|---|---|---|\n",
                    T, epochs);
        summary("SNN2ANN", snn2ann, snn2ann_seconds, epochs);
        summary("BPTT", bptt, bptt_seconds, epochs);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "leaky_network: %s\n", e.what());
        return 1;
    }
    return 0;
}
