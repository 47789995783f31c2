// snn2ann/zoo: the paper's "ResNet-17" (docs/method.md, "Reference architectures"): a 3x3 stem
// conv (64) with BN and a spiking layer, then 8 basic blocks of 64, 64, 128, 128, 256, 256,
// 512, 512 channels in four stages of two; no global pooling; head Linear(8*8*512, classes)
// on the last spiking layer's rate. Strides (stem, stage 1..4): CIFAR [1,1,1,2,2],
// Tiny-ImageNet [1,1,2,2,2]. A basic block is
//   main:     conv3x3(stride) -> BN -> dropout 0.2 (ANN) -> spiking -> conv3x3 -> BN
//   shortcut: identity, or conv1x1(stride) -> BN where the shape changes
// followed by a spiking layer on the sum: mapping units after the stem, after conv1 of
// each block, and after each block's sum (the ANN's ReLU). Convolutions have a bias (so
// that BN folds into them in the SNN) and Kaiming-normal (fan_out) weights.
// Identity shortcuts come in two kinds (resnet_shortcut):
//  - spikes (default): the shortcut carries the spikes (the ANN: the mapped activations)
//    of the spiking layer before the block;
//  - current (the reference SNN): the shortcut carries that spiking layer's real-valued
//    input current, so the currents flow past the blocks and only the main paths see
//    spikes: z_l = main_l(spike(z_{l-1})) + z_{l-1} (the ANN: pre-activations). The spiking
//    layer then sits at the start of the block, and blocks with a projection shortcut take
//    the spikes on both paths (spiking layer, then the block). Same layers, same parameters.
// Mapping units are in the same places either way.
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

/// What ResNet-17's identity shortcuts carry past a block (see above).
enum class resnet_shortcut { spikes, current };

namespace detail {

template <int Channels, int Stride, int Kernel = 3>
using resnet_conv = conv<Channels, Kernel, Stride, Kernel / 2, true, kaiming_normal_fan_out>;

template <int Channels, int Stride, class Neuron>
using basic_main_path = layers<resnet_conv<Channels, Stride>, batch_norm, dropout<20>, spiking<Neuron>,
                               resnet_conv<Channels, 1>, batch_norm>;
template <int Channels, int Stride>
using projection = layers<resnet_conv<Channels, Stride, 1>, batch_norm>;

/// One basic block with In channels entering and the spiking layer after its sum.
template <int In, int Channels, int Stride, class Neuron>
using basic_block = layers<
    residual<basic_main_path<Channels, Stride, Neuron>,
             std::conditional_t<In == Channels && Stride == 1, layers<>, projection<Channels, Stride>>>,
    spiking<Neuron>>;

/// The same block carrying currents: its input is the current z_{l-1}, its output the
/// current of its sum; the spiking layer before the main path starts the block.
template <int In, int Channels, int Stride, class Neuron>
using current_block = std::conditional_t<
    In == Channels && Stride == 1,
    residual<layers<spiking<Neuron>, basic_main_path<Channels, Stride, Neuron>>>,
    layers<spiking<Neuron>, residual<basic_main_path<Channels, Stride, Neuron>, projection<Channels, Stride>>>>;

template <resnet_shortcut Kind, int In, int Channels, int Stride, class Neuron>
using block_of = std::conditional_t<Kind == resnet_shortcut::spikes, basic_block<In, Channels, Stride, Neuron>,
                                    current_block<In, Channels, Stride, Neuron>>;

template <int Classes, class Input, class Neuron, resnet_shortcut Kind>
struct resnet17_of {
    static constexpr shape in = Input::value;
    static_assert(in.h == in.w && (in.h == 32 || in.h == 64),
                  "snn2ann::zoo::resnet17: the input must be 32x32 (CIFAR) or 64x64 (Tiny-ImageNet)");
    static_assert(Classes > 0, "snn2ann::zoo::resnet17: Classes must be positive");
    static constexpr int s2 = in.h == 64 ? 2 : 1;  // stage 2's stride
    static constexpr bool spikes = Kind == resnet_shortcut::spikes;
    // spikes: the stem's spiking layer, blocks ending in one; current: blocks starting
    // with one, and the last one after the blocks.
    using type = network<Input,
        resnet_conv<64, 1>, batch_norm, std::conditional_t<spikes, spiking<Neuron>, layers<>>,
        block_of<Kind, 64, 64, 1, Neuron>, block_of<Kind, 64, 64, 1, Neuron>,
        block_of<Kind, 64, 128, s2, Neuron>, block_of<Kind, 128, 128, 1, Neuron>,
        block_of<Kind, 128, 256, 2, Neuron>, block_of<Kind, 256, 256, 1, Neuron>,
        block_of<Kind, 256, 512, 2, Neuron>, block_of<Kind, 512, 512, 1, Neuron>,
        std::conditional_t<spikes, layers<>, spiking<Neuron>>, flatten, linear<Classes>>;
    static_assert(chain<cpu, Input::value, typename type::layer_list>::out == flat_shape(Classes));
};

}  // namespace detail

namespace zoo {

/// ResNet-17 for `Classes` classes on Input = input<3, 32, 32> (CIFAR) or input<3, 64, 64>
/// (Tiny-ImageNet), with spiking layers of type Neuron and identity shortcuts carrying
/// spikes (default) or, as in the reference SNN, currents.
template <int Classes, class Input = input<3, 32, 32>, class Neuron = if_neuron<>,
          resnet_shortcut Shortcut = resnet_shortcut::spikes>
using resnet17 = typename detail::resnet17_of<Classes, Input, Neuron, Shortcut>::type;

}  // namespace zoo
}  // namespace snn2ann::inline v0
