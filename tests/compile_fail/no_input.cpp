// A network must start with its input shape.
#include <snn2ann/snn2ann.hpp>
namespace s = snn2ann;
using net = s::network<s::conv<8, 3>, s::relu, s::flatten, s::linear<10>>;
int main() { return static_cast<int>(net::param_count); }
