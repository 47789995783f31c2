// A user's program of two files that both use the CUDA backend (cuda_main and
// cuda_unit): on the host execution as .cpp files (any compiler), on a GPU as .cu files
// (nvcc; without a GPU it says so and stops).
#include <cstdio>

#ifdef __CUDACC__
#include <snn2ann/cuda.cuh>
using backend = snn2ann::cuda;
#else
#include <snn2ann/cuda_on_host.hpp>
using backend = snn2ann::cuda_on_host;
#endif

double train_steps();  // cuda_unit

int main() {
#ifdef __CUDACC__
    if (snn2ann::detail::cuda_ops::device_count() == 0) {
        std::puts("snn2ann consumer (cuda, two .cu files): built and linked; no GPU here to run it");
        return 0;
    }
#endif
    const double loss = train_steps();
    namespace s = snn2ann;
    using net = s::network<s::input<1, 8, 8>, s::conv<4, 3>, s::batch_norm, s::max_pool<2>, s::spiking<>, s::flatten,
                           s::linear<3>>;
    s::model<net, s::timesteps<2>, backend> model{s::seed{7}};  // the same types in this file too
    std::printf("snn2ann consumer (%s, two files): loss %.4f\n", model.device().name, loss);
    return loss > 0.0 ? 0 : 1;
}
