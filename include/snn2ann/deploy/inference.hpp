// snn2ann/deploy: the inference engine, a trained network's SNN branch without the
// training machinery: the weights (BN folded), the per-step biases and the thresholds of a
// deploy::graph, and working memory for one layer at a time (its membranes and the T
// steps of its input and output), nothing else: no gradients, no optimizer state, no
// activations kept for a backward pass. Built from a trained model, a checkpoint or a NIR
// file (io::read_nir), it classifies one sample or a batch (samples in parallel).
//
// Layer by layer, as the SNN branch runs: the layers before the first spiking layer once on
// the input (per step for frames), each spiking layer its T steps, the layers between on
// the T steps of spikes, and the head once on the last spiking layer's rate (count / T).
// A convolution or affine layer whose input is spikes runs either dense (a matrix product
// over the step's whole input) or event-driven (for each input that spiked, its weights
// added to the outputs it reaches: the work follows the spikes); path::automatic picks,
// step by step, event-driven where the fraction of inputs that spiked is at most
// event_driven_below() (measured: benchmarks/inference_latency). Deterministic: the same
// input gives the same bits. Dense and event-driven sums run in different orders, and
// both in other orders than the training model's convolutions, so a membrane within a few
// ulps of its threshold can fire in one and not the other; docs/deploy.md gives the
// measured agreement with the training model's SNN branch.
#pragma once

#include <Eigen/Core>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "../core/buffer.hpp"
#include "../core/error.hpp"
#include "../core/parallel.hpp"
#include "../io/checkpoint.hpp"
#include "../net/model.hpp"
#include "../ops/cpu/event_driven.hpp"
#include "../ops/cpu/im2col.hpp"
#include "../ops/cpu/linear.hpp"
#include "../ops/cpu/pool.hpp"
#include "path.hpp"
#include "snn_graph.hpp"

namespace snn2ann::inline v0::deploy {

/// Per-layer figures of the last classify / predict call.
struct layer_activity {
    std::string node;           ///< the graph node's name
    double input_rate = 0;      ///< fraction of nonzero inputs, over samples and steps
    double event_steps = 0;     ///< fraction of (sample, step) pairs run event-driven
};

}  // namespace snn2ann::inline v0::deploy

namespace snn2ann::inline v0::detail {

/// One compiled node of the engine.
struct engine_op {
    deploy::node_kind kind = deploy::node_kind::input;
    std::string name;
    shape in, out;
    conv_geometry geometry{};         // conv2d, avg_pool2d
    buffer<float> weight;             // dense: outputs x inputs (conv: x c k k), row-major
    buffer<float> scatter;            // event-driven: conv [o block][c][kh][kw][o], affine [i][o]
    buffer<float> bias;               // per step
    buffer<float> threshold;          // neurons
    float decay = 1.0f;               // neurons
    bool on_spikes = false;           // weighted op whose input comes from a spiking layer (maybe pooled)
};

/// What one worker (a thread running samples) owns while it runs a sample.
struct engine_workspace {
    buffer<float> a, b;          // T steps of the current layer's input and output
    buffer<float> columns;       // im2col of one step
    buffer<float> hwc;           // event-driven conv sums, [oh][ow][a block of channels]
    buffer<float> membrane;      // the running spiking layer's
    buffer<std::int32_t> winners;  // max pooling's (unused, as no backward follows)
    std::vector<std::uint32_t> active;    // the nonzero inputs of one step (event-driven)
    std::vector<double> nonzero, events;  // per op: nonzero inputs and event-driven steps
};

}  // namespace snn2ann::inline v0::detail

namespace snn2ann::inline v0 {

/// The inference engine of network Net at timesteps<T> (see the header's comment). One
/// call at a time: a call's samples run in parallel inside it.
template <class Net, class Steps = timesteps<1>>
class inference {
public:
    static constexpr int T = Steps::value;          ///< time steps
    static constexpr shape input_shape = Net::input_shape;    ///< of one sample
    static constexpr shape output_shape = Net::output_shape;  ///< of one sample (the classes)
    static_assert(T > 0, "snn2ann::inference<Net, timesteps<T>>: T must be positive");

