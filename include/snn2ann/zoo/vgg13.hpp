// snn2ann/zoo: the paper's "VGG-13" (docs/method.md, "Reference architectures"): 13 conv layers
// 3x3, pad 1, with bias, channels 64,64 | 128,128 | 256 x3 | 512 x3 | 512 x3, each followed
// by BN and a spiking layer (a mapping unit in the ANN branch); 2x2 max pooling of the
// current in the last conv of blocks 3, 4, 5 (32x32 inputs: CIFAR) or 2 to 5 (64x64:
// Tiny-ImageNet); ANN dropout 0.25 after BN in blocks 1 and 2; head Linear(4*4*512, classes)
// on the last spiking layer's rate.
#pragma once

#include <type_traits>

#include "../core/type_list.hpp"
#include "../layer/batch_norm.hpp"
#include "../layer/conv.hpp"
#include "../layer/elementwise.hpp"
#include "../layer/linear.hpp"
#include "../layer/pool.hpp"
#include "../layer/spiking.hpp"
#include "../net/network.hpp"
#include "../neuron/neuron.hpp"

namespace snn2ann::inline v0 {
namespace detail {

/// conv -> BN -> [2x2 max pool] -> [dropout 0.25] -> spiking, docs/method.md's order.
template <int Channels, bool Pool, bool Dropout, class Neuron>
using vgg_unit = layers<conv<Channels, 3>, batch_norm, std::conditional_t<Pool, max_pool<2>, layers<>>,
                        std::conditional_t<Dropout, dropout<25>, layers<>>, spiking<Neuron>>;

template <int Classes, class Input, class Neuron>
struct vgg13_of {
    static constexpr shape in = Input::value;
    static_assert(in.h == in.w && (in.h == 32 || in.h == 64),
                  "snn2ann::zoo::vgg13: the input must be 32x32 (CIFAR) or 64x64 (Tiny-ImageNet)");
    static_assert(Classes > 0, "snn2ann::zoo::vgg13: Classes must be positive");
    static constexpr bool tiny = in.h == 64;  // pools in block 2 as well
    using type = network<Input,
        vgg_unit<64, false, true, Neuron>, vgg_unit<64, false, true, Neuron>,
        vgg_unit<128, false, true, Neuron>, vgg_unit<128, tiny, true, Neuron>,
        vgg_unit<256, false, false, Neuron>, vgg_unit<256, false, false, Neuron>, vgg_unit<256, true, false, Neuron>,
        vgg_unit<512, false, false, Neuron>, vgg_unit<512, false, false, Neuron>, vgg_unit<512, true, false, Neuron>,
        vgg_unit<512, false, false, Neuron>, vgg_unit<512, false, false, Neuron>, vgg_unit<512, true, false, Neuron>,
        flatten, linear<Classes>>;
    static_assert(chain<cpu, Input::value, typename type::layer_list>::out == flat_shape(Classes));
};

}  // namespace detail

namespace zoo {

/// VGG-13 for `Classes` classes on Input = input<3, 32, 32> (CIFAR) or input<3, 64, 64>
/// (Tiny-ImageNet), with spiking layers of type Neuron.
template <int Classes, class Input = input<3, 32, 32>, class Neuron = if_neuron<>>
using vgg13 = typename detail::vgg13_of<Classes, Input, Neuron>::type;

}  // namespace zoo
}  // namespace snn2ann::inline v0
