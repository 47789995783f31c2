// SNN2ANN, BPTT and ANN-to-SNN conversion on the reference Fashion-MNIST network (or its
// wide variant), one rule per process (see rule_comparison.hpp; benchmarks/compare_rules.sh
// runs them all, benchmarks/recipe.sh runs a recipe over seeds).
//   compare_rules --rule snn2ann|bptt|ann2snn --T n [--net reference|wide] [--epochs n] ...
//   compare_rules --config benchmarks/recipes/NAME.toml [--seed s]   (--help: every option)
#include <cstdio>

#include "compare_rules_at.hpp"

int main(int argc, char** argv) {
    snn2ann_bench::comparison_options o;
    snn2ann_examples::command_line cli{"compare_rules",
                                       "Trains the reference network by one rule and reports accuracy, time and memory "
                                       "(benchmarks/compare_rules.sh runs every rule, benchmarks/recipe.sh a recipe)."};
    snn2ann_bench::add_comparison_options(cli.app(), o);
    cli.app()
        .add_option("--net", o.net,
                    "the network: reference, or wide (twice the channels, a 512-wide hidden layer; "
                    "SNN2ANN and BPTT at T = 2, 4 or 8)")
        ->check(CLI::IsMember({"reference", "wide"}))
        ->capture_default_str();
    if (const int rc = cli.parse(argc, argv); rc >= 0) return rc;
    if (o.net == "wide" && (o.rule == "snn2ann" || o.rule == "bptt") && o.T != 2 && o.T != 4 && o.T != 8) {
        std::fprintf(stderr, "compare_rules: --T %d: the wide network is compiled for T = 2, 4 and 8 (see --help)\n", o.T);
        return 2;
    }
    try {
        const auto data = snn2ann::data::fashion_mnist(o.data_dir, o.train_limit, o.test_limit);
        if (o.net == "wide") return snn2ann_bench::compare_rules<reference::snn_wide, 2, 4, 8>(o, data.train, data.test);
        return snn2ann_bench::compare_rules<reference::snn>(o, data.train, data.test);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "compare_rules: %s\n", e.what());
        return 1;
    }
}
