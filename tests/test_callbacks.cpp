// The trainer's callbacks (early stopping, save-best, checkpoints, warm-up, the time
// budget), the training state's refusals, and the guard against NaN and infinity.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include <unistd.h>

#include <snn2ann/snn2ann.hpp>

#include "synthetic_data.hpp"

namespace s = snn2ann;
namespace fs = std::filesystem;

namespace {
using net = s::network<s::input<1, 12, 12>, s::conv<4, 3>, s::batch_norm, s::max_pool<2>, s::spiking<>, s::flatten,
                       s::linear<3>>;
using model_type = s::model<net, s::timesteps<4>>;

struct temp_path {
    std::string path;
    explicit temp_path(const std::string& name)
        : path((fs::temp_directory_path() / ("snn2ann_cb_" + std::to_string(::getpid()) + "_" + name)).string()) {}
    ~temp_path() { fs::remove(path); }
};

/// A stand-in for the trainer, for callbacks fed crafted epochs.
struct fake_trainer {
    std::vector<std::string> saved;
    void save_model(const std::string& p) { saved.push_back(p); }
};
s::epoch_report epoch(int n, double accuracy, double loss = 1.0) {
    s::epoch_report r;
    r.epoch = n, r.test_accuracy = accuracy, r.test_loss = loss, r.loss = loss;
    return r;
}
/// Keeps the weights of the epoch with the best validation accuracy (save_best's check).
struct remember_best {
    model_type& m;
    std::vector<float>& weights;
    double& accuracy;
    template <class T>
    bool on_epoch_end(T&, const s::epoch_report& r) {
        if (r.test_accuracy > accuracy) accuracy = r.test_accuracy, weights.assign(m.parameters().begin(), m.parameters().end());
        return false;
    }
};
/// Records every step's learning rate.
struct record {
    std::vector<double>& rates;
    template <class T>
    bool on_step_end(T&, const s::step_report& r) {
        rates.push_back(r.learning_rate);
        return false;
    }
};
/// Stops after step 1 by request_stop().
struct stop_at_step_1 {
    template <class T>
    bool on_step_end(T& t, const s::step_report& r) {
        if (r.step == 1) t.request_stop();
        return false;
    }
};
}  // namespace

TEST_CASE("early stopping stops at the epoch its patience runs out on a crafted validation curve") {
    fake_trainer t;
    s::callbacks::early_stopping stop{2};
    // accuracies 0.5, 0.7, 0.65, 0.7 (no gain), 0.69: the best is epoch 2, patience 2 ends at epoch 4
    const double curve[] = {0.5, 0.7, 0.65, 0.7, 0.69};
    int stopped_at = 0;
    for (int e = 1; e <= 5 && !stopped_at; ++e)
        if (stop.on_epoch_end(t, epoch(e, curve[e - 1]))) stopped_at = e;
    CHECK(stopped_at == 4);
    CHECK(stop.best_epoch() == 2);
    // On the validation loss, lower is better; min_delta asks for a real gain.
    s::callbacks::early_stopping by_loss{1, s::callbacks::monitor::validation_loss, 0.05};
    CHECK_FALSE(by_loss.on_epoch_end(t, epoch(1, 0.0, 1.0)));
    CHECK_FALSE(by_loss.on_epoch_end(t, epoch(2, 0.0, 0.9)));
    CHECK(by_loss.on_epoch_end(t, epoch(3, 0.0, 0.88)));  // 0.02 better: not enough
    // Without a validation set there is nothing to watch: said, not ignored.
    CHECK_THROWS_AS(stop.on_epoch_end(t, epoch(6, -1.0)), s::invalid_argument);
}

TEST_CASE("early stopping ends a real run: fit returns the epochs done") {
    const auto data = test::bars(60, 1);
    model_type m{s::seed{1}};
    s::trainer t{m, s::rules::snn2ann{}, s::sgd{0.0}};  // no learning: the loss never improves
    const auto history = t.quiet().fit(data, s::epochs{10}, s::batch{20},
                                       s::callbacks::early_stopping{2, s::callbacks::monitor::training_loss});
    CHECK(history.size() == 3);  // the best at epoch 1, two epochs without a gain
    CHECK(t.epochs_done() == 3);
}

