// The second file of the CUDA consumer program (see cuda_main.cpp).
#include <vector>

#ifdef __CUDACC__
#include <snn2ann/cuda.cuh>
using backend = snn2ann::cuda;
#else
#include <snn2ann/cuda_on_host.hpp>
using backend = snn2ann::cuda_on_host;
#endif

double train_steps() {
    namespace s = snn2ann;
    using net = s::network<s::input<1, 8, 8>, s::conv<4, 3>, s::batch_norm, s::max_pool<2>, s::spiking<>, s::flatten,
                           s::linear<3>>;
    s::model<net, s::timesteps<2>, backend> model{s::seed{7}};
    std::vector<float> x(4 * 64, 0.5f);
    std::vector<std::int32_t> y{0, 1, 2, 0};
    s::rules::snn2ann rule;
    const auto r = rule.train_step(model, x.data(), y.data(), 4, 0);
    model.apply(s::adam{1e-3});
    return r.loss;
}
