// A block with spiking layers inside and no spiking layer after it: the SNN's head would
// have no firing rate to read.
#include <snn2ann/snn2ann.hpp>
namespace s = snn2ann;
using net = s::network<s::input<1, 8, 8>, s::conv<4, 3>, s::batch_norm,
                       s::residual<s::layers<s::spiking<>, s::conv<4, 3>, s::batch_norm>>, s::flatten,
                       s::linear<3>>;
int main() { s::model<net, s::timesteps<4>> m; }