TEST_CASE("save-best writes only the epochs that improve, and the file holds the best weights") {
    fake_trainer t;
    s::callbacks::save_best best{"best.npz"};
    for (const auto& [e, a] : std::vector<std::pair<int, double>>{{1, 0.5}, {2, 0.7}, {3, 0.6}, {4, 0.8}, {5, 0.8}})
        best.on_epoch_end(t, epoch(e, a));
    CHECK(t.saved.size() == 3);  // epochs 1, 2 and 4
    CHECK(best.best_epoch() == 4);

    temp_path file("best.npz");
    const auto data = test::bars(60, 1), held_out = test::bars(30, 2);
    model_type m{s::seed{1}};
    s::trainer real{m, s::rules::snn2ann{}, s::adam{3e-3}};
    std::vector<float> best_weights;
    double best_accuracy = -1;
    real.quiet().validate_on(held_out).fit(data, s::epochs{4}, s::batch{20}, s::callbacks::save_best{file.path},
                                           remember_best{m, best_weights, best_accuracy});
    model_type loaded{s::seed{7}};
    s::io::load_checkpoint(loaded, file.path);
    CHECK(std::vector<float>(loaded.parameters().begin(), loaded.parameters().end()) == best_weights);
}

TEST_CASE("warm-up: each step's learning rate rises linearly, then the schedule takes over") {
    const auto data = test::bars(40, 1);
    model_type m{s::seed{1}};
    s::trainer t{m, s::rules::ann{}, s::sgd{0.1}};
    std::vector<double> rates;
    t.quiet().schedule(s::step_lr{1, 0.5}).fit(data, s::epochs{2}, s::batch{10}, s::callbacks::warmup{4, 0.2},
                                               record{rates});
    REQUIRE(rates.size() == 8);
    const std::vector<double> expected{0.1 * 0.4, 0.1 * 0.6, 0.1 * 0.8, 0.1, 0.1, 0.1, 0.1, 0.1};
    for (std::size_t k = 0; k < 4; ++k) CHECK(rates[k] == doctest::Approx(expected[k]));
    for (std::size_t k = 4; k < 8; ++k) CHECK(rates[k] == doctest::Approx(0.05));  // epoch 2: the schedule's half
}

TEST_CASE("the time budget saves the state and stops; checkpoint_every saves on its steps; resume goes on") {
    temp_path state("state.npz"), every("every.npz");
    const auto data = test::bars(60, 1);
    model_type m{s::seed{1}};
    s::trainer t{m, s::rules::snn2ann{}, s::adam{3e-3}};
    s::callbacks::time_budget budget{0.0, state.path};  // spent after the first step
    const auto history = t.quiet().fit(data, s::epochs{2}, s::batch{20}, budget);
    CHECK(history.empty());
    CHECK(t.steps_done() == 1);
    CHECK(fs::exists(state.path));
    model_type again{s::seed{1}};
    s::trainer u{again, s::rules::snn2ann{}, s::adam{3e-3}};
    u.resume(state.path);
    CHECK(u.steps_done() == 1);
    CHECK(std::equal(m.parameters().begin(), m.parameters().end(), again.parameters().begin()));
    u.quiet().fit(data, s::epochs{2}, s::batch{20}, s::callbacks::checkpoint_every::steps(2, every.path));
    CHECK(u.steps_done() == 6);
    model_type last{s::seed{1}};
    s::trainer v{last, s::rules::snn2ann{}, s::adam{3e-3}};
    v.resume(every.path);
    CHECK(v.steps_done() == 6);  // saved after steps 2, 4 and 6 (1-based)
    CHECK(v.epochs_done() == 1);  // the last save came before the end of epoch 2 was counted
    // fit() says so when a run has nothing left to do (epochs{N} counts the whole run).
    CHECK_THROWS_WITH_AS(u.fit(data, s::epochs{2}, s::batch{20}), doctest::Contains("epochs{3} trains one more"),
                         s::invalid_argument);
}

