// Seconds per training step and the library's workspace high-water mark of the zoo
// networks on CIFAR-shaped random data: SNN2ANN (VGG-13 at T = 4, ResNet-17 at T = 5)
// against BPTT at T = 8, in one run (median of --repeat steps after one warm-up step).
//   zoo_step [--batch 16] [--repeat 3] [--threads 2]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <snn2ann/snn2ann.hpp>
#include <snn2ann/zoo/resnet17.hpp>
#include <snn2ann/zoo/vgg13.hpp>

#include "../examples/command_line.hpp"
#include "random_batch.hpp"

namespace s = snn2ann;

template <class Net, int T, class Rule>
void measure(const char* name, std::size_t batch, int repeat) {
    s::reset_workspace_peak();
    {
        s::model<Net, s::timesteps<T>> m{s::seed{1}};
        const snn2ann_bench::random_batch data(batch, Net::input_shape.size());
        const float* x = data.x.data();
        const std::int32_t* y = data.y.data();
        Rule rule;
        s::adam opt{1e-3};
        std::vector<double> seconds;
        for (int r = 0; r <= repeat; ++r) {
            const auto t0 = std::chrono::steady_clock::now();
            rule.train_step(m, x, y, batch, static_cast<std::uint64_t>(r));
            opt.step(m.parameters(), m.gradients());
            if (r > 0) seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        }
        std::sort(seconds.begin(), seconds.end());
        std::printf("%-28s T=%d batch %zu: %.3f s/step, workspace peak %.0f MiB\n", name, T, batch,
                    seconds[seconds.size() / 2],
                    static_cast<double>(s::workspace_stats().peak_bytes) / (1024.0 * 1024.0));
        std::fflush(stdout);
    }
}

int main(int argc, char** argv) {
    std::size_t batch = 16;
    int repeat = 3, threads = 2;
    snn2ann_examples::command_line cli{"zoo_step", "Time and memory of one training step of the zoo's networks."};
    CLI::App& app = cli.app();
    app.add_option("--batch", batch, "samples per step")->capture_default_str();
    app.add_option("--repeat", repeat, "steps measured")->capture_default_str();
    app.add_option("--threads", threads, "worker threads")->capture_default_str();
    if (const int rc = cli.parse(argc, argv); rc >= 0) return rc;
    s::threads limit(threads);
    using bptt_neuron = s::if_neuron<s::reset::by_subtraction, s::firing::inclusive, s::constant_threshold<1>, 0>;
    measure<s::zoo::vgg13<10>, 4, s::rules::snn2ann>("VGG-13 SNN2ANN", batch, repeat);
    measure<s::zoo::vgg13<10, s::input<3, 32, 32>, bptt_neuron>, 8, s::rules::bptt>("VGG-13 BPTT", batch, repeat);
    measure<s::zoo::resnet17<10>, 5, s::rules::snn2ann>("ResNet-17 SNN2ANN", batch, repeat);
    measure<s::zoo::resnet17<10, s::input<3, 32, 32>, bptt_neuron>, 8, s::rules::bptt>("ResNet-17 BPTT", batch, repeat);
}
