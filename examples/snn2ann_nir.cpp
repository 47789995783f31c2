// snn2ann-nir: a NIR file from any tool, looked at and run by the runtime engine
// (deploy::runtime), with no network type written in C++.
//   snn2ann-nir info FILE [--dt DT]        (DT: one step in the file's time unit; default the
//                                          dt of the file's metadata, else 1)
//       the file's version and nodes, in the order a step runs them, with their dimensions
//       and sources ("(t-1)": a recurrent edge)
//   snn2ann-nir run FILE --dt DT (--frames F.npy | --events F.bin --steps T) [--record NODES]
//                   [--method euler|exponential] [--reset v_reset|subtract]
//                   [--path automatic|dense|event-driven] [--out DIR]
//       runs the graph: on frames (a float32 .npy of steps x batch x the Input's values, or
//       steps x the Input's values for one sample), or on an N-MNIST-format recording (.bin:
//       40-bit events) integrated into T frames of the Input's [2, H, W]; prints the Output's
//       spike counts (sum over the steps) per sample and each recorded node's activity, and
//       with --out writes output.npy and <node>.spikes.npy / <node>.membrane.npy (float32,
//       flattened steps x batch x values).
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <snn2ann/data/events.hpp>
#include <snn2ann/data/nmnist.hpp>
#include <snn2ann/deploy/runtime.hpp>
#include <snn2ann/io/nir.hpp>
#include <snn2ann/io/npy.hpp>
#include <snn2ann/io/zip.hpp>

#include "command_line.hpp"

namespace s = snn2ann;

namespace {

void write_file(const std::filesystem::path& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) throw s::io_error(path.string(), "cannot be written");
}

// Frames from a float32 .npy: steps x batch x values, or steps x values (batch 1).
std::vector<float> read_frames(const std::string& path, std::size_t input, std::size_t& steps, std::size_t& batch) {
    const std::string bytes = s::detail::read_file(path);
    const s::io::npy_header h = s::io::read_npy_header(bytes, path);
    if (h.fortran_order) throw s::io_error(path, "is in Fortran order; write it C-ordered (numpy's default)");
    if (h.descr != "<f4") throw s::io_error(path, "holds '" + h.descr + "' elements, not float32 ('<f4')");
    if (h.shape.empty() || h.elements == 0 || h.elements % (h.shape[0] * input))
        throw s::io_error(path, "does not hold steps x batch x " + std::to_string(input) + " values (the Input's)");
    if (bytes.size() - h.payload_offset != h.elements * sizeof(float)) throw s::io_error(path, "is shorter than its shape");
    steps = h.shape[0], batch = h.elements / (steps * input);
    std::vector<float> v(h.elements);
    std::memcpy(v.data(), bytes.data() + h.payload_offset, h.elements * sizeof(float));
    return v;
}

}  // namespace

