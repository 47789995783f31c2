// IF, LIF and PLIF neurons under spike-based BPTT on the reference network (Fashion-MNIST),
// one after the other in one process, with the same seed, data, batch, epochs and
// schedule: each neuron with reset by subtraction, strict firing, thresholds 1.0, no
// membrane dropout (as compare_rules runs BPTT), LIF and PLIF starting at tau = 2; the
// sigmoid surrogate (alpha 4) with a detached reset; Adam 1e-3 with a cosine decay.
// Prints each epoch's test accuracy, then the table: final accuracy, seconds per epoch,
// spikes per image and, for PLIF, the trained time constant of each spiking layer.
//   neuron_comparison (T = 4) [--epochs n (5)] [--batch n (64)] [--threads n (2)] [--train-limit n] [--data DIR]
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "../examples/command_line.hpp"
#include "../examples/reference_networks.hpp"

namespace s = snn2ann;

namespace {
constexpr int T = 4;
using threshold_1 = s::constant_threshold<1>;
using if_n = s::if_neuron<s::reset::by_subtraction, s::firing::strict, threshold_1, 0>;
using lif_n = s::lif_neuron<2, s::reset::by_subtraction, s::firing::strict, threshold_1, 0>;
using plif_n = s::plif_neuron<2, s::reset::by_subtraction, s::firing::strict, threshold_1, 0>;

struct row {
    std::string name;
    double accuracy = 0, seconds = 0, spikes = 0;
    std::vector<double> taus;
};

template <class Neuron>
row run(const char* name, const s::data::split& data, int epochs, std::size_t batch) {
    s::model<reference::snn<Neuron>, s::timesteps<T>> model{s::seed{1}};
    const s::rules::bptt rule{s::surrogate::sigmoid(4.0f), true};
    s::trainer trainer{model, rule, s::adam{1e-3}};
    trainer.quiet().schedule(s::cosine_lr{epochs});
    row r;
    r.name = name;
    trainer.on_epoch([&](const s::epoch_report& e) {
        const double acc = s::evaluate(model, data.test, 256, rule).accuracy;
        std::printf("%s epoch %d: loss %.4f test %.2f%% %.1f s\n", name, e.epoch, e.loss, 100 * acc, e.seconds);
        std::fflush(stdout);
        r.seconds += e.seconds / epochs;
    });
    trainer.fit(data.train, s::epochs{epochs}, s::batch{batch});
    r.accuracy = s::evaluate(model, data.test, 256, rule).accuracy;
    r.spikes = s::measure_spikes(model, data.test, 256, rule).spikes_per_image;
    model.layers().for_each_layer_deep([&](auto& l, const s::detail::layer_position& at) {
        using layer = std::remove_cvref_t<decltype(l)>;
        if constexpr (s::detail::spiking_layer<layer>)
            if constexpr (layer::trains_tau) r.taus.push_back(1.0 + std::exp(-model.parameters()[at.param_offset + 1]));
    });
    return r;
}
}  // namespace

int main(int argc, char** argv) {
    int epochs = 5, threads = 2;
    std::size_t batch = 64, limit = 0;
    std::string dir;
    snn2ann_examples::command_line cli{"neuron_comparison",
                                       "The reference network trained by BPTT with IF, LIF and PLIF neurons, one table."};
    cli.add_training_flags({.epochs = &epochs, .batch = &batch, .threads = &threads, .train_limit = &limit,
                            .fashion_mnist = &dir});
    if (const int rc = cli.parse(argc, argv); rc >= 0) return rc;
    try {
        s::threads limit_threads(threads);
        const auto data = s::data::fashion_mnist(dir, limit);
        const std::vector<row> rows{run<if_n>("IF", data, epochs, batch), run<lif_n>("LIF tau 2", data, epochs, batch),
                                    run<plif_n>("PLIF from tau 2", data, epochs, batch)};
        std::printf("\n| neuron (BPTT, T = %d, %d epochs) | test accuracy | s / epoch | spikes / image | trained tau |\n",
                    T, epochs);
        std::printf("|---|---|---|---|---|\n");
        for (const row& r : rows) {
            std::string taus = "-";
            if (!r.taus.empty()) {
                taus.clear();
                for (double t : r.taus) taus += (taus.empty() ? "" : ", ") + std::to_string(t).substr(0, 4);
            }
            std::printf("| %s | %.2f%% | %.1f | %.0f | %s |\n", r.name.c_str(), 100 * r.accuracy, r.seconds, r.spikes,
                        taus.c_str());
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "neuron_comparison: %s\n", e.what());
        return 1;
    }
    return 0;
}
