// Loads a checkpoint saved by snn2ann_fashion_mnist and evaluates its SNN (and the ANN
// branch fed by the SNN's counts) on the Fashion-MNIST test set.
//   evaluate_checkpoint [FILE (snn2ann_fashion_mnist.npz)] [--data DIR] [--constant-threshold]
#include <cstdio>
#include <string>

#include "command_line.hpp"
#include "reference_networks.hpp"

namespace s = snn2ann;

template <class Net>
int evaluate(const std::string& file, const std::string& dir) {
    try {
        const auto data = s::data::fashion_mnist(dir);
        s::model<Net, s::timesteps<reference::timesteps>> model;
        s::io::load_checkpoint(model, file);
        const s::rules::snn2ann rule;
        const auto snn = s::evaluate(model, data.test, 256, rule);
        const auto ann = s::evaluate(model, data.test, 256, rule.ann_branch());
        const auto spikes = s::measure_spikes(model, data.test, rule);
        std::printf("%s: SNN (T=%d) test accuracy %.2f%%, ANN branch %.2f%%, %.0f spikes/image\n", file.c_str(),
                    reference::timesteps, 100 * snn.accuracy, 100 * ann.accuracy, spikes.spikes_per_image);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
    return 0;
}

int main(int argc, char** argv) {
    std::string file = "snn2ann_fashion_mnist.npz", dir;
    bool constant_threshold = false;
    snn2ann_examples::command_line cli{"evaluate_checkpoint",
                                       "Evaluates a checkpoint of snn2ann_fashion_mnist on the Fashion-MNIST test set."};
    CLI::App& app = cli.app();
    app.add_option("file", file, "the checkpoint")->capture_default_str();
    app.add_option("--data", dir, "Fashion-MNIST's folder (default: the Debian package's)")->type_name("DIR");
    app.add_flag("--constant-threshold", constant_threshold,
                 "the network was trained with snn2ann_fashion_mnist --constant-threshold");
    if (const int rc = cli.parse(argc, argv); rc >= 0) return rc;
    return constant_threshold ? evaluate<reference::snn<reference::if_threshold_1>>(file, dir)
                              : evaluate<reference::snn<>>(file, dir);
}
