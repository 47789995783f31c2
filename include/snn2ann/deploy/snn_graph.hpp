// snn2ann/deploy: a trained network's SNN branch as a graph of plain operations, the form
// in which it leaves the library: NIR files (io/nir.hpp) are written from it and read into
// it, and the inference engine (deploy/inference.hpp) runs it.
//
// The graph is a chain of nodes that runs once per time step on the input (the image at
// every step, or frame t at step t), and the network's scores are the mean over the T
// steps of the last node's output. Each node is what the SNN branch computes, exactly:
//   - conv2d / affine: weights with every batch norm that follows them folded in with its
//     running statistics (W' = a W, b' = a (b - mean) + beta, a = gamma / sqrt(var + eps)),
//     and the bias each step adds: b' / T before the last spiking layer (the SNN branch
//     spreads a bias over the steps), b' after it (the head reads the mean rate, and the
//     mean over the steps of W s_t + b' is W (count / T) + b');
//   - avg_pool2d, flatten: as in the network;
//   - max_pool2d: max pooling of spikes (a max_pool after a spiking layer): 1 where any
//     input of the window spiked. NIR has no max pooling; the file says it exactly as a
//     SumPool2d followed by a Threshold at 0 (io/nir.hpp);
//   - if_neuron / lif_neuron: per neuron V[t] = decay U[t-1] + I[t], a spike where
//     V[t] > threshold, U[t] = 0 after a spike (decay 1 for IF, 1 - 1/tau for LIF).
// What the graph cannot hold is refused with a sentence (graph_of): reset by subtraction,
// firing at V >= threshold, a trained time constant (PLIF), max pooling of currents, ReLU,
// residual blocks, a batch norm that no convolution or linear layer before it absorbs, and
// a non-linear head. Dropout is training-only and left out.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "../core/error.hpp"
#include "../core/shape.hpp"
#include "../layer/batch_norm.hpp"
#include "../layer/sequence.hpp"
#include "../neuron/neuron.hpp"
#include "../ops/cpu/batch_norm.hpp"

namespace snn2ann::inline v0::deploy {

/// What a node computes (see the header's comment).
enum class node_kind { input, conv2d, avg_pool2d, max_pool2d, flatten, affine, if_neuron, lif_neuron, output };

/// The node kind in words (NIR's type names).
inline const char* kind_name(node_kind k) {
    switch (k) {
        case node_kind::input: return "Input";
        case node_kind::conv2d: return "Conv2d";
        case node_kind::avg_pool2d: return "AvgPool2d";
        case node_kind::max_pool2d: return "MaxPool2d of spikes";
        case node_kind::flatten: return "Flatten";
        case node_kind::affine: return "Affine";
        case node_kind::if_neuron: return "IF";
        case node_kind::lif_neuron: return "LIF";
        case node_kind::output: return "Output";
    }
    return "?";
}

/// One node of the chain.
struct node {
    node_kind kind = node_kind::input;  ///< what it computes
    std::string name;                   ///< unique in the graph: "input", "conv0", "if3", ..., "output"
    shape in;                           ///< the input of one sample
    shape out;                          ///< the output of one sample
    /// conv2d: out channels x in channels x kernel x kernel (PyTorch's order); affine:
    /// outputs x inputs. Empty otherwise.
    std::vector<float> weight;
    std::vector<float> bias;        ///< conv2d, affine: added at every step (see the header)
    int kernel = 0;                 ///< conv2d, avg_pool2d, max_pool2d: the square window
    int stride = 1;                 ///< conv2d, avg_pool2d, max_pool2d
    int padding = 0;                ///< conv2d: zero padding on every side
    std::vector<float> threshold;   ///< if_neuron, lif_neuron: one per neuron
    int tau = 1;                    ///< lif_neuron: the time constant in steps (decay 1 - 1/tau)

    /// A node of kind `k` called `n` from `i` to `o`, its other fields empty.
    static node make(node_kind k, std::string n, shape i, shape o) {
        node x;
        x.kind = k, x.name = std::move(n), x.in = i, x.out = o;
        return x;
    }

    /// The node in words, for messages: kind, name and shapes.
    std::string describe() const {
        return std::string(kind_name(kind)) + " '" + name + "' (" + detail::shape_text(in) + " -> " + detail::shape_text(out) +
               ")";
    }
};

/// A network's SNN branch as a chain of nodes, input first and output last.
struct graph {
    std::vector<node> nodes;  ///< in the order they run
    int timesteps = 0;        ///< T of the model it came from (0: unknown, e.g. read from another tool's file)

    /// The nodes that are neither the input nor the output.
    std::size_t operations() const { return nodes.size() < 2 ? 0 : nodes.size() - 2; }
};

}  // namespace snn2ann::inline v0::deploy

