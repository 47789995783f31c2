// Data-parallel training of the CUDA model on a GPU (mpiexec -n 2; both ranks may share
// one): the checks of cuda/distributed_checks.hpp. Without a GPU it exits with 77, which
// ctest reports as skipped.
#include <snn2ann/cuda.cuh>

using tested = snn2ann::cuda;
#include "cuda/distributed_checks.hpp"

int main(int argc, char** argv) {
    s::mpi::environment env(argc, argv);
    if (s::detail::cuda_ops::device_count() == 0) {
        std::puts("test_cuda_distributed: no CUDA device here; skipped");
        return 77;
    }
    s::mpi::communicator world;
    return run_distributed_checks(world, "test_cuda_distributed");
}
