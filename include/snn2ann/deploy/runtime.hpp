// snn2ann/deploy: the runtime engine, which runs any NIR graph (deploy::nir_graph, read by
// io::read_nir_graph from a file another tool wrote) without a compile-time network type:
// chains, fan-out, fan-in (the inputs of a node summed) and recurrent edges, for a batch of
// samples and a number of steps chosen at run time, on frames (one input per step: an
// image repeated, or the frames an event recording integrates to).
//
// The meaning of NIR's nodes in discrete time, one step of dt (runtime_options):
//   Input, Output       the step's input; the sum of what reaches the Output
//   Affine, Linear      W x + b, W x (over the last dimension where it is not the whole input)
//   Scale               s x, per element
//   Conv1d, Conv2d      any stride, padding (numbers, "same" or "valid"), dilation, groups
//   AvgPool2d, SumPool2d the window's mean (padding counted, as PyTorch's default) or sum
//   Flatten             the values unchanged, the dimensions from start_dim to end_dim merged
//   Threshold           1 where x > threshold, else 0
//   Delay               x of delay / dt steps before (0 before the first)
//   I, LI, IF, LIF      tau dv/dt = (v_leak - v) + r I (I, IF: dv/dt = r I), one step:
//                       forward Euler, v += dt / tau (v_leak - v + r I), as Norse and snnTorch
//                       step; or exponential, v = v_leak + (v - v_leak) a + r I (1 - a),
//                       a = exp(-dt / tau), the exact solution for an input held over the step.
//                       IF, LIF fire where v > v_threshold, then v = v_reset (or v -= v_threshold,
//                       reset_rule::subtract_threshold, for the tools that mean it); they output
//                       the spikes, I and LI their potential.
//   CubaLI, CubaLIF     tau_syn dI/dt = -I + w_in x first, then the membrane with the new I (the
//                       order of snnTorch's Synaptic and Lava-dl's CUBA neurons), each stepped as above.
// A parameter may be one value for all neurons or one per neuron; missing optional ones take
// NIR's defaults (v_leak 0, v_reset 0, w_in 1, bias 0, stride 1, padding 0, dilation 1,
// groups 1). An edge that closes a cycle (found by a depth-first walk from the Input in the
// file's edge order) is a recurrent edge: it carries its source's output of the step before,
// as NIR's simulators run recurrent graphs.
//
// Affine, Linear and the convolutions run, step by step, event-driven (for each input that
// is not zero, in order, its value times its weights: the work follows the spikes) or dense
// (a matrix product over the whole input: im2col and one product per group for a
// convolution, the training model's linear kernel for an affine map), as the compile-time
// engine does: runtime_options::path, by default event-driven where at most
// event_driven_below of the step's inputs are nonzero. The two sum in different orders, so
// their currents may differ in the last bits (a spike exactly at a threshold may move).
// Square, undilated, ungrouped convolutions, affine maps and unpadded square average pooling
// run the compile-time engine's kernels on either path, the others the runtime's own. A
// product whose input has the bits of the step before keeps its output (an image shown at
// every step is convolved once). Samples run in parallel, each on its own state; the same
// input and options give the same bits.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

#include <Eigen/Core>

#include "../core/error.hpp"
#include "../core/parallel.hpp"
#include "../layer/context.hpp"
#include "../ops/cpu/event_driven.hpp"
#include "../ops/cpu/im2col.hpp"
#include "../ops/cpu/linear.hpp"
#include "../ops/cpu/pool.hpp"
#include "nir_graph.hpp"
#include "path.hpp"

namespace snn2ann::inline v0::deploy {

/// How a continuous-time neuron takes one step of dt.
enum class discretisation {
    forward_euler,  ///< v += dt / tau (v_leak - v + r I): Norse's and snnTorch's step
    exponential,    ///< v = v_leak + (v - v_leak) exp(-dt / tau) + r I (1 - exp(-dt / tau)): exact for an input held over the step
};

/// What a spiking node's membrane does after a spike.
enum class reset_rule {
    to_v_reset,          ///< v = v_reset (NIR's definition)
    subtract_threshold,  ///< v -= v_threshold (reset by subtraction, as SpikingJelly's and snnTorch's "subtract")
};

/// How the runtime engine reads a graph's continuous time.
struct runtime_options {
    double dt = 1.0;  ///< one step, in the time unit of the file's time constants (seconds for Norse's files)
    discretisation method = discretisation::forward_euler;  ///< how a neuron steps
    reset_rule reset = reset_rule::to_v_reset;              ///< what a spike does to the membrane
    /// How Affine, Linear and the convolutions compute: dense, event-driven, or chosen per
    /// node and step by the fraction of nonzero inputs.
    deploy::path path = deploy::path::automatic;
    /// path::automatic runs a step event-driven where at most this fraction of the node's
    /// inputs is nonzero (the inference engine's default).
    double event_driven_below = detail::default_event_driven_below;
};

/// What one recorded node did: its output (spikes for IF, LIF and CubaLIF) and, for a neuron
/// node, its membrane potential after each step (after the reset), both [step][sample][value].
struct node_trace {
    std::string node;             ///< the node's name
    std::size_t size = 0;         ///< values per sample
    std::vector<float> output;    ///< steps x batch x size
    std::vector<float> membrane;  ///< steps x batch x size; empty for a node without a membrane
};

/// What a run gives: the Output node at every step and the traces asked for.
struct run_result {
    std::size_t steps = 0;  ///< the steps run
    std::size_t batch = 0;  ///< the samples run
    std::size_t size = 0;   ///< values per sample of the Output
    std::vector<float> output;                   ///< steps x batch x size
    std::vector<node_trace> traces;              ///< in the order asked

    /// The trace of node `name`; invalid_argument if it was not recorded.
    const node_trace& trace(const std::string& name) const {
        for (const node_trace& t : traces)
            if (t.node == name) return t;
        throw invalid_argument("deploy::run_result: node '" + name + "' was not recorded");
    }
};

}  // namespace snn2ann::inline v0::deploy

