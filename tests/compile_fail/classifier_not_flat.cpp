// Training a classifier whose output is still an image.
#include <snn2ann/snn2ann.hpp>
namespace s = snn2ann;
using net = s::network<s::input<1, 8, 8>, s::conv<4, 3>>;
int main() {
    s::model<net> m;
    s::rules::ann rule;
    float x[64] = {};
    std::int32_t y[1] = {0};
    rule.train_step(m, x, y, 1, 0);
}
