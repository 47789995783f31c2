// Training throughput on Fashion-MNIST of the reference network, as a plain ANN or with
// spiking layers trained by SNN2ANN or BPTT at T = 4: one epoch over the first
// --train-limit images (batch 64 by default), repeated; prints every repetition, the
// median, the peak RSS and the library's workspace high-water mark.
//   train_throughput [--rule ann|snn2ann|bptt] [--threads K] [--batch B] [--train-limit N] [--repeat R]
//                    [--guard on|off] [--profile] [--event-driven-below F] [--matmul fp32|amx|amx-exact]
// --guard off trains without the per-step check for NaN and infinity (to measure its cost).
// --profile prints where the steps' time went (step_profile: each part of a step, each
// layer in each pass), summed over the repetitions. --event-driven-below sets the crossover
// from event-driven to dense convolutions on spikes (SNN2ANN's SNN branch, BPTT's forward;
// 0: always dense). --matmul picks the convolutions' product (snn2ann::cpu_matmul).
#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "../examples/command_line.hpp"
#include "../examples/reference_networks.hpp"

namespace s = snn2ann;

template <class Model, class Rule>
double one_epoch(const s::data::dataset& train, std::size_t batch, const char* name, bool guard, s::step_profile* profile,
                 Rule rule = {}) {
    Model model{s::seed{1}};
    s::trainer trainer{model, rule, s::adam{1e-3}};
    if (!guard) trainer.on_non_finite(s::non_finite::unchecked);
    const auto rep = profile ? trainer.quiet().fit(train, s::epochs{1}, s::batch{batch}, *profile)
                             : trainer.quiet().fit(train, s::epochs{1}, s::batch{batch});
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
    app.add_option("--rule", rule, "the rule")->check(CLI::IsMember({"ann", "snn2ann", "bptt"}))->capture_default_str();
    app.add_option("--threads", threads, "worker threads")->capture_default_str();
    app.add_option("--batch", batch, "samples per step")->capture_default_str();
    app.add_option("--train-limit", limit, "images per epoch")->capture_default_str();
    app.add_option("--repeat", repeat, "epochs measured")->capture_default_str();
    app.add_option("--guard", guard, "the per-step check for NaN and infinity")->check(CLI::IsMember({"on", "off"}))
        ->capture_default_str();
    bool profile = false;
    double event_below = s::rules::snn2ann{}.event_driven_below;
    app.add_option("--event-driven-below", event_below,
                   "images on spikes with at most this fraction of nonzero inputs run event-driven (0: dense)")
        ->capture_default_str();
    app.add_flag("--profile", profile, "print where the steps' time went, by part and by layer");
    std::string matmul = "fp32";
    snn2ann_examples::add_matmul_option(app, matmul);
    if (const int rc = cli.parse(argc, argv); rc >= 0) return rc;
    s::threads limit_threads(threads);
    s::use_cpu_matmul(snn2ann_examples::cpu_matmul_named(matmul));
    // Only the images trained on are read: the peak RSS is then the training's own.
    const auto train = s::data::fashion_mnist({}, limit, 1).train;
    using spiking_model = s::model<reference::snn<>, s::timesteps<reference::timesteps>>;
    s::step_profile timed;  // without --profile, fit() runs without it and reads no clock
    s::step_profile* const steps = profile ? &timed : nullptr;
    std::vector<double> rates;
    for (int r = 0; r < repeat; ++r) {
        const bool g = guard == "on";
        if (rule == "ann")
            rates.push_back(one_epoch<s::model<reference::ann>, s::rules::ann>(train, batch, "ann", g, steps));
        else if (rule == "snn2ann") {
            s::rules::snn2ann r2;
            r2.event_driven_below = event_below;
            rates.push_back(one_epoch<spiking_model>(train, batch, "snn2ann T=4", g, steps, r2));
        } else {
            s::rules::bptt r2;
            r2.event_driven_below = event_below;
            rates.push_back(one_epoch<spiking_model>(train, batch, "bptt T=4", g, steps, r2));
        }
    }
    std::sort(rates.begin(), rates.end());
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    std::printf("snn2ann %s median img/s %.1f  peak_rss_MiB %.1f  workspace_peak_MiB %.1f\n", rule.c_str(), rates[rates.size() / 2],
                static_cast<double>(u.ru_maxrss) / 1024.0,
                static_cast<double>(s::workspace_stats().peak_bytes) / (1024.0 * 1024.0));
    if (profile) std::printf("\nstep profile, %s, summed over %d epochs:\n%s", rule.c_str(), repeat, timed.table().c_str());
}
