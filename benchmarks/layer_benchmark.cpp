// The field's layer benchmark (Open Neuromorphic's "SNN library benchmarks"): one
// Linear(n, n) and one LIF layer, batch 16, T = 500 steps of random input uniform in
// [0, 1), the time of a forward plus a backward of the output's sum, and the memory it
// takes. benchmarks/layer_benchmark.sh runs it beside the same layer in PyTorch
// (layer_benchmark_torch.py: as snnTorch writes it and as SpikingJelly's multi-step torch
// backend runs it), alternated, and prints the table.
//   layer_benchmark --n 256|1024|4096 [--rule bptt|snn2ann] [--repeat 3] [--threads 2]
// bptt: spike-based BPTT through the 500 steps (the benchmark itself). snn2ann: what the
// same layer costs under SNN2ANN, the SNN branch's 500 steps without a graph, then the
// ANN branch's forward and backward of the output's sum.
// The neuron, the same arithmetic in the PyTorch script: V = 0.5 U + I (tau 2), spike
// where V > 1, reset by subtraction detached from the graph (snnTorch's default), the
// sigmoid surrogate with alpha 4. Prints the median seconds of --repeat passes after one
// warm-up, the firing rate, the peak RSS and the RSS the passes added to the process's
// (its peak less what it held before the first pass, input included).
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <snn2ann/snn2ann.hpp>

#include "../examples/command_line.hpp"

namespace s = snn2ann;

namespace {
constexpr int T = 500;
constexpr std::size_t batch = 16;
using lif = s::lif_neuron<2, s::reset::by_subtraction, s::firing::strict, s::constant_threshold<1>, 0>;
template <int N>
using layer = s::network<s::input<N, 1, 1>, s::flatten, s::linear<N>, s::spiking<lif>>;

double resident_mib() {  // the resident set now, from /proc/self/statm
    std::ifstream statm("/proc/self/statm");
    std::size_t pages = 0, resident = 0;
    statm >> pages >> resident;
    return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE)) / (1024.0 * 1024.0);
}
double peak_mib() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_maxrss) / 1024.0;
}

template <int N>
int run(const std::string& rule, int repeat) {
    s::model<layer<N>, s::timesteps<T>> m{s::seed{1}};
    m.set_input_frames(T);
    // Sample-major frames (sample b's T frames of N values), uniform in [0, 1).
    std::vector<float> x(batch * T * N);
    const s::detail::counter_rng rng(7, 1);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = rng.uniform(i);
    const double before = resident_mib();

    s::rules::bptt bptt{s::surrogate::sigmoid(4.0f), true};
    s::rules::snn2ann snn2ann;
    // d sum / d output: the sum runs over all T steps, the model's output is their mean.
    const std::vector<float> d_mean(batch * N, static_cast<float>(T));
    const std::vector<float> d_ones(batch * N, 1.0f);
    std::vector<double> seconds;
    double rate = 0;
    for (int r = 0; r <= repeat; ++r) {
        const auto t0 = std::chrono::steady_clock::now();
        const float* out = nullptr;
        if (rule == "bptt") {
            out = m.bptt_forward(x.data(), batch, bptt.options(), true, static_cast<std::uint64_t>(r));
            m.bptt_backward(x.data(), d_mean.data(), batch, bptt.options());
        } else {
            const auto o = snn2ann.options();
            out = m.snn_forward(x.data(), batch, o, true, static_cast<std::uint64_t>(r));
            m.forward(x.data(), batch, o, true, static_cast<std::uint64_t>(r));
            m.backward(x.data(), d_ones.data(), batch, o);
        }
        const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (r > 0) seconds.push_back(dt);
        // Both return the SNN's mean output over T: its mean is the firing rate.
        double sum = 0;
        for (std::size_t i = 0; i < batch * N; ++i) sum += out[i];
        rate = sum / static_cast<double>(batch * N);
    }
    std::sort(seconds.begin(), seconds.end());
    const double peak = peak_mib();
    std::printf("snn2ann %s n %d batch %zu T %d threads %d: median_s %.4f firing_rate %.4f peak_rss_MiB %.1f "
                "passes_rss_MiB %.1f\n",
                rule.c_str(), N, batch, T, s::threads::active(), seconds[seconds.size() / 2], rate, peak, peak - before);
    return 0;
}
}  // namespace

int main(int argc, char** argv) {
    int n = 256, repeat = 3, threads = 2;
    std::string rule = "bptt";
    snn2ann_examples::command_line cli{"layer_benchmark",
                                       "One Linear(n, n) and LIF layer, batch 16, T = 500: forward and backward."};
    CLI::App& app = cli.app();
    app.add_option("--n", n, "neurons")->check(CLI::IsMember({256, 1024, 4096}))->capture_default_str();
    app.add_option("--rule", rule, "the rule")->check(CLI::IsMember({"bptt", "snn2ann"}))->capture_default_str();
    app.add_option("--repeat", repeat, "passes measured, after one warm-up")->check(CLI::PositiveNumber)
        ->capture_default_str();
    app.add_option("--threads", threads, "worker threads")->capture_default_str();
    if (const int rc = cli.parse(argc, argv); rc >= 0) return rc;
    try {
        s::threads limit(threads);
        if (n == 256) return run<256>(rule, repeat);
        if (n == 1024) return run<1024>(rule, repeat);
        return run<4096>(rule, repeat);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "layer_benchmark: %s\n", e.what());
        return 1;
    }
}
