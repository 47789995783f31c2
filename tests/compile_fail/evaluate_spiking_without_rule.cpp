// Evaluating a network with spiking layers without saying how to run it.
#include <snn2ann/snn2ann.hpp>
namespace s = snn2ann;
using net = s::network<s::input<1, 8, 8>, s::conv<4, 3>, s::batch_norm, s::spiking<>, s::flatten, s::linear<3>>;
int main() {
    s::model<net, s::timesteps<4>> m;
    s::data::dataset d;
    return static_cast<int>(s::evaluate(m, d).correct);
}
