// Data-parallel training on MPI: the main example's network and rule (reference_networks.hpp,
// SNN2ANN at T = 4, Adam with a cosine schedule) over every rank of the job. Each rank runs
// this program on the whole data set and trains on its part of each global batch; rank 0
// prints and writes the checkpoint.
//   mpirun -np 2 distributed_fashion_mnist [--epochs N (6)] [--batch B (64, global)]
//          [--threads K (per rank)] [--train-limit N] [--data DIR] [--save FILE]
//          [--sync-bn] [--checkpoint FILE] [--checkpoint-every N] [--resume FILE]
//   srun -n 2 distributed_fashion_mnist ...          (under Slurm)
#include <algorithm>
#include <cstdio>
#include <string>

#include <snn2ann/distributed.hpp>

#include "command_line.hpp"
#include "reference_networks.hpp"
#include "run_state.hpp"

namespace s = snn2ann;
constexpr int T = reference::timesteps;

int main(int argc, char** argv) {
    int epochs = 6, threads = 0;
    std::size_t batch = 64, train_limit = 0;
    std::string dir, save = "distributed_fashion_mnist.npz";
    s::mpi::options comm;
    snn2ann_examples::run_state_flags state;
    snn2ann_examples::command_line cli{"distributed_fashion_mnist",
                                       "Trains the reference network by SNN2ANN over the ranks of an MPI job "
                                       "(mpiexec -n N distributed_fashion_mnist)."};
    CLI::App& app = cli.app();
    cli.add_training_flags({.epochs = &epochs, .train_limit = &train_limit, .fashion_mnist = &dir});
    app.add_option("--batch", batch, "samples per step over all ranks (the global batch)")->capture_default_str();
    app.add_option("--threads", threads, "worker threads per rank (0: all cores)")->capture_default_str();
    app.add_option("--save", save, "the checkpoint rank 0 writes after training")->type_name("FILE")->capture_default_str();
    app.add_flag("--sync-bn", comm.synchronised_batch_norm, "batch normalisation with the statistics of the global batch");
    state.add_to(app);
    if (const int rc = cli.parse(argc, argv); rc >= 0) return rc;
    // Any rank's exception ends the whole job with its rank and message.
    return s::mpi::run(argc, argv, [&](s::mpi::communicator& world) {
        s::threads limit(threads);
        const bool root = world.rank() == 0;
        auto data = s::data::fashion_mnist(dir);
        data.train = data.train.head(train_limit);
        // Every rank splits off the same 5,000 validation images (a seeded draw).
        const auto held = s::data::split_off(data.train, std::min<std::size_t>(5000, data.train.size() / 10), 1);
        s::model<reference::snn<>, s::timesteps<T>> model{s::seed{1}};  // the same seed on every rank
        const s::rules::snn2ann rule;
        if (root)
            std::printf("SNN2ANN on Fashion-MNIST over %d ranks x %d threads: T = %d, %zu parameters, global batch %zu "
                        "(%zu per rank), %d epochs%s\n",
                        world.size(), s::threads::active(), T, model.param_count, batch,
                        batch / static_cast<std::size_t>(world.size()), epochs,
                        comm.synchronised_batch_norm ? ", synchronised BN" : "");
        s::trainer trainer{model, rule, s::adam{1e-3}};
        trainer.schedule(s::cosine_lr{epochs});
        trainer.distribute(world);
        trainer.on_epoch([&](const s::epoch_report& r) {
            // Collective: every rank evaluates its part of the validation set.
            const double snn = s::mpi::evaluate(world, model, held.validation, 256, rule).accuracy;
            const double ann = s::mpi::evaluate(world, model, held.validation, 256, rule.ann_branch()).accuracy;
            if (root)
                std::printf("epoch %3d  loss %.4f  train ANN %.2f%% SNN %.2f%%  validation ANN %.2f%%  SNN %.2f%%  %.0f img/s\n",
                            r.epoch, r.loss, 100 * r.train_accuracy, 100 * r.snn_train_accuracy, 100 * ann, 100 * snn,
                            r.images_per_second);
            std::fflush(stdout);
        });
        state.fit(trainer, held.train, epochs, batch);
        const auto acc = s::mpi::evaluate(world, model, data.test, 256, rule);
        const auto ann = s::mpi::evaluate(world, model, data.test, 256, rule.ann_branch());
        const auto spikes = s::mpi::measure_spikes(world, model, data.test, 256, rule);
        const s::mpi::gradient_timing g = world.timing();
        if (root) {
            std::printf("\ntest accuracy: SNN (T=%d) %.2f%%, ANN %.2f%%; %.0f spikes/image, %.3g SOPs/image\n", T,
                        100 * acc.accuracy, 100 * ann.accuracy, spikes.spikes_per_image, spikes.sops_per_image);
            if (g.steps)
                std::printf("gradient average: %zu bytes a step, %.3f ms a step after backward\n", g.bytes_per_step,
                            1e3 * g.exposed_seconds / static_cast<double>(g.steps));
        }
        if (save.empty()) return;
        trainer.save_model(save);  // rank 0 writes
        if (root) std::printf("checkpoint saved to %s\n", save.c_str());
    }, comm);
}