namespace snn2ann::inline v0::detail {

enum class runtime_kind { input, output, affine, scale, conv, pool, flatten, threshold, neuron, delay };

/// One node of the runtime engine, its parameters in the form its step uses.
struct runtime_op {
    runtime_kind kind = runtime_kind::input;
    std::string name, type;
    std::vector<std::int64_t> in_dims, out_dims;
    std::size_t in_size = 0, out_size = 0;
    std::vector<std::pair<std::size_t, bool>> sources;  // (op, recurrent: the step before)
    bool read_late = false;                             // a recurrent edge reads it
    // affine: weights [input][output] (one input's weights contiguous), bias per output, the
    // width of the last dimension it maps (rows = in_size / width); conv: weights [input
    // channel][ky][kx][output of its group] (a square one: conv_scatter_weights' layout).
    // dense_weight: the file's layout, [output][the rest], for the dense path.
    std::vector<float> weight, bias, dense_weight;
    std::size_t columns = 0;  // conv: its unrolled input's values for the dense path (0: above max_dense_columns, event-driven)
    // conv with one group, no dilation, a square kernel, stride and padding, or an unpadded
    // square AvgPool2d: the training model's geometry, run by the compile-time engine's
    // kernels (a conv's weight in their layout)
    bool square = false;
    conv_geometry geometry{};
    std::size_t width = 0;
    // conv and pool: channels, extents, kernel, stride, padding (top, left), dilation, groups
    int in_c = 0, in_h = 1, in_w = 1, out_c = 0, out_h = 1, out_w = 1;
    int kh = 1, kw = 1, sh = 1, sw = 1, ph = 0, pw = 0, dh = 1, dw = 1, groups = 1;
    float divisor = 1.0f;  // pool: kernel area for AvgPool2d, 1 for SumPool2d
    // neuron: v = decay v + gain u + rest (u: the input, or the synaptic current updated as
    // current = syn_decay current + syn_gain x first); spiking: fires at v > threshold
    bool spiking = false, synapse = false, membrane = false;
    std::vector<float> decay, gain, rest, threshold, v_reset, syn_decay, syn_gain;
    // scale: factors; threshold: thresholds (in `threshold`)
    std::vector<float> factor;
    std::vector<int> delay_steps;  // delay: per value
    int max_delay = 0;
};

[[noreturn]] inline void runtime_fail(const deploy::nir_graph& g, const std::string& what) {
    throw invalid_argument("deploy::runtime: " + (g.source.empty() ? std::string("graph") : g.source) + ": " + what);
}

inline std::string dims_text(const std::vector<std::int64_t>& d) {
    std::string s = "[";
    for (std::size_t i = 0; i < d.size(); ++i) s += (i ? ", " : "") + std::to_string(d[i]);
    return s + "]";
}

/// One step of `n` spiking neurons: v = decay v + (gain u + rest), a spike where v is above
/// its threshold, then v = v_reset (or v - threshold). Unaliased parameters, so that the
/// loops vectorise.
inline void runtime_fire(std::size_t n, float* __restrict v, float* __restrict out, const float* __restrict decay,
                         const float* __restrict gain, const float* __restrict rest, const float* __restrict u,
                         const float* __restrict threshold, const float* __restrict v_reset, bool subtract) {
    if (subtract) {
        for (std::size_t i = 0; i < n; ++i) {
            const float vi = decay[i] * v[i] + (gain[i] * u[i] + rest[i]);
            const bool spike = vi > threshold[i];
            out[i] = spike ? 1.0f : 0.0f;
            v[i] = spike ? vi - threshold[i] : vi;
        }
        return;
    }
    for (std::size_t i = 0; i < n; ++i) {
        const float vi = decay[i] * v[i] + (gain[i] * u[i] + rest[i]), after = v_reset[i];  // both read: a blend
        const bool spike = vi > threshold[i];
        out[i] = spike ? 1.0f : 0.0f;
        v[i] = spike ? after : vi;
    }
}

/// Reads one node's parameters for the runtime, naming the file, node and parameter in
/// every refusal.
class runtime_node_reader {
public:
    runtime_node_reader(const deploy::nir_graph& g, const deploy::nir_node& n) : g_(g), n_(n) {}

    [[noreturn]] void fail(const std::string& parameter, const std::string& what) const {
        runtime_fail(g_, "node '" + n_.name + "' (" + n_.type + ")" + (parameter.empty() ? "" : ": parameter '" + parameter + "'") +
                             " " + what);
    }
    const deploy::nir_tensor& tensor(const std::string& p) const {
        const auto it = n_.parameters.find(p);
        if (it == n_.parameters.end()) fail(p, "is missing");
        // A graph built in memory may disagree with itself; a file's data set cannot.
        std::size_t count = 1;
        for (const std::int64_t d : it->second.dims) {
            if (d < 0 || d > (std::int64_t{1} << 32)) fail(p, "has the dimensions " + dims_text(it->second.dims));
            count *= static_cast<std::size_t>(d);
        }
        if (count != it->second.values.size())
            fail(p, "holds " + std::to_string(it->second.values.size()) + " values for its dimensions " + dims_text(it->second.dims));
        return it->second;
    }
    /// One value per element of a node of `n` values (a single value broadcast); `fallback`
    /// where the optional parameter is missing.
    std::vector<double> per_value(const std::string& p, std::size_t n, const double* fallback) const {
        if (!n_.has(p)) {
            if (!fallback) fail(p, "is missing");
            return std::vector<double>(n, *fallback);
        }
        const std::vector<double>& v = tensor(p).values;
        if (v.size() == 1) return std::vector<double>(n, v[0]);
        if (v.size() != n) fail(p, "holds " + std::to_string(v.size()) + " values for " + std::to_string(n) + " neurons");
        for (const double x : v)
            if (!std::isfinite(x)) fail(p, "holds a value that is not finite");
        return v;
    }
    /// An integer pair (a scalar given for both), e.g. a stride; `fallback` where missing.
    std::pair<int, int> pair(const std::string& p, int fallback, int low, int high) const {
        if (!n_.has(p)) return {fallback, fallback};
        const std::vector<double>& v = tensor(p).values;
        if (v.empty() || v.size() > 2) fail(p, "holds " + std::to_string(v.size()) + " values, not 1 or 2");
        const auto check = [&](double x) {
            if (!(x == std::floor(x) && x >= low && x <= high))
                fail(p, "holds " + std::to_string(x) + ", not an integer in [" + std::to_string(low) + ", " + std::to_string(high) + "]");
            return static_cast<int>(x);
        };
        return {check(v[0]), check(v.back())};
    }
    /// An integer scalar in [low, high]; `fallback` where missing.
    std::int64_t integer(const std::string& p, std::int64_t fallback, std::int64_t low, std::int64_t high) const {
        if (!n_.has(p)) return fallback;
        const std::vector<double>& v = tensor(p).values;
        if (v.size() != 1 || v[0] != std::floor(v[0])) fail(p, "is not one integer");
        // Compared as doubles: a value beyond int64 must be refused before any conversion.
        if (!(v[0] >= static_cast<double>(low) && v[0] <= static_cast<double>(high)))
            fail(p, "holds " + std::to_string(v[0]) + ", not an integer in [" + std::to_string(low) + ", " + std::to_string(high) + "]");
        return static_cast<std::int64_t>(v[0]);
    }
    /// A shape parameter (positive integers).
    std::vector<std::int64_t> shape_of(const std::string& p) const {
        const std::vector<double>& v = tensor(p).values;
        if (v.empty() || v.size() > 8) fail(p, "is not a shape of 1 to 8 dimensions");
        std::vector<std::int64_t> d;
        for (const double x : v) {
            if (!(x == std::floor(x) && x >= 1 && x <= (1 << 24))) fail(p, "holds " + std::to_string(x) + ", not a positive extent");
            d.push_back(static_cast<std::int64_t>(x));
        }
        return d;
    }

private:
    const deploy::nir_graph& g_;
    const deploy::nir_node& n_;
};

}  // namespace snn2ann::inline v0::detail

