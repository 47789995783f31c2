// snn2ann/deploy: a NIR graph as another tool wrote it, before any interpretation: named
// nodes, each with its NIR type and its parameters as tensors, and the edges between them.
// io::read_nir_graph fills it from a file of any NIR version; deploy::runtime (runtime.hpp)
// gives it its meaning and runs it. Parameters are kept in double so that continuous-time
// constants (a tau of 0.0025 s against a dt of 1e-4 s) are exact until discretised.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace snn2ann::inline v0::detail {

/// The number of values of an extent.
inline std::size_t dims_count(const std::vector<std::int64_t>& dims) {
    std::size_t n = 1;
    for (const std::int64_t d : dims) n *= static_cast<std::size_t>(d);
    return n;
}

}  // namespace snn2ann::inline v0::detail

namespace snn2ann::inline v0::deploy {

/// The most values per sample a node of a NIR graph may give, for the readers and the
/// engines (2^24: 16.7 M neurons, far above any layer; a damaged file may declare any shape).
inline constexpr std::size_t nir_max_node_values = std::size_t{1} << 24;

/// A parameter of a node: its dimensions (empty for a scalar) and its values, row-major.
struct nir_tensor {
    std::vector<std::int64_t> dims;  ///< the extent (empty: a scalar)
    std::vector<double> values;      ///< prod(dims) values, row-major

    /// The number of values the dimensions describe.
    std::size_t count() const { return detail::dims_count(dims); }
};

/// One node: its name in the graph, its NIR type ("LIF", "Conv2d", ...) and its parameters.
struct nir_node {
    std::string name;  ///< unique in the graph
    std::string type;  ///< NIR's type name
    /// Numeric parameters by name ("weight", "tau", "stride", ...); the shapes of NIR 1.0's
    /// input_type and output_type groups under "input_type" and "output_type".
    std::map<std::string, nir_tensor> parameters;
    /// Text parameters by name (a convolution's padding "same" or "valid").
    std::map<std::string, std::string> texts;

    /// Whether the node has parameter `p`.
    bool has(const std::string& p) const { return parameters.count(p) != 0; }
};

/// A graph of NIR nodes as read: nodes in the file's order, edges (from, to) in the file's order.
struct nir_graph {
    std::string source;   ///< the file it was read from (for messages)
    std::string version;  ///< the file's NIR version string
    std::vector<nir_node> nodes;                              ///< in the file's order
    std::vector<std::pair<std::string, std::string>> edges;  ///< (from, to), in the file's order
    /// The graph's numeric metadata (this library writes dt and timesteps there).
    std::map<std::string, nir_tensor> metadata;

    /// The node called `name`, or nullptr.
    const nir_node* find(const std::string& name) const {
        for (const nir_node& n : nodes)
            if (n.name == name) return &n;
        return nullptr;
    }
};

}  // namespace snn2ann::inline v0::deploy
