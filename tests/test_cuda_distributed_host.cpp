// Data-parallel training of the CUDA model on the host execution (mpiexec -n 2), every CI
// run: the checks of cuda/distributed_checks.hpp.
#include <snn2ann/cuda_on_host.hpp>

using tested = snn2ann::cuda_on_host;
#include "cuda/distributed_checks.hpp"

int main(int argc, char** argv) {
    s::mpi::environment env(argc, argv);
    s::mpi::communicator world;
    return run_distributed_checks(world, "test_cuda_distributed_host");
}
