// snn2ann/zoo: the paper's "ResNet-17" (METHOD.md, "Reference architectures"): a 3x3 stem
// conv (64) with BN and a spiking layer, then 8 basic blocks of 64, 64, 128, 128, 256, 256,
// 512, 512 channels in four stages of two; no global pooling; head Linear(8*8*512, classes)
// on the last spiking layer's rate. Strides (stem, stage 1..4): CIFAR [1,1,1,2,2],
// Tiny-ImageNet [1,1,2,2,2]. A basic block is
//   main:     conv3x3(stride) -> BN -> dropout 0.2 (ANN) -> spiking -> conv3x3 -> BN
//   shortcut: identity, or conv1x1(stride) -> BN where the shape changes
// followed by a spiking layer on the sum: mapping units after the stem, after conv1 of
// each block, and after each block's sum (the ANN's ReLU). Convolutions have a bias (so
// that BN folds into them in the SNN) and Kaiming-normal (fan_out) weights.
// The identity shortcut is spike-driven: it carries the spikes of the layer before the
// block. (The reference SNN's shortcut carries that layer's real-valued input current
// instead; that variant is not offered yet.)
#pragma once

#include <type_traits>

#include "../core/type_list.hpp"
#include "../layer/batch_norm.hpp"
#include "../layer/conv.hpp"
#include "../layer/elementwise.hpp"
#include "../layer/linear.hpp"
#include "../layer/residual.hpp"
#include "../layer/spiking.hpp"
#include "../net/network.hpp"
#include "../neuron/neuron.hpp"

namespace snn2ann::inline v0 {
namespace detail {

template <int Channels, int Stride, int Kernel = 3>
using resnet_conv = conv<Channels, Kernel, Stride, Kernel / 2, true, kaiming_normal_fan_out>;

/// One basic block with In channels entering and the spiking layer after its sum.
template <int In, int Channels, int Stride, class Neuron>
using basic_block = layers<
    residual<layers<resnet_conv<Channels, Stride>, batch_norm, dropout<20>, spiking<Neuron>,
                    resnet_conv<Channels, 1>, batch_norm>,
             std::conditional_t<In == Channels && Stride == 1, layers<>,
                                layers<resnet_conv<Channels, Stride, 1>, batch_norm>>>,
    spiking<Neuron>>;

template <int Classes, class Input, class Neuron>
struct resnet17_of {
    static constexpr shape in = Input::value;
    static_assert(in.h == in.w && (in.h == 32 || in.h == 64),
                  "snn2ann::zoo::resnet17: the input must be 32x32 (CIFAR) or 64x64 (Tiny-ImageNet)");
    static_assert(Classes > 0, "snn2ann::zoo::resnet17: Classes must be positive");
    static constexpr int s2 = in.h == 64 ? 2 : 1;  // stage 2's stride
    using type = network<Input,
        resnet_conv<64, 1>, batch_norm, spiking<Neuron>,
        basic_block<64, 64, 1, Neuron>, basic_block<64, 64, 1, Neuron>,
        basic_block<64, 128, s2, Neuron>, basic_block<128, 128, 1, Neuron>,
        basic_block<128, 256, 2, Neuron>, basic_block<256, 256, 1, Neuron>,
        basic_block<256, 512, 2, Neuron>, basic_block<512, 512, 1, Neuron>,
        flatten, linear<Classes>>;
    static_assert(chain<cpu, Input::value, typename type::layer_list>::out == flat_shape(Classes));
};

}  // namespace detail

namespace zoo {

/// ResNet-17 for `Classes` classes on Input = input<3, 32, 32> (CIFAR) or input<3, 64, 64>
/// (Tiny-ImageNet), with spiking layers of type Neuron.
template <int Classes, class Input = input<3, 32, 32>, class Neuron = if_neuron<>>
using resnet17 = typename detail::resnet17_of<Classes, Input, Neuron>::type;

}  // namespace zoo
}  // namespace snn2ann::inline v0
