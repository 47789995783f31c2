// Data-parallel training on MPI: the main example's network and rule (reference_networks.hpp,
// SNN2ANN at T = 4, Adam with a cosine schedule) over every rank of the job. Each rank runs
// this program on the whole data set and trains on its part of each global batch; rank 0
// prints and writes the checkpoint.
//   mpirun -np 2 distributed_fashion_mnist [--epochs N (6)] [--batch B (64, global)]
//          [--threads K (per rank)] [--train-limit N] [--data DIR] [--save FILE]
//          [--sync-bn] [--checkpoint FILE] [--checkpoint-every N] [--resume FILE]
//   srun -n 2 distributed_fashion_mnist ...          (under Slurm)
#include <cstdio>
#include <string>

#include <snn2ann/distributed.hpp>

#include "command_line.hpp"
#include "reference_networks.hpp"
#include "run_state.hpp"

namespace s = snn2ann;
constexpr int T = reference::timesteps;

constexpr const char* usage =
    "usage: mpirun -np R distributed_fashion_mnist [--epochs N (6)] [--batch B (64, over all ranks)]\n"
    "                  [--threads K (per rank)] [--train-limit N] [--data DIR]\n"
    "                  [--save FILE (distributed_fashion_mnist.npz)] [--sync-bn]\n"
    "  --sync-bn: batch normalisation with the statistics of the global batch\n"
    "  --checkpoint FILE: save the training state in FILE after every epoch (and every\n"
    "    --checkpoint-every N steps); --resume FILE: continue the run saved in FILE\n";

int main(int argc, char** argv) {
    int epochs = 6, threads = 0;
    std::size_t batch = 64, train_limit = 0;
    std::string dir, save = "distributed_fashion_mnist.npz";
    s::mpi::options comm;
    snn2ann_examples::run_state_flags state;
    const int rc = snn2ann_examples::read_command_line(argc, argv, "distributed_fashion_mnist", usage,
                                                       [&](snn2ann_examples::arguments& args) {
        while (args.next()) {
            if (args.is("--epochs")) epochs = args.value<int>();
            else if (args.is("--batch")) batch = args.value<std::size_t>();
            else if (args.is("--threads")) threads = args.value<int>();
            else if (args.is("--train-limit")) train_limit = args.value<std::size_t>();
            else if (args.is("--data")) dir = args.text();
            else if (args.is("--save")) save = args.text();
            else if (args.is("--sync-bn")) comm.synchronised_batch_norm = true;
            else if (!state.take(args)) args.unknown();
        }
        state.check();
    });
    if (rc >= 0) return rc;
    // Any rank's exception ends the whole job with its rank and message.
    return s::mpi::run(argc, argv, [&](s::mpi::communicator& world) {
        s::threads limit(threads);
        const bool root = world.rank() == 0;
        auto data = s::data::fashion_mnist(dir);
        data.train = data.train.head(train_limit);
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
            // Collective: every rank evaluates its part of the test set.
            const double snn = s::mpi::evaluate(world, model, data.test, 256, rule).accuracy;
            const double ann = s::mpi::evaluate(world, model, data.test, 256, rule.ann_branch()).accuracy;
            if (root)
                std::printf("epoch %3d  loss %.4f  train ANN %.2f%% SNN %.2f%%  test ANN %.2f%%  SNN %.2f%%  %.0f img/s\n",
                            r.epoch, r.loss, 100 * r.train_accuracy, 100 * r.snn_train_accuracy, 100 * ann, 100 * snn,
                            r.images_per_second);
            std::fflush(stdout);
        });
        state.fit(trainer, data.train, epochs, batch);
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
