// The main example: the reference network with spiking layers (reference_networks.hpp)
// trained by SNN2ANN at T = 4 on Fashion-MNIST, with docs/method.md's defaults: IF neurons
// with hard reset to zero, strict firing, thresholds uniform [0, 1) and 50% membrane
// dropout; ReSU mapping units; ATA. After training it prints the SNN's and the ANN's
// accuracy, spikes, synaptic operations and energy, and saves a checkpoint that
// evaluate_checkpoint loads.
//   snn2ann_fashion_mnist [--epochs N] [--stsu] [--wide] [--augment] ...   (--help: every option)
#include <algorithm>
#include <cstdio>
#include <string>

#include <snn2ann/data/augment.hpp>

#include "command_line.hpp"
#include "reference_networks.hpp"
#include "run_state.hpp"

namespace s = snn2ann;
constexpr int T = reference::timesteps;

struct options {
    int epochs = 6;
    std::size_t batch = 64, train_limit = 0;
    std::string dir, save = "snn2ann_fashion_mnist.npz";
    bool augment = false;
    s::rules::snn2ann rule;
    snn2ann_examples::run_state_flags state;
};

template <class Net>
int run(const options& o);

int main(int argc, char** argv) {
    options o;
    int threads = 0;
    bool stsu = false, no_ata = false, poisson = false, constant_threshold = false, wide = false;
    snn2ann_examples::command_line cli{"snn2ann_fashion_mnist",
                                       "Trains the reference network by SNN2ANN at T = 4 on Fashion-MNIST."};
    CLI::App& app = cli.app();
    cli.add_training_flags({.epochs = &o.epochs, .batch = &o.batch, .threads = &threads, .train_limit = &o.train_limit,
                            .fashion_mnist = &o.dir});
    app.add_option("--save", o.save, "the checkpoint written after training")->type_name("FILE")->capture_default_str();
    app.add_flag("--stsu", stsu, "STSU mapping units instead of ReSU");
    app.add_flag("--no-ata", no_ata, "thresholds stay as initialised");
    app.add_flag("--poisson", poisson, "Poisson-coded input spikes");
    app.add_flag("--constant-threshold", constant_threshold, "IF thresholds of 1.0");
    app.add_flag("--wide", wide, "64/128 channels and a 512-wide linear layer");
    app.add_flag("--augment", o.augment, "random crops (2-pixel padding) and horizontal flips");
    o.state.add_to(app);
    if (const int rc = cli.parse(argc, argv); rc >= 0) return rc;
    if (stsu) o.rule.unit = s::mapping_unit::stsu;
    if (no_ata) o.rule.threshold_adjustment.enabled = false;
    if (poisson) o.rule.input = s::encoding::poisson;
    s::threads limit(threads);
    if (wide) return run<reference::snn_wide<>>(o);
    return constant_threshold ? run<reference::snn<reference::if_threshold_1>>(o) : run<reference::snn<>>(o);
}

template <class Net>
int run(const options& o) {
    const int epochs = o.epochs;
    const std::size_t batch = o.batch;
    const s::rules::snn2ann& rule = o.rule;
    try {
        auto data = s::data::fashion_mnist(o.dir);
        data.train = data.train.head(o.train_limit);
        // The epochs are watched on 5,000 training images held out (validation); the test
        // set is evaluated once, after training.
        const auto held = s::data::split_off(data.train, std::min<std::size_t>(5000, data.train.size() / 10), 1);
        s::model<Net, s::timesteps<T>> model{s::seed{1}};
        std::printf("SNN2ANN on Fashion-MNIST: T = %d, %zu parameters, %d threads, batch %zu, %d epochs, %s%s%s\n", T,
                    model.param_count, s::threads::active(), batch, epochs,
                    rule.unit == s::mapping_unit::resu ? "ReSU" : "STSU",
                    rule.threshold_adjustment.enabled ? ", ATA" : "", o.augment ? ", crop+flip" : "");
        s::trainer trainer{model, rule, s::adam{1e-3}};
        trainer.schedule(s::cosine_lr{epochs});
        // Fashion-MNIST's pixels lie in [0, 1] with a black background: pad with 0.
        if (o.augment) trainer.augment(s::data::crop_flip{2});
        trainer.on_epoch([&](const s::epoch_report& r) {
            const double snn = s::evaluate(model, held.validation, 256, rule).accuracy;
            const double ann = s::evaluate(model, held.validation, 256, rule.ann_branch()).accuracy;
            const auto spikes = s::measure_spikes(model, held.validation.head(2000), rule);
            std::printf("epoch %3d  loss %.4f  validation ANN %.2f%%  SNN %.2f%%  spikes/image %.0f  %.0f img/s\n",
                        r.epoch, r.loss, 100 * ann, 100 * snn, spikes.spikes_per_image, r.images_per_second);
            std::fflush(stdout);
        });
        o.state.fit(trainer, held.train, epochs, batch);

        const auto acc = s::evaluate(model, data.test, 256, rule);
        const auto ann = s::evaluate(model, data.test, 256, rule.ann_branch());
        const auto sp = s::measure_spikes(model, data.test, rule);
        std::printf("\n%-22s %12s %12s\n", "", "SNN (T=4)", "ANN");
        std::printf("%-22s %11.2f%% %11.2f%%\n", "test accuracy", 100 * acc.accuracy, 100 * ann.accuracy);
        std::printf("%-22s %12.0f %12s\n", "spikes / image", sp.spikes_per_image, "-");
        std::printf("%-22s %12.3g %12.3g\n", "MACs / image", sp.macs_per_image, sp.ann_macs_per_image);
        std::printf("%-22s %12.3g %12s\n", "SOPs / image", sp.sops_per_image, "-");
        std::printf("%-22s %12.2f %12.2f\n", "energy / image (uJ)", sp.snn_energy_uj, sp.ann_energy_uj);
        for (const auto& l : sp.layers)
            std::printf("  spiking layer %2zu: %6zu neurons, %8.1f spikes/image, firing rate %.4f\n", l.index, l.neurons,
                        l.spikes_per_image, l.firing_rate);
        if (!o.save.empty()) {
            s::io::save_checkpoint(model, o.save);
            std::printf("checkpoint saved to %s (evaluate_checkpoint %s)\n", o.save.c_str(), o.save.c_str());
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
    return 0;
}
