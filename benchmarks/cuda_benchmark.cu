// The CUDA backend's benchmark, in one run:
//  1. the paper's VGG-13 on CIFAR-shaped random data: one SNN2ANN training step at T = 5
//     against one BPTT step at T = 8 (batch 128 by default): median seconds per step
//     after warm-up steps, and peak device memory (the library's own buffers, and the
//     device memory in use as the driver reports it, cuBLAS and the CUDA context included);
//  2. with --fashion-mnist DIR, the reference Fashion-MNIST network trained by SNN2ANN at
//     T = 4 on the GPU for --epochs epochs (the CPU demo's settings), with its test accuracy.
//   cuda_benchmark [--batch 128] [--repeat 5] [--tf32] [--fashion-mnist DIR] [--epochs 6]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <snn2ann/cuda.cuh>
#include <snn2ann/data/mnist.hpp>
#include <snn2ann/zoo/vgg13.hpp>

#include "../examples/command_line.hpp"
#include "../examples/reference_networks.hpp"

#include "random_batch.hpp"

namespace s = snn2ann;

namespace {

double device_used_mib() {
    std::size_t free = 0, total = 0;
    s::detail::cuda_ops::check(cudaMemGetInfo(&free, &total), "cudaMemGetInfo");
    return static_cast<double>(total - free) / (1024.0 * 1024.0);
}

struct step_result {
    double seconds = 0, library_mib = 0, device_mib = 0;
};

template <class Net, int T, class Rule>
step_result measure(const char* name, std::size_t batch, int repeat, bool tf32) {
    s::reset_device_memory_peak();
    const double before = device_used_mib();
    step_result r;
    {
        s::model<Net, s::timesteps<T>, s::cuda> m{s::seed{1}};
        m.allow_tf32(tf32);
        const snn2ann_bench::random_batch data(batch, Net::input_shape.size());
        const float* x = data.x.data();
        const std::int32_t* y = data.y.data();
        Rule rule;
        const s::adam opt{1e-3};
        std::vector<double> seconds;
        double peak_used = 0;
        for (int k = -2; k < repeat; ++k) {  // two warm-up steps
            m.synchronize();
            const auto t0 = std::chrono::steady_clock::now();
            rule.train_step(m, x, y, batch, static_cast<std::uint64_t>(k + 2));
            m.apply(opt);
            m.synchronize();
            if (k >= 0) seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
            peak_used = std::max(peak_used, device_used_mib());
        }
        std::sort(seconds.begin(), seconds.end());
        r.seconds = seconds[seconds.size() / 2];
        r.library_mib = static_cast<double>(s::device_memory_stats().peak_bytes) / (1024.0 * 1024.0);
        r.device_mib = peak_used - before;
    }
    std::printf("%-18s T=%d batch %zu%s: %.4f s/step (%.0f img/s), device memory: library peak %.0f MiB, in use %.0f MiB\n",
                name, T, batch, tf32 ? " TF32" : "", r.seconds, static_cast<double>(batch) / r.seconds, r.library_mib,
                r.device_mib);
    std::fflush(stdout);
    return r;
}

int train_fashion_mnist(const std::string& dir, int epochs) {
    constexpr int T = reference::timesteps;
    auto data = s::data::fashion_mnist(dir);
    s::model<reference::snn<>, s::timesteps<T>, s::cuda> model{s::seed{1}};
    const s::rules::snn2ann rule;
    std::printf("\nSNN2ANN on Fashion-MNIST on the GPU: T = %d, batch 64, Adam 1e-3, cosine, %d epochs\n", T, epochs);
    s::trainer trainer{model, rule, s::adam{1e-3}};
    trainer.schedule(s::cosine_lr{epochs}).quiet();
    double last = 0;
    trainer.on_epoch([&](const s::epoch_report& r) {
        last = s::evaluate(model, data.test, 256, rule).accuracy;
        const double ann = s::evaluate(model, data.test, 256, rule.ann_branch()).accuracy;
        std::printf("epoch %3d  loss %.4f  test SNN %.2f%%  ANN %.2f%%  %.0f img/s\n", r.epoch, r.loss, 100 * last,
                    100 * ann, r.images_per_second);
        std::fflush(stdout);
    });
    trainer.fit(data.train, s::epochs{epochs}, s::batch{64});
    std::printf("final SNN test accuracy on the GPU: %.2f%%\n", 100 * last);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    std::size_t batch = 128;
    int repeat = 5, epochs = 6;
    bool tf32 = false;
    std::string fmnist;
    snn2ann_examples::command_line cli{"cuda_benchmark",
                                       "VGG-13 SNN2ANN (T = 5) against BPTT (T = 8) on the GPU: time and memory per step."};
    CLI::App& app = cli.app();
    app.add_option("--batch", batch, "samples per step")->capture_default_str();
    app.add_option("--repeat", repeat, "steps measured")->capture_default_str();
    app.add_option("--epochs", epochs, "epochs of the Fashion-MNIST run")->capture_default_str();
    app.add_flag("--tf32", tf32, "TF32 tensor-core GEMMs");
    app.add_option("--fashion-mnist", fmnist, "also train the reference network on the Fashion-MNIST in DIR")
        ->type_name("DIR");
    if (const int rc = cli.parse(argc, argv); rc >= 0) return rc;
    try {
        cudaDeviceProp p{};
        if (s::detail::cuda_ops::device_count() == 0)
            throw s::cuda_error("cuda_benchmark: no CUDA device is available (cudaGetDeviceCount found none)");
        const int device = s::detail::cuda_ops::device_for_this_process(s::detail::cuda_ops::device_count());
        s::detail::cuda_ops::check(cudaGetDeviceProperties(&p, device), "cudaGetDeviceProperties");
        std::printf("device: %s, %d SMs, %.0f GiB\n", p.name, p.multiProcessorCount,
                    static_cast<double>(p.totalGlobalMem) / (1024.0 * 1024.0 * 1024.0));
        using bptt_neuron = s::if_neuron<s::reset::by_subtraction, s::firing::inclusive, s::constant_threshold<1>, 0>;
        const auto a = measure<s::zoo::vgg13<10>, 5, s::rules::snn2ann>("VGG-13 SNN2ANN", batch, repeat, tf32);
        const auto b = measure<s::zoo::vgg13<10, s::input<3, 32, 32>, bptt_neuron>, 8, s::rules::bptt>(
            "VGG-13 BPTT", batch, repeat, tf32);
        std::printf("SNN2ANN (T=5) / BPTT (T=8): time %.3fx (paper 0.377x), library memory %.3fx, device memory %.3fx "
                    "(paper 0.27x)\n",
                    a.seconds / b.seconds, a.library_mib / b.library_mib, a.device_mib / b.device_mib);
        if (!fmnist.empty()) return train_fashion_mnist(fmnist, epochs);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
    return 0;
}
