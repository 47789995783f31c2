// compare_rules' instances, one object file per network and T (compare_rules_at.cpp,
// compiled once for each with COMPARE_RULES_NET and COMPARE_RULES_T set): declared here as
// explicit instantiations defined elsewhere, so that compare_rules.cpp instantiates none of
// them and the models (eight SNN2ANN neurons and one BPTT neuron per T) build side by side
// and are rebuilt one T at a time. The reference network takes every T from 1 to
// max_timesteps; the wide one the recipes' T: 2, 4 and 8.
#pragma once

#include "../examples/reference_networks.hpp"
#include "rule_comparison.hpp"

namespace snn2ann_bench {

static_assert(max_timesteps == 8, "compare_rules_at.hpp: declare one instance per T up to max_timesteps");
#define SNN2ANN_BENCH_DECLARE_TRAIN_AT(NET, T) \
    extern template int train_at<NET, T>(const comparison_options&, const run_data&);
SNN2ANN_BENCH_DECLARE_TRAIN_AT(reference::snn, 1)
SNN2ANN_BENCH_DECLARE_TRAIN_AT(reference::snn, 2)
SNN2ANN_BENCH_DECLARE_TRAIN_AT(reference::snn, 3)
SNN2ANN_BENCH_DECLARE_TRAIN_AT(reference::snn, 4)
SNN2ANN_BENCH_DECLARE_TRAIN_AT(reference::snn, 5)
SNN2ANN_BENCH_DECLARE_TRAIN_AT(reference::snn, 6)
SNN2ANN_BENCH_DECLARE_TRAIN_AT(reference::snn, 7)
SNN2ANN_BENCH_DECLARE_TRAIN_AT(reference::snn, 8)
SNN2ANN_BENCH_DECLARE_TRAIN_AT(reference::snn_wide, 2)
SNN2ANN_BENCH_DECLARE_TRAIN_AT(reference::snn_wide, 4)
SNN2ANN_BENCH_DECLARE_TRAIN_AT(reference::snn_wide, 8)
#undef SNN2ANN_BENCH_DECLARE_TRAIN_AT

}  // namespace snn2ann_bench
