// One run of the resume test (test_resume.cpp), in a process of its own:
//   resume_worker RULE OPTIMIZER MODE STATE OUT
// RULE snn2ann | bptt | ann, OPTIMIZER sgd (momentum) | adam, 3 epochs of 4 batches with
// a cosine schedule. MODE whole: the run uninterrupted; killed: the state is saved every
// 3 steps and the process kills itself with SIGKILL after step 6 (in the middle of epoch
// 2, one step after the last save); resume: the run continued from STATE. whole and
// resume write the final parameters, state and every epoch's loss and accuracies to OUT.
#include <csignal>
#include <cstdio>
#include <fstream>
#include <string>

#include <snn2ann/snn2ann.hpp>

#include "synthetic_data.hpp"

namespace s = snn2ann;

namespace {
using net = s::network<s::input<1, 12, 12>, s::conv<4, 3>, s::batch_norm, s::max_pool<2>, s::spiking<>, s::flatten,
                       s::dropout<10>, s::linear<12>, s::spiking<>, s::linear<3>>;
using model_type = s::model<net, s::timesteps<4>>;

struct kill_after_step {
    std::uint64_t step;
    template <class Trainer>
    bool on_step_end(Trainer&, const s::step_report& r) const {
        if (r.step == step) std::raise(SIGKILL);
        return false;
    }
};

template <class Rule, class Optimizer>
int run(Rule rule, Optimizer opt, const std::string& mode, const std::string& state, const std::string& out) {
    const auto data = test::bars(96, 3), held_out = test::bars(30, 4);
    model_type m{s::seed{5}};
    s::trainer t{m, rule, opt};
    t.quiet().validate_on(held_out).schedule(s::cosine_lr{3});
    std::vector<s::epoch_report> history;
    if (mode == "killed") {
        t.fit(data, s::epochs{3}, s::batch{24}, s::callbacks::checkpoint_every::steps(3, state), kill_after_step{6});
        std::fprintf(stderr, "resume_worker: the run was not killed\n");
        return 1;
    }
    if (mode == "resume") t.resume(state);
    else if (mode != "whole") return 2;
    history = t.fit(data, s::epochs{3}, s::batch{24});
    std::ofstream f(out, std::ios::binary | std::ios::trunc);
    const auto put = [&](const void* p, std::size_t n) { f.write(static_cast<const char*>(p), static_cast<std::streamsize>(n)); };
    put(m.parameters().data(), m.parameters().size_bytes());
    put(m.state().data(), m.state().size_bytes());
    for (const auto& r : history) {
        const double v[] = {static_cast<double>(r.epoch), r.loss, r.train_accuracy, r.snn_train_accuracy, r.test_accuracy,
                            r.test_loss, r.learning_rate};
        put(v, sizeof v);
    }
    return f ? 0 : 3;
}

template <class Rule>
int with_optimizer(Rule rule, const std::string& optimizer, const std::string& mode, const std::string& state,
                   const std::string& out) {
    if (optimizer == "sgd") return run(rule, s::sgd{0.05, 0.9}, mode, state, out);
    if (optimizer == "adam") return run(rule, s::adam{3e-3}, mode, state, out);
    return 2;
}
}  // namespace

int main(int argc, char** argv) {
    if (argc != 6) {
        std::fprintf(stderr, "usage: resume_worker snn2ann|bptt|ann sgd|adam whole|killed|resume STATE OUT\n");
        return 2;
    }
    const std::string rule = argv[1], optimizer = argv[2], mode = argv[3], state = argv[4], out = argv[5];
    try {
        if (rule == "snn2ann") return with_optimizer(s::rules::snn2ann{}, optimizer, mode, state, out);
        if (rule == "bptt") return with_optimizer(s::rules::bptt{s::surrogate::atan(), true}, optimizer, mode, state, out);
        if (rule == "ann") return with_optimizer(s::rules::ann{s::ann_activation::qcfs, 4}, optimizer, mode, state, out);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "resume_worker: %s\n", e.what());
        return 1;
    }
    return 2;
}
