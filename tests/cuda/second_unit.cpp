// A second translation unit that includes the CUDA backend and instantiates its model
// and kernels, so that the test program links as a user's program of several files
// must (kernels defined in headers once broke this with "multiple definition").
// test_cuda compiles it with nvcc through second_unit.cu.
#ifdef __CUDACC__
#include <snn2ann/cuda.cuh>
using tested = snn2ann::cuda;
#else
#include <snn2ann/cuda_on_host.hpp>
using tested = snn2ann::cuda_on_host;
#endif

#include "../synthetic_data.hpp"

namespace s = snn2ann;

int second_unit_trains() {
    using net = s::network<s::input<1, 12, 12>, s::conv<4, 3>, s::batch_norm, s::max_pool<2>, s::spiking<>, s::flatten,
                           s::dropout<10>, s::linear<3>>;
    s::model<net, s::timesteps<4>, tested> m{s::seed{1}};
    s::trainer t{m, s::rules::snn2ann{}, s::adam{3e-3}};
    const auto r = t.quiet().fit(test::bars(64, 4), s::epochs{2}, s::batch{32});
    return r.size() == 2 && std::isfinite(r.back().loss) ? 0 : 1;
}