    /// The engine of graph `g`, which must have Net's shape (checked as io::load_nir checks
    /// a file, with its messages).
    explicit inference(const deploy::graph& g) {
        model<Net, timesteps<T>> check;
        deploy::load_graph(check, g, "inference");
        compile(g);
    }
    /// The engine of trained model `m` (a CPU model of Net at T steps).
    template <class Model>
        requires requires(Model& m) { m.layers(); typename Model::network_type; }
    explicit inference(Model& m) {
        static_assert(std::is_same_v<typename Model::network_type, Net> && Model::T == T,
                      "snn2ann::inference<Net, timesteps<T>>: the model is of another network or T");
        compile(deploy::graph_of(m, "inference"));
    }
    /// The engine of a checkpoint of Net at T steps (io::save_checkpoint's file).
    static inference from_checkpoint(const std::string& path) {
        model<Net, timesteps<T>> m;
        io::load_checkpoint(m, path);
        return inference(m);
    }

    /// The path of convolution and affine layers on spikes (default: automatic).
    void set_path(deploy::path p) { path_ = p; }
    /// The current path.
    deploy::path current_path() const { return path_; }
    /// path::automatic runs a step event-driven where at most this fraction of the layer's
    /// inputs is nonzero. Default 0.5, the training model's: at 40% the event-driven path
    /// still takes 0.6 of the dense one's time on the reference network
    /// (benchmarks/inference_latency --threshold-scales, docs/benchmarks.md).
    void event_driven_below(double fraction) { crossover_ = fraction; }
    /// The crossover of path::automatic.
    double event_driven_below() const { return crossover_; }

    /// The scores (batch x classes) of `batch` samples of the input shape (or of T frames of
    /// it each, when frames == T): the mean over the T steps of the output, as the training
    /// model's SNN branch computes them. Samples run in parallel. Valid until the next call.
    const float* predict(const float* x, std::size_t batch, int frames = 1) {
        if (batch == 0) throw invalid_argument(detail::messages::empty_batch("inference::predict"));
        if (frames != 1 && frames != T)
            throw invalid_argument("inference::predict: " + std::to_string(frames) + " frames per sample; the engine runs T = " +
                                   std::to_string(T) + " steps (give 1 frame, the input of every step, or T)");
        const std::size_t chunks = std::min<std::size_t>(batch, static_cast<std::size_t>(std::max(1, threads::active())));
        if (workspaces_.size() < chunks) workspaces_.resize(chunks);
        for (auto& w : workspaces_) w.nonzero.assign(ops_.size(), 0.0), w.events.assign(ops_.size(), 0.0);
        scores_.ensure(batch * output_shape.size());
        const std::size_t in = input_shape.size() * static_cast<std::size_t>(frames);
        detail::for_chunks(batch, chunks, [&](std::size_t k, std::size_t b, std::size_t e) {
            for (std::size_t i = b; i < e; ++i) run(x + i * in, frames, scores_.data() + i * output_shape.size(), workspaces_[k]);
        });
        activity_.clear();
        for (std::size_t o = 0; o < ops_.size(); ++o) {
            if (!ops_[o].on_spikes) continue;
            double nonzero = 0, events = 0;
            for (std::size_t k = 0; k < chunks; ++k) nonzero += workspaces_[k].nonzero[o], events += workspaces_[k].events[o];
            const double steps = static_cast<double>(batch) * T;
            activity_.push_back({ops_[o].name, nonzero / (steps * static_cast<double>(ops_[o].in.size())), events / steps});
        }
        return scores_.data();
    }
    /// The class of one sample (the largest score; the first of equal ones).
    int classify(const float* x, int frames = 1) {
        const float* s = predict(x, 1, frames);
        return static_cast<int>(std::max_element(s, s + output_shape.size()) - s);
    }
    /// Per weighted layer on spikes: its input's firing rate and how often it ran
    /// event-driven, in the last call.
    const std::vector<deploy::layer_activity>& activity() const { return activity_; }

