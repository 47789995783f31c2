// The inference engine (deploy/inference.hpp) against the training model's SNN branch on
// the reference network's avg-pool variant (the one NIR can hold) at T = 4 on
// Fashion-MNIST: batch-1 latency and batched images/s of the engine's dense,
// event-driven and automatic paths and of the model, at the firing rates of a model
// trained by SNN2ANN's defaults and of models trained with a spike penalty (lower rates);
// each model's accuracy, its engine's agreement with the SNN branch, and the memory of
// both; where HDF5 is there, the runtime engine (deploy/runtime.hpp, no network type) on
// the model's NIR export, its three paths likewise. Models are trained once and kept as
// checkpoints in --cache.
//   inference_latency [--epochs 3] [--penalties 0,1e-5,5e-5,2e-4] [--threshold-scales 1,0.5,0.25] [--threads 1] ...
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <snn2ann/deploy/inference.hpp>
#ifdef SNN2ANN_BENCHMARK_NIR
#include <snn2ann/deploy/runtime.hpp>
#include <snn2ann/io/nir.hpp>
#endif

#include "../examples/command_line.hpp"
#include "../examples/reference_networks.hpp"

namespace s = snn2ann;
constexpr int T = reference::timesteps;
using net = reference::snn_avg_pool<>;
using model_t = s::model<net, s::timesteps<T>>;
using engine_t = s::inference<net, s::timesteps<T>>;

namespace {
double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}
template <class F>
double seconds(F&& f) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}
std::size_t argmax(const float* s, std::size_t n) { return static_cast<std::size_t>(std::max_element(s, s + n) - s); }
}  // namespace

