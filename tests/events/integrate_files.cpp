// Integrates N-MNIST-format recordings as the library does, for check_binning.py: for each
// DIR/NAME.bin (34 x 34), with T frames, writes DIR/NAME.SPLIT.T.npy (T x 2 x 34 x 34
// float32 counts, flat) for every frame_split.
//   integrate_files DIR T
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include <snn2ann/data/events.hpp>
#include <snn2ann/data/nmnist.hpp>
#include <snn2ann/io/npy.hpp>

namespace s = snn2ann;

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: %s DIR T\n", argv[0]);
        return 2;
    }
    const std::filesystem::path dir = argv[1];
    const int frames = std::stoi(argv[2]);
    const std::pair<const char*, s::data::frame_split> splits[] = {
        {"spikingjelly_number", s::data::frame_split::by_count},
        {"spikingjelly_time", s::data::frame_split::by_time},
        {"tonic_event_bins", s::data::frame_split::tonic_event_bins},
        {"tonic_time_bins", s::data::frame_split::tonic_time_bins}};
    try {
        int files = 0;
        for (const auto& entry : std::filesystem::directory_iterator(dir)) {
            if (entry.path().extension() != ".bin") continue;
            const auto events = s::data::read_ndataset_file(entry.path().string(), 34, 34);
            for (const auto& [name, split] : splits) {
                std::vector<float> out(static_cast<std::size_t>(frames) * 2 * 34 * 34);
                s::data::integrate_events(events, 34, 34, {.frames = frames, .split = split}, out.data());
                const auto path = dir / (entry.path().stem().string() + "." + name + "." + std::to_string(frames) + ".npy");
                std::ofstream(path, std::ios::binary) << s::io::write_npy(out.data(), out.size());
            }
            ++files;
        }
        std::printf("integrated %d recordings into %d frames, 4 binnings\n", files, frames);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "integrate_files: %s\n", e.what());
        return 1;
    }
    return 0;
}
