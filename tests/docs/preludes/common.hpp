// What the guide's and the README's fragments use: the library, the README's network, its
// data, a model of it with a rule and a trainer, and a batch of images.
#include <cstdio>

#include <snn2ann/snn2ann.hpp>
namespace s = snn2ann;

template <int C>
using reference_block = s::layers<s::conv<C, 3>, s::batch_norm, s::max_pool<2>, s::spiking<s::if_neuron<>>>;
using net = s::network<s::input<1, 28, 28>, reference_block<32>, reference_block<64>, s::flatten, s::linear<128>,
                       s::batch_norm, s::spiking<s::if_neuron<>>, s::linear<10>>;
inline s::data::split data;
inline s::model<net, s::timesteps<4>> model{s::seed{1}}, m2{s::seed{2}};
inline s::rules::snn2ann rule;
inline s::trainer trainer{model, rule, s::adam{1e-3}};
inline s::trainer t{model, rule, s::adam{1e-3}};
inline const float* images = nullptr;
inline const float* image = nullptr;
inline std::size_t n = 0;