int main(int argc, char** argv) {
    int epochs = 3, threads = 1, rounds = 5;
    std::size_t latency_images = 300, batch = 256, train_limit = 0;
    std::string dir, cache = "inference_latency", penalties_text = "0,1e-5,5e-5,2e-4";
    snn2ann_examples::command_line cli{"inference_latency",
                                       "The inference engine's dense and event-driven paths against the training model's "
                                       "SNN branch: latency, throughput, agreement and memory."};
    cli.add_training_flags({.epochs = &epochs, .threads = &threads, .train_limit = &train_limit, .fashion_mnist = &dir});
    cli.app().add_option("--penalties", penalties_text, "spike penalties of the models trained (comma-separated)")
        ->capture_default_str();
    cli.app().add_option("--cache", cache, "where the trained models are kept")->type_name("DIR")->capture_default_str();
    cli.app().add_option("--rounds", rounds, "timing rounds (the median is reported)")->capture_default_str();
    cli.app().add_option("--latency-images", latency_images, "images classified one at a time per round")
        ->capture_default_str();
    cli.app().add_option("--batch", batch, "samples per batched call")->capture_default_str();
    std::string scales_text;
    cli.app().add_option("--threshold-scales", scales_text,
                         "after the table: the first model's engine with every threshold scaled by these factors "
                         "(comma-separated, e.g. 1,0.5,0.25), which raises the firing rates, dense against event-driven: "
                         "where the two paths cross");
    if (const int rc = cli.parse(argc, argv); rc >= 0) return rc;
    try {
        const auto numbers = [](const std::string& text) {
            std::vector<float> v;
            for (std::size_t at = 0; at < text.size();) {
                const std::size_t end = std::min(text.find(',', at), text.size());
                v.push_back(std::stof(text.substr(at, end - at)));
                at = end + 1;
            }
            return v;
        };
        const std::vector<float> penalties = numbers(penalties_text), scales = numbers(scales_text);
        s::deploy::graph first_graph;
        const auto data = s::data::fashion_mnist(dir);
        std::filesystem::create_directories(cache);
        std::printf("# inference_latency: reference avg-pool network, T = %d, %d threads, %d epochs, batch-1 latency over "
                    "%zu images, batched calls of %zu, median of %d rounds\n",
                    T, threads, epochs, latency_images, batch, rounds);
        std::printf("| spike penalty | test accuracy | input firing rate (conv4, affine9) | path | batch-1 latency (us) | "
                    "images/s (batch %zu) | predictions equal to the SNN branch |\n|---|---|---|---|---|---|---|\n", batch);
        for (const float penalty : penalties) {
            char name[64];
            std::snprintf(name, sizeof name, "avg_pool_penalty_%g_e%d.npz", static_cast<double>(penalty), epochs);
            const std::string checkpoint = (std::filesystem::path(cache) / name).string();
            s::rules::snn2ann rule;
            rule.spike_penalty = penalty;
            model_t model{s::seed{1}};
            if (std::filesystem::exists(checkpoint)) {
                s::io::load_checkpoint(model, checkpoint);
            } else {
                s::threads all(0);
                s::trainer trainer{model, rule, s::adam{1e-3}};
                trainer.schedule(s::cosine_lr{epochs});
                trainer.fit(data.train.head(train_limit), s::epochs{epochs}, s::batch{64});
                s::io::save_checkpoint(model, checkpoint);
            }
            s::threads limit(threads);
            const auto& test = data.test;
            const std::size_t n = test.size(), classes = 10;
            // The SNN branch's predictions on the whole test set, and its accuracy.
            std::vector<std::size_t> reference_class(n);
            {
                const float* y = model.snn(rule).forward(test.images.data(), n);
                for (std::size_t i = 0; i < n; ++i) reference_class[i] = argmax(y + i * classes, classes);
            }
            std::size_t correct = 0;
            for (std::size_t i = 0; i < n; ++i) correct += reference_class[i] == static_cast<std::size_t>(test.labels[i]);
            // Memory: the training model (a model after a training step at batch 64, without
            // Adam's moments) against the engine.
            std::size_t training_bytes = 0;
            constexpr std::size_t model_bytes_of_params = model_t::param_count * sizeof(float);
            const auto fresh_copy = [&] {
                model_t m{s::seed{1}};
                std::copy(model.parameters().begin(), model.parameters().end(), m.parameters().begin());
                std::copy(model.state().begin(), model.state().end(), m.state().begin());
                return m;
            };
            {
                const std::size_t before = s::workspace_stats().bytes;
                model_t trained = fresh_copy();
                s::trainer step{trained, rule, s::adam{1e-3}};
                step.fit(data.train.head(64), s::epochs{1}, s::batch{64});
                // Adam's two moments (one float per parameter each) belong to the optimizer, not the model.
                training_bytes = s::workspace_stats().bytes - before - 2 * model_bytes_of_params;
            }
            std::size_t inference_model_bytes = 0;
            {
                const std::size_t before = s::workspace_stats().bytes;
                model_t inferring = fresh_copy();
                inferring.snn(rule).forward(test.images.data(), 1);
                inference_model_bytes = s::workspace_stats().bytes - before;
            }
            if (first_graph.nodes.empty()) first_graph = s::deploy::graph_of(model);
            engine_t engine{model};
            engine.set_path(s::deploy::path::dense);
            engine.predict(test.images.data(), n);
            const auto rates = engine.activity();
            struct row {
                const char* name;
                std::vector<double> latency, throughput;
                std::size_t equal = 0;
            };
            std::vector<row> rows{{"training model (SNN branch)", {}, {}, 0}, {"engine, dense", {}, {}, 0},
                                  {"engine, event-driven", {}, {}, 0}, {"engine, automatic", {}, {}, 0}};
            const s::deploy::path paths[] = {s::deploy::path::dense, s::deploy::path::event_driven, s::deploy::path::automatic};
            for (std::size_t p = 0; p < 3; ++p) {
                engine.set_path(paths[p]);
                const float* y = engine.predict(test.images.data(), n);
                for (std::size_t i = 0; i < n; ++i) rows[p + 1].equal += argmax(y + i * classes, classes) == reference_class[i];
            }
#ifdef SNN2ANN_BENCHMARK_NIR
            // The runtime engine on the NIR export: frames are its input (the image at each of
            // the T steps), its scores the sum of the Output's steps.
            const std::string nir_file = (std::filesystem::path(cache) / (std::string(name) + ".nir")).string();
            s::io::save_nir(model, nir_file);
            const s::deploy::nir_graph nir = s::io::read_nir_graph(nir_file);
            std::vector<s::deploy::runtime> runtimes;
            for (const s::deploy::path p : paths) {
                s::deploy::runtime_options options;
                options.path = p;
                runtimes.emplace_back(nir, options);
            }
            const std::size_t pixels = test.images.size() / n;
            const auto frames_of = [&](std::size_t first, std::size_t count) {  // steps x count x pixels
                std::vector<float> f;
                for (int t = 0; t < T; ++t) f.insert(f.end(), test.image(first), test.image(first) + count * pixels);
                return f;
            };
            const auto runtime_classes = [&](const s::deploy::runtime& engine, std::size_t first, std::size_t count) {
                const std::vector<float> f = frames_of(first, count);
                const auto result = engine.run(f.data(), T, count);
                std::vector<std::size_t> classes_of(count);
                for (std::size_t i = 0; i < count; ++i) {
                    std::vector<float> sum(classes, 0.0f);
                    for (int t = 0; t < T; ++t)
                        for (std::size_t c = 0; c < classes; ++c) sum[c] += result.output[(static_cast<std::size_t>(t) * count + i) * classes + c];
                    classes_of[i] = argmax(sum.data(), classes);
                }
                return classes_of;
            };
            const char* runtime_names[] = {"runtime engine (NIR file), dense", "runtime engine (NIR file), event-driven",
                                           "runtime engine (NIR file), automatic"};
            for (std::size_t p = 0; p < 3; ++p) {
                rows.push_back({runtime_names[p], {}, {}, 0});
                for (std::size_t first = 0; first < n; first += 1000) {
                    const std::size_t count = std::min<std::size_t>(1000, n - first);
                    const auto got = runtime_classes(runtimes[p], first, count);
                    for (std::size_t i = 0; i < count; ++i) rows.back().equal += got[i] == reference_class[first + i];
                }
            }
            std::vector<std::vector<float>> single;
            for (std::size_t i = 0; i < latency_images; ++i) single.push_back(frames_of(i, 1));
            const std::vector<float> batched = frames_of(0, batch);
#endif
            for (int r = 0; r < rounds; ++r) {
                // Interleaved: every path in every round, on the same images.
                rows[0].latency.push_back(seconds([&] {
                    for (std::size_t i = 0; i < latency_images; ++i) model.snn(rule).forward(test.image(i), 1);
                }) / static_cast<double>(latency_images));
                rows[0].throughput.push_back(static_cast<double>(batch) /
                                             seconds([&] { model.snn(rule).forward(test.images.data(), batch); }));
                for (std::size_t p = 0; p < 3; ++p) {
                    engine.set_path(paths[p]);
                    rows[p + 1].latency.push_back(seconds([&] {
                        for (std::size_t i = 0; i < latency_images; ++i) engine.predict(test.image(i), 1);
                    }) / static_cast<double>(latency_images));
                    rows[p + 1].throughput.push_back(static_cast<double>(batch) /
                                                     seconds([&] { engine.predict(test.images.data(), batch); }));
                }
#ifdef SNN2ANN_BENCHMARK_NIR
                for (std::size_t p = 0; p < 3; ++p) {
                    rows[p + 4].latency.push_back(seconds([&] {
                        for (const auto& f : single) (void)runtimes[p].run(f.data(), T, 1);
                    }) / static_cast<double>(latency_images));
                    rows[p + 4].throughput.push_back(static_cast<double>(batch) /
                                                     seconds([&] { (void)runtimes[p].run(batched.data(), T, batch); }));
                }
#endif
            }
            for (const row& r : rows) {
                const std::string equal = &r == &rows[0] ? "(the reference)" : std::to_string(r.equal) + " of " + std::to_string(n);
                std::printf("| %g | %.2f%% | %.3f, %.3f | %s | %.0f | %.0f | %s |\n", static_cast<double>(penalty),
                            100.0 * static_cast<double>(correct) / static_cast<double>(n), rates[0].input_rate,
                            rates[1].input_rate, r.name, 1e6 * median(r.latency), median(r.throughput), equal.c_str());
            }
            std::printf("memory (penalty %g): engine %.2f MiB; training model %.2f MiB (after a training step at batch 64, "
                        "Adam's moments not counted), %.2f MiB running the SNN branch at batch 1; engine / training model %.3f\n",
                        static_cast<double>(penalty), static_cast<double>(engine.memory_bytes()) / (1 << 20),
                        static_cast<double>(training_bytes) / (1 << 20), static_cast<double>(inference_model_bytes) / (1 << 20),
                        static_cast<double>(engine.memory_bytes()) / static_cast<double>(training_bytes));
            std::fflush(stdout);
        }
        if (!scales.empty()) {
            // The crossover: the first model with its thresholds scaled down fires more.
            s::threads limit(threads);
            const auto& test = data.test;
            std::printf("\n| threshold scale | input firing rates (conv4, affine9) | dense batch-1 latency (us) | "
                        "event-driven (us) | event-driven / dense |\n|---|---|---|---|---|\n");
            for (const float scale : scales) {
                s::deploy::graph g = first_graph;
                for (auto& n : g.nodes)
                    for (float& v : n.threshold) v *= scale;
                engine_t engine{g};
                engine.set_path(s::deploy::path::dense);
                engine.predict(test.images.data(), 1000);
                const auto rates = engine.activity();
                std::vector<double> dense, events;
                for (int r = 0; r < rounds; ++r)
                    for (int p = 0; p < 2; ++p) {
                        engine.set_path(p == 0 ? s::deploy::path::dense : s::deploy::path::event_driven);
                        (p == 0 ? dense : events).push_back(seconds([&] {
                            for (std::size_t i = 0; i < latency_images; ++i) engine.predict(test.image(i), 1);
                        }) / static_cast<double>(latency_images));
                    }
                std::printf("| %g | %.3f, %.3f | %.0f | %.0f | %.2f |\n", static_cast<double>(scale), rates[0].input_rate,
                            rates[1].input_rate, 1e6 * median(dense), 1e6 * median(events), median(events) / median(dense));
            }
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
    return 0;
}
