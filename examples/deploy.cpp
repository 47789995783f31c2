// A trained network leaves the library: the demo's checkpoint (snn2ann_fashion_mnist) is
// offered to NIR export, which refuses its max pooling of currents with a sentence; the
// avg-pool variant (trained here once if its checkpoint is missing) is exported to NIR,
// the file's size and nodes are printed, and the inference engine built from the NIR file
// classifies the Fashion-MNIST test set: accuracy, batch-1 latency per image on each path,
// and the memory of the engine against the training model's.
//   deploy [--nir FILE] [--checkpoint FILE] [--demo-checkpoint FILE] [--epochs N] ...   (--help)
// With --nir FILE of a graph of the avg-pool variant's shape (written here or by another
// tool), it only loads and classifies.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <snn2ann/deploy/inference.hpp>
#include <snn2ann/io/nir.hpp>

#include "command_line.hpp"
#include "reference_networks.hpp"

namespace s = snn2ann;
constexpr int T = reference::timesteps;
using net = reference::snn_avg_pool<>;
using engine_t = s::inference<net, s::timesteps<T>>;

namespace {
std::size_t parameters_of(const s::deploy::node& n) { return n.weight.size() + n.bias.size() + n.threshold.size(); }
double mib(std::size_t bytes) { return static_cast<double>(bytes) / (1024.0 * 1024.0); }
}  // namespace

int main(int argc, char** argv) {
    std::string dir, nir_in, checkpoint = "snn2ann_fashion_mnist_avg_pool.npz", demo = "snn2ann_fashion_mnist.npz",
                     nir_out = "fashion_mnist.nir";
    int epochs = 3, threads = 0;
    std::size_t latency_images = 500;
    snn2ann_examples::command_line cli{"deploy",
                                       "Exports the reference network to NIR and classifies Fashion-MNIST with the "
                                       "inference engine built from the file."};
    cli.add_training_flags({.epochs = &epochs, .threads = &threads, .fashion_mnist = &dir});
    cli.app().add_option("--nir", nir_in, "classify with this NIR file only (no export)")->type_name("FILE");
    cli.app().add_option("--checkpoint", checkpoint, "the avg-pool variant's checkpoint (trained and written if missing)")
        ->type_name("FILE")->capture_default_str();
    cli.app().add_option("--demo-checkpoint", demo, "the demo's checkpoint, offered to NIR export")->type_name("FILE")
        ->capture_default_str();
    cli.app().add_option("--export", nir_out, "the NIR file written")->type_name("FILE")->capture_default_str();
    cli.app().add_option("--latency-images", latency_images, "test images classified one at a time for the latency")
        ->capture_default_str();
    if (const int rc = cli.parse(argc, argv); rc >= 0) return rc;
    try {
        s::threads limit(threads);
        const auto data = s::data::fashion_mnist(dir);
        std::size_t training_bytes = 0;
        if (nir_in.empty()) {
            // The demo network pools its currents by their maximum, which NIR cannot say (the
            // refusal does not depend on the weights: without its checkpoint, an untrained one).
            {
                s::model<reference::snn<>, s::timesteps<T>> m;
                const bool trained = std::filesystem::exists(demo);
                if (trained) s::io::load_checkpoint(m, demo);
                try {
                    s::io::save_nir(m, nir_out);
                } catch (const s::invalid_argument& e) {
                    std::printf("the demo network (%s) is not exported:\n  %s\n", trained ? demo.c_str() : "untrained",
                                e.what());
                }
            }
            s::model<net, s::timesteps<T>> model{s::seed{1}};
            const s::rules::snn2ann rule;
            if (std::filesystem::exists(checkpoint)) {
                s::io::load_checkpoint(model, checkpoint);
                std::printf("the avg-pool variant: %s\n", checkpoint.c_str());
            } else {
                std::printf("the avg-pool variant: training %d epochs (then kept in %s)\n", epochs, checkpoint.c_str());
                s::trainer trainer{model, rule, s::adam{1e-3}};
                trainer.schedule(s::cosine_lr{epochs});
                trainer.fit(data.train, s::epochs{epochs}, s::batch{64});
                s::io::save_checkpoint(model, checkpoint);
            }
            {
                // The training model's memory: a copy of it after a training step at batch 64
                // (the optimizer's moments not counted).
                const std::size_t before = s::workspace_stats().bytes;
                constexpr std::size_t model_bytes_of_params = decltype(model)::param_count * sizeof(float);
                s::model<net, s::timesteps<T>> copy{s::seed{1}};
                std::copy(model.parameters().begin(), model.parameters().end(), copy.parameters().begin());
                std::copy(model.state().begin(), model.state().end(), copy.state().begin());
                s::trainer step{copy, rule, s::adam{1e-3}};
                step.fit(data.train.head(64), s::epochs{1}, s::batch{64});
                // Adam's two moments (one float per parameter each) belong to the optimizer, not the model.
                training_bytes = s::workspace_stats().bytes - before - 2 * model_bytes_of_params;
            }
            s::io::save_nir(model, nir_out);
            nir_in = nir_out;
            std::printf("exported %s: %.1f KiB\n", nir_out.c_str(),
                        static_cast<double>(std::filesystem::file_size(nir_out)) / 1024.0);
        }
        const s::deploy::graph g = s::io::read_nir(nir_in);
        std::printf("%s: %zu nodes\n", nir_in.c_str(), g.nodes.size());
        for (const auto& n : g.nodes)
            std::printf("  %-10s %-9s %-10s -> %-10s %8zu values\n", n.name.c_str(), s::deploy::kind_name(n.kind),
                        s::detail::shape_text(n.in).c_str(), s::detail::shape_text(n.out).c_str(), parameters_of(n));
        engine_t engine{g};
        const auto& test = data.test;
        std::printf("\n%-14s %14s %22s %16s\n", "path", "test accuracy", "batch-1 latency (us)", "event-driven steps");
        for (const auto p : {s::deploy::path::dense, s::deploy::path::event_driven, s::deploy::path::automatic}) {
            engine.set_path(p);
            const float* y = engine.predict(test.images.data(), test.size());
            std::size_t correct = 0;
            for (std::size_t i = 0; i < test.size(); ++i)
                correct += static_cast<std::int32_t>(std::max_element(y + i * 10, y + i * 10 + 10) - (y + i * 10)) == test.labels[i];
            double events = 0;
            for (const auto& a : engine.activity()) events += a.event_steps / static_cast<double>(engine.activity().size());
            const std::size_t n = std::min(latency_images, test.size());
            const auto t0 = std::chrono::steady_clock::now();
            for (std::size_t i = 0; i < n; ++i) engine.classify(test.image(i));
            const double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() /
                              static_cast<double>(n);
            const char* name = p == s::deploy::path::dense ? "dense" : p == s::deploy::path::event_driven ? "event-driven" : "automatic";
            std::printf("%-14s %13.2f%% %22.0f %15.0f%%\n", name, 100.0 * static_cast<double>(correct) / static_cast<double>(test.size()),
                        us, 100 * events);
        }
        for (const auto& a : engine.activity())
            std::printf("input firing rate of %s: %.3f\n", a.node.c_str(), a.input_rate);
        std::printf("\nengine memory: %.2f MiB (weights, thresholds, one layer's working memory", mib(engine.memory_bytes()));
        if (training_bytes) std::printf("); the training model's: %.2f MiB\n", mib(training_bytes));
        else std::printf(")\n");
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
    return 0;
}
