// ResNet-17 (docs/method.md) trained by SNN2ANN at T = 5 on CIFAR-10/100 or Tiny-ImageNet.
//   resnet17_train --data cifar10|cifar100|tiny --dir DIR [--epochs 200] [--batch 512] ...
//                  [--current-shortcut: identity shortcuts carry currents, as the reference SNN]
#include <snn2ann/zoo/resnet17.hpp>

#include "zoo_training.hpp"

// zoo_example::run takes a template of three parameters (clang matches no template with
// a fourth, defaulted one there): one alias per shortcut kind.
template <int Classes, class Input, class Neuron>
using resnet17_spikes = snn2ann::zoo::resnet17<Classes, Input, Neuron, snn2ann::resnet_shortcut::spikes>;
template <int Classes, class Input, class Neuron>
using resnet17_current = snn2ann::zoo::resnet17<Classes, Input, Neuron, snn2ann::resnet_shortcut::current>;

int main(int argc, char** argv) {
    zoo_example::options o;
    bool current = false;
    const int rc = zoo_example::parse(argc, argv, o, "ResNet-17", [&](CLI::App& app) {
        app.add_flag("--current-shortcut", current, "identity shortcuts carry currents, as the reference SNN");
    });
    if (rc >= 0) return rc;
    if (current) return zoo_example::run<resnet17_current, 5>(o, "ResNet-17 (current shortcuts)");
    return zoo_example::run<resnet17_spikes, 5>(o, "ResNet-17");
}