namespace snn2ann::inline v0::deploy {

/// Runs a NIR graph (see the header's comment). Built once from a graph, it runs any number
/// of batches; run() is const and may be called from several threads at once.
class runtime {
public:
    /// The most values per sample a node may hold (a damaged file may declare any shape).
    static constexpr std::size_t max_node_values = nir_max_node_values;
    /// The most values a convolution's unrolled input (its columns) may hold for the dense
    /// path; a larger one runs event-driven whatever the path.
    static constexpr std::size_t max_dense_columns = std::size_t{1} << 26;

    /// Compiles `g` with the time step and rules of `options`. A graph the engine cannot run
    /// (no Input or Output, a node not reached from the Input, a node type without a
    /// discrete-time meaning, a parameter of the wrong shape or value) is an invalid_argument
    /// naming the file, the node and the parameter.
    explicit runtime(const nir_graph& g, runtime_options options = {}) : options_(options), source_(g.source) {
        if (!(options.dt > 0 && std::isfinite(options.dt))) detail::runtime_fail(g, "dt is " + std::to_string(options.dt) + ", not a positive time");
        if (!(options.event_driven_below >= 0 && options.event_driven_below <= 1))
            detail::runtime_fail(g, "event_driven_below is " + std::to_string(options.event_driven_below) + ", not a fraction in [0, 1]");
        compile(g);
    }

    /// Values per sample of one step's input.
    std::size_t input_size() const { return ops_.front().out_size; }
    /// Values per sample of the Output node.
    std::size_t output_size() const { return ops_[output_].out_size; }
    /// The dimensions of the Input node.
    const std::vector<std::int64_t>& input_dims() const { return ops_.front().out_dims; }
    /// The dimensions of the Output node.
    const std::vector<std::int64_t>& output_dims() const { return ops_[output_].out_dims; }
    /// The time step and rules it was built with.
    const runtime_options& options() const { return options_; }

    /// The names of the nodes in the order each step runs them.
    std::vector<std::string> nodes() const {
        std::vector<std::string> n;
        for (const detail::runtime_op& op : ops_) n.push_back(op.name);
        return n;
    }

    /// The graph in words, one line per node in run order: name, type, dimensions, sources
    /// (a recurrent source marked "(t-1)").
    std::string describe() const {
        std::string s;
        for (const detail::runtime_op& op : ops_) {
            s += op.name + "  " + op.type + "  " + detail::dims_text(op.in_dims) + " -> " + detail::dims_text(op.out_dims);
            if (!op.sources.empty()) {
                s += "  from";
                for (const auto& [from, late] : op.sources) s += " " + ops_[from].name + (late ? "(t-1)" : "");
            }
            s += "\n";
        }
        return s;
    }

    /// Runs `steps` steps of `batch` samples on `frames` (steps x batch x input_size(): the
    /// input of each step), every state starting at rest (v = 0, currents 0, delay lines
    /// empty), and records the output and membrane of the nodes named in `record`.
    run_result run(const float* frames, std::size_t steps, std::size_t batch, const std::vector<std::string>& record = {}) const {
        std::vector<std::size_t> recorded;
        for (const std::string& r : record) {
            std::size_t k = 0;
            while (k < ops_.size() && ops_[k].name != r) ++k;
            if (k == ops_.size()) throw invalid_argument("deploy::runtime::run: no node is called '" + r + "' in " + source_);
            recorded.push_back(k);
        }
        run_result result;
        result.steps = steps, result.batch = batch, result.size = output_size();
        result.output.assign(steps * batch * result.size, 0.0f);
        for (const std::size_t k : recorded) {
            node_trace t;
            t.node = ops_[k].name, t.size = ops_[k].out_size;
            t.output.assign(steps * batch * t.size, 0.0f);
            if (ops_[k].membrane) t.membrane.assign(steps * batch * t.size, 0.0f);
            result.traces.push_back(std::move(t));
        }
        if (steps == 0 || batch == 0) return result;
        if (!frames) throw invalid_argument("deploy::runtime::run: no frames");
        detail::for_range(batch, 1, [&](std::size_t begin, std::size_t end) {
            sample_state state;  // one per worker: its buffers are reused sample after sample
            for (std::size_t b = begin; b < end; ++b) run_sample(frames, steps, batch, b, recorded, result, state);
        });
        return result;
    }

private:
    struct sample_state {
        std::vector<std::vector<float>> out, late, v, current, line, last_input;
        std::vector<float> sum, hwc, columns;
        std::vector<std::uint32_t> active;  // the nonzero inputs of a step
    };

    void compile(const nir_graph& g);
    void compile_node(const nir_graph& g, const nir_node& n, detail::runtime_op& op) const;
    void neuron_of(const detail::runtime_node_reader& r, const nir_node& n, detail::runtime_op& op) const;
    void run_sample(const float* frames, std::size_t steps, std::size_t batch, std::size_t b, const std::vector<std::size_t>& recorded,
                    run_result& result, sample_state& s) const;
    void step_op(const detail::runtime_op& op, const float* x, sample_state& s, std::size_t k, std::size_t t) const;
    bool runs_dense(const detail::runtime_op& op, const float* x) const;
    void dense_conv(const detail::runtime_op& op, const float* x, float* y, sample_state& s) const;
    static void unroll(const detail::runtime_op& op, const float* x, float* col);

