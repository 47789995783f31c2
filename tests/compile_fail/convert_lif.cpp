// Converting a network of leaky neurons, which conversion cannot represent.
#include <snn2ann/snn2ann.hpp>
namespace s = snn2ann;
using net = s::network<s::input<1, 8, 8>, s::conv<4, 3>, s::batch_norm, s::spiking<s::lif_neuron<2>>, s::flatten,
                       s::linear<3>>;
int main() {
    s::model<net, s::timesteps<4>> m;
    s::data::dataset d;
    return static_cast<int>(s::convert::evaluate_converted(m, d, {4, 8}).size());
}