namespace snn2ann::inline v0::detail {

template <class L>
constexpr bool is_conv_layer() {
    return requires { L::geometry; L::weight_count; L::out_channels; };
}
template <class L>
constexpr bool is_linear_layer() {
    return !is_conv_layer<L>() && requires { L::weight_count; L::out_channels; };
}
template <class L>
constexpr bool is_pool_layer() {
    return !is_conv_layer<L>() && requires { L::geometry; };
}
template <class L>
bool describes_as(const char* prefix) {
    return L::describe().rfind(prefix, 0) == 0;
}

/// The bias a layer of the SNN branch adds per step: b * (1/T) before the last spiking
/// layer, computed as the pass computes it (bias_scale), b after it.
inline float bias_per_step(float b, bool before_last_spiking, int timesteps) {
    return before_last_spiking ? b * (1.0f / static_cast<float>(timesteps)) : b;
}

/// The model bias whose per-step bias is `per_step`: per_step x T, moved by a few ulps
/// where the float product does not scale back to it exactly.
inline float bias_for_step(float per_step, bool before_last_spiking, int timesteps) {
    if (!before_last_spiking) return per_step;
    float b = per_step * static_cast<float>(timesteps);
    for (int k = 0; k < 8 && bias_per_step(b, true, timesteps) != per_step; ++k)
        b = std::nextafter(b, bias_per_step(b, true, timesteps) < per_step ? std::numeric_limits<float>::infinity()
                                                                            : -std::numeric_limits<float>::infinity());
    return b;
}

/// Running statistics that make a batch norm the identity exactly (a = 1, b' = b): gamma 1,
/// beta 0, mean 0 and the variance v with v + eps == 1 in float.
inline float identity_variance(float eps) {
    float v = 1.0f - eps;
    for (int k = 0; k < 64 && v + eps != 1.0f; ++k)
        v = std::nextafter(v, v + eps < 1.0f ? 2.0f : 0.0f);
    return v;
}

[[noreturn]] inline void refuse_graph(const std::string& who, std::size_t layer, const std::string& what) {
    throw invalid_argument(who + ": layer " + std::to_string(layer) + " " + what);
}

}  // namespace snn2ann::inline v0::detail