TEST_CASE("a resumed run stops early and keeps the best epoch where the uninterrupted run does") {
    temp_path state("resumed.npz"), whole_best("whole_best.npz"), resumed_best("resumed_best.npz");
    const auto data = test::bars(60, 1);
    const auto loss = s::callbacks::monitor::training_loss;
    // No learning: the first epoch's loss stays the best, so the patience runs out two
    // epochs later and no later epoch is saved (the BN statistics and thresholds still
    // move, so a saved later epoch would differ from the first).
    const auto run = [&](model_type& m, const std::string& best_file, int epochs, const std::string& resume_from,
                         const std::string& save_to, int& best_epoch) {
        s::trainer t{m, s::rules::snn2ann{}, s::sgd{0.0}};
        if (!resume_from.empty()) t.resume(resume_from);
        s::callbacks::early_stopping stop{2, loss};
        s::callbacks::save_best best{best_file, loss};
        std::vector<s::epoch_report> history;
        if (save_to.empty()) history = t.quiet().fit(data, s::epochs{epochs}, s::batch{20}, stop, best);
        else history = t.quiet().fit(data, s::epochs{epochs}, s::batch{20}, stop, best,
                                     s::callbacks::checkpoint_every::epochs(1, save_to));
        best_epoch = best.best_epoch();
        return history.size();
    };
    model_type whole{s::seed{1}}, first_part{s::seed{1}}, second_part{s::seed{1}};
    int whole_epoch = 0, resumed_epoch = 0;
    const std::size_t uninterrupted = run(whole, whole_best.path, 10, "", "", whole_epoch);
    REQUIRE(uninterrupted == 3);  // the best at epoch 1, two epochs without a gain
    REQUIRE(whole_epoch == 1);
    run(first_part, resumed_best.path, 2, "", state.path, resumed_epoch);  // interrupted after epoch 2
    CHECK(run(second_part, resumed_best.path, 10, state.path, "", resumed_epoch) == uninterrupted);
    CHECK(resumed_epoch == whole_epoch);
    model_type a{s::seed{5}}, b{s::seed{6}};
    s::io::load_checkpoint(a, whole_best.path);
    s::io::load_checkpoint(b, resumed_best.path);
    CHECK(std::equal(a.state().begin(), a.state().end(), b.state().begin()));
}

TEST_CASE("a training state is refused for another rule, optimiser, learning rate, network or batch size") {
    temp_path state("refused.npz");
    const auto data = test::bars(60, 1);
    model_type m{s::seed{1}};
    s::trainer t{m, s::rules::snn2ann{}, s::adam{3e-3}};
    t.quiet().fit(data, s::epochs{1}, s::batch{20}, stop_at_step_1{});
    t.save_state(state.path);
    const auto message = [&](auto&& f) -> std::string {
        try {
            f();
        } catch (const s::error& e) {
            return e.what();
        }
        return "accepted";
    };
    model_type other{s::seed{1}};
    s::rules::snn2ann stsu{s::mapping_unit::stsu};
    {
        s::trainer u{other, stsu, s::adam{3e-3}};
        CHECK(message([&] { u.resume(state.path); }).find("saved by another rule: snn2ann(resu") != std::string::npos);
    }
    {
        s::trainer u{other, s::rules::snn2ann{}, s::sgd{3e-3, 0.9}};
        CHECK(message([&] { u.resume(state.path); }).find("another optimiser: adam(") != std::string::npos);
    }
    {
        s::trainer u{other, s::rules::snn2ann{}, s::adam{1e-3}};
        CHECK(message([&] { u.resume(state.path); }).find("base learning rate 0.003") != std::string::npos);
    }
    {
        s::model<net, s::timesteps<8>> longer{s::seed{1}};
        s::trainer u{longer, s::rules::snn2ann{}, s::adam{3e-3}};
        CHECK(message([&] { u.resume(state.path); }).find("T = 4, the model has T = 8") != std::string::npos);
    }
    {
        s::trainer u{other, s::rules::snn2ann{}, s::adam{3e-3}};
        u.resume(state.path);
        CHECK_THROWS_AS(u.quiet().fit(data, s::epochs{1}, s::batch{30}), s::io_error);  // names the state file
        CHECK(message([&] { u.quiet().fit(data, s::epochs{1}, s::batch{30}); }).find("batches of 20, not 30") !=
              std::string::npos);
        CHECK(message([&] { u.quiet().fit(test::bars(90, 1), s::epochs{1}, s::batch{20}); }).find("trained on 60") !=
              std::string::npos);
    }
    // A training state holds a model checkpoint: io::load_checkpoint reads the weights from it.
    model_type weights_only{s::seed{3}};
    s::io::load_checkpoint(weights_only, state.path);
    CHECK(std::equal(m.parameters().begin(), m.parameters().end(), weights_only.parameters().begin()));
    // A model checkpoint is not a training state, and says what it is.
    temp_path weights("weights.npz");
    s::io::save_checkpoint(m, weights.path);
    s::trainer u{other, s::rules::snn2ann{}, s::adam{3e-3}};
    CHECK(message([&] { u.resume(weights.path); }).find("holds weights only") != std::string::npos);
}

