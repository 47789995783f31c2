// SNN2ANN, BPTT and ANN-to-SNN conversion on the reference Fashion-MNIST network, one rule
// per process (see rule_comparison.hpp; benchmarks/compare_rules.sh runs them all).
//   compare_rules --rule snn2ann|bptt|ann2snn --T n [--epochs n] [--batch n] [--threads n]
//                 [--seed n] [--levels L] [--matmul fp32|amx] [--train-limit n] [--test-limit n] [--data DIR]
#include <cstdio>
#include <cstdlib>
#include <string>

#include "../examples/reference_networks.hpp"
#include "rule_comparison.hpp"

int main(int argc, char** argv) {
    std::size_t train_limit = 0, test_limit = 0;
    std::string dir;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string a = argv[i];
        if (a == "--train-limit") train_limit = std::strtoul(argv[i + 1], nullptr, 10);
        else if (a == "--test-limit") test_limit = std::strtoul(argv[i + 1], nullptr, 10);
        else if (a == "--data") dir = argv[i + 1];
    }
    try {
        const auto data = snn2ann::data::fashion_mnist(dir, train_limit, test_limit);
        const auto o = snn2ann_bench::parse_comparison_options(argc, argv);
        return snn2ann_bench::compare_rules<reference::snn>(o, data.train, data.test);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "compare_rules: %s\n", e.what());
        return 1;
    }
}
