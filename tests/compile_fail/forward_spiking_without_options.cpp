// Running a network with spiking layers as an ANN without saying what they compute.
#include <snn2ann/snn2ann.hpp>
namespace s = snn2ann;
using net = s::network<s::input<1, 8, 8>, s::conv<4, 3>, s::batch_norm, s::spiking<>, s::flatten, s::linear<3>>;
int main() {
    s::model<net, s::timesteps<4>> m;
    float x[64] = {};
    return m.forward(x, 1, false) != nullptr;
}