TEST_CASE("a NaN stops training with its epoch, step, batch and layer, and leaves the model as before the batch") {
    const auto data = test::bars(60, 1);
    SUBCASE("a weight that is not finite: the first layer whose output is not is named") {
        model_type m{s::seed{1}};
        const std::size_t linear = model_type::executor::param_offsets[5];
        m.parameters()[linear + 5] = std::numeric_limits<float>::quiet_NaN();
        const std::vector<float> state(m.state().begin(), m.state().end());
        s::trainer t{m, s::rules::snn2ann{}, s::sgd{0.1}};
        CHECK_THROWS_WITH_AS(t.quiet().fit(data, s::epochs{1}, s::batch{20}),
                             doctest::Contains("epoch 1, step 0, batch 0 of the epoch: the output of layer 5: "
                                               "linear<3, bias> -> 3f is not finite"),
                             s::non_finite_error);
        CHECK(std::vector<float>(m.state().begin(), m.state().end()) == state);  // BN statistics, thresholds
        CHECK(t.steps_done() == 0);
    }
    SUBCASE("a sample that holds a NaN is named by its index in the training set") {
        auto bad = data;
        bad.images[37 * 144 + 5] = std::numeric_limits<float>::infinity();
        model_type m{s::seed{1}};
        s::trainer t{m, s::rules::bptt{}, s::adam{1e-3}};
        CHECK_THROWS_WITH_AS(t.quiet().fit(bad, s::epochs{1}, s::batch{20}),
                             doctest::Contains("sample 37 of the training set holds a non-finite value"),
                             s::non_finite_error);
    }
    SUBCASE("skip: the batch is left out, counted, and the run goes on") {
        auto bad = data;
        bad.images[37 * 144 + 5] = std::numeric_limits<float>::quiet_NaN();
        model_type m{s::seed{1}};
        s::trainer t{m, s::rules::ann{}, s::sgd{0.05}};
        const auto history = t.quiet().on_non_finite(s::non_finite::skip).fit(bad, s::epochs{2}, s::batch{20});
        CHECK(history[0].skipped_batches == 1);
        CHECK(history[1].skipped_batches == 1);
        CHECK(std::isfinite(history[1].loss));
        for (float p : m.parameters()) REQUIRE(std::isfinite(p));
        for (float v : m.state()) REQUIRE(std::isfinite(v));
    }
    SUBCASE("the last checkpoint is left intact and resumes") {
        temp_path state("nan.npz");
        auto bad = data;
        bad.images[37 * 144 + 5] = std::numeric_limits<float>::quiet_NaN();
        model_type m{s::seed{1}};
        s::trainer t{m, s::rules::snn2ann{}, s::adam{3e-3}};
        try {
            t.quiet().fit(bad, s::epochs{3}, s::batch{20}, s::callbacks::checkpoint_every::steps(1, state.path));
            FAIL("the NaN went on silently");
        } catch (const s::non_finite_error&) {
        }
        model_type again{s::seed{1}};
        s::trainer u{again, s::rules::snn2ann{}, s::adam{3e-3}};
        u.resume(state.path);
        CHECK(u.steps_done() == t.steps_done());
        CHECK(std::equal(m.parameters().begin(), m.parameters().end(), again.parameters().begin()));
    }
}

