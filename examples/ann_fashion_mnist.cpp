// The reference network of the paper's small experiments as a plain ANN (ReLU), trained
// by back-propagation on Fashion-MNIST: the lower bound of what a spiking run costs.
//   ann_fashion_mnist [--epochs N] [--batch B] [--threads K] [--train-limit N] [--data DIR]
//                     [--checkpoint FILE] [--checkpoint-every N] [--resume FILE]
#include <algorithm>
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
    snn2ann_examples::command_line cli{"ann_fashion_mnist", "Trains the reference network as an ANN on Fashion-MNIST."};
    CLI::App& app = cli.app();
    cli.add_training_flags({.epochs = &epochs, .batch = &batch, .threads = &threads, .train_limit = &train_limit,
                            .fashion_mnist = &dir});
    state.add_to(app);
    if (const int rc = cli.parse(argc, argv); rc >= 0) return rc;
    try {
        s::threads limit(threads);
        auto data = s::data::fashion_mnist(dir);
        data.train = data.train.head(train_limit);
        s::model<net> model{s::seed{1}};
        std::printf("ANN on Fashion-MNIST: %zu parameters, %d threads, batch %zu, %d epochs\n",
                    model.param_count, s::threads::active(), batch, epochs);
        // Model selection looks at 5,000 training images held out, never at the test set.
        const auto held = s::data::split_off(data.train, std::min<std::size_t>(5000, data.train.size() / 10), 1);
        s::trainer trainer{model, s::rules::ann{}, s::adam{1e-3}};
        trainer.validate_on(held.validation);
        state.fit(trainer, held.train, epochs, batch);
        std::printf("test accuracy %.2f%%\n", 100.0 * s::evaluate(model, data.test).accuracy);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
}
