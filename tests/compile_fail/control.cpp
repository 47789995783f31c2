// The same headers accept a correct network (guards the compile-fail tests' setup).
#include <snn2ann/snn2ann.hpp>
namespace s = snn2ann;
using net = s::network<s::input<8, 16, 16>,
                       s::residual<s::layers<s::conv<16, 3>, s::batch_norm, s::relu, s::conv<16, 3>>,
                                   s::layers<s::conv<16, 1, 1, 0>, s::batch_norm>>,
                       s::relu, s::flatten, s::linear<10>>;
static_assert(net::output_shape == s::flat_shape(10));
int main() { return static_cast<int>(net::param_count); }
