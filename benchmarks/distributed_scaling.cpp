// Data-parallel throughput on MPI: the reference network trained by SNN2ANN at T = 4 on the
// first --train-limit Fashion-MNIST images, at a global batch of --batch, on however many
// ranks mpiexec starts (each with --threads threads). Prints, on rank 0, images per second
// (the global batch's), the gradient average's time a step that backward did not hide
// (buckets started while backward runs), and the same with every bucket started after
// backward (overlap off: the whole average's time), from which the hidden part follows.
//   mpiexec -n R distributed_scaling [--threads K (1)] [--batch B (64)] [--train-limit N (6400)]
// benchmarks/distributed_scaling.sh runs 1 rank x 1 thread, 2 ranks x 1 thread and 1 rank x 2
// threads in turn and reports the medians and ratios.
#include <cstdio>
#include <string>

#include <snn2ann/distributed.hpp>

#include "../examples/command_line.hpp"
#include "../examples/reference_networks.hpp"

namespace s = snn2ann;

namespace {
struct measured {
    double images_per_second = 0.0, exposed_ms = 0.0, step_ms = 0.0;
};

measured one_epoch(s::mpi::communicator& world, const s::data::dataset& train, std::size_t batch) {
    s::model<reference::snn<>, s::timesteps<reference::timesteps>> model{s::seed{1}};
    s::trainer trainer{model, s::rules::snn2ann{}, s::adam{1e-3}};
    trainer.quiet().distribute(world);
    world.reset_timing();
    const auto r = trainer.fit(train, s::epochs{1}, s::batch{batch});
    const s::mpi::gradient_timing g = world.timing();
    measured m;
    m.images_per_second = r[0].images_per_second;
    m.exposed_ms = g.steps ? 1e3 * g.exposed_seconds / static_cast<double>(g.steps) : 0.0;
    m.step_ms = 1e3 * r[0].seconds / static_cast<double>(trainer.steps_done());
    return m;
}
}  // namespace

int main(int argc, char** argv) {
    int threads = 1;
    std::size_t batch = 64, limit = 6400;
    snn2ann_examples::command_line cli{"distributed_scaling",
                                       "One epoch of SNN2ANN training over the ranks (mpiexec -n R distributed_scaling), "
                                       "with and without overlapping the gradient average."};
    CLI::App& app = cli.app();
    app.add_option("--threads", threads, "worker threads per rank")->capture_default_str();
    app.add_option("--batch", batch, "global batch")->capture_default_str();
    app.add_option("--train-limit", limit, "images of the epoch")->capture_default_str();
    if (const int rc = cli.parse(argc, argv); rc >= 0) return rc;
    s::mpi::options after_backward;
    after_backward.overlap = false;
    return s::mpi::run(argc, argv, [&](s::mpi::communicator& world) {
        s::threads limit_threads(threads);
        const auto train = s::data::fashion_mnist({}, limit, 1).train;
        const measured overlapped = one_epoch(world, train, batch);
        s::mpi::communicator unhidden(MPI_COMM_WORLD, after_backward);
        const measured serial = one_epoch(unhidden, train, batch);
        if (world.rank() == 0) {
            const double hidden = serial.exposed_ms > 0 ? 1.0 - overlapped.exposed_ms / serial.exposed_ms : 0.0;
            std::printf("distributed_scaling: ranks %d threads %d batch %zu images %zu: img/s %.1f step_ms %.2f "
                        "average_exposed_ms %.3f average_after_backward_ms %.3f hidden %.2f img/s_no_overlap %.1f "
                        "gradient_bytes %zu\n",
                        world.size(), s::threads::active(), batch, train.size(), overlapped.images_per_second,
                        overlapped.step_ms, overlapped.exposed_ms, serial.exposed_ms, hidden, serial.images_per_second,
                        world.timing().bytes_per_step);
        }
    });
}
