// Training throughput on Fashion-MNIST of the reference network, as a plain ANN or with
// spiking layers trained by SNN2ANN at T = 4: one epoch over the first --train-limit
// images (batch 64 by default), repeated; prints every repetition, the median, the peak
// RSS and the library's workspace high-water mark.
//   train_throughput [--rule ann|snn2ann] [--threads K] [--batch B] [--train-limit N] [--repeat R] [--guard on|off]
// --guard off trains without the per-step check for NaN and infinity (to measure its cost).
#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "../examples/command_line.hpp"
#include "../examples/reference_networks.hpp"

namespace s = snn2ann;

template <class Model, class Rule>
double one_epoch(const s::data::dataset& train, std::size_t batch, const char* name, bool guard) {
    Model model{s::seed{1}};
    s::trainer trainer{model, Rule{}, s::adam{1e-3}};
    if (!guard) trainer.on_non_finite(s::non_finite::unchecked);
    const auto rep = trainer.quiet().fit(train, s::epochs{1}, s::batch{batch});
    std::printf("snn2ann %s: threads %d batch %zu images %zu: train_time_s %.2f (%.1f img/s) loss %.4f\n", name,
                s::threads::active(), batch, train.size(), rep[0].seconds, rep[0].images_per_second, rep[0].loss);
    std::fflush(stdout);
    return rep[0].images_per_second;
}

int main(int argc, char** argv) {
    int threads = 2, repeat = 3;
    std::string rule = "ann", guard = "on";
    std::size_t batch = 64, limit = 10000;
    snn2ann_examples::command_line cli{"train_throughput", "Training throughput of the reference network, median of R epochs."};
    CLI::App& app = cli.app();
    app.add_option("--rule", rule, "the rule")->check(CLI::IsMember({"ann", "snn2ann"}))->capture_default_str();
    app.add_option("--threads", threads, "worker threads")->capture_default_str();
    app.add_option("--batch", batch, "samples per step")->capture_default_str();
    app.add_option("--train-limit", limit, "images per epoch")->capture_default_str();
    app.add_option("--repeat", repeat, "epochs measured")->capture_default_str();
    app.add_option("--guard", guard, "the per-step check for NaN and infinity")->check(CLI::IsMember({"on", "off"}))
        ->capture_default_str();
    if (const int rc = cli.parse(argc, argv); rc >= 0) return rc;
    s::threads limit_threads(threads);
    // Only the images trained on are read: the peak RSS is then the training's own.
    const auto train = s::data::fashion_mnist({}, limit, 1).train;
    std::vector<double> rates;
    for (int r = 0; r < repeat; ++r)
        rates.push_back(rule == "ann"
                            ? one_epoch<s::model<reference::ann>, s::rules::ann>(train, batch, "ann", guard == "on")
                            : one_epoch<s::model<reference::snn<>, s::timesteps<reference::timesteps>>, s::rules::snn2ann>(
                                  train, batch, "snn2ann T=4", guard == "on"));
    std::sort(rates.begin(), rates.end());
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    std::printf("snn2ann %s median img/s %.1f  peak_rss_MiB %.1f  workspace_peak_MiB %.1f\n", rule.c_str(), rates[rates.size() / 2],
                static_cast<double>(u.ru_maxrss) / 1024.0,
                static_cast<double>(s::workspace_stats().peak_bytes) / (1024.0 * 1024.0));
}