    /// Bytes the engine holds: its weights (dense and event-driven copies), biases and
    /// thresholds, and the workspaces of the workers that have run.
    std::size_t memory_bytes() const {
        std::size_t n = scores_.bytes();
        for (const auto& o : ops_) n += o.weight.bytes() + o.scatter.bytes() + o.bias.bytes() + o.threshold.bytes();
        for (const auto& w : workspaces_)
            n += w.a.bytes() + w.b.bytes() + w.columns.bytes() + w.hwc.bytes() + w.membrane.bytes() +
                 w.active.capacity() * sizeof(std::uint32_t);
        return n;
    }
    /// The graph's nodes as the engine runs them (names and kinds), for reports.
    std::vector<std::string> nodes() const {
        std::vector<std::string> n;
        for (const auto& o : ops_) n.push_back(std::string(deploy::kind_name(o.kind)) + " " + o.name);
        return n;
    }

private:
    using op = detail::engine_op;

    void compile(const deploy::graph& g) {
        bool spikes = false;
        for (const deploy::node& n : g.nodes) {
            if (n.kind == deploy::node_kind::input || n.kind == deploy::node_kind::output) continue;
            op o;
            o.kind = n.kind, o.name = n.name, o.in = n.in, o.out = n.out;
            const auto copy = [](detail::buffer<float>& to, const std::vector<float>& from) {
                std::copy(from.begin(), from.end(), to.ensure(from.size()));
            };
            switch (n.kind) {
                case deploy::node_kind::conv2d:
                    o.geometry = {n.in.c, n.in.h, n.in.w, n.kernel, n.stride, n.padding, n.out.c, n.out.h, n.out.w};
                    [[fallthrough]];
                case deploy::node_kind::affine: {
                    copy(o.weight, n.weight), copy(o.bias, n.bias);
                    o.on_spikes = spikes;
                    if (o.on_spikes) {
                        // The event-driven copy: the weights an input reaches, contiguous.
                        const std::size_t outs = n.kind == deploy::node_kind::conv2d ? n.out.c : n.out.size();
                        float* s = o.scatter.ensure(n.weight.size());
                        if (n.kind == deploy::node_kind::conv2d)
                            detail::cpu_ops::conv_scatter_weights(n.weight.data(), outs, n.weight.size() / outs, s);
                        else
                            detail::cpu_ops::scatter_weights(n.weight.data(), outs, n.weight.size() / outs, s);
                    }
                    break;
                }
                case deploy::node_kind::avg_pool2d:
                case deploy::node_kind::max_pool2d:
                    o.geometry = {n.in.c, n.in.h, n.in.w, n.kernel, n.stride, 0, n.in.c, n.out.h, n.out.w};
                    break;
                case deploy::node_kind::if_neuron:
                case deploy::node_kind::lif_neuron:
                    copy(o.threshold, n.threshold);
                    o.decay = n.kind == deploy::node_kind::if_neuron ? 1.0f
                                                                     : static_cast<float>(n.tau - 1) / static_cast<float>(n.tau);
                    spikes = true;
                    last_spiking_ = ops_.size();
                    if (first_spiking_ == npos) first_spiking_ = ops_.size();
                    break;
                default: break;
            }
            ops_.push_back(std::move(o));
        }
        if (first_spiking_ == npos) throw invalid_argument("inference: the graph has no spiking layer");
        // The head runs dense on the last spiking layer's rate: no event-driven copy for it.
        for (std::size_t k = last_spiking_ + 1; k < ops_.size(); ++k) ops_[k].scatter = {}, ops_[k].on_spikes = false;
    }

