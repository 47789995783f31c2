// The xtensor fragments: arrays from the user's own code, and the README's model and rule.
#include <snn2ann/snn2ann.hpp>
#include <xtensor/xtensor.hpp>
namespace s = snn2ann;

using net = s::network<s::input<1, 28, 28>, s::conv<8, 3>, s::batch_norm, s::max_pool<2>, s::spiking<>, s::flatten,
                       s::linear<10>>;
inline s::model<net, s::timesteps<4>> model{s::seed{1}};
inline s::rules::snn2ann rule;
xt::xtensor<float, 4> load_images();            // N x C x H x W: the user's own
xt::xtensor<float, 5> load_frames();            // N x T x C x H x W
xt::xtensor<std::int32_t, 1> load_labels();     // N class indices
inline xt::xtensor<float, 4> images, test_images;
inline xt::xtensor<std::int32_t, 1> labels;
