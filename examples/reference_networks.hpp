// The reference Fashion-MNIST network of the examples and benchmarks, as a plain ANN and
// with spiking layers.
#pragma once

#include <snn2ann/snn2ann.hpp>

namespace reference {
namespace s = snn2ann;

// conv 1->32 3x3 pad 1, BN, 2x2 max pool, ReLU; conv 32->64, BN, pool, ReLU; linear
// 3136->128, ReLU; linear 128->10. Pooling before the ReLU is the same function (the two
// commute) at a quarter of the ReLU's cost.
using ann = s::network<s::input<1, 28, 28>,
    s::conv<32, 3>, s::batch_norm, s::max_pool<2>, s::relu,
    s::conv<64, 3>, s::batch_norm, s::max_pool<2>, s::relu,
    s::flatten, s::linear<128>, s::relu, s::linear<10>>;

// The same network with spiking layers: conv -> BN -> 2x2 max pool -> IF (pooling acts on
// the input current, never on spikes), linear -> BN -> IF, and a non-spiking linear head
// on the mean firing rate. The batch norm after the linear layer keeps its current in
// range: without it most of its neurons fired at every step (firing rate 0.72) and the
// network learned slowly (67.5%, 70.0%, 69.7% SNN test accuracy after epochs 1-3).
template <class Neuron, int C>
using conv_bn_pool_if = s::layers<s::conv<C, 3>, s::batch_norm, s::max_pool<2>, s::spiking<Neuron>>;

template <class Neuron = s::if_neuron<>>
using snn = s::network<s::input<1, 28, 28>, conv_bn_pool_if<Neuron, 32>, conv_bn_pool_if<Neuron, 64>,
                       s::flatten, s::linear<128>, s::batch_norm, s::spiking<Neuron>, s::linear<10>>;

/// The variant that leaves the library as NIR (io::save_nir): NIR has no max pooling of
/// currents, so each 2 x 2 pool averages the currents instead.
template <class Neuron, int C>
using conv_bn_avg_if = s::layers<s::conv<C, 3>, s::batch_norm, s::avg_pool<2>, s::spiking<Neuron>>;
template <class Neuron = s::if_neuron<>>
using snn_avg_pool = s::network<s::input<1, 28, 28>, conv_bn_avg_if<Neuron, 32>, conv_bn_avg_if<Neuron, 64>,
                                s::flatten, s::linear<128>, s::batch_norm, s::spiking<Neuron>, s::linear<10>>;

/// The larger configuration: twice the conv channels, a 512-wide linear layer.
template <class Neuron = s::if_neuron<>>
using snn_wide = s::network<s::input<1, 28, 28>, conv_bn_pool_if<Neuron, 64>, conv_bn_pool_if<Neuron, 128>,
                            s::flatten, s::linear<512>, s::batch_norm, s::spiking<Neuron>, s::linear<10>>;

/// docs/method.md's IF with every threshold starting at 1.0 instead of uniform [0, 1).
/// The reference network on event frames: two polarity channels of the 34 x 34 N-MNIST
/// sensor (17 and 8 pixels after the pools).
template <class Neuron = s::if_neuron<>>
using snn_events = s::network<s::input<2, 34, 34>, conv_bn_pool_if<Neuron, 32>, conv_bn_pool_if<Neuron, 64>,
                              s::flatten, s::linear<128>, s::batch_norm, s::spiking<Neuron>, s::linear<10>>;

using if_threshold_1 = s::if_neuron<s::reset::to_zero, s::firing::strict, s::constant_threshold<1>>;

inline constexpr int timesteps = 4;
}  // namespace reference