    static constexpr std::size_t npos = ~std::size_t{0};

    // The dense product of a convolution or affine op on `steps` steps of input, plus bias:
    // an affine op through the training model's linear kernel, the steps as its batch (its
    // weights read once); a convolution step by step, im2col and one matrix product.
    void dense(const op& o, const float* x, std::size_t steps, float* y, detail::engine_workspace& w) const {
        if (o.kind == deploy::node_kind::affine)
            return detail::cpu_ops::linear_forward(cpu{}, steps, static_cast<int>(o.in.size()), static_cast<int>(o.out.size()),
                                                   x, o.weight.data(), o.bias.data(), y);
        for (std::size_t t = 0; t < steps; ++t) dense_conv(o, x + t * o.in.size(), y + t * o.out.size(), w);
    }
    void dense_conv(const op& o, const float* x, float* y, detail::engine_workspace& w) const {
        using row_major = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
        const detail::conv_geometry& g = o.geometry;
        const auto rows = static_cast<Eigen::Index>(g.col_rows()), plane = static_cast<Eigen::Index>(g.out_plane());
        float* col = w.columns.ensure(g.col_rows() * g.out_plane());
        detail::cpu_ops::im2col(g, x, col);
        Eigen::Map<row_major> out(y, g.oc, plane);
        out.noalias() = Eigen::Map<const row_major>(o.weight.data(), g.oc, rows) * Eigen::Map<const row_major>(col, rows, plane);
        out.colwise() += Eigen::Map<const Eigen::VectorXf>(o.bias.data(), g.oc);
    }

    // The event-driven currents of a convolution or affine op on one step's input x, whose
    // nonzero entries `entry` lists (see run(): their count, whether all are 1, the list).
    void event_driven(const op& o, const float* x, const std::uint32_t* entry, float* y, detail::engine_workspace& w) const {
        if (o.kind == deploy::node_kind::affine)
            return detail::cpu_ops::affine_events(o.scatter.data(), o.bias.data(), o.out.size(), x, entry + 2, entry[0], y);
        const detail::conv_geometry& g = o.geometry;
        const std::uint32_t* count = entry + 2;
        detail::cpu_ops::conv_events(g, o.scatter.data(), o.bias.data(), x, count, count + static_cast<std::size_t>(g.h) * g.w,
                                     entry[1] != 0,
                                     w.hwc.ensure(g.out_plane() * detail::cpu_ops::event_block_width(0, static_cast<std::size_t>(g.oc))),
                                     y);
    }

