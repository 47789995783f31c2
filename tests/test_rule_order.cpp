// What a model computes does not depend on which rule ran before: the three rules'
// training steps and predictions, evaluate, measure_spikes, the branch views and the
// converted SNN give the same results in every order of calls.
#include <doctest/doctest.h>

#include <algorithm>
#include <functional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <snn2ann/snn2ann.hpp>

#include "synthetic_data.hpp"

namespace s = snn2ann;

namespace {
// A network no example uses: a strided 5x5 convolution, average pooling of spikes, an
// overlapping max pool, dropout, IF neurons with reset by subtraction and threshold 1/2, T = 6.
using neuron = s::if_neuron<s::reset::by_subtraction, s::firing::strict, s::constant_threshold<1, 2>, 0>;
using net = s::network<s::input<1, 12, 12>, s::conv<8, 5, 2, 2>, s::batch_norm, s::spiking<neuron>,  // 8x6x6
                       s::avg_pool<2>, s::conv<8, 3>, s::batch_norm, s::max_pool<2, 1>, s::spiking<neuron>,  // 8x2x2
                       s::flatten, s::dropout<20>, s::linear<16>, s::spiking<neuron>, s::linear<3>>;
using model_type = s::model<net, s::timesteps<6>>;

using floats = std::vector<float>;

floats copy(const float* p, std::size_t n) { return floats(p, p + n); }

/// Everything one call observed, bit for bit.
using observation = std::vector<double>;

observation of(const floats& v) { return observation(v.begin(), v.end()); }
observation of(const s::spike_report& r) {
    observation o{r.spikes_per_image, r.sops_per_image};
    for (const auto& l : r.layers) o.push_back(l.spikes_per_image);
    return o;
}

struct probe {
    std::string name;
    std::function<observation(model_type&)> run;
};

/// The custom SNN2ANN options a user might train with (none of them the default).
s::rules::snn2ann custom_rule() {
    s::rules::snn2ann r{s::mapping_unit::stsu, s::ata{0.05f, 0.2f, 0.8f}};
    r.pooling = s::current_pooling::accumulated;
    r.spike_penalty = 1e-3f;
    return r;
}
}  // namespace