int main(int argc, char** argv) {
    std::string file, frames_path, events_path, method = "euler", reset = "v_reset", path = "automatic", out_dir, record_list;
    double dt = 0.0;  // 0: the file's
    std::size_t steps = 0;
    snn2ann_examples::command_line cli{"snn2ann-nir", "Looks at and runs a NIR file from any tool with the runtime engine."};
    CLI::App& app = cli.app();
    app.require_subcommand(1);
    CLI::App* info = app.add_subcommand("info", "print the file's version and nodes in run order");
    CLI::App* run = app.add_subcommand("run", "run the graph on frames or an event recording");
    for (CLI::App* sub : {info, run}) {
        sub->add_option("file", file, "the NIR file")->required()->type_name("FILE");
        sub->add_option("--dt", dt, "one step, in the file's time unit (seconds for Norse's and Rockpool's files); "
                                    "default: the dt of the file's metadata, else 1");
    }
    run->add_option("--frames", frames_path, "float32 .npy: steps x batch x the Input's values")->type_name("FILE");
    run->add_option("--events", events_path, "an N-MNIST-format recording (.bin), integrated into --steps frames")
        ->type_name("FILE");
    run->add_option("--steps", steps, "frames to integrate an event recording into");
    run->add_option("--method", method, "the neurons' step")->check(CLI::IsMember({"euler", "exponential"}))->capture_default_str();
    run->add_option("--reset", reset, "after a spike")->check(CLI::IsMember({"v_reset", "subtract"}))->capture_default_str();
    run->add_option("--path", path, "how Affine, Linear and the convolutions compute (automatic: event-driven on sparse steps)")
        ->check(CLI::IsMember({"automatic", "dense", "event-driven"}))
        ->capture_default_str();
    run->add_option("--record", record_list, "nodes whose spikes and membranes are kept (comma-separated)")->type_name("NODES");
    run->add_option("--out", out_dir, "write output.npy and the recorded traces here")->type_name("DIR");
    if (const int rc = cli.parse(argc, argv); rc >= 0) return rc;
    try {
        const s::deploy::nir_graph g = s::io::read_nir_graph(file);
        s::deploy::runtime_options options;
        const auto meta = g.metadata.find("dt");
        options.dt = dt != 0.0 ? dt : meta != g.metadata.end() && meta->second.values.size() == 1 ? meta->second.values[0] : 1.0;
        options.method = method == "euler" ? s::deploy::discretisation::forward_euler : s::deploy::discretisation::exponential;
        options.reset = reset == "v_reset" ? s::deploy::reset_rule::to_v_reset : s::deploy::reset_rule::subtract_threshold;
        options.path = path == "dense" ? s::deploy::path::dense
                       : path == "event-driven" ? s::deploy::path::event_driven
                                                : s::deploy::path::automatic;
        const s::deploy::runtime engine(g, options);
        if (info->parsed()) {
            std::printf("%s: NIR %s, %zu nodes, %zu edges, dt %g\n%s", file.c_str(), g.version.c_str(), g.nodes.size(),
                        g.edges.size(), options.dt, engine.describe().c_str());
            return 0;
        }
        if (frames_path.empty() == events_path.empty()) throw s::invalid_argument("snn2ann-nir run: give --frames or --events (one)");
        std::size_t batch = 1;
        std::vector<float> frames;
        if (!frames_path.empty()) {
            frames = read_frames(frames_path, engine.input_size(), steps, batch);
        } else {
            const auto& d = engine.input_dims();
            if (d.size() != 3 || (d[0] != 1 && d[0] != 2))
                throw s::invalid_argument("snn2ann-nir run: the Input is " + s::detail::dims_text(d) +
                                          ", not [2, H, W] or [1, H, W], the frames of an event sensor");
            if (steps == 0) throw s::invalid_argument("snn2ann-nir run: --events needs --steps (the frames to integrate into)");
            const int h = static_cast<int>(d[1]), w = static_cast<int>(d[2]);
            const auto events = s::data::read_ndataset_file(events_path, w, h);
            s::data::frame_integration p;
            p.frames = static_cast<int>(steps);
            frames.resize(steps * engine.input_size());
            s::data::integrate_events(events, w, h, p, frames.data(), static_cast<int>(d[0]));
            std::printf("%s: %zu events into %zu frames (%s)\n", events_path.c_str(), events.size(), steps, p.describe().c_str());
        }
        std::vector<std::string> record;
        std::stringstream names(record_list);
        for (std::string n; std::getline(names, n, ',');)
            if (!n.empty()) record.push_back(n);
        const s::deploy::run_result r = engine.run(frames.data(), steps, batch, record);
        for (std::size_t b = 0; b < batch; ++b) {
            std::printf("sample %zu: output spike counts", b);
            std::size_t best = 0;
            std::vector<double> count(r.size, 0.0);
            for (std::size_t t = 0; t < steps; ++t)
                for (std::size_t i = 0; i < r.size; ++i) count[i] += r.output[(t * batch + b) * r.size + i];
            for (std::size_t i = 0; i < r.size; ++i) {
                std::printf(" %g", count[i]);
                if (count[i] > count[best]) best = i;
            }
            std::printf("  (largest: %zu)\n", best);
        }
        for (const s::deploy::node_trace& t : r.traces) {
            std::size_t nonzero = 0;
            for (const float v : t.output) nonzero += v != 0.0f;
            std::printf("%s: %zu of %zu outputs nonzero (%.4f)\n", t.node.c_str(), nonzero, t.output.size(),
                        t.output.empty() ? 0.0 : static_cast<double>(nonzero) / static_cast<double>(t.output.size()));
        }
        if (!out_dir.empty()) {
            std::filesystem::create_directories(out_dir);
            const std::filesystem::path dir(out_dir);
            write_file(dir / "output.npy", s::io::write_npy(r.output.data(), r.output.size()));
            for (const s::deploy::node_trace& t : r.traces) {
                write_file(dir / (t.node + ".spikes.npy"), s::io::write_npy(t.output.data(), t.output.size()));
                if (!t.membrane.empty())
                    write_file(dir / (t.node + ".membrane.npy"), s::io::write_npy(t.membrane.data(), t.membrane.size()));
            }
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "snn2ann-nir: %s\n", e.what());
        return 1;
    }
    return 0;
}
