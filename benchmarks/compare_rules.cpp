// SNN2ANN, BPTT and ANN-to-SNN conversion on the reference Fashion-MNIST network, one rule
// per process (see rule_comparison.hpp; benchmarks/compare_rules.sh runs them all).
//   compare_rules --rule snn2ann|bptt|ann2snn --T n [--epochs n] ...   (--help: every option)
#include <cstdio>

#include "compare_rules_at.hpp"

int main(int argc, char** argv) {
    snn2ann_bench::comparison_options o;
    snn2ann_examples::command_line cli{"compare_rules",
                                       "Trains the reference network by one rule and reports accuracy, time and memory "
                                       "(benchmarks/compare_rules.sh runs every rule)."};
    snn2ann_bench::add_comparison_options(cli.app(), o);
    if (const int rc = cli.parse(argc, argv); rc >= 0) return rc;
    try {
        const auto data = snn2ann::data::fashion_mnist(o.data_dir, o.train_limit, o.test_limit);
        return snn2ann_bench::compare_rules<reference::snn>(o, data.train, data.test);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "compare_rules: %s\n", e.what());
        return 1;
    }
}
