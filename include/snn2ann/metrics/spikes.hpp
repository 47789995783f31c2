// snn2ann/metrics: spike activity and the efficiency accounting of SNN papers (docs/method.md):
//   firing rate of layer l = spikes / (neurons x T);
//   SOPs_l = T x fr_{l-1} x MACs_l for every weighted layer fed by spikes;
//   E_SNN = MACs of the layers fed by the analog input x 4.6 pJ + sum SOPs x 0.9 pJ,
//   E_ANN = all MACs x 4.6 pJ (45 nm figures).
#pragma once

#include <algorithm>
#include <cstddef>
#include <type_traits>
#include <utility>
#include <vector>

#include "../core/error.hpp"
#include "../data/dataset.hpp"
#include "../layer/sequence.hpp"
#include "../net/branches.hpp"
#include "../net/input_frames.hpp"
#include "../rules/rule.hpp"

namespace snn2ann::inline v0 {

/// The activity of one spiking layer, from measure_spikes().
struct spiking_layer_stats {
    std::size_t index = 0;       ///< position in the network's layer list
    std::size_t neurons = 0;     ///< per sample
    double spikes_per_image = 0.0;  ///< over the layer's neurons and the steps
    double firing_rate = 0.0;    ///< spikes per neuron per time step
};

/// A network's spike activity and the energy accounting of docs/method.md (45 nm float32
/// figures, Horowitz, ISSCC 2014: 4.6 pJ a multiply-accumulate, 0.9 pJ an accumulate), from measure_spikes().
struct spike_report {
    std::vector<spiking_layer_stats> layers;  ///< in layer order
    double spikes_per_image = 0.0;   ///< summed over the layers
    double sops_per_image = 0.0;     ///< synaptic (accumulate) operations
    double macs_per_image = 0.0;     ///< the SNN's multiply-accumulates (analog-input layers)
    double ann_macs_per_image = 0.0; ///< the same network run as an ANN
    double snn_energy_uj = 0.0;      ///< microjoules per image
    double ann_energy_uj = 0.0;      ///< the ANN's, microjoules per image
    static constexpr double mac_pj = 4.6;  ///< picojoules per multiply-accumulate
    static constexpr double ac_pj = 0.9;   ///< picojoules per accumulate
};

namespace detail {
/// The number of SNN steps a rule's prediction runs: its `timesteps` member, or the model's T.
template <class Model, class Rule>
constexpr double steps_of(const Rule& rule) {
    if constexpr (requires { rule.timesteps; }) return static_cast<double>(rule.timesteps);
    else return Model::T;
}
}  // namespace detail

/// Runs the rule's prediction (its SNN, in evaluation mode) over `d` and reports its spike
/// activity: the SNN branch of a rules::snn2ann{...} (with the options it was trained
/// with), rules::bptt{...} or convert::converted_snn{T}.
template <class Model, class Rule>
spike_report measure_spikes(Model& m, const data::dataset& d, std::size_t batch, Rule rule) {
    static_assert(evaluation_rule<Rule, Model>,
                  "snn2ann::measure_spikes(model, data, batch, rule): the last argument is not a rule (a type "
                  "with predict(model, x, batch) and predicts_with_snn)");
    static_assert(Rule::predicts_with_snn,
                  "snn2ann::measure_spikes: this rule's prediction runs no SNN (rules::ann runs the network as "
                  "an ANN), so it has no spikes to count; measure rules::snn2ann{...}, rules::bptt{...} or the "
                  "converted SNN, convert::converted_snn{T}");
    static_assert(Model::executor::last_spiking >= 0, "snn2ann::measure_spikes: the network has no spiking layer");
    data::validate(d, Model::input_shape, Model::output_shape.c, "measure_spikes");
    if (batch == 0) throw invalid_argument("measure_spikes: the batch size is 0");
    detail::require_frames_fit<Model>(d.frames, rule, "measure_spikes");
    const detail::input_frames_scope<Model> frames(m, d.frames);
    spike_report r;
    std::vector<double> totals;
    for (std::size_t i = 0; i < d.size(); i += batch) {
        const std::size_t n = std::min(batch, d.size() - i);
        rule.predict(m, d.image(i), n);
        std::size_t k = 0;
        m.layers().for_each_layer_deep([&](auto& l, const detail::layer_position&) {
            if constexpr (detail::spiking_layer<std::remove_cvref_t<decltype(l)>>) {
                if (totals.size() <= k) totals.push_back(0.0);
                if (l.counted_batch() != n)  // a rule that says it runs an SNN but did not
                    throw invalid_argument("measure_spikes: the rule's prediction left no spike counts of this batch");
                const float* c = l.counts();
                double s = 0.0;
                for (std::size_t j = 0; j < n * l.neurons; ++j) s += c[j];
                totals[k++] += s;
            }
        });
    }
    const double images = static_cast<double>(d.size()), steps = detail::steps_of<Model>(rule);
    std::size_t k = 0;
    double rate_in = -1.0;  // firing rate feeding the next weighted layer; -1: the analog input
    // Layers inside residual blocks are visited right after their block; a weighted layer
    // is taken to be fed by the last spiking layer before it in that order (for a block's
    // shortcut convolution this is an approximation).
    m.layers().for_each_layer_deep([&](auto& l, const detail::layer_position& at) {
        using layer = std::remove_cvref_t<decltype(l)>;
        const std::size_t index = at.index;
        if constexpr (detail::weighted_layer<layer>) {
            const double macs = static_cast<double>(layer::macs);
            r.ann_macs_per_image += macs;
            if (rate_in < 0) r.macs_per_image += macs;
            else r.sops_per_image += steps * rate_in * macs;
        }
        if constexpr (detail::spiking_layer<layer>) {
            spiking_layer_stats s;
            s.index = index;
            s.neurons = layer::neurons;
            s.spikes_per_image = totals[k++] / images;
            s.firing_rate = s.spikes_per_image / (static_cast<double>(s.neurons) * steps);
            r.spikes_per_image += s.spikes_per_image;
            rate_in = s.firing_rate;
            r.layers.push_back(s);
        }
    });
    r.snn_energy_uj = (r.macs_per_image * spike_report::mac_pj + r.sops_per_image * spike_report::ac_pj) * 1e-6;
    r.ann_energy_uj = r.ann_macs_per_image * spike_report::mac_pj * 1e-6;
    return r;
}

/// The same with a batch of 256.
template <class Model, class Rule>
    requires evaluation_rule<Rule, Model>
spike_report measure_spikes(Model& m, const data::dataset& d, Rule rule) {
    return measure_spikes(m, d, 256, std::move(rule));
}

/// The spikes of a branch view's SNN pass: measure_spikes(model.snn(rule), data).
template <class View>
    requires detail::is_branch_view<View>::value
spike_report measure_spikes(View view, const data::dataset& d, std::size_t batch = 256) {
    return measure_spikes(view.model(), d, batch, detail::view_prediction<View>{view});
}

/// Without a rule there is no telling which SNN to measure: refused with a sentence.
template <class Model>
    requires(!detail::is_branch_view<Model>::value)
spike_report measure_spikes(Model& m, const data::dataset& d, std::size_t batch = 256) {
    static_assert(sizeof(Model) == 0,
                  "snn2ann::measure_spikes(model, data): say which SNN to measure: measure_spikes(model, data, "
                  "rule) with the rule the model was trained with (rules::snn2ann{...} with its options, "
                  "rules::bptt{...}) or convert::converted_snn{T}");
    (void)m, (void)d, (void)batch;
    return {};
}

}  // namespace snn2ann::inline v0