namespace snn2ann::inline v0::deploy {

/// The SNN branch of model `m` (a CPU model) as a graph, BN folded and biases per step
/// (see the header); what a graph cannot hold is an invalid_argument naming the layer and
/// saying why. `who` names the caller in messages.
template <class Model>
graph graph_of(Model& m, const std::string& who = "deploy::graph_of") {
    using executor = typename Model::executor;
    constexpr std::ptrdiff_t last_spiking = executor::last_spiking;
    static_assert(executor::first_spiking >= 0,
                  "snn2ann::deploy: the network has no spiking layer; there is no SNN to deploy");
    graph g;
    g.timesteps = Model::T;
    const shape in = Model::input_shape;
    g.nodes.push_back(node::make(node_kind::input, "input", in, in));
    const float* params = m.parameters().data();
    const float* state = m.state().data();
    bool spikes = false;  // the layer's input is spikes: 0 or 1
    m.layers().for_each_layer([&](auto& l, std::size_t i) {
        using L = std::remove_cvref_t<decltype(l)>;
        const float* p = params + executor::param_offsets[i];
        const float* s = state + executor::state_offsets[i];
        const bool before_last = static_cast<std::ptrdiff_t>(i) < last_spiking;
        const shape layer_in = g.nodes.back().out;
        const std::string index = std::to_string(i);
        if constexpr (requires { L::has_spiking; }) {
            detail::refuse_graph(who, i, "is a residual block: a chain of nodes cannot hold its two paths");
        } else if constexpr (detail::batch_norm_layer<L>) {
            if (!(i > 0 && executor::folds_next(i - 1)))
                detail::refuse_graph(who, i, "is a batch norm with no convolution or linear layer (with bias) before it "
                                             "to fold into");
        } else if constexpr (detail::spiking_layer<L>) {
            using N = typename L::neuron;
            if constexpr (detail::trained_time_constant<N>) {
                detail::refuse_graph(who, i, "has PLIF neurons: a trained time constant is not exported");
            } else {
                if (N::reset_mode != reset::to_zero)
                    detail::refuse_graph(who, i, "resets by subtraction: NIR's IF and LIF neurons reset to v_reset, and "
                                                 "subtracting the threshold cannot be said (train with reset::to_zero)");
                if (N::firing_mode != firing::strict)
                    detail::refuse_graph(who, i, "fires at V >= threshold: NIR's neurons fire at V > threshold "
                                                 "(train with firing::strict)");
                node n = node::make(N::decay == 1.0f ? node_kind::if_neuron : node_kind::lif_neuron,
                                    (N::decay == 1.0f ? "if" : "lif") + index, layer_in, layer_in);
                n.threshold.assign(s, s + L::neurons);
                n.tau = N::time_constant;
                g.nodes.push_back(std::move(n));
                spikes = true;
            }
        } else if constexpr (detail::is_conv_layer<L>() || detail::is_linear_layer<L>()) {
            constexpr std::size_t weights = L::weight_count, channels = L::out_channels;
            node n = node::make(detail::is_conv_layer<L>() ? node_kind::conv2d : node_kind::affine,
                                (detail::is_conv_layer<L>() ? "conv" : "affine") + index, layer_in, L::out);
            if constexpr (detail::is_conv_layer<L>()) {
                n.kernel = L::geometry.k, n.stride = L::geometry.stride, n.padding = L::geometry.pad;
            }
            std::vector<float> w(p, p + weights), b(channels, 0.0f);
            if constexpr (L::has_bias) b.assign(p + weights, p + weights + channels);
            if (executor::folds_next(i)) {
                // The batch norm after it, folded by the SNN branch's own fold.
                const float* gamma = params + executor::param_offsets[i + 1];
                const float* mean = state + executor::state_offsets[i + 1];
                detail::cpu_ops::fold_batch_norm(p, b.data(), channels, weights / channels, gamma, gamma + channels, mean,
                                                 mean + channels, batch_norm::eps, w.data(), b.data());
            }
            for (float& v : b) v = detail::bias_per_step(v, before_last, Model::T);
            n.weight = std::move(w);
            n.bias = std::move(b);
            g.nodes.push_back(std::move(n));
            spikes = false;
        } else if constexpr (detail::is_pool_layer<L>()) {
            const bool max = detail::describes_as<L>("max_pool");
            if (max && !spikes)
                detail::refuse_graph(who, i, "is " + L::describe() + " of currents, which NIR has no primitive for: "
                                             "train the network with avg_pool<K> in its place");
            if (!max && !detail::describes_as<L>("avg_pool")) detail::refuse_graph(who, i, "is " + L::describe() + ", which is not exported");
            node n = node::make(max ? node_kind::max_pool2d : node_kind::avg_pool2d, (max ? "maxpool" : "avgpool") + index,
                                layer_in, L::out);
            n.kernel = L::geometry.k, n.stride = L::geometry.stride;
            g.nodes.push_back(std::move(n));
            spikes = spikes && max;  // the maximum of spikes is a spike; their mean is not
        } else {
            if (L::describe() == "flatten") {
                g.nodes.push_back(node::make(node_kind::flatten, "flatten" + index, layer_in, L::out));
            } else if (detail::describes_as<L>("dropout")) {
                // training-only: the SNN branch passes its input on
            } else {
                detail::refuse_graph(who, i, "is " + L::describe() + ", which a graph of NIR primitives cannot hold");
            }
        }
    });
    const shape out = g.nodes.back().out;
    g.nodes.push_back(node::make(node_kind::output, "output", out, out));
    return g;
}

/// Loads graph `g` into model `m` of a matching network: node by node along the layers
/// (a batch norm after a convolution or linear layer becomes the identity, dropout is
/// skipped), weights, biases (scaled back from per-step) and thresholds. A graph of
/// another shape is an invalid_argument naming the first node that differs and what the
/// network has there; `m` is changed only when the whole graph matches.
template <class Model>
void load_graph(Model& m, const graph& g, const std::string& who = "deploy::load_graph") {
    using executor = typename Model::executor;
    constexpr std::ptrdiff_t last_spiking = executor::last_spiking;
    std::vector<float> params(m.parameters().begin(), m.parameters().end());
    std::vector<float> state(m.state().begin(), m.state().end());
    std::size_t at = 0;  // the next graph node
    const auto differs = [&](const std::string& what) {
        const std::string found = at < g.nodes.size() ? "node " + std::to_string(at) + ", " + g.nodes[at].describe()
                                                      : "the end of the graph (" + std::to_string(g.nodes.size()) + " nodes)";
        throw invalid_argument(who + ": the graph differs from the network at " + found + ": the network has " + what);
    };
    // The next node, which must be of kind k with these input and output sizes.
    const auto expect = [&](node_kind k, shape in, shape out, const std::string& what) -> const node& {
        const std::string expected = what + " (" + kind_name(k) + ", " + detail::shape_text(in) + " -> " +
                                     detail::shape_text(out) + ")";
        if (at >= g.nodes.size() || g.nodes[at].kind != k || g.nodes[at].in.size() != in.size() ||
            g.nodes[at].out.size() != out.size())
            differs(expected);
        return g.nodes[at];
    };
    expect(node_kind::input, Model::input_shape, Model::input_shape, "its input");
    ++at;
    shape current = Model::input_shape;
    m.layers().for_each_layer([&](auto& l, std::size_t i) {
        using L = std::remove_cvref_t<decltype(l)>;
        float* p = params.data() + executor::param_offsets[i];
        float* s = state.data() + executor::state_offsets[i];
        const bool before_last = static_cast<std::ptrdiff_t>(i) < last_spiking;
        const std::string layer = "layer " + std::to_string(i) + ", " + L::describe();
        if constexpr (requires { L::has_spiking; }) {
            differs(layer + ", a residual block, which a chain of nodes cannot hold");
        } else if constexpr (detail::batch_norm_layer<L>) {
            if (!(i > 0 && executor::folds_next(i - 1))) differs(layer + ", which no layer before it absorbs");
            constexpr std::size_t c = L::channels;
            std::fill(p, p + c, 1.0f);
            std::fill(p + c, p + 2 * c, 0.0f);
            std::fill(s, s + c, 0.0f);
            std::fill(s + c, s + 2 * c, detail::identity_variance(L::eps_value));
        } else if constexpr (detail::spiking_layer<L>) {
            using N = typename L::neuron;
            if constexpr (detail::trained_time_constant<N>) {
                differs(layer + ", whose PLIF neurons are not imported");
            } else {
                const bool leaky = N::decay != 1.0f;
                const node& n = expect(leaky ? node_kind::lif_neuron : node_kind::if_neuron, current, L::out, layer);
                if (leaky && n.tau != N::time_constant) differs(layer + ", whose tau is " + std::to_string(N::time_constant));
                if (n.threshold.size() != L::neurons) differs(layer + ", with " + std::to_string(L::neurons) + " thresholds");
                std::copy(n.threshold.begin(), n.threshold.end(), s);
                ++at;
            }
        } else if constexpr (detail::is_conv_layer<L>() || detail::is_linear_layer<L>()) {
            constexpr bool conv = detail::is_conv_layer<L>();
            constexpr std::size_t weights = L::weight_count, channels = L::out_channels;
            const node& n = expect(conv ? node_kind::conv2d : node_kind::affine, current, L::out, layer);
            if constexpr (conv) {
                if (n.kernel != L::geometry.k || n.stride != L::geometry.stride || n.padding != L::geometry.pad)
                    differs(layer + ", kernel " + std::to_string(L::geometry.k) + ", stride " + std::to_string(L::geometry.stride) +
                            ", padding " + std::to_string(L::geometry.pad));
            }
            if (n.weight.size() != weights) differs(layer + ", with " + std::to_string(weights) + " weights");
            if (n.bias.size() != channels) differs(layer + ", with " + std::to_string(channels) + " biases");
            const bool zero_bias = std::all_of(n.bias.begin(), n.bias.end(), [](float b) { return b == 0.0f; });
            if (!L::has_bias && !zero_bias) differs(layer + ", which has no bias");
            std::copy(n.weight.begin(), n.weight.end(), p);
            if constexpr (L::has_bias)
                for (std::size_t o = 0; o < channels; ++o)
                    p[weights + o] = detail::bias_for_step(n.bias[o], before_last, Model::T);
            ++at;
        } else if constexpr (detail::is_pool_layer<L>()) {
            const bool max = detail::describes_as<L>("max_pool");
            if (!max && !detail::describes_as<L>("avg_pool")) differs(layer + ", which no NIR node computes");
            const node& n = expect(max ? node_kind::max_pool2d : node_kind::avg_pool2d, current, L::out, layer);
            if (n.kernel != L::geometry.k || n.stride != L::geometry.stride)
                differs(layer + ", kernel " + std::to_string(L::geometry.k) + ", stride " + std::to_string(L::geometry.stride));
            ++at;
        } else {
            if (L::describe() == "flatten") {
                expect(node_kind::flatten, current, L::out, layer);
                ++at;
            } else if (!detail::describes_as<L>("dropout")) {
                differs(layer + ", which no NIR node computes");
            }
        }
        current = L::out;
    });
    expect(node_kind::output, Model::output_shape, Model::output_shape, "its output");
    if (at + 1 != g.nodes.size()) {
        ++at;
        differs("no more layers");
    }
    std::copy(params.begin(), params.end(), m.parameters().begin());
    std::copy(state.begin(), state.end(), m.state().begin());
}

}  // namespace snn2ann::inline v0::deploy
