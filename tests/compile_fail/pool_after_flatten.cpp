// Pooling a flat input: one sentence, not the window check and the next layer's too.
#include <snn2ann/snn2ann.hpp>
namespace s = snn2ann;
using net = s::network<s::input<1, 8, 8>, s::conv<4, 3>, s::flatten, s::avg_pool<2>, s::linear<3>>;
int main() { return static_cast<int>(s::model<net>::param_count); }
