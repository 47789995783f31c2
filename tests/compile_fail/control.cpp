// The same headers accept correct programs (guards the compile-fail tests' setup): a
// residual ANN, and a spiking network evaluated, measured and converted with the rules.
#include <snn2ann/snn2ann.hpp>
namespace s = snn2ann;
using net = s::network<s::input<8, 16, 16>,
                       s::residual<s::layers<s::conv<16, 3>, s::batch_norm, s::relu, s::conv<16, 3>>,
                                   s::layers<s::conv<16, 1, 1, 0>, s::batch_norm>>,
                       s::relu, s::flatten, s::linear<10>>;
static_assert(net::output_shape == s::flat_shape(10));
using snn = s::network<s::input<1, 8, 8>, s::conv<4, 3>, s::batch_norm, s::spiking<>, s::flatten, s::linear<3>>;
int main() {
    s::model<net> ann;
    s::model<snn, s::timesteps<4>> m;
    s::data::dataset d;
    float x[64] = {};
    double sum = s::evaluate(ann, d).accuracy + s::evaluate(m, d, s::rules::snn2ann{}).accuracy +
                 s::measure_spikes(m, d, s::rules::bptt{}).spikes_per_image +
                 s::convert::evaluate_converted(m, d, {4, 8}).size() +
                 m.forward(x, 1, s::rules::ann{}.options(), false)[0] + s::evaluate(m.snn(), d).accuracy +
                 s::measure_spikes(m.ann(s::rules::snn2ann{}), d).spikes_per_image;
    return static_cast<int>(sum);
}
