// Data-parallel training of the CUDA model (mpiexec -n 2 test_cuda_distributed; both ranks
// may share one GPU): the gradients average through pinned host memory, ATA's counts and
// the state go through the host as on the CPU path. Checks that the replicas are
// bit-identical after 20 steps for each rule and that 2 ranks with half the batch each
// train as one process with the whole batch (a network without BN). Without a GPU it
// exits with 77, which ctest reports as skipped.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

#include <snn2ann/cuda.cuh>
#include <snn2ann/distributed.hpp>

#include "synthetic_data.hpp"

namespace s = snn2ann;

namespace {
using net = s::network<s::input<1, 12, 12>, s::conv<4, 3>, s::max_pool<2>, s::spiking<>, s::flatten, s::dropout<10>,
                       s::linear<12>, s::spiking<>, s::linear<3>>;
using gpu_model = s::model<net, s::timesteps<4>, s::cuda>;

int failures = 0;
void expect(bool ok, const char* what, int rank) {
    if (ok) return;
    ++failures;
    std::fprintf(stderr, "test_cuda_distributed: rank %d: %s\n", rank, what);
}

template <class Rule, class Optimizer>
std::vector<float> train(Rule rule, Optimizer opt, s::mpi::communicator* world) {
    gpu_model m{s::seed{7}};
    s::trainer t{m, rule, opt};
    t.quiet();
    if (world) t.distribute(*world);
    t.fit(test::bars(20 * 16, 11), s::epochs{1}, s::batch{16});
    std::vector<float> all = m.parameters_on_host();
    const std::vector<float> st = m.state_on_host();
    all.insert(all.end(), st.begin(), st.end());
    return all;
}

template <class Rule, class Optimizer>
void check_rule(s::mpi::communicator& world, Rule rule, Optimizer opt, const char* name) {
    const std::vector<float> together = train(rule, opt, &world), alone = train(rule, opt, nullptr);
    std::vector<float> all(together.size() * static_cast<std::size_t>(world.size()));
    MPI_Allgather(together.data(), static_cast<int>(together.size()), MPI_FLOAT, all.data(),
                  static_cast<int>(together.size()), MPI_FLOAT, MPI_COMM_WORLD);
    bool same = true;
    for (int r = 1; r < world.size(); ++r)
        same = same && std::memcmp(all.data(), all.data() + r * together.size(), together.size() * sizeof(float)) == 0;
    expect(same, name, world.rank());
    double diff = 0.0, scale = 0.0;
    for (std::size_t i = 0; i < alone.size(); ++i) {
        diff = std::max(diff, std::abs(static_cast<double>(alone[i]) - together[i]));
        scale = std::max(scale, std::abs(static_cast<double>(alone[i])));
    }
    if (world.rank() == 0)
        std::printf("%s: replicas %s, largest difference from one process %.3g (largest value %.3g)\n", name,
                    same ? "bit-identical" : "DIFFER", diff, scale);
    expect(diff <= 1e-4 * scale, "2 ranks differ from one process", world.rank());
}
}  // namespace

int main(int argc, char** argv) {
    s::mpi::environment env(argc, argv);
    if (s::detail::cuda_ops::device_count() == 0) {
        std::puts("test_cuda_distributed: no CUDA device here; skipped");
        return 77;
    }
    s::mpi::communicator world;
    check_rule(world, s::rules::snn2ann{}, s::adam{1e-2}, "snn2ann");
    check_rule(world, s::rules::bptt{}, s::sgd{0.05, 0.9}, "bptt");
    check_rule(world, s::rules::ann{}, s::sgd{0.05, 0.9}, "ann");
    MPI_Allreduce(MPI_IN_PLACE, &failures, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    if (world.rank() == 0) std::puts(failures ? "test_cuda_distributed: FAILED" : "test_cuda_distributed: passed");
    return failures ? 1 : 0;
}
