// Data-parallel training of the CUDA model (mpiexec -n 2), for either execution: included
// by test_cuda_distributed_host.cpp (the host execution) and test_cuda_distributed.cu (a
// GPU; both ranks may share one), each of which first names the backend tag `tested`. The
// gradients average through pinned host memory, ATA's counts and the state go through the
// host as on the CPU path. Checks that the replicas are bit-identical after 20 steps for
// each rule, that 2 ranks with half the batch each train as one process with the whole
// batch (a network without BN), that the noisy ratio the layers report is the global
// batch's (as the CPU layers'), and that each rank of a node gets a GPU of its own.
#pragma once

#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

#include <snn2ann/distributed.hpp>

#include "../synthetic_data.hpp"

namespace s = snn2ann;

namespace {
using net = s::network<s::input<1, 12, 12>, s::conv<4, 3>, s::max_pool<2>, s::spiking<>, s::flatten, s::dropout<10>,
                       s::linear<12>, s::spiking<>, s::linear<3>>;
using gpu_model = s::model<net, s::timesteps<4>, tested>;

int failures = 0;
void expect(bool ok, const char* what, int rank) {
    if (ok) return;
    ++failures;
    std::fprintf(stderr, "cuda distributed checks: rank %d: %s\n", rank, what);
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

/// One data-parallel SNN2ANN step of a CPU model and of the CUDA model on the same data:
/// their spiking layers must report the same noisy ratio, the global batch's.
void check_noisy_ratio(s::mpi::communicator& world) {
    const auto data = test::bars(32, 12);
    s::model<net, s::timesteps<4>> cpu{s::seed{5}};
    gpu_model cuda{s::seed{5}};
    s::trainer a{cpu, s::rules::snn2ann{}, s::adam{1e-3}};
    s::trainer b{cuda, s::rules::snn2ann{}, s::adam{1e-3}};
    a.quiet().distribute(world);
    b.quiet().distribute(world);
    a.fit(data, s::epochs{1}, s::batch{32});
    b.fit(data, s::epochs{1}, s::batch{32});
    const double want = cpu.layers().layer<6>().noisy_ratio(), got = cuda.layers().layer<6>().noisy_ratio(cuda.device());
    if (world.rank() == 0) std::printf("noisy ratio of the global batch: cpu %.6f, cuda %.6f\n", want, got);
    expect(std::abs(want - got) < 1e-12, "the CUDA layer's noisy ratio is not the global batch's", world.rank());
}

/// Each rank of a node takes the GPU of its node-local rank (one node here: the world rank).
void check_device_choice(s::mpi::communicator& world) {
    expect(s::detail::node_local_rank().load() == world.rank(), "mpi::environment did not publish the node-local rank",
           world.rank());
    expect(s::detail::cuda_ops::choose_device(world.size(), nullptr, s::detail::node_local_rank().load()) == world.rank(),
           "the ranks of one node do not get a GPU each", world.rank());
}

/// The checks of every rank; returns main's exit status.
int run_distributed_checks(s::mpi::communicator& world, const char* program) {
    check_device_choice(world);
    check_rule(world, s::rules::snn2ann{}, s::adam{1e-2}, "snn2ann");
    check_rule(world, s::rules::bptt{}, s::sgd{0.05, 0.9}, "bptt");
    check_rule(world, s::rules::ann{}, s::sgd{0.05, 0.9}, "ann");
    check_noisy_ratio(world);
    MPI_Allreduce(MPI_IN_PLACE, &failures, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    if (world.rank() == 0) std::printf("%s: %s\n", program, failures ? "FAILED" : "passed");
    return failures ? 1 : 0;
}
}  // namespace
