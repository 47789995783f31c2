// snn2ann/deploy: how an engine computes the currents of a convolution or affine layer,
// for the compile-time inference engine (inference.hpp) and the runtime engine
// (runtime.hpp) alike.
#pragma once

namespace snn2ann::inline v0::deploy {

/// How a convolution or affine layer on spikes computes its currents.
enum class path {
    dense,         ///< a matrix product over the step's whole input
    event_driven,  ///< the weights of each input that spiked, accumulated
    automatic,     ///< event-driven where the step's input is sparse enough (event_driven_below)
};

}  // namespace snn2ann::inline v0::deploy
