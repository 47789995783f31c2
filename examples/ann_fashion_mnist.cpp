// The reference network of the paper's small experiments as a plain ANN (ReLU), trained
// by back-propagation on Fashion-MNIST: the lower bound of what a spiking run costs.
//   ann_fashion_mnist [--epochs N] [--batch B] [--threads K] [--train-limit N] [--data DIR]
//                     [--checkpoint FILE] [--checkpoint-every N] [--resume FILE]
#include <cstdio>
#include <string>

#include "command_line.hpp"
#include "reference_networks.hpp"
#include "run_state.hpp"

namespace s = snn2ann;
using net = reference::ann;

int main(int argc, char** argv) {
    int epochs = 5, threads = 0;
    std::size_t batch = 64, train_limit = 0;
    std::string dir;
    snn2ann_examples::run_state_flags state;
    const std::string usage =
        std::string("usage: ann_fashion_mnist [--epochs N (5)] [--batch B (64)] [--threads K] [--train-limit N] "
                    "[--data DIR]\n                         [--checkpoint FILE] [--checkpoint-every N] [--resume FILE]\n") +
        snn2ann_examples::run_state_flags::usage;
    const int rc = snn2ann_examples::read_command_line(
        argc, argv, "ann_fashion_mnist",
        usage.c_str(),
        [&](snn2ann_examples::arguments& args) {
            while (args.next()) {
                if (args.is("--epochs")) epochs = args.value<int>();
                else if (args.is("--batch")) batch = args.value<std::size_t>();
                else if (args.is("--threads")) threads = args.value<int>();
                else if (args.is("--train-limit")) train_limit = args.value<std::size_t>();
                else if (args.is("--data")) dir = args.text();
                else if (!state.take(args)) args.unknown();
            }
            state.check();
        });
    if (rc >= 0) return rc;
    try {
        s::threads limit(threads);
        auto data = s::data::fashion_mnist(dir);
        data.train = data.train.head(train_limit);
        s::model<net> model{s::seed{1}};
        std::printf("ANN on Fashion-MNIST: %zu parameters, %d threads, batch %zu, %d epochs\n",
                    model.param_count, s::threads::active(), batch, epochs);
        s::trainer trainer{model, s::rules::ann{}, s::adam{1e-3}};
        trainer.validate_on(data.test);
        state.fit(trainer, data.train, epochs, batch);
        std::printf("test accuracy %.2f%%\n", 100.0 * s::evaluate(model, data.test).accuracy);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
}
