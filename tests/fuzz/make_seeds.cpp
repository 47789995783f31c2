// Writes each harness's seed corpus: small valid inputs of every format, so that the
// fuzzers start from files the readers accept. make_seeds <folder> writes <folder>/<harness>/.
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include <snn2ann/data/aedat.hpp>
#include <snn2ann/data/aedat2.hpp>
#include <snn2ann/data/frame_cache.hpp>
#include <snn2ann/data/nmnist.hpp>

#include "../jpeg_writer.hpp"
#include "../zip_builder.hpp"
#include "checkpoint_model.hpp"
#include "fuzz_files.hpp"

namespace fs = std::filesystem;

namespace {
fs::path root;
void seed(const std::string& harness, const std::string& name, const std::string& bytes) {
    fs::create_directories(root / harness);
    std::ofstream f(root / harness / name, std::ios::binary | std::ios::trunc);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}
std::string read(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}
std::string idx(std::vector<std::uint32_t> dims, unsigned classes = 256) {
    std::string b{0, 0, 8, static_cast<char>(dims.size())};
    std::size_t total = 1;
    for (auto d : dims) {
        for (int k = 3; k >= 0; --k) b.push_back(static_cast<char>(d >> (8 * k)));
        total *= d;
    }
    for (std::size_t i = 0; i < total; ++i) b.push_back(static_cast<char>((i * 37) % classes));
    return b;
}
std::string gzip(const std::string& bytes) {
    const std::string path = fuzz::scratch() + "/seed.gz";
    gzFile f = gzopen(path.c_str(), "wb");
    gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
    gzclose(f);
    return read(path);
}
std::string cifar_records(std::size_t n, int label_bytes, int classes) {
    std::string b;
    for (std::size_t r = 0; r < n; ++r) {
        for (int k = 0; k < label_bytes; ++k) b.push_back(static_cast<char>((r + k) % classes));
        for (int i = 0; i < 3072; ++i) b.push_back(static_cast<char>((r * 7 + i) & 0xff));
    }
    return b;
}
std::string image(int side, int channels) {
    std::vector<unsigned char> pixels(static_cast<std::size_t>(side) * side * channels);
    for (std::size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<unsigned char>(i * 13);
    return test::jpeg(pixels, side, side, channels);
}
std::string members_input(const std::vector<snn2ann::io::zip_entry>& entries) {
    std::string out;
    for (const auto& e : entries) {
        out.push_back(static_cast<char>(e.name.size()));
        out += e.name;
        for (int k = 0; k < 3; ++k) out.push_back(static_cast<char>((e.bytes.size() >> (8 * k)) & 0xff));
        out += e.bytes;
    }
    return out;
}
}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: make_seeds FOLDER\n");
        return 2;
    }
    root = argv[1];
    seed("idx", "images", idx({2, 3, 3}));
    seed("idx", "labels", idx({5}, 10));
    seed("idx", "images.gz", gzip(idx({2, 3, 3})));
    seed("idx_gzip", "images", idx({2, 3, 3}));
    seed("idx_gzip", "labels", idx({5}, 10));
    seed("fashion_mnist", "four_files",
         fuzz::join({idx({3, 4, 4}), idx({3}, 10), idx({2, 4, 4}), idx({2}, 10)}));
    seed("cifar", "cifar10", std::string(1, '\0') + fuzz::join({cifar_records(2, 1, 10), cifar_records(1, 1, 10),
                                                                cifar_records(1, 1, 10), cifar_records(1, 1, 10),
                                                                cifar_records(1, 1, 10), cifar_records(2, 1, 10)}));
    seed("cifar", "cifar100", std::string(1, '\1') + fuzz::join({cifar_records(2, 2, 20), cifar_records(1, 2, 20)}));
    seed("tiny_imagenet", "64_rgb.jpg", image(64, 3));
    seed("tiny_imagenet", "64_grey.jpg", image(64, 1));
    seed("tiny_imagenet", "8_rgb.jpg", image(8, 3));
    const std::vector<float> values{0.5f, -1.0f, 3.25f};
    const std::int32_t four = 4;
    seed("npy", "floats", snn2ann::io::write_npy(values.data(), values.size()));
    seed("npy", "int", snn2ann::io::write_npy(&four, 1));
    seed("npy", "bytes", snn2ann::io::write_npy(reinterpret_cast<const std::uint8_t*>("abc"), 3));
    const std::vector<snn2ann::data::event> events{{3, 4, 1, 10}, {33, 0, 0, 12}, {5, 5, 0, 8388610}};
    seed("nmnist", "three_events", snn2ann::data::format_ndataset(events));
    seed("aedat2", "dvs128", snn2ann::data::format_aedat2({{3, 4, 1, 10}, {127, 0, 0, 12}, {5, 5, 0, 70000}}, 128));
    seed("aedat2", "davis", snn2ann::data::format_aedat2({{3, 4, 1, 10}, {239, 179, 0, 12}}, 240,
                                                         snn2ann::data::aedat2_address::davis));
    {
        // SHD: two samples of three and one spikes (lengths, times, units, labels).
        const auto bytes = [](const auto& values) {
            return std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(values[0]));
        };
        const std::vector<float> times{0.0f, 0.25f, 0.5f, 0.125f};
        const std::vector<std::int32_t> units{1, 699, 3, 17}, labels{3, 19};
        seed("shd", "two_samples", fuzz::join({std::string("\x03\x01"), bytes(times), bytes(units), bytes(labels)}));
    }
    {
        // NIR: Input (shape [3]) -> IF (3 neurons: r 1, v_threshold 0.5, v_reset 0) -> Output
        // (shape [3]), as tests/fuzz/nir.cpp reads its program and pools.
        const std::string program{'\x00', '\x06', '\x08'}, ints{0, 4, 2, 1, 1, 1, 1, 1, 0, 4};
        const std::vector<float> floats{1, 1, 1, 0.5f, 0.5f, 0.5f, 0, 0, 0, 2, 2, 2, 0, 0, 0};
        seed("nir", "input_if_output",
             fuzz::join({program, ints, std::string(reinterpret_cast<const char*>(floats.data()), floats.size() * 4)}));
    }
    {
        // The runtime engine: Input -> LIF -> Output, parameters from the pools
        // (tests/fuzz/nir_runtime.cpp).
        const std::string program{'\x00', '\x0f', '\x01'}, ints{1, 3, 0, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 3, 2, 1, 0};
        const std::vector<float> floats{1, 0.5f, 0, 2, 0, 2, 1, 1, 0.25f, 0.75f, 0.5f, 1};
        seed("nir_runtime", "input_lif_output",
             fuzz::join({program, ints, std::string(reinterpret_cast<const char*>(floats.data()), floats.size() * 4)}));
    }
    {
        // The reader of files as written: version 1.0.7, a NIRGraph, three nodes (Input,
        // IF, Output) with scalar float parameters, string edges n0 -> n1 -> n2
        // (tests/fuzz/nir_graph.cpp reads its program and pools in this order).
        const std::string program{'\x00', '\x00', '\x0d', '\x01'};
        // Per node: a member count, then per member its name, rank and kind (floats); then
        // the edge count and the ends.
        const std::string pool{1, 0, 0, 1,               // Input: "shape"
                               2, 9, 0, 1, 11, 0, 1,     // IF: "r", "v_threshold"
                               1, 0, 0, 1,               // Output: "shape"
                               2, 0, 1, 1, 2};           // edges n0 -> n1, n1 -> n2
        const std::vector<float> floats{3, 1, 0.5f, 3};
        seed("nir_graph", "input_if_output",
             fuzz::join({program, pool, std::string(reinterpret_cast<const char*>(floats.data()), floats.size() * 4)}));
    }
    seed("aedat", "two_packets", snn2ann::data::format_aedat31({{3, 4, 1, 10}, {127, 0, 0, 12}, {5, 5, 0, (1ull << 31) + 2}}));
    {
        snn2ann::data::dataset frames;
        frames.frames = 2, frames.channels = 2, frames.height = frames.width = 2, frames.classes = 2;
        frames.images = {0, 1, 2, 0, 0, 0, 1, 1, 3, 0, 0, 0, 0, 1, 0, 2};
        frames.labels = {1};
        const std::string cache = fuzz::scratch() + "/cache.npz";
        snn2ann::data::save_frames(cache, frames, "key");
        seed("frame_cache", "counts.npz", read(cache));
        frames.images[0] = 0.5f;  // not a count: stored as floats
        snn2ann::data::save_frames(cache, frames, "key");
        seed("frame_cache", "floats.npz", read(cache));
    }
    fuzz::checkpoint_model model{snn2ann::seed{3}};
    const std::string path = fuzz::scratch() + "/seed.npz";
    snn2ann::io::save_checkpoint(model, path);
    seed("checkpoint", "format2.npz", read(path));
    auto entries = snn2ann::io::read_zip(path);
    seed("checkpoint_members", "format2", members_input(entries));
    for (auto& e : entries) {  // format 1: version 1 and the shapes-only signature
        if (e.name == "format_version.npy") {
            const std::int32_t one = 1;
            e.bytes = snn2ann::io::write_npy(&one, 1);
        } else if (e.name == "signature.npy") {
            const std::string sig = snn2ann::io::network_signature(model);
            e.bytes = snn2ann::io::write_npy(reinterpret_cast<const std::uint8_t*>(sig.data()), sig.size());
        }
    }
    seed("checkpoint_members", "format1", members_input(entries));
    std::vector<test::zip_member> deflated;
    for (const auto& e : entries) deflated.push_back(test::deflated(e.name, e.bytes));
    seed("checkpoint", "format1_deflated.npz", test::build_zip(deflated));
    return 0;
}
