// One T's instance of compare_rules (SNN2ANN with its eight neuron choices, and BPTT):
// CMake compiles this file once per T with COMPARE_RULES_T defined (compare_rules_at.hpp).
#include "../examples/reference_networks.hpp"
#include "rule_comparison.hpp"

namespace snn2ann_bench {
template int train_at<reference::snn, COMPARE_RULES_T>(const comparison_options&, const s::data::dataset&,
                                                        const s::data::dataset&);
}  // namespace snn2ann_bench
