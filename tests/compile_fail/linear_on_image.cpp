// A linear layer after a convolution needs a flatten in between.
#include <snn2ann/snn2ann.hpp>
namespace s = snn2ann;
using net = s::network<s::input<1, 28, 28>, s::conv<8, 3>, s::relu, s::linear<10>>;
int main() { return static_cast<int>(net::param_count); }
