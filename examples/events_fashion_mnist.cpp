// Event-camera data end to end: Fashion-MNIST emulated as N-MNIST-style recordings (three
// saccades of a 34 x 34 sensor, written once as N-MNIST files), read with the N-MNIST
// reader, integrated into T frames of two polarity channels (cached), and the reference
// network trained on them by SNN2ANN (T = 5) or BPTT (T = 8).
//   events_fashion_mnist [--rule snn2ann|bptt] [--epochs N] ...   (--help: every option)
#include <cstdio>
#include <map>
#include <string>

#include "command_line.hpp"
#include "event_data.hpp"
#include "reference_networks.hpp"

namespace s = snn2ann;

namespace {
using bptt_neuron = s::if_neuron<s::reset::by_subtraction, s::firing::inclusive, s::constant_threshold<1>, 0>;

template <class Model, class Rule>
int train(const s::data::split& d, Rule rule, int epochs, std::size_t batch, const char* name) {
    Model model{s::seed{1}};
    std::printf("%s on event Fashion-MNIST: T = %d, %zu training and %zu test samples, batch %zu, %d epochs\n", name,
                Model::T, d.train.size(), d.test.size(), batch, epochs);
    // Validation on a tenth of the training recordings held out; the test set once, at the end.
    const auto held = s::data::split_off(d.train, d.train.size() / 10, 1);
    s::trainer trainer{model, rule, s::adam{1e-3}};
    trainer.schedule(s::cosine_lr{epochs}).validate_on(held.validation);
    trainer.fit(held.train, s::epochs{epochs}, s::batch{batch});
    const auto spikes = s::measure_spikes(model, d.test, batch, rule);
    std::printf("%s: test accuracy %.2f%%, %.0f spikes per sample\n", name,
                100 * s::evaluate(model, d.test, batch, rule).accuracy, spikes.spikes_per_image);
    return 0;
}
}  // namespace

int main(int argc, char** argv) {
    snn2ann_examples::event_data_options data;
    std::string rule = "snn2ann";
    int epochs = 5, threads = 0;
    std::size_t batch = 64;
    snn2ann_examples::command_line cli{"events_fashion_mnist",
                                       "Emulates event Fashion-MNIST (once), integrates it into frames (cached) and "
                                       "trains the reference network on them."};
    CLI::App& app = cli.app();
    app.add_option("--rule", rule, "SNN2ANN at T = 5 or BPTT at T = 8 (frames = time steps)")
        ->check(CLI::IsMember({"snn2ann", "bptt"}))->capture_default_str();
    cli.add_training_flags({.epochs = &epochs, .batch = &batch, .threads = &threads, .fashion_mnist = &data.fashion_mnist});
    app.add_option("--events", data.dir, "the emulated recordings and the frame cache")->type_name("DIR")->capture_default_str();
    app.add_option("--train-limit", data.train_limit, "emulate the first N training images (0: all)")->capture_default_str();
    app.add_option("--test-limit", data.test_limit, "emulate the first N test images (0: all)")->capture_default_str();
    // CLI11 maps each name to its binning (data::frame_split).
    const std::map<std::string, s::data::frame_split> splits{{"time", s::data::frame_split::by_time},
                                                             {"count", s::data::frame_split::by_count},
                                                             {"tonic-time", s::data::frame_split::tonic_time_bins},
                                                             {"tonic-count", s::data::frame_split::tonic_event_bins}};
    app.add_option("--split", data.split,
                   "integration: SpikingJelly's equal durations (time) or event counts (count), or tonic's "
                   "(tonic-time, tonic-count: the remainder dropped)")
        ->transform(CLI::CheckedTransformer(splits))->default_str("time");
    app.add_option("--contrast", data.emulation.contrast, "the emulator's log-intensity threshold")->capture_default_str();
    app.add_option("--noise-hz", data.emulation.noise_hz, "background events per pixel and second")->capture_default_str();
    if (const int rc = cli.parse(argc, argv); rc >= 0) return rc;
    const int T = rule == "bptt" ? 8 : 5;
    try {
        s::threads limit(threads);
        const auto d = snn2ann_examples::event_frames(data, T);
        using reference::snn_events;
        if (rule == "snn2ann")
            return train<s::model<snn_events<>, s::timesteps<5>>>(d, s::rules::snn2ann{}, epochs, batch, "SNN2ANN");
        const s::rules::bptt bptt{s::surrogate::sigmoid(4.0f), true};
        return train<s::model<snn_events<bptt_neuron>, s::timesteps<8>>>(d, bptt, epochs, batch, "BPTT");
    } catch (const std::exception& e) {
        std::fprintf(stderr, "events_fashion_mnist: %s\n", e.what());
        return 1;
    }
}
