// The main path doubles the channels, the identity shortcut does not: a channel mismatch.
#include <snn2ann/snn2ann.hpp>
namespace s = snn2ann;
using net = s::network<s::input<8, 16, 16>,
                       s::residual<s::layers<s::conv<16, 3>, s::batch_norm, s::relu, s::conv<16, 3>>>,
                       s::flatten, s::linear<10>>;
int main() { return static_cast<int>(net::param_count); }