    runtime_options options_;
    std::string source_;
    std::vector<detail::runtime_op> ops_;  // in run order, the Input first
    std::size_t output_ = 0;
};

inline void runtime::compile(const nir_graph& g) {
    using detail::runtime_fail;
    std::map<std::string, std::size_t> index;
    for (std::size_t i = 0; i < g.nodes.size(); ++i)
        if (!index.emplace(g.nodes[i].name, i).second) runtime_fail(g, "two nodes are called '" + g.nodes[i].name + "'");
    std::vector<std::size_t> inputs, outputs;
    for (std::size_t i = 0; i < g.nodes.size(); ++i) {
        if (g.nodes[i].type == "Input") inputs.push_back(i);
        if (g.nodes[i].type == "Output") outputs.push_back(i);
    }
    if (inputs.size() != 1) runtime_fail(g, "holds " + std::to_string(inputs.size()) + " Input nodes; the runtime runs graphs of one");
    if (outputs.size() != 1) runtime_fail(g, "holds " + std::to_string(outputs.size()) + " Output nodes; the runtime runs graphs of one");
    std::vector<std::vector<std::size_t>> successors(g.nodes.size());  // edge indices by source
    for (std::size_t e = 0; e < g.edges.size(); ++e) {
        const auto from = index.find(g.edges[e].first), to = index.find(g.edges[e].second);
        if (from == index.end() || to == index.end()) runtime_fail(g, "edge " + std::to_string(e) + " names a node that does not exist");
        successors[from->second].push_back(e);
    }
    // Depth-first from the Input in the edges' order: an edge to a node on the walk's stack
    // closes a cycle and is recurrent.
    std::vector<char> recurrent(g.edges.size(), 0), state(g.nodes.size(), 0);  // 0 new, 1 on stack, 2 done
    std::vector<std::pair<std::size_t, std::size_t>> stack{{inputs[0], 0}};
    state[inputs[0]] = 1;
    while (!stack.empty()) {
        auto& [node, next] = stack.back();
        if (next == successors[node].size()) {
            state[node] = 2;
            stack.pop_back();
            continue;
        }
        const std::size_t e = successors[node][next++];
        const std::size_t to = index.at(g.edges[e].second);
        if (state[to] == 1) recurrent[e] = 1;
        else if (state[to] == 0) {
            state[to] = 1;
            stack.emplace_back(to, 0);
        }
    }
    for (std::size_t i = 0; i < g.nodes.size(); ++i)
        if (!state[i]) runtime_fail(g, "node '" + g.nodes[i].name + "' (" + g.nodes[i].type + ") is not reached from the Input node '" +
                                           g.nodes[inputs[0]].name + "'");
    // Run order: the forward edges' topological order (Kahn's, ties in the file's node order).
    std::vector<std::size_t> pending(g.nodes.size(), 0), order;
    for (std::size_t e = 0; e < g.edges.size(); ++e)
        if (!recurrent[e]) ++pending[index.at(g.edges[e].second)];
    std::vector<std::size_t> ready{inputs[0]};
    if (pending[inputs[0]] != 0) runtime_fail(g, "an edge leads into the Input node '" + g.nodes[inputs[0]].name + "'");
    while (!ready.empty()) {
        const std::size_t n = ready.front();
        ready.erase(ready.begin());
        order.push_back(n);
        for (const std::size_t e : successors[n]) {
            if (recurrent[e]) continue;
            const std::size_t to = index.at(g.edges[e].second);
            if (--pending[to] == 0) ready.insert(std::upper_bound(ready.begin(), ready.end(), to), to);
        }
    }
    std::vector<std::size_t> position(g.nodes.size());
    for (std::size_t k = 0; k < order.size(); ++k) position[order[k]] = k;
    ops_.resize(order.size());
    for (std::size_t e = 0; e < g.edges.size(); ++e) {
        const std::size_t from = position[index.at(g.edges[e].first)], to = position[index.at(g.edges[e].second)];
        ops_[to].sources.emplace_back(from, recurrent[e] != 0);
        if (recurrent[e]) ops_[from].read_late = true;
    }
    for (std::size_t k = 0; k < order.size(); ++k) {
        const nir_node& n = g.nodes[order[k]];
        detail::runtime_op& op = ops_[k];
        op.name = n.name, op.type = n.type;
        if (k > 0 && op.sources.empty()) runtime_fail(g, "node '" + n.name + "' has no input");
        // The input: the forward sources' (all of one size; recurrent ones are checked below).
        for (const auto& [from, late] : op.sources) {
            if (late) continue;
            if (op.in_dims.empty()) op.in_dims = ops_[from].out_dims;
            else if (ops_[from].out_size != detail::dims_count(op.in_dims))
                runtime_fail(g, "node '" + n.name + "' (" + n.type + ") sums inputs of " + std::to_string(detail::dims_count(op.in_dims)) +
                                    " and " + std::to_string(ops_[from].out_size) + " values");
        }
        op.in_size = detail::dims_count(op.in_dims);
        compile_node(g, n, op);
        op.out_size = detail::dims_count(op.out_dims);
        if (op.out_size == 0 || op.out_size > max_node_values)
            runtime_fail(g, "node '" + n.name + "' (" + n.type + ") gives " + std::to_string(op.out_size) + " values per sample (1 to " +
                                std::to_string(max_node_values) + " are run)");
        if (n.type == "Output") output_ = k;
    }
    for (const detail::runtime_op& op : ops_)
        for (const auto& [from, late] : op.sources)
            if (late && ops_[from].out_size != op.in_size)
                runtime_fail(g, "the recurrent edge from '" + ops_[from].name + "' gives node '" + op.name + "' " +
                                    std::to_string(ops_[from].out_size) + " values for its " + std::to_string(op.in_size));
}

inline void runtime::neuron_of(const detail::runtime_node_reader& r, const nir_node& n, detail::runtime_op& op) const {
    const std::string& t = n.type;
    const std::size_t count = op.in_size;
    const double zero = 0.0, one = 1.0, dt = options_.dt;
    const bool leaky = t == "LI" || t == "LIF" || t == "CubaLI" || t == "CubaLIF";
    op.kind = detail::runtime_kind::neuron;
    op.spiking = t == "IF" || t == "LIF" || t == "CubaLIF";
    op.synapse = t == "CubaLI" || t == "CubaLIF";
    op.membrane = true;
    op.out_dims = op.in_dims;
    const std::vector<double> rr = r.per_value("r", count, nullptr);
    const std::vector<double> tau = leaky ? r.per_value(op.synapse ? "tau_mem" : "tau", count, nullptr) : std::vector<double>{};
    const std::vector<double> leak = leaky ? r.per_value("v_leak", count, &zero) : std::vector<double>{};
    op.decay.resize(count), op.gain.resize(count), op.rest.resize(count);
    const bool exponential = options_.method == discretisation::exponential;
    for (std::size_t i = 0; i < count; ++i) {
        if (!leaky) {
            op.decay[i] = 1.0f, op.gain[i] = static_cast<float>(dt * rr[i]), op.rest[i] = 0.0f;
            continue;
        }
        if (!(tau[i] > 0)) r.fail(op.synapse ? "tau_mem" : "tau", "holds " + std::to_string(tau[i]) + ", not a positive time");
        if (exponential) {
            const double a = std::exp(-dt / tau[i]);
            op.decay[i] = static_cast<float>(a), op.gain[i] = static_cast<float>(rr[i] * (1 - a)),
            op.rest[i] = static_cast<float>(leak[i] * (1 - a));
        } else {
            const double f = dt / tau[i];
            if (f > 2)
                r.fail(op.synapse ? "tau_mem" : "tau", "holds " + std::to_string(tau[i]) + ": forward Euler with dt " + std::to_string(dt) +
                                                            " is unstable (dt / tau > 2); give a smaller dt or the exponential step");
            op.decay[i] = static_cast<float>(1 - f), op.gain[i] = static_cast<float>(f * rr[i]), op.rest[i] = static_cast<float>(f * leak[i]);
        }
    }
    if (op.synapse) {
        const std::vector<double> ts = r.per_value("tau_syn", count, nullptr), w = r.per_value("w_in", count, &one);
        op.syn_decay.resize(count), op.syn_gain.resize(count);
        for (std::size_t i = 0; i < count; ++i) {
            if (!(ts[i] > 0)) r.fail("tau_syn", "holds " + std::to_string(ts[i]) + ", not a positive time");
            const double a = exponential ? std::exp(-dt / ts[i]) : 1 - dt / ts[i];
            if (!exponential && dt / ts[i] > 2) r.fail("tau_syn", "is too small for forward Euler with dt " + std::to_string(dt));
            op.syn_decay[i] = static_cast<float>(a), op.syn_gain[i] = static_cast<float>(exponential ? w[i] * (1 - a) : w[i] * dt / ts[i]);
        }
    }
    if (op.spiking) {
        const std::vector<double> th = r.per_value("v_threshold", count, nullptr), vr = r.per_value("v_reset", count, &zero);
        op.threshold.assign(th.begin(), th.end());
        op.v_reset.assign(vr.begin(), vr.end());
    }
}

inline void runtime::compile_node(const nir_graph& g, const nir_node& n, detail::runtime_op& op) const {
    const detail::runtime_node_reader r(g, n);
    const std::string& t = n.type;
    if (t == "Input") {
        op.kind = detail::runtime_kind::input;
        op.out_dims = n.has("shape") ? r.shape_of("shape") : r.shape_of("input_type");
        op.in_dims = op.out_dims;
        return;
    }
    if (t == "Output") {
        op.kind = detail::runtime_kind::output;
        op.out_dims = op.in_dims;
        const std::string p = n.has("shape") ? "shape" : "output_type";
        if (n.has(p) && detail::dims_count(r.shape_of(p)) != op.in_size)
            r.fail(p, "is " + detail::dims_text(r.shape_of(p)) + ", and the node receives " + std::to_string(op.in_size) + " values");
        return;
    }
    if (t == "Affine" || t == "Linear") {
        const nir_tensor& w = r.tensor("weight");
        if (w.dims.size() != 2) r.fail("weight", "has " + std::to_string(w.dims.size()) + " dimensions, not 2 (outputs, inputs)");
        const auto outs = static_cast<std::size_t>(w.dims[0]), ins = static_cast<std::size_t>(w.dims[1]);
        op.kind = detail::runtime_kind::affine;
        op.width = ins;
        op.out_dims = op.in_dims;
        if (ins == op.in_size) op.out_dims = {static_cast<std::int64_t>(outs)};
        else if (!op.in_dims.empty() && static_cast<std::size_t>(op.in_dims.back()) == ins) op.out_dims.back() = static_cast<std::int64_t>(outs);
        else r.fail("weight", "is " + detail::dims_text(w.dims) + ", and the node receives " + detail::dims_text(op.in_dims));
        op.weight.resize(ins * outs);
        for (std::size_t o = 0; o < outs; ++o)
            for (std::size_t i = 0; i < ins; ++i) op.weight[i * outs + o] = static_cast<float>(w.values[o * ins + i]);
        op.dense_weight.assign(w.values.begin(), w.values.end());
        op.bias.assign(outs, 0.0f);
        if (t == "Affine" && n.has("bias")) {
            const nir_tensor& b = r.tensor("bias");
            if (b.values.size() != outs) r.fail("bias", "holds " + std::to_string(b.values.size()) + " values for " + std::to_string(outs) + " outputs");
            std::transform(b.values.begin(), b.values.end(), op.bias.begin(), [](double x) { return static_cast<float>(x); });
        }
        return;
    }
    if (t == "Scale" || t == "Threshold") {
        const bool scale = t == "Scale";
        op.kind = scale ? detail::runtime_kind::scale : detail::runtime_kind::threshold;
        op.out_dims = op.in_dims;
        const std::vector<double> v = r.per_value(scale ? "scale" : "threshold", op.in_size, nullptr);
        (scale ? op.factor : op.threshold).assign(v.begin(), v.end());
        return;
    }
    if (t == "Conv1d" || t == "Conv2d") {
        const bool two = t == "Conv2d";
        const nir_tensor& w = r.tensor("weight");
        if (w.dims.size() != (two ? 4u : 3u)) r.fail("weight", "has " + std::to_string(w.dims.size()) + " dimensions, not " + (two ? "4" : "3"));
        std::vector<std::int64_t> in = op.in_dims;
        if (in.size() == 1 && n.has("input_shape")) {  // a flat input: the node's own input_shape
            const std::vector<std::int64_t> hw = r.shape_of("input_shape");
            const std::size_t area = detail::dims_count(hw);
            if (area == 0 || op.in_size % area) r.fail("input_shape", "does not divide the " + std::to_string(op.in_size) + " values it receives");
            in = {static_cast<std::int64_t>(op.in_size / area)};
            in.insert(in.end(), hw.begin(), hw.end());
        }
        if (in.size() != (two ? 3u : 2u))
            r.fail("", "receives " + detail::dims_text(op.in_dims) + ", not " + (two ? "[C, H, W]" : "[C, L]"));
        op.kind = detail::runtime_kind::conv;
        op.in_c = static_cast<int>(in[0]), op.in_h = two ? static_cast<int>(in[1]) : 1, op.in_w = static_cast<int>(in.back());
        op.groups = static_cast<int>(r.integer("groups", 1, 1, 1 << 20));
        op.out_c = static_cast<int>(w.dims[0]);
        if (op.in_c % op.groups || op.out_c % op.groups || w.dims[1] != op.in_c / op.groups)
            r.fail("weight", "is " + detail::dims_text(w.dims) + " for " + std::to_string(op.in_c) + " input channels in " +
                                 std::to_string(op.groups) + " groups");
        op.kh = two ? static_cast<int>(w.dims[2]) : 1, op.kw = static_cast<int>(w.dims.back());
        const auto stride = r.pair("stride", 1, 1, 4096), dilation = r.pair("dilation", 1, 1, 4096);
        op.sh = two ? stride.first : 1, op.sw = stride.second, op.dh = two ? dilation.first : 1, op.dw = dilation.second;
        const auto text = n.texts.find("padding");
        if (text != n.texts.end()) {
            if (text->second == "valid") op.ph = op.pw = 0;
            else if (text->second == "same") {
                const int eh = op.dh * (op.kh - 1), ew = op.dw * (op.kw - 1);
                if (eh % 2 || ew % 2 || op.sh != 1 || op.sw != 1)
                    r.fail("padding", "is 'same' for a kernel of even extent or a stride above 1, which pads unevenly");
                op.ph = eh / 2, op.pw = ew / 2;
            } else r.fail("padding", "is '" + text->second + "', not a number, 'same' or 'valid'");
        } else {
            const auto pad = r.pair("padding", 0, 0, 4096);
            op.ph = two ? pad.first : 0, op.pw = pad.second;
        }
        const int eh = op.dh * (op.kh - 1) + 1, ew = op.dw * (op.kw - 1) + 1;
        if (op.in_h + 2 * op.ph < eh || op.in_w + 2 * op.pw < ew) r.fail("", "has a kernel larger than its padded input " + detail::dims_text(in));
        op.out_h = (op.in_h + 2 * op.ph - eh) / op.sh + 1, op.out_w = (op.in_w + 2 * op.pw - ew) / op.sw + 1;
        op.out_dims = two ? std::vector<std::int64_t>{op.out_c, op.out_h, op.out_w} : std::vector<std::int64_t>{op.out_c, op.out_w};
        // The dense path's weights in the file's layout; the event-driven path's by input
        // channel and kernel position, the outputs contiguous: a square convolution's as the
        // compile-time engine's kernels read them, another's the outputs of its group.
        const int per_group = op.out_c / op.groups, in_per_group = op.in_c / op.groups;
        op.dense_weight.assign(w.values.begin(), w.values.end());
        op.weight.resize(static_cast<std::size_t>(op.in_c) * op.kh * op.kw * per_group);
        op.square = op.groups == 1 && op.dh == 1 && op.dw == 1 && op.kh == op.kw && op.sh == op.sw && op.ph == op.pw;
        if (op.square) {
            op.geometry = {op.in_c, op.in_h, op.in_w, op.kh, op.sh, op.ph, op.out_c, op.out_h, op.out_w};
            detail::cpu_ops::conv_scatter_weights(op.dense_weight.data(), static_cast<std::size_t>(op.out_c),
                                                  op.geometry.col_rows(), op.weight.data());
        } else {
            for (int o = 0; o < op.out_c; ++o)
                for (int c = 0; c < in_per_group; ++c)
                    for (int y = 0; y < op.kh; ++y)
                        for (int x = 0; x < op.kw; ++x) {
                            const int channel = (o / per_group) * in_per_group + c;
                            op.weight[((static_cast<std::size_t>(channel) * op.kh + y) * op.kw + x) * per_group + o % per_group] =
                                static_cast<float>(w.values[((static_cast<std::size_t>(o) * in_per_group + c) * op.kh + y) * op.kw + x]);
                        }
        }
        const double columns = static_cast<double>(in_per_group) * op.kh * op.kw * op.out_h * op.out_w;
        op.columns = columns <= static_cast<double>(max_dense_columns) ? static_cast<std::size_t>(columns) : 0;
        op.bias.assign(static_cast<std::size_t>(op.out_c), 0.0f);
        if (n.has("bias")) {
            const nir_tensor& b = r.tensor("bias");
            if (b.values.size() != op.bias.size()) r.fail("bias", "holds " + std::to_string(b.values.size()) + " values for " + std::to_string(op.out_c) + " channels");
            std::transform(b.values.begin(), b.values.end(), op.bias.begin(), [](double x) { return static_cast<float>(x); });
        }
        return;
    }
    if (t == "AvgPool2d" || t == "SumPool2d") {
        if (op.in_dims.size() != 3) r.fail("", "receives " + detail::dims_text(op.in_dims) + ", not [C, H, W]");
        op.kind = detail::runtime_kind::pool;
        op.in_c = op.out_c = static_cast<int>(op.in_dims[0]), op.in_h = static_cast<int>(op.in_dims[1]), op.in_w = static_cast<int>(op.in_dims[2]);
        std::tie(op.kh, op.kw) = r.pair("kernel_size", 0, 1, 4096);
        if (!n.has("kernel_size")) r.fail("kernel_size", "is missing");
        std::tie(op.sh, op.sw) = n.has("stride") ? r.pair("stride", 1, 1, 4096) : std::pair<int, int>{op.kh, op.kw};
        std::tie(op.ph, op.pw) = r.pair("padding", 0, 0, 4096);
        if (op.in_h + 2 * op.ph < op.kh || op.in_w + 2 * op.pw < op.kw) r.fail("kernel_size", "is larger than the padded input");
        op.out_h = (op.in_h + 2 * op.ph - op.kh) / op.sh + 1, op.out_w = (op.in_w + 2 * op.pw - op.kw) / op.sw + 1;
        op.divisor = t == "AvgPool2d" ? static_cast<float>(op.kh * op.kw) : 1.0f;
        op.square = t == "AvgPool2d" && op.kh == op.kw && op.sh == op.sw && op.ph == 0 && op.pw == 0;
        if (op.square) op.geometry = {op.in_c, op.in_h, op.in_w, op.kh, op.sh, 0, op.in_c, op.out_h, op.out_w};
        op.out_dims = {op.out_c, op.out_h, op.out_w};
        return;
    }
    if (t == "Flatten") {
        op.kind = detail::runtime_kind::flatten;
        std::vector<std::int64_t> in = op.in_dims;
        if (n.has("input_type") && detail::dims_count(r.shape_of("input_type")) == op.in_size) in = r.shape_of("input_type");
        const auto rank = static_cast<std::int64_t>(in.size());
        std::int64_t start = r.integer("start_dim", 1, -64, 64), end = r.integer("end_dim", -1, -64, 64);
        if (start < 0) start += rank;
        if (end < 0) end += rank;
        if (start < 0 || end >= rank || start > end)
            r.fail("start_dim", "and end_dim select no dimensions of " + detail::dims_text(in) + " (the sample's, without a batch)");
        op.out_dims.assign(in.begin(), in.begin() + start);
        op.out_dims.push_back(static_cast<std::int64_t>(std::accumulate(in.begin() + start, in.begin() + end + 1, std::int64_t{1},
                                                                        std::multiplies<>())));
        op.out_dims.insert(op.out_dims.end(), in.begin() + end + 1, in.end());
        return;
    }
    if (t == "Delay") {
        op.kind = detail::runtime_kind::delay;
        op.out_dims = op.in_dims;
        for (const double d : r.per_value("delay", op.in_size, nullptr)) {
            const double steps = std::round(d / options_.dt);
            if (!(steps >= 0 && steps <= 1e6)) r.fail("delay", "holds " + std::to_string(d) + ", not a delay of 0 to 10^6 steps");
            op.delay_steps.push_back(static_cast<int>(steps));
            op.max_delay = std::max(op.max_delay, static_cast<int>(steps));
        }
        return;
    }
    if (t == "I" || t == "IF" || t == "LI" || t == "LIF" || t == "CubaLI" || t == "CubaLIF") {
        neuron_of(r, n, op);
        return;
    }
    r.fail("", "is of a type the runtime does not run (it runs Input, Output, Affine, Linear, Scale, Conv1d, Conv2d, AvgPool2d, "
               "SumPool2d, Flatten, Threshold, Delay, I, IF, LI, LIF, CubaLI and CubaLIF)");
}

inline void runtime::run_sample(const float* frames, std::size_t steps, std::size_t batch, std::size_t b,
                                const std::vector<std::size_t>& recorded, run_result& result, sample_state& s) const {
    // Every state at rest (assign keeps the memory of the sample before).
    s.out.resize(ops_.size()), s.late.resize(ops_.size()), s.v.resize(ops_.size()), s.current.resize(ops_.size()), s.line.resize(ops_.size());
    s.last_input.resize(ops_.size());
    std::size_t widest = 0, hwc = 0, columns = 0, active = 0;
    for (std::size_t k = 0; k < ops_.size(); ++k) {
        const detail::runtime_op& op = ops_[k];
        s.out[k].assign(op.out_size, 0.0f);
        if (op.read_late) s.late[k].assign(op.out_size, 0.0f);
        if (op.kind == detail::runtime_kind::neuron) s.v[k].assign(op.out_size, 0.0f);
        if (op.kind == detail::runtime_kind::affine || op.kind == detail::runtime_kind::conv) s.last_input[k].clear();
        if (op.synapse) s.current[k].assign(op.out_size, 0.0f);
        // A delay line holds the steps the run can read back: a delay of `steps` or more
        // gives zeros throughout.
        if (op.kind == detail::runtime_kind::delay)
            s.line[k].assign(op.out_size * (std::min(static_cast<std::size_t>(op.max_delay), steps - 1) + 1), 0.0f);
        if (op.kind == detail::runtime_kind::conv) {
            hwc = std::max(hwc, op.square ? op.geometry.out_plane() * detail::cpu_ops::event_block_width(0, static_cast<std::size_t>(op.out_c))
                                          : op.out_size);
            if (op.square) active = std::max(active, op.in_size + static_cast<std::size_t>(op.in_h) * op.in_w);  // counts, channels
            columns = std::max(columns, op.columns);
        }
        if (op.kind == detail::runtime_kind::affine) active = std::max(active, op.width);
        widest = std::max(widest, op.in_size);
    }
    s.sum.resize(widest);
    s.hwc.resize(hwc);
    s.active.resize(active);
    if (options_.path != deploy::path::event_driven) s.columns.resize(columns);
    for (std::size_t t = 0; t < steps; ++t) {
        for (std::size_t k = 0; k < ops_.size(); ++k) {
            const detail::runtime_op& op = ops_[k];
            const float* x = nullptr;
            if (op.kind == detail::runtime_kind::input) {
                x = frames + (t * batch + b) * op.out_size;
            } else if (op.sources.size() == 1 && !op.sources[0].second) {
                x = s.out[op.sources[0].first].data();
            } else {  // fan-in: the sum of the sources, in the order of the edges
                std::fill(s.sum.begin(), s.sum.begin() + static_cast<std::ptrdiff_t>(op.in_size), 0.0f);
                for (const auto& [from, late] : op.sources) {
                    const float* y = late ? s.late[from].data() : s.out[from].data();
                    for (std::size_t i = 0; i < op.in_size; ++i) s.sum[i] += y[i];
                }
                x = s.sum.data();
            }
            step_op(op, x, s, k, t);
        }
        for (std::size_t k = 0; k < ops_.size(); ++k)
            if (ops_[k].read_late) s.late[k] = s.out[k];
        const std::size_t out = result.size;
        std::copy(s.out[output_].begin(), s.out[output_].end(), result.output.begin() + static_cast<std::ptrdiff_t>((t * batch + b) * out));
        for (std::size_t r = 0; r < recorded.size(); ++r) {
            node_trace& trace = result.traces[r];
            const std::size_t k = recorded[r], at = (t * batch + b) * trace.size;
            std::copy(s.out[k].begin(), s.out[k].end(), trace.output.begin() + static_cast<std::ptrdiff_t>(at));
            if (!trace.membrane.empty()) std::copy(s.v[k].begin(), s.v[k].end(), trace.membrane.begin() + static_cast<std::ptrdiff_t>(at));
        }
    }
}

inline void runtime::step_op(const detail::runtime_op& op, const float* x, sample_state& s, std::size_t k, std::size_t t) const {
    float* y = s.out[k].data();
    if (op.kind == detail::runtime_kind::affine || op.kind == detail::runtime_kind::conv) {
        // A product whose input has the bits of the step before keeps its output: an image
        // shown at every step is convolved once, as the compile-time engine does.
        std::vector<float>& last = s.last_input[k];
        const std::size_t bytes = op.in_size * sizeof(float);
        if (!last.empty() && std::memcmp(last.data(), x, bytes) == 0) return;
        last.assign(x, x + op.in_size);
    }
    switch (op.kind) {
        case detail::runtime_kind::input:
        case detail::runtime_kind::output:
        case detail::runtime_kind::flatten:
            std::copy(x, x + op.out_size, y);
            return;
        case detail::runtime_kind::scale:
            for (std::size_t i = 0; i < op.out_size; ++i) y[i] = op.factor[i] * x[i];
            return;
        case detail::runtime_kind::threshold:
            for (std::size_t i = 0; i < op.out_size; ++i) y[i] = x[i] > op.threshold[i] ? 1.0f : 0.0f;
            return;
        case detail::runtime_kind::affine: {
            const std::size_t outs = op.bias.size(), rows = op.in_size / op.width;
            if (runs_dense(op, x))
                return detail::cpu_ops::linear_forward(cpu{}, rows, static_cast<int>(op.width), static_cast<int>(outs), x,
                                                       op.dense_weight.data(), op.bias.data(), y);
            // Event-driven: the weights of each nonzero input, the compile-time engine's sums.
            for (std::size_t row = 0; row < rows; ++row) {
                const float* xr = x + row * op.width;
                const std::uint32_t count = detail::cpu_ops::active_entries(xr, op.width, s.active.data());
                detail::cpu_ops::affine_events(op.weight.data(), op.bias.data(), outs, xr, s.active.data(), count, y + row * outs);
            }
            return;
        }
        case detail::runtime_kind::conv: {
            if (runs_dense(op, x)) return dense_conv(op, x, y, s);
            if (op.square) {  // the compile-time engine's event-driven convolution
                const detail::conv_geometry& g = op.geometry;
                std::uint32_t* count = s.active.data();
                bool binary = false;
                detail::cpu_ops::active_channels(g, x, count, count + static_cast<std::size_t>(g.h) * g.w, binary);
                return detail::cpu_ops::conv_events(g, op.weight.data(), op.bias.data(), x, count, count + static_cast<std::size_t>(g.h) * g.w,
                                                    binary, s.hwc.data(), y);
            }
            // Sums per output position with the output channels contiguous ([oh][ow][o]), each
            // input scattered to the outputs its kernel reaches, inputs in order.
            const int per_group = op.out_c / op.groups, in_per_group = op.in_c / op.groups;
            const std::size_t oc = static_cast<std::size_t>(op.out_c);
            float* acc = s.hwc.data();
            for (int p = 0; p < op.out_h * op.out_w; ++p) std::copy(op.bias.begin(), op.bias.end(), acc + static_cast<std::size_t>(p) * oc);
            for (int c = 0; c < op.in_c; ++c) {
                const int first = (c / in_per_group) * per_group;
                for (int iy = 0; iy < op.in_h; ++iy)
                    for (int ix = 0; ix < op.in_w; ++ix) {
                        const float v = x[(static_cast<std::size_t>(c) * op.in_h + iy) * op.in_w + ix];
                        if (v == 0.0f) continue;
                        for (int ky = 0; ky < op.kh; ++ky) {
                            const int ny = iy + op.ph - ky * op.dh;
                            if (ny < 0 || ny % op.sh) continue;
                            const int oy = ny / op.sh;
                            if (oy >= op.out_h) continue;
                            for (int kx = 0; kx < op.kw; ++kx) {
                                const int nx = ix + op.pw - kx * op.dw;
                                if (nx < 0 || nx % op.sw) continue;
                                const int ox = nx / op.sw;
                                if (ox >= op.out_w) continue;
                                const float* w = op.weight.data() + ((static_cast<std::size_t>(c) * op.kh + ky) * op.kw + kx) * per_group;
                                float* a = acc + (static_cast<std::size_t>(oy) * op.out_w + ox) * oc + first;
                                for (int o = 0; o < per_group; ++o) a[o] += v * w[o];
                            }
                        }
                    }
            }
            const std::size_t area = static_cast<std::size_t>(op.out_h) * op.out_w;
            for (std::size_t p = 0; p < area; ++p)
                for (std::size_t o = 0; o < oc; ++o) y[o * area + p] = acc[p * oc + o];
            return;
        }
        case detail::runtime_kind::pool: {
            if (op.square) {  // the training model's average pooling (its sum times 1 / k^2)
                return detail::cpu_ops::avg_pool_forward(cpu{}, op.geometry, 1, x, y);
            }
            for (int c = 0; c < op.in_c; ++c)
                for (int oy = 0; oy < op.out_h; ++oy) {
                    // The window's rows and columns inside the input (padding adds nothing).
                    const int y0 = oy * op.sh - op.ph, ky0 = std::max(0, -y0), ky1 = std::min(op.kh, op.in_h - y0);
                    const float* plane = x + static_cast<std::size_t>(c) * op.in_h * op.in_w;
                    float* out = y + (static_cast<std::size_t>(c) * op.out_h + oy) * op.out_w;
                    for (int ox = 0; ox < op.out_w; ++ox) {
                        const int x0 = ox * op.sw - op.pw, kx0 = std::max(0, -x0), kx1 = std::min(op.kw, op.in_w - x0);
                        float sum = 0.0f;
                        for (int ky = ky0; ky < ky1; ++ky)
                            for (int kx = kx0; kx < kx1; ++kx) sum += plane[static_cast<std::ptrdiff_t>(y0 + ky) * op.in_w + x0 + kx];
                        out[ox] = op.divisor == 1.0f ? sum : sum / op.divisor;
                    }
                }
            return;
        }
        case detail::runtime_kind::delay: {
            // A ring of slots (the longest delay the run can read, plus 1): slot t holds x[t],
            // the output reads slot t - d.
            const std::size_t n = op.out_size, slots = s.line[k].size() / n;
            float* line = s.line[k].data();
            std::copy(x, x + n, line + (t % slots) * n);
            for (std::size_t i = 0; i < n; ++i) {
                const auto d = static_cast<std::size_t>(op.delay_steps[i]);
                y[i] = d > t ? 0.0f : line[((t - d) % slots) * n + i];
            }
            return;
        }
        case detail::runtime_kind::neuron: {
            const std::size_t n = op.out_size;
            float* v = s.v[k].data();
            const float *decay = op.decay.data(), *gain = op.gain.data(), *rest = op.rest.data();
            const float* u = x;
            if (op.synapse) {  // the synaptic current first
                float* current = s.current[k].data();
                for (std::size_t i = 0; i < n; ++i) current[i] = op.syn_decay[i] * current[i] + op.syn_gain[i] * x[i];
                u = current;
            }
            // gain 1 and rest 0 (the library's own IF and LIF at dt 1) leave decay v + u exactly.
            if (!op.spiking) {
                for (std::size_t i = 0; i < n; ++i) v[i] = y[i] = decay[i] * v[i] + (gain[i] * u[i] + rest[i]);
                return;
            }
            detail::runtime_fire(n, v, y, decay, gain, rest, u, op.threshold.data(), op.v_reset.data(),
                                 options_.reset == reset_rule::subtract_threshold);
            return;
        }
    }
}

/// Whether a convolution or affine node runs its step on input `x` dense (the options' path;
/// automatic: more than event_driven_below of the inputs nonzero).
inline bool runtime::runs_dense(const detail::runtime_op& op, const float* x) const {
    if (op.kind == detail::runtime_kind::conv && op.columns == 0) return false;
    if (options_.path != deploy::path::automatic) return options_.path == deploy::path::dense;
    const auto nonzero = static_cast<double>(op.in_size - static_cast<std::size_t>(std::count(x, x + op.in_size, 0.0f)));
    return nonzero > options_.event_driven_below * static_cast<double>(op.in_size);
}

/// A convolution's step as matrix products, one per group: the group's input unrolled to
/// columns (row: input channel, ky, kx; column: output position; zero where the kernel
/// reaches the padding), times its weights [output][channel ky kx], plus the bias. A square
/// convolution unrolls with the training model's im2col: the compile-time engine's product.
inline void runtime::dense_conv(const detail::runtime_op& op, const float* x, float* y, sample_state& s) const {
    using row_major = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    const int per_group = op.out_c / op.groups, in_per_group = op.in_c / op.groups;
    const Eigen::Index rows = static_cast<Eigen::Index>(in_per_group) * op.kh * op.kw;
    const Eigen::Index plane = static_cast<Eigen::Index>(op.out_h) * op.out_w;
    float* col = s.columns.data();
    for (int g = 0; g < op.groups; ++g) {
        if (op.square) detail::cpu_ops::im2col(op.geometry, x, col);
        else unroll(op, x + static_cast<std::ptrdiff_t>(g) * in_per_group * op.in_h * op.in_w, col);
        Eigen::Map<row_major> out(y + static_cast<std::ptrdiff_t>(g) * per_group * plane, per_group, plane);
        out.noalias() = Eigen::Map<const row_major>(op.dense_weight.data() + static_cast<std::ptrdiff_t>(g) * per_group * rows,
                                                    per_group, rows) *
                        Eigen::Map<const row_major>(col, rows, plane);
        out.colwise() += Eigen::Map<const Eigen::VectorXf>(op.bias.data() + static_cast<std::ptrdiff_t>(g) * per_group, per_group);
    }
}

/// The columns of one group's channels `x` for any stride, padding and dilation.
inline void runtime::unroll(const detail::runtime_op& op, const float* x, float* col) {
    const std::ptrdiff_t plane = static_cast<std::ptrdiff_t>(op.out_h) * op.out_w;
    for (int c = 0; c < op.in_c / op.groups; ++c) {
        const float* channel = x + static_cast<std::ptrdiff_t>(c) * op.in_h * op.in_w;
        for (int ky = 0; ky < op.kh; ++ky)
            for (int kx = 0; kx < op.kw; ++kx, col += plane)
                for (int oy = 0; oy < op.out_h; ++oy) {
                    const int iy = oy * op.sh - op.ph + ky * op.dh;
                    float* out = col + static_cast<std::ptrdiff_t>(oy) * op.out_w;
                    for (int ox = 0; ox < op.out_w; ++ox) {
                        const int ix = ox * op.sw - op.pw + kx * op.dw;
                        out[ox] = iy >= 0 && iy < op.in_h && ix >= 0 && ix < op.in_w ? channel[static_cast<std::ptrdiff_t>(iy) * op.in_w + ix]
                                                                                     : 0.0f;
                    }
                }
    }
}

}  // namespace snn2ann::inline v0::deploy
