// VGG-13 (docs/method.md) trained by SNN2ANN at T = 4 on CIFAR-10/100 or Tiny-ImageNet.
//   vgg13_train --data cifar10|cifar100|tiny --dir DIR [--epochs 200] [--batch 512] ...
#include <snn2ann/zoo/vgg13.hpp>

#include "zoo_training.hpp"

int main(int argc, char** argv) {
    zoo_example::options o;
    if (const int rc = zoo_example::parse(argc, argv, o, "VGG-13", [](CLI::App&) {}); rc >= 0) return rc;
    return zoo_example::run<snn2ann::zoo::vgg13, 4>(o, "VGG-13");
}
