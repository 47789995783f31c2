// ResNet-17 (METHOD.md) trained by SNN2ANN at T = 5 on CIFAR-10/100 or Tiny-ImageNet.
//   resnet17_train --data cifar10|cifar100|tiny --dir DIR [--epochs 200] [--batch 512] ...
#include <snn2ann/zoo/resnet17.hpp>

#include "zoo_training.hpp"

int main(int argc, char** argv) { return zoo_example::run<snn2ann::zoo::resnet17, 5>(argc, argv, "ResNet-17"); }
