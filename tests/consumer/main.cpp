// A user's program: one training step of a small network, to prove the package works.
#include <cstdio>
#include <vector>

#include <snn2ann/snn2ann.hpp>

namespace s = snn2ann;
using net = s::network<s::input<1, 8, 8>, s::conv<4, 3>, s::batch_norm, s::relu, s::max_pool<2>, s::flatten,
                       s::linear<3>>;

int main() {
    s::model<net> model{s::seed{7}};
    std::vector<float> x(4 * 64, 0.5f);
    std::vector<std::int32_t> y{0, 1, 2, 0};
    s::rules::ann rule;
    s::adam opt{1e-3};
    const auto r = rule.train_step(model, x.data(), y.data(), 4, 0);
    opt.step(model.parameters(), model.gradients());
    std::printf("snn2ann %d.%d.%d consumer: loss %.4f\n", s::version.major, s::version.minor, s::version.patch,
                r.loss);
    return r.loss > 0.0 ? 0 : 1;
}
