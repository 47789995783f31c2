// The data-parallel fragments: the README's network and data.
#include <cstdio>

#include <snn2ann/snn2ann.hpp>
namespace s = snn2ann;

using net = s::network<s::input<1, 28, 28>, s::conv<8, 3>, s::batch_norm, s::max_pool<2>, s::spiking<>, s::flatten,
                       s::linear<10>>;
inline s::data::split data;
inline s::model<net, s::timesteps<4>> model{s::seed{1}};
inline s::rules::snn2ann rule;
