// snn2ann/metrics: evaluate and measure_spikes over the ranks of a process group (data-
// parallel training, distributed.hpp): each rank runs its part of the data set (consecutive
// parts whose sizes differ by one at most) and the results are summed over the ranks in
// rank order, so every rank returns the same figures, those of the whole data set.
#pragma once

#include <cstddef>
#include <vector>

#include "../core/process_group.hpp"
#include "../data/dataset.hpp"
#include "accuracy.hpp"
#include "spikes.hpp"

namespace snn2ann::inline v0::detail {

template <class Model, class Rule>
accuracy_result sharded_evaluate(process_group& g, Model& m, const data::dataset& d, std::size_t batch, Rule rule) {
    const batch_part p = part_of_batch(d.size(), g.rank(), g.size());
    accuracy_result local;
    if (p.count) local = evaluate(m, d.range(p.first, p.count), batch, std::move(rule));
    double v[3] = {static_cast<double>(local.correct), local.loss * static_cast<double>(local.total),
                   static_cast<double>(local.total)};
    g.sum(v, 3);
    accuracy_result r;
    r.correct = static_cast<std::size_t>(v[0]);
    r.total = static_cast<std::size_t>(v[2]);
    r.accuracy = r.total ? v[0] / v[2] : 0.0;
    r.loss = r.total ? v[1] / v[2] : 0.0;
    return r;
}

/// Every figure of a spike report is a mean over images of quantities linear in the
/// spike counts, so the whole set's is the mean of the ranks' weighted by their images.
template <class Model, class Rule>
spike_report sharded_measure_spikes(process_group& g, Model& m, const data::dataset& d, std::size_t batch, Rule rule) {
    const batch_part p = part_of_batch(d.size(), g.rank(), g.size());
    if (d.size() < static_cast<std::size_t>(g.size()))
        throw invalid_argument("measure_spikes: " + std::to_string(d.size()) + " images for " +
                               std::to_string(g.size()) + " ranks (each rank needs one at least)");
    spike_report r = measure_spikes(m, d.range(p.first, p.count), batch, std::move(rule));
    const double w = static_cast<double>(p.count) / static_cast<double>(d.size());
    std::vector<double> v{r.spikes_per_image, r.sops_per_image, r.macs_per_image, r.ann_macs_per_image,
                          r.snn_energy_uj, r.ann_energy_uj};
    for (const auto& l : r.layers) v.push_back(l.spikes_per_image), v.push_back(l.firing_rate);
    for (double& x : v) x *= w;
    g.sum(v.data(), v.size());
    std::size_t k = 0;
    for (double* f : {&r.spikes_per_image, &r.sops_per_image, &r.macs_per_image, &r.ann_macs_per_image,
                      &r.snn_energy_uj, &r.ann_energy_uj})
        *f = v[k++];
    for (auto& l : r.layers) l.spikes_per_image = v[k++], l.firing_rate = v[k++];
    return r;
}

}  // namespace snn2ann::inline v0::detail
