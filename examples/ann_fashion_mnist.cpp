// The reference network of the paper's small experiments as a plain ANN (ReLU), trained
// by back-propagation on Fashion-MNIST: the lower bound of what a spiking run costs.
//   ann_fashion_mnist [--epochs N] [--batch B] [--threads K] [--train-limit N] [--data DIR]
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "reference_networks.hpp"

namespace s = snn2ann;
using net = reference::ann;

int main(int argc, char** argv) {
    int epochs = 5, threads = 0;
    std::size_t batch = 64, train_limit = 0;
    std::string dir;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string a = argv[i];
        if (a == "--epochs") epochs = std::atoi(argv[i + 1]);
        else if (a == "--batch") batch = std::strtoul(argv[i + 1], nullptr, 10);
        else if (a == "--threads") threads = std::atoi(argv[i + 1]);
        else if (a == "--train-limit") train_limit = std::strtoul(argv[i + 1], nullptr, 10);
        else if (a == "--data") dir = argv[i + 1];
        else {
            std::fprintf(stderr, "unknown option %s\n", argv[i]);
            return 2;
        }
    }
    try {
        s::threads limit(threads);
        auto data = s::data::fashion_mnist(dir);
        data.train = data.train.head(train_limit);
        s::model<net> model{s::seed{1}};
        std::printf("ANN on Fashion-MNIST: %zu parameters, %d threads, batch %zu, %d epochs\n",
                    model.param_count, s::threads::active(), batch, epochs);
        s::trainer trainer{model, s::rules::ann{}, s::adam{1e-3}};
        trainer.validate_on(data.test);
        trainer.fit(data.train, s::epochs{epochs}, s::batch{batch});
        std::printf("test accuracy %.2f%%\n", 100.0 * s::evaluate(model, data.test).accuracy);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
}
