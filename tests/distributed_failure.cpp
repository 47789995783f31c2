// A data-parallel run in which rank 1 throws in its fifth step while rank 0 goes on into the
// step's gradient average: mpi::run must end the whole job (ctest: the rank and the message
// on standard error, within the test's timeout, and rank 0 never finishes training).
#include <cstdio>

#include <snn2ann/distributed.hpp>
#include <snn2ann/snn2ann.hpp>

#include "synthetic_data.hpp"

namespace s = snn2ann;

namespace {
using net = s::network<s::input<1, 12, 12>, s::conv<4, 3>, s::max_pool<2>, s::spiking<>, s::flatten, s::linear<3>>;

struct fail_on_rank_1 {
    int rank;
    template <class Trainer>
    void on_step_begin(Trainer&, std::uint64_t step) const {
        if (rank == 1 && step == 4) throw s::io_error("shard.bin", "a sample of rank 1 is unreadable");
    }
};
}  // namespace

int main(int argc, char** argv) {
    return s::mpi::run(argc, argv, [](s::mpi::communicator& world) {
        s::model<net, s::timesteps<4>> m{s::seed{3}};
        s::trainer t{m, s::rules::snn2ann{}, s::adam{1e-2}};
        t.quiet().distribute(world);
        t.fit(test::bars(4000, 1), s::epochs{50}, s::batch{16}, fail_on_rank_1{world.rank()});
        std::printf("rank %d trained on after the failure\n", world.rank());
    });
}
