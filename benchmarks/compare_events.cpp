// compare_rules' sibling on event data: the reference network on the emulated event
// Fashion-MNIST (examples/event_data.hpp: two polarity channels of a 34 x 34 sensor),
// integrated into T frames, trained by one rule per process: SNN2ANN at T = 5 (compare_rules'
// tuned configuration or docs/method.md's defaults) or BPTT at T = 8 (the peer's neuron and
// surrogate), the pair of the paper's comparison; benchmarks/compare_events.sh runs them and
// prints the table.
// With --validation N the recipe's protocol (rule_comparison.hpp): N training recordings
// split off by the seed choose the epoch, the test set is evaluated once.
//   compare_events --rule snn2ann|bptt [--epochs n] [--train-limit n] ...   (--help: every option)
#include <cstdio>
#include <optional>

#include "../examples/event_data.hpp"
#include "../examples/reference_networks.hpp"
#include "rule_comparison.hpp"

int main(int argc, char** argv) {
    snn2ann_bench::comparison_options o;
    o.train_limit = 10000, o.test_limit = 2000;
    snn2ann_examples::event_data_options data;
    snn2ann_examples::command_line cli{"compare_events",
                                       "Trains the reference network on emulated event Fashion-MNIST by one rule and "
                                       "reports accuracy, time and memory (benchmarks/compare_events.sh runs the pair)."};
    snn2ann_bench::add_comparison_options(cli.app(), o);
    cli.app().add_option("--events", data.dir, "the emulated recordings and the frame cache")->type_name("DIR")
        ->capture_default_str();
    bool prepare = false;
    std::string config = "tuned";
    cli.app().add_option("--snn2ann-config", config,
                         "SNN2ANN's neurons: compare_rules' tuned configuration (thresholds 1, reset by subtraction, "
                         "no membrane dropout, accumulated max pooling) or docs/method.md's defaults")
        ->check(CLI::IsMember({"tuned", "defaults"}))->capture_default_str();
    cli.app().add_flag("--prepare", prepare, "only emulate and integrate (5 and 8 frames), so that no timed run does");
    if (const int rc = cli.parse(argc, argv); rc >= 0) return rc;
    if (cli.app().count("--T") > 0) {  // the pair is fixed: an ignored --T would mislabel the run
        std::fprintf(stderr, "compare_events: --T: SNN2ANN runs at T = 5 and BPTT at T = 8 here "
                             "(compare_rules takes any T on static images)\n");
        return 2;
    }
    data.fashion_mnist = o.data_dir;
    data.train_limit = o.train_limit, data.test_limit = o.test_limit;
    try {
        namespace s = snn2ann;
        if (prepare) {
            snn2ann_examples::event_frames(data, 5);
            snn2ann_examples::event_frames(data, 8);
            return 0;
        }
        o.T = o.rule == "bptt" ? 8 : 5;
        if (o.rule == "ann2snn") throw s::invalid_argument("--rule: snn2ann or bptt here (compare_rules has the conversion)");
        s::threads limit(o.threads);
        const auto frames = snn2ann_examples::event_frames(data, o.T);
        std::optional<s::data::validation_split> split;
        const snn2ann_bench::run_data d = snn2ann_bench::protocol_data(o, frames.train, frames.test, split);
        std::printf("# compare_events: rule %s T %d epochs %d batch %zu threads %d seed %llu train %zu validation %zu "
                    "test %zu\n",
                    o.rule.c_str(), o.T, o.epochs, o.batch, o.threads, static_cast<unsigned long long>(o.seed),
                    d.train.size(), d.validation ? d.validation->size() : std::size_t{0}, d.test.size());
        if (o.rule == "snn2ann" && config == "tuned") {
            // compare_rules' tuned configuration (docs/benchmarks.md): thresholds of 1, reset by
            // subtraction, no membrane dropout, max pooling of accumulated currents.
            using tuned = s::if_neuron<s::reset::by_subtraction, s::firing::strict, s::constant_threshold<1>, 0>;
            s::model<reference::snn_events<tuned>, s::timesteps<5>> model{s::seed{o.seed}};
            s::rules::snn2ann rule{s::mapping_unit::resu, o.ata};
            rule.pooling = s::current_pooling::accumulated;
            return snn2ann_bench::train_and_report(o, model, rule, rule, d);
        }
        if (o.rule == "snn2ann") {
            s::model<reference::snn_events<>, s::timesteps<5>> model{s::seed{o.seed}};
            const s::rules::snn2ann rule{s::mapping_unit::resu, o.ata};
            return snn2ann_bench::train_and_report(o, model, rule, rule, d);
        }
        s::model<reference::snn_events<snn2ann_bench::bptt_neuron>, s::timesteps<8>> model{s::seed{o.seed}};
        const s::rules::bptt rule{s::surrogate::sigmoid(o.alpha), true};
        return snn2ann_bench::train_and_report(o, model, rule, rule, d);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "compare_events: %s\n", e.what());
        return 1;
    }
}
