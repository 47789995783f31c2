// compare_rules' instances, one object file per T (compare_rules_at.cpp, compiled once for
// each T from 1 to max_timesteps with COMPARE_RULES_T set): declared here as explicit
// instantiations defined elsewhere, so that compare_rules.cpp instantiates none of them
// and the sixteen models (eight SNN2ANN neurons and one BPTT neuron per T) build side by
// side and are rebuilt one T at a time.
#pragma once

#include "../examples/reference_networks.hpp"
#include "rule_comparison.hpp"

namespace snn2ann_bench {

static_assert(max_timesteps == 8, "compare_rules_at.hpp: declare one instance per T up to max_timesteps");
extern template int train_at<reference::snn, 1>(const comparison_options&, const s::data::dataset&, const s::data::dataset&);
extern template int train_at<reference::snn, 2>(const comparison_options&, const s::data::dataset&, const s::data::dataset&);
extern template int train_at<reference::snn, 3>(const comparison_options&, const s::data::dataset&, const s::data::dataset&);
extern template int train_at<reference::snn, 4>(const comparison_options&, const s::data::dataset&, const s::data::dataset&);
extern template int train_at<reference::snn, 5>(const comparison_options&, const s::data::dataset&, const s::data::dataset&);
extern template int train_at<reference::snn, 6>(const comparison_options&, const s::data::dataset&, const s::data::dataset&);
extern template int train_at<reference::snn, 7>(const comparison_options&, const s::data::dataset&, const s::data::dataset&);
extern template int train_at<reference::snn, 8>(const comparison_options&, const s::data::dataset&, const s::data::dataset&);

}  // namespace snn2ann_bench
