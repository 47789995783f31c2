// Shared by the zoo examples: trains a zoo network by SNN2ANN on CIFAR-10, CIFAR-100 or
// Tiny-ImageNet from a folder, with docs/method.md's training defaults (Adam 1e-3, weight
// decay 5e-4, 200 epochs, lr x0.1 at epochs 100, 150, 175, batch 512, random crop with
// padding 4 and horizontal flip, CIFAR normalisation).
//   <program> --data cifar10|cifar100|tiny --dir DIR [--epochs N] ...   (--help: every option)
#pragma once

#include <cstdio>
#include <filesystem>
#include <string>

#include <snn2ann/snn2ann.hpp>
#include <snn2ann/data/augment.hpp>
#include <snn2ann/data/cifar.hpp>
#include <snn2ann/data/tiny_imagenet.hpp>

#include "command_line.hpp"
#include "run_state.hpp"

namespace zoo_example {
namespace s = snn2ann;

struct options {
    std::string data = "cifar10", dir;
    int epochs = 200, threads = 0;
    std::size_t batch = 512, train_limit = 0, test_limit = 0;
    snn2ann_examples::run_state_flags state;  // --checkpoint, --checkpoint-every, --resume
};

/// Reads the options into o; returns -1 to go on, else the exit code (0 after --help).
/// `add_own` adds the program's own options to the application.
template <class AddOwn>
int parse(int argc, char** argv, options& o, const char* name, AddOwn add_own) {
    const std::string program = argc > 0 ? std::filesystem::path(argv[0]).filename().string() : "zoo example";
    snn2ann_examples::command_line cli{program, std::string("Trains ") + name +
                                                    " by SNN2ANN on CIFAR-10, CIFAR-100 or Tiny-ImageNet."};
    CLI::App& app = cli.app();
    app.add_option("--data", o.data, "the data set")->type_name("NAME")->check(CLI::IsMember({"cifar10", "cifar100", "tiny"}))
        ->capture_default_str();
    app.add_option("--dir", o.dir, "the data set's folder (the message without one says where to get it)")->type_name("DIR");
    cli.add_training_flags({.epochs = &o.epochs, .batch = &o.batch, .threads = &o.threads, .train_limit = &o.train_limit});
    app.add_option("--test-limit", o.test_limit, "test on the first N images (0: all)");
    o.state.add_to(app);
    add_own(app);
    if (const int rc = cli.parse(argc, argv); rc >= 0) return rc;
    if (o.dir.empty() || !std::filesystem::is_directory(o.dir)) {
        std::fprintf(stderr,
                     "give the data set's folder with --dir (\"%s\" is not one). The data cannot be downloaded by "
                     "this program; get it from\n"
                     "  CIFAR-10:      https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz  (folder cifar-10-batches-bin)\n"
                     "  CIFAR-100:     https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz (folder cifar-100-binary)\n"
                     "  Tiny-ImageNet: http://cs231n.stanford.edu/tiny-imagenet-200.zip          (folder tiny-imagenet-200)\n",
                     o.dir.c_str());
        return 2;
    }
    return -1;
}

inline s::data::split load(const options& o) {
    s::data::split d = o.data == "cifar10"    ? s::data::cifar10(o.dir, o.train_limit, o.test_limit)
                       : o.data == "cifar100" ? s::data::cifar100(o.dir, s::data::cifar100_labels::fine, o.train_limit,
                                                                  o.test_limit)
                                              : s::data::tiny_imagenet(o.dir, o.train_limit, o.test_limit);
    const bool tiny = o.data == "tiny";
    const auto& mean = tiny ? s::data::tiny_imagenet_mean : s::data::cifar_mean;
    const auto& sd = tiny ? s::data::tiny_imagenet_std : s::data::cifar_std;
    s::data::normalize(d.train, mean, sd);
    s::data::normalize(d.test, mean, sd);
    return d;
}

/// Trains model type Model by SNN2ANN on the data and prints a line per epoch.
template <class Model>
int train(const options& o, const s::data::split& d, const char* name) {
    Model model{s::seed{1}};
    s::rules::snn2ann rule;
    std::printf("%s by SNN2ANN on %s: T = %d, %zu parameters, %zu training images, batch %zu, %d epochs\n", name,
                o.data.c_str(), Model::T, Model::param_count, d.train.size(), o.batch, o.epochs);
    s::trainer trainer{model, rule, s::adam{1e-3, 5e-4}};
    std::vector<float> black(3);
    const auto& mean = o.data == "tiny" ? s::data::tiny_imagenet_mean : s::data::cifar_mean;
    const auto& sd = o.data == "tiny" ? s::data::tiny_imagenet_std : s::data::cifar_std;
    for (int c = 0; c < 3; ++c) black[c] = -mean[c] / sd[c];  // torchvision pads with black before normalising
    trainer.augment(s::data::crop_flip{4, true, black}).schedule(s::multi_step_lr{{100, 150, 175}});
    trainer.on_epoch([&](const s::epoch_report& r) {
        std::printf("epoch %3d  loss %.4f  SNN test %.2f%%  %.1f img/s  lr %.2g\n", r.epoch, r.loss,
                    100 * s::evaluate(model, d.test, 128, rule).accuracy, r.images_per_second, r.learning_rate);
        std::fflush(stdout);
    });
    o.state.fit(trainer, d.train, o.epochs, o.batch);
    return 0;
}

/// main() of a zoo example: Net<Classes, Input> is the zoo template, T its time steps.
template <template <int, class, class> class Net, int T>
int run(const options& o, const char* name) {
    s::threads limit(o.threads);
    try {
        const auto d = load(o);
        using neuron = s::if_neuron<>;
        if (o.data == "cifar10") return train<s::model<Net<10, s::input<3, 32, 32>, neuron>, s::timesteps<T>>>(o, d, name);
        if (o.data == "cifar100") return train<s::model<Net<100, s::input<3, 32, 32>, neuron>, s::timesteps<T>>>(o, d, name);
        return train<s::model<Net<200, s::input<3, 64, 64>, neuron>, s::timesteps<T>>>(o, d, name);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
}

}  // namespace zoo_example
