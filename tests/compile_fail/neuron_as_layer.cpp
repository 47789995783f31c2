// A neuron model written where a layer goes (instead of spiking<neuron>).
#include <snn2ann/snn2ann.hpp>
namespace s = snn2ann;
using net = s::network<s::input<1, 8, 8>, s::conv<4, 3>, s::if_neuron<>, s::flatten, s::linear<3>>;
int main() { return static_cast<int>(s::model<net, s::timesteps<4>>::param_count); }