    // One sample: `frames` 1 (the input of every step) or T.
    void run(const float* x, int frames, float* scores, detail::engine_workspace& w) const {
        const std::size_t steps = static_cast<std::size_t>(T);
        std::size_t width = input_shape.size(), live = static_cast<std::size_t>(frames);  // steps held in w.a
        float* cur = w.a.ensure(live * width);
        std::copy(x, x + live * width, cur);
        for (std::size_t k = 0; k < ops_.size(); ++k) {
            const op& o = ops_[k];
            const std::size_t out_width = o.out.size();
            if (o.kind == deploy::node_kind::flatten) continue;
            const bool neuron = o.kind == deploy::node_kind::if_neuron || o.kind == deploy::node_kind::lif_neuron;
            const bool last = k == last_spiking_;
            // A spiking layer's output holds T steps (its rate for the last one); others keep
            // the steps of their input.
            const std::size_t out_steps = neuron ? (last ? 1 : steps) : live;
            // The other buffer of the pair takes the output (growing it leaves `cur` alone).
            float* next = (cur == w.a.data() ? w.b : w.a).ensure(std::max(out_steps, live) * std::max(out_width, width));
            if (neuron) {
                float* u = w.membrane.ensure(width);
                std::fill(u, u + width, 0.0f);
                const float* vth = o.threshold.data();
                if (last) std::fill(next, next + width, 0.0f);
                for (std::size_t t = 0; t < steps; ++t) {
                    const float* in = cur + (live == 1 ? 0 : t) * width;
                    float* s = last ? next : next + t * width;
                    for (std::size_t i = 0; i < width; ++i) {
                        const float v = o.decay * u[i] + in[i];
                        const bool fire = v > vth[i];
                        u[i] = fire ? 0.0f : v;
                        if (last) s[i] += fire ? 1.0f : 0.0f;
                        else s[i] = fire ? 1.0f : 0.0f;
                    }
                }
                if (last) {
                    const float inv_t = 1.0f / static_cast<float>(steps);
                    for (std::size_t i = 0; i < width; ++i) next[i] *= inv_t;
                }
            } else {
                if (o.kind == deploy::node_kind::avg_pool2d) {
                    // The training model's pooling, the steps as a batch: the same bits.
                    detail::cpu_ops::avg_pool_forward(cpu{}, o.geometry, live, cur, next);
                } else if (o.kind == deploy::node_kind::max_pool2d) {
                    detail::cpu_ops::max_pool_forward(cpu{}, o.geometry, live, cur, next, w.winners.ensure(live * out_width), nullptr);
                } else if (!o.on_spikes) {
                    dense(o, cur, live, next, w);
                } else {
                    // Per step: the inputs that spiked, and the path for them.
                    const bool all_dense = path_ == deploy::path::dense;
                    // Step t's entry: the count of nonzero inputs (~0: the step runs dense),
                    // whether all are 1, then their list (active_channels' or active_entries').
                    const bool conv = o.kind == deploy::node_kind::conv2d;
                    const std::size_t stride = 2 + width + (conv ? static_cast<std::size_t>(o.geometry.h) * o.geometry.w : 0);
                    std::vector<std::uint32_t>& active = w.active;
                    active.resize(live * stride);
                    bool any_events = false;
                    for (std::size_t t = 0; t < live; ++t) {
                        const float* in = cur + t * width;
                        std::uint32_t* entry = active.data() + t * stride;
                        bool binary = false;
                        const std::size_t n =
                            conv ? detail::cpu_ops::active_channels(o.geometry, in, entry + 2,
                                                                    entry + 2 + static_cast<std::size_t>(o.geometry.h) * o.geometry.w, binary)
                                 : detail::cpu_ops::active_entries(in, width, entry + 2);
                        const bool events = !all_dense && (path_ == deploy::path::event_driven ||
                                                           static_cast<double>(n) <= crossover_ * static_cast<double>(width));
                        entry[0] = events ? static_cast<std::uint32_t>(n) : ~std::uint32_t{0};
                        entry[1] = binary ? 1u : 0u;
                        w.nonzero[k] += static_cast<double>(n);
                        w.events[k] += events ? 1.0 : 0.0;
                        any_events = any_events || events;
                    }
                    if (!any_events) {
                        dense(o, cur, live, next, w);
                    } else {
                        for (std::size_t t = 0; t < live; ++t) {
                            const std::uint32_t* entry = active.data() + t * stride;
                            if (entry[0] == ~std::uint32_t{0}) dense(o, cur + t * width, 1, next + t * out_width, w);
                            else event_driven(o, cur + t * width, entry, next + t * out_width, w);
                        }
                    }
                }
            }
            live = out_steps;
            width = out_width;
            cur = next;
        }
        // The head ran once, on the last spiking layer's rate.
        std::copy(cur, cur + output_shape.size(), scores);
    }

    std::vector<op> ops_;
    std::size_t first_spiking_ = npos, last_spiking_ = npos;
    deploy::path path_ = deploy::path::automatic;
    double crossover_ = detail::default_event_driven_below;
    std::vector<detail::engine_workspace> workspaces_;
    detail::buffer<float> scores_;
    std::vector<deploy::layer_activity> activity_;
};

}  // namespace snn2ann::inline v0
