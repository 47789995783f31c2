// One T's instance of compare_rules for one network (SNN2ANN with its eight neuron
// choices, and BPTT): CMake compiles this file once per network and T with
// COMPARE_RULES_NET and COMPARE_RULES_T defined (compare_rules_at.hpp).
#include "compare_rules_at.hpp"

namespace snn2ann_bench {
template int train_at<COMPARE_RULES_NET, COMPARE_RULES_T>(const comparison_options&, const run_data&);
}  // namespace snn2ann_bench
