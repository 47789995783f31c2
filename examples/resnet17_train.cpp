// ResNet-17 (docs/method.md) trained by SNN2ANN at T = 5 on CIFAR-10/100 or Tiny-ImageNet.
//   resnet17_train --data cifar10|cifar100|tiny --dir DIR [--epochs 200] [--batch 512] ...
//                  [--current-shortcut: identity shortcuts carry currents, as the reference SNN]
#include <string>
#include <vector>

#include <snn2ann/zoo/resnet17.hpp>

#include "zoo_training.hpp"

// zoo_example::run takes a template of three parameters (clang matches no template with
// a fourth, defaulted one there): one alias per shortcut kind.
template <int Classes, class Input, class Neuron>
using resnet17_spikes = snn2ann::zoo::resnet17<Classes, Input, Neuron, snn2ann::resnet_shortcut::spikes>;
template <int Classes, class Input, class Neuron>
using resnet17_current = snn2ann::zoo::resnet17<Classes, Input, Neuron, snn2ann::resnet_shortcut::current>;

int main(int argc, char** argv) {
    std::vector<char*> args;
    bool current = false;
    for (int i = 0; i < argc; ++i) {
        if (std::string(argv[i]) == "--current-shortcut") current = true;
        else args.push_back(argv[i]);
    }
    const int n = static_cast<int>(args.size());
    const char* more_usage = "  --current-shortcut: identity shortcuts carry currents, as the reference SNN\n";
    if (current) return zoo_example::run<resnet17_current, 5>(n, args.data(), "ResNet-17 (current shortcuts)", more_usage);
    return zoo_example::run<resnet17_spikes, 5>(n, args.data(), "ResNet-17", more_usage);
}
