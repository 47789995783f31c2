// The model the checkpoint harnesses load into: one of each kind of layer that has
// parameters or state, and a residual block.
#pragma once

#include <snn2ann/snn2ann.hpp>

namespace fuzz {
namespace s = snn2ann;
using checkpoint_net =
    s::network<s::input<1, 6, 6>, s::conv<2, 3>, s::batch_norm, s::spiking<>,
               s::residual<s::layers<s::conv<2, 3>, s::batch_norm>>, s::max_pool<2>, s::spiking<s::lif_neuron<4>>,
               s::flatten, s::linear<3>>;
using checkpoint_model = s::model<checkpoint_net, s::timesteps<2>>;
}  // namespace fuzz
