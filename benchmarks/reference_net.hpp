// The reference Fashion-MNIST network of the examples, shared by the benchmarks.
#pragma once

#include <snn2ann/snn2ann.hpp>

namespace bench {
namespace s = snn2ann;
// conv 1->32 3x3 pad 1, BN, 2x2 max pool, ReLU; conv 32->64, BN, pool, ReLU; linear
// 3136->128, ReLU; linear 128->10. Pooling before the ReLU is the same function (the two
// commute) at a quarter of the ReLU's cost.
using reference_ann = s::network<s::input<1, 28, 28>,
    s::conv<32, 3>, s::batch_norm, s::max_pool<2>, s::relu,
    s::conv<64, 3>, s::batch_norm, s::max_pool<2>, s::relu,
    s::flatten, s::linear<128>, s::relu, s::linear<10>>;
}  // namespace bench
