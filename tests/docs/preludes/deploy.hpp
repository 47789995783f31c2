// Deployment's fragments: a network NIR can hold (average pooling: NIR has no max pooling
// of currents), a model of it and a batch of images.
#include <snn2ann/snn2ann.hpp>
namespace s = snn2ann;

template <int C>
using avg_block = s::layers<s::conv<C, 3>, s::batch_norm, s::avg_pool<2>, s::spiking<s::if_neuron<>>>;
using net = s::network<s::input<1, 28, 28>, avg_block<32>, avg_block<64>, s::flatten, s::linear<128>,
                       s::batch_norm, s::spiking<s::if_neuron<>>, s::linear<10>>;
inline s::model<net, s::timesteps<4>> model{s::seed{1}};
inline const float* images = nullptr;
inline const float* image = nullptr;
inline std::size_t n = 0;