TEST_CASE("the rules, evaluate, measure_spikes, the branch views and conversion give the same results in any order") {
    const auto data = test::bars(24, 5);
    const std::size_t n = data.size();
    model_type m{s::seed{3}};
    {  // a few steps of SNN2ANN with custom options, so that the weights mean something
        s::trainer t{m, custom_rule(), s::adam{3e-3}};
        t.quiet().fit(data, s::epochs{2}, s::batch{8});
    }
    const floats params(m.parameters().begin(), m.parameters().end());
    const floats state(m.state().begin(), m.state().end());
    const auto restore = [&](model_type& mm) {
        std::copy(params.begin(), params.end(), mm.parameters().begin());
        std::copy(state.begin(), state.end(), mm.state().begin());
    };
    constexpr std::size_t classes = 3;
    const auto trained = [&](auto rule) {
        return [rule](model_type& mm) mutable {
            // one training step from the same weights: its loss and every gradient
            const auto d = test::bars(24, 5);
            std::vector<std::int32_t> y(d.labels.begin(), d.labels.begin() + 8);
            const s::loss_result r = rule.train_step(mm, d.image(0), y.data(), 8, 7);
            observation o{r.loss};
            o.insert(o.end(), mm.gradients().begin(), mm.gradients().end());
            return o;
        };
    };
    const auto predicted = [&](auto rule) {
        return [rule, &data, n](model_type& mm) mutable { return of(copy(rule.predict(mm, data.image(0), n), n * classes)); };
    };
    std::vector<probe> probes{
        {"snn2ann custom: train_step", trained(custom_rule())},
        {"snn2ann default: train_step", trained(s::rules::snn2ann{})},
        {"bptt: train_step", trained(s::rules::bptt{s::surrogate::atan(2.0f), true})},
        {"ann qcfs: train_step", trained(s::rules::ann{s::ann_activation::qcfs, 4})},
        {"ann relu: train_step", trained(s::rules::ann{})},
        {"snn2ann custom: predict", predicted(custom_rule())},
        {"snn2ann custom: ANN branch", predicted(custom_rule().ann_branch())},
        {"snn2ann default: predict", predicted(s::rules::snn2ann{})},
        {"snn2ann default: ANN branch", predicted(s::rules::snn2ann{}.ann_branch())},
        {"bptt: predict", predicted(s::rules::bptt{})},
        {"ann qcfs: predict", predicted(s::rules::ann{s::ann_activation::qcfs, 4})},
        {"converted T = 4: predict", predicted(s::convert::converted_snn{4})},
        {"evaluate: snn2ann custom",
         [&](model_type& mm) { return observation{s::evaluate(mm, data, 10, custom_rule()).accuracy}; }},
        {"evaluate: bptt", [&](model_type& mm) { return observation{s::evaluate(mm, data, 10, s::rules::bptt{}).accuracy}; }},
        {"measure_spikes: snn2ann custom",
         [&](model_type& mm) { return of(s::measure_spikes(mm, data, 10, custom_rule())); }},
        {"measure_spikes: bptt", [&](model_type& mm) { return of(s::measure_spikes(mm, data, 10, s::rules::bptt{})); }},
        {"measure_spikes: converted T = 8",
         [&](model_type& mm) { return of(s::measure_spikes(mm, data, 10, s::convert::converted_snn{8})); }},
        {"converted: evaluate_converted",
         [&](model_type& mm) {
             observation o;
             for (const auto& p : s::convert::evaluate_converted(mm, data, {2, 4}, 10))
                 o.push_back(p.accuracy), o.push_back(p.spikes_per_image);
             return o;
         }},
        {"view: snn() (the default SNN2ANN options)",
         [&](model_type& mm) { return of(copy(mm.snn().forward(data.image(0), n), n * classes)); }},
        {"view: ann() (the default SNN2ANN options)",
         [&](model_type& mm) { return of(copy(mm.ann().forward(data.image(0), n), n * classes)); }},
        {"view: snn(custom rule)",
         [&](model_type& mm) { return of(copy(mm.snn(custom_rule()).forward(data.image(0), n), n * classes)); }},
        {"view: ann(custom rule)",
         [&](model_type& mm) { return of(copy(mm.ann(custom_rule()).forward(data.image(0), n), n * classes)); }},
        {"evaluate: view snn(custom rule)",
         [&](model_type& mm) { return observation{s::evaluate(mm.snn(custom_rule()), data, 10).accuracy}; }},
        {"measure_spikes: view snn(custom rule)",
         [&](model_type& mm) { return of(s::measure_spikes(mm.snn(custom_rule()), data, 10)); }},
    };

    const auto run_in = [&](const std::vector<std::size_t>& order) {
        model_type mm{s::seed{3}};  // same seed: the same dropout and membrane-dropout draws
        restore(mm);
        std::vector<observation> seen(probes.size());
        for (std::size_t k : order) {
            seen[k] = probes[k].run(mm);
            restore(mm);  // training steps move weights, BN statistics and thresholds
        }
        return seen;
    };
    std::vector<std::size_t> forward(probes.size());
    for (std::size_t k = 0; k < forward.size(); ++k) forward[k] = k;
    std::vector<std::size_t> backward(forward.rbegin(), forward.rend());
    std::vector<std::size_t> interleaved;  // train steps and evaluations alternate
    for (std::size_t k = 0; k < forward.size(); ++k) interleaved.push_back(k % 2 ? forward.size() - 1 - k / 2 : k / 2);
    std::vector<std::vector<std::size_t>> orders{forward, backward, interleaved};
    std::mt19937 shuffler(11);
    for (int k = 0; k < 4; ++k) {
        orders.push_back(forward);
        std::shuffle(orders.back().begin(), orders.back().end(), shuffler);
    }

    // Each probe alone on a fresh model is the reference.
    std::vector<observation> alone(probes.size());
    for (std::size_t k = 0; k < probes.size(); ++k) alone[k] = run_in({k})[k];
    for (const auto& order : orders) {
        const auto seen = run_in(order);
        for (std::size_t k = 0; k < probes.size(); ++k) {
            INFO(probes[k].name);
            CHECK(seen[k] == alone[k]);
        }
    }
    // The default views are the default rule's branches.
    const auto named = [&](const std::string& name) {
        const auto at = std::find_if(probes.begin(), probes.end(), [&](const probe& p) { return p.name == name; });
        REQUIRE(at != probes.end());
        return alone[static_cast<std::size_t>(at - probes.begin())];
    };
    CHECK(named("view: snn() (the default SNN2ANN options)") == named("snn2ann default: predict"));
    CHECK(named("view: ann() (the default SNN2ANN options)") == named("snn2ann default: ANN branch"));
    // A view made from a rule is that rule's branch, and the custom options do change them.
    CHECK(named("view: snn(custom rule)") == named("snn2ann custom: predict"));
    CHECK(named("view: ann(custom rule)") == named("snn2ann custom: ANN branch"));
    CHECK(named("view: snn(custom rule)") != named("view: snn() (the default SNN2ANN options)"));
    CHECK(named("view: ann(custom rule)") != named("view: ann() (the default SNN2ANN options)"));
    // A view says how to run the model as well as its rule does.
    CHECK(named("evaluate: view snn(custom rule)") == named("evaluate: snn2ann custom"));
    CHECK(named("measure_spikes: view snn(custom rule)") == named("measure_spikes: snn2ann custom"));
}