TEST_CASE("all_finite finds a NaN or an infinity anywhere, and nothing in finite values") {
    std::vector<float> v(200000, 1.0f);
    v[3] = std::numeric_limits<float>::max();
    v[4] = -std::numeric_limits<float>::max();
    v[5] = std::numeric_limits<float>::denorm_min();
    v[6] = -0.0f;
    CHECK(s::detail::all_finite(v));
    for (std::size_t at : {std::size_t{0}, std::size_t{65535}, std::size_t{65536}, std::size_t{199999}})
        for (float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                          -std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::quiet_NaN()}) {
            auto w = v;
            w[at] = bad;
            CHECK_FALSE(s::detail::all_finite(w));
        }
    CHECK(s::detail::all_finite(std::span<const float>{}));
}

TEST_CASE("step_profile: each part and each layer of the steps it sees, nothing between them") {
    const auto data = test::bars(60, 1);
    model_type m{s::seed{1}};
    s::trainer t{m, s::rules::snn2ann{}, s::adam{1e-3}};
    t.validate_on(data);
    s::step_profile p;
    t.quiet().fit(data, s::epochs{2}, s::batch{20}, p);
    CHECK(p.steps() == 6);  // 2 epochs of 3 batches
    CHECK(p.total_seconds() > 0.0);
    for (const auto part : {s::step_part::data, s::step_part::snn_branch, s::step_part::ann_forward,
                            s::step_part::ann_backward, s::step_part::guard, s::step_part::optimizer})
        CHECK_MESSAGE(p.seconds(part) > 0.0, s::step_part_name(part));
    for (const auto part : {s::step_part::bptt_forward, s::step_part::bptt_backward, s::step_part::exchange})
        CHECK_MESSAGE(p.seconds(part) == 0.0, s::step_part_name(part));
    // The parts share the steps' time out: none is more than it, and together they are it.
    double sum = 0.0;
    for (std::size_t k = 0; k < s::step_part_count; ++k) sum += p.seconds(static_cast<s::step_part>(k));
    CHECK(sum == doctest::Approx(p.total_seconds()).epsilon(1e-9));
    // Every layer of the network, named; the SNN branch skips the batch norm it folds into
    // the convolution; the layers of a pass take no more than the pass.
    REQUIRE(p.layers() == 6);
    CHECK(p.layer_name(0).rfind("layer 0: conv<4, 3", 0) == 0);
    CHECK(p.layer_name(3).rfind("layer 3: spiking<", 0) == 0);
    CHECK(p.seconds(s::step_part::snn_branch, 1) == 0.0);
    CHECK(p.seconds(s::step_part::ann_forward, 1) > 0.0);
    for (const auto part : {s::step_part::snn_branch, s::step_part::ann_forward, s::step_part::ann_backward}) {
        double layers = 0.0;
        for (std::size_t i = 0; i < p.layers(); ++i) layers += p.seconds(part, i);
        CHECK(layers > 0.0);
        CHECK(layers <= p.seconds(part));
    }
    const std::string table = p.table();
    CHECK(table.find("6 steps") == 0);
    CHECK(table.find("snn branch") != std::string::npos);
    CHECK(table.find("layer 5: linear<3") != std::string::npos);
    CHECK(table.find("bptt") == std::string::npos);
    // Outside fit()'s steps (the epochs' validation, a later evaluation) nothing is recorded.
    const double snn = p.seconds(s::step_part::snn_branch);
    s::rules::snn2ann rule;
    rule.predict(m, data.images.data(), 20);
    CHECK(p.seconds(s::step_part::snn_branch) == snn);

    // BPTT's passes are its own.
    s::trainer b{m, s::rules::bptt{}, s::adam{1e-3}};
    p.reset();
    CHECK(p.steps() == 0);
    CHECK(p.layers() == 0);
    b.quiet().fit(data, s::epochs{1}, s::batch{30}, p);
    CHECK(p.steps() == 2);
    CHECK(p.seconds(s::step_part::bptt_forward) > 0.0);
    CHECK(p.seconds(s::step_part::bptt_backward) > 0.0);
    CHECK(p.seconds(s::step_part::snn_branch) == 0.0);
    CHECK(p.seconds(s::step_part::ann_forward) == 0.0);
    CHECK(p.seconds(s::step_part::bptt_backward, 4) > 0.0);  // the flatten layer, through time
}
