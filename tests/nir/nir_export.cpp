// Writes what the Python checks of NIR files read (tests/nir/check_nir.py): the avg-pool
// variant of the reference network trained briefly on Fashion-MNIST, exported to NIR, the
// first 100 test images, and what the library's SNN branch computes on them (scores,
// predictions, each spiking layer's spike counts), as 1-D .npy files in FOLDER.
//   nir_export FOLDER
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <snn2ann/io/nir.hpp>
#include <snn2ann/io/npy.hpp>
#include <snn2ann/snn2ann.hpp>

#include "../../examples/reference_networks.hpp"

namespace s = snn2ann;

namespace {
template <class T>
void write(const std::filesystem::path& p, const std::vector<T>& v) {
    const std::string bytes = s::io::write_npy(v.data(), v.size());
    std::ofstream f(p, std::ios::binary);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}
}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: nir_export FOLDER\n");
        return 2;
    }
    try {
        const std::filesystem::path out = argv[1];
        std::filesystem::create_directories(out);
        constexpr int T = reference::timesteps;
        using net = reference::snn_avg_pool<>;
        const auto data = s::data::fashion_mnist("");
        s::model<net, s::timesteps<T>> model{s::seed{1}};
        const s::rules::snn2ann rule;
        s::trainer trainer{model, rule, s::adam{1e-3}};
        trainer.fit(data.train.head(2000), s::epochs{1}, s::batch{64});
        s::io::save_nir(model, (out / "model.nir").string());
        const auto test = data.test.head(100);
        const float* scores = model.snn(rule).forward(test.images.data(), test.size());
        std::vector<float> sc(scores, scores + test.size() * 10);
        std::vector<std::int32_t> predicted;
        for (std::size_t i = 0; i < test.size(); ++i)
            predicted.push_back(static_cast<std::int32_t>(std::max_element(sc.begin() + i * 10, sc.begin() + i * 10 + 10) -
                                                          (sc.begin() + i * 10)));
        write(out / "images.npy", test.images);
        write(out / "labels.npy", test.labels);
        write(out / "scores.npy", sc);
        write(out / "predicted.npy", predicted);
        model.layers().for_each_layer([&](auto& l, std::size_t i) {
            using L = std::remove_cvref_t<decltype(l)>;
            if constexpr (s::detail::spiking_layer<L>) {
                std::vector<float> counts(l.counts(), l.counts() + test.size() * L::neurons);
                const std::string node = (L::neuron::decay == 1.0f ? "if" : "lif") + std::to_string(i);  // graph_of's name
                write(out / ("counts_" + node + ".npy"), counts);
            }
        });
        std::printf("nir_export: wrote %s\n", out.string().c_str());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
    return 0;
}
