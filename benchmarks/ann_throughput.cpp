// Training throughput of the reference ANN on Fashion-MNIST: one epoch over the first
// --train-limit images (batch 64 by default), repeated; prints every repetition and the
// median in the same format as the PyTorch peer's "epoch" lines, and the peak RSS.
//   ann_throughput [--threads K] [--batch B] [--train-limit N] [--repeat R]
#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "reference_net.hpp"

namespace s = snn2ann;

int main(int argc, char** argv) {
    int threads = 2, repeat = 3;
    std::size_t batch = 64, limit = 10000;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string a = argv[i];
        if (a == "--threads") threads = std::atoi(argv[i + 1]);
        else if (a == "--batch") batch = std::strtoul(argv[i + 1], nullptr, 10);
        else if (a == "--train-limit") limit = std::strtoul(argv[i + 1], nullptr, 10);
        else if (a == "--repeat") repeat = std::atoi(argv[i + 1]);
        else {
            std::fprintf(stderr, "unknown option %s\n", argv[i]);
            return 2;
        }
    }
    s::threads limit_threads(threads);
    const auto data = s::data::fashion_mnist();
    const auto train = data.train.head(limit);
    std::vector<double> rates;
    for (int r = 0; r < repeat; ++r) {
        s::model<bench::reference_ann> model{s::seed{1}};
        s::trainer trainer{model, s::rules::ann{}, s::adam{1e-3}};
        const auto rep = trainer.quiet().fit(train, s::epochs{1}, s::batch{batch});
        rates.push_back(rep[0].images_per_second);
        std::printf("snn2ann ann: threads %d batch %zu images %zu: train_time_s %.2f (%.1f img/s) loss %.4f\n",
                    s::threads::active(), batch, train.size(), rep[0].seconds, rep[0].images_per_second, rep[0].loss);
        std::fflush(stdout);
    }
    std::sort(rates.begin(), rates.end());
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    std::printf("snn2ann ann median img/s %.1f  peak_rss_MiB %.1f  workspace_peak_MiB %.1f\n", rates[rates.size() / 2],
                static_cast<double>(u.ru_maxrss) / 1024.0,
                static_cast<double>(s::workspace_stats().peak_bytes) / (1024.0 * 1024.0));
}
