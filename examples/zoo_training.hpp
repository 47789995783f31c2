// Shared by the zoo examples: trains a zoo network by SNN2ANN on CIFAR-10, CIFAR-100 or
// Tiny-ImageNet from a folder, with METHOD.md's training defaults (Adam 1e-3, weight
// decay 5e-4, 200 epochs, lr x0.1 at epochs 100, 150, 175, batch 512, random crop with
// padding 4 and horizontal flip, CIFAR normalisation).
//   <program> --data cifar10|cifar100|tiny --dir DIR [--epochs N] [--batch B] [--threads K]
//             [--train-limit N] [--test-limit N]
#pragma once

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include <snn2ann/snn2ann.hpp>
#include <snn2ann/data/augment.hpp>
#include <snn2ann/data/cifar.hpp>
#include <snn2ann/data/tiny_imagenet.hpp>

namespace zoo_example {
namespace s = snn2ann;

struct options {
    std::string data = "cifar10", dir;
    int epochs = 200, threads = 0;
    std::size_t batch = 512, train_limit = 0, test_limit = 0;
};

inline bool parse(int argc, char** argv, options& o) {
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string a = argv[i], v = argv[i + 1];
        if (a == "--data") o.data = v;
        else if (a == "--dir") o.dir = v;
        else if (a == "--epochs") o.epochs = std::atoi(v.c_str());
        else if (a == "--batch") o.batch = std::strtoul(v.c_str(), nullptr, 10);
        else if (a == "--threads") o.threads = std::atoi(v.c_str());
        else if (a == "--train-limit") o.train_limit = std::strtoul(v.c_str(), nullptr, 10);
        else if (a == "--test-limit") o.test_limit = std::strtoul(v.c_str(), nullptr, 10);
        else {
            std::fprintf(stderr, "unknown option %s\n", argv[i]);
            return false;
        }
    }
    if (o.data != "cifar10" && o.data != "cifar100" && o.data != "tiny") {
        std::fprintf(stderr, "--data must be cifar10, cifar100 or tiny\n");
        return false;
    }
    if (o.dir.empty() || !std::filesystem::is_directory(o.dir)) {
        std::fprintf(stderr,
                     "give the data set's folder with --dir (\"%s\" is not one). The data cannot be downloaded by "
                     "this program; get it from\n"
                     "  CIFAR-10:      https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz  (folder cifar-10-batches-bin)\n"
                     "  CIFAR-100:     https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz (folder cifar-100-binary)\n"
                     "  Tiny-ImageNet: http://cs231n.stanford.edu/tiny-imagenet-200.zip          (folder tiny-imagenet-200)\n",
                     o.dir.c_str());
        return false;
    }
    return true;
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
    trainer.fit(d.train, s::epochs{o.epochs}, s::batch{o.batch});
    return 0;
}

/// main() of a zoo example: Net<Classes, Input> is the zoo template, T its time steps.
template <template <int, class, class> class Net, int T>
int run(int argc, char** argv, const char* name) {
    options o;
    if (!parse(argc, argv, o)) return 2;
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
