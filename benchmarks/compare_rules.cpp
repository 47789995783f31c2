// SNN2ANN, BPTT and ANN-to-SNN conversion on the reference Fashion-MNIST network, one rule
// per process (see rule_comparison.hpp; benchmarks/compare_rules.sh runs them all).
//   compare_rules --rule snn2ann|bptt|ann2snn --T n [--epochs n] [--batch n] [--threads n]
//                 [--seed n] [--levels L] [--matmul fp32|amx] [--train-limit n] [--test-limit n] [--data DIR]
//   compare_rules --help   (every option)
#include <cstdio>

#include "../examples/reference_networks.hpp"
#include "rule_comparison.hpp"

int main(int argc, char** argv) {
    snn2ann_bench::comparison_options o;
    const int rc = snn2ann_examples::read_command_line(
        argc, argv, "compare_rules", snn2ann_bench::comparison_usage,
        [&](snn2ann_examples::arguments& args) { o = snn2ann_bench::parse_comparison_options(args); });
    if (rc >= 0) return rc;
    try {
        const auto data = snn2ann::data::fashion_mnist(o.data_dir, o.train_limit, o.test_limit);
        return snn2ann_bench::compare_rules<reference::snn>(o, data.train, data.test);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "compare_rules: %s\n", e.what());
        return 1;
    }
}
