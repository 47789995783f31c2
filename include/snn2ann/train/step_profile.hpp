// snn2ann/train: where a training step's time goes. A step_profile given to
// trainer::fit(data, epochs, batch, profile) as a callback times every step it sees: the
// trainer's own parts (gathering the batch, the guard against NaN and infinity, the
// optimiser), each pass of the rule (the SNN branch, the ANN forward and backward, BPTT's
// forward and backward) and, within a pass, each of the network's layers. The rest of the
// step (the loss, the rule's glue, callbacks) is "other". It is how speed work is chosen
// and judged (benchmarks/train_throughput --profile).
//
// The clock is read only while a profile records, on the thread that runs fit(); the
// passes' own worker threads are inside the times of the calls that start them. The CPU
// backend's passes are timed layer by layer; a GPU model's passes are asynchronous, and
// only the trainer's parts and whole steps are timed for it.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace snn2ann::inline v0 {

/// The parts of a training step a step_profile times.
enum class step_part : int {
    data,           ///< gathering (and augmenting) the batch
    snn_branch,     ///< SNN2ANN's T-step SNN pass
    ann_forward,    ///< the ANN pass (rules::ann, and SNN2ANN's ANN branch)
    ann_backward,   ///< its back-propagation
    bptt_forward,   ///< BPTT's T-step forward, keeping the graph
    bptt_backward,  ///< BPTT's back-propagation through time
    exchange,       ///< data-parallel training: averaging gradients and figures between ranks
    guard,          ///< keeping the state before the step and checking it for NaN and infinity
    optimizer,      ///< the optimiser's step
    other,          ///< the rest of the step: the loss, the rule's glue, callbacks
};
/// The number of step_part values.
inline constexpr std::size_t step_part_count = 10;
/// The part in words ("snn branch", ...).
inline const char* step_part_name(step_part p) {
    constexpr const char* names[step_part_count] = {"data",          "snn branch", "ann forward", "ann backward",
                                                    "bptt forward",  "bptt backward", "exchange", "guard",
                                                    "optimizer",     "other"};
    return names[static_cast<std::size_t>(p)];
}

class step_profile;

namespace detail {
/// The profile recording on this thread, or null.
inline step_profile*& recording_step_profile() {
    thread_local step_profile* p = nullptr;
    return p;
}
}  // namespace detail

/// The time of training steps by part and by layer (see the file's comment). Use it as a
/// callback of trainer::fit; read it after. Times add up over every step it saw.
class step_profile {
public:
    step_profile() = default;
    step_profile(const step_profile&) = delete;
    step_profile& operator=(const step_profile&) = delete;
    ~step_profile() { stop_recording(); }

    /// Steps timed.
    std::size_t steps() const { return steps_; }
    /// Seconds of all timed steps, from each step's start to its end.
    double total_seconds() const { return step_seconds_; }
    /// Seconds in part `p` over all steps; other is the steps' time outside every other part.
    double seconds(step_part p) const {
        if (p != step_part::other) return parts_[index(p)];
        double rest = step_seconds_;
        for (std::size_t k = 0; k + 1 < step_part_count; ++k) rest -= parts_[k];
        return rest > 0 ? rest : 0.0;
    }
    /// Layers the passes reported (the network's own list; a residual block is one).
    std::size_t layers() const { return layers_.size(); }
    /// Seconds of layer i in pass `p` (0 where the pass did not run it).
    double seconds(step_part p, std::size_t layer) const {
        return layer < layers_.size() ? layers_[layer].seconds[index(p)] : 0.0;
    }
    /// Layer i in words ("layer 3: spiking<...> -> 4x8x8").
    const std::string& layer_name(std::size_t layer) const { return layers_.at(layer).name; }

    /// The profile as a table: milliseconds per step and share of the step for each part,
    /// then milliseconds per step of each layer in each pass that ran.
    std::string table() const {
        std::string t;
        const double per = steps_ ? 1e3 / static_cast<double>(steps_) : 0.0;
        char line[256];
        std::snprintf(line, sizeof line, "%zu steps, %.3f ms per step\n%-16s %10s %7s\n", steps_, step_seconds_ * per,
                      "part", "ms/step", "share");
        t += line;
        for (std::size_t k = 0; k < step_part_count; ++k) {
            const auto p = static_cast<step_part>(k);
            if (seconds(p) == 0.0) continue;
            std::snprintf(line, sizeof line, "%-16s %10.3f %6.1f%%\n", step_part_name(p), seconds(p) * per,
                          step_seconds_ > 0 ? 100.0 * seconds(p) / step_seconds_ : 0.0);
            t += line;
        }
        if (layers_.empty()) return t;
        std::vector<step_part> passes;  // the layer passes that ran, in step_part order
        for (std::size_t k = 0; k < step_part_count; ++k)
            for (const layer_times& l : layers_)
                if (l.seconds[k] > 0) {
                    passes.push_back(static_cast<step_part>(k));
                    break;
                }
        t += "\nms/step by layer\n";
        for (const step_part p : passes) {
            std::snprintf(line, sizeof line, "%13s | ", step_part_name(p));
            t += line;
        }
        t += "layer\n";
        for (const layer_times& l : layers_) {
            for (const step_part p : passes) {
                std::snprintf(line, sizeof line, "%13.3f | ", l.seconds[index(p)] * per);
                t += line;
            }
            t += l.name + '\n';
        }
        return t;
    }
    /// Forgets every step timed so far.
    void reset() {
        parts_ = {};
        layers_.clear();
        steps_ = 0;
        step_seconds_ = 0.0;
    }

    /// @name Callback hooks (train/callbacks.hpp)
    ///@{
    /// Starts timing a step: the library's timers record into this profile until its end.
    template <class Trainer>
    void on_step_begin(Trainer&, std::uint64_t) {
        detail::recording_step_profile() = this;
        step_start_ = clock::now();
    }
    /// Ends the step's timing; never stops training.
    template <class Trainer, class Report>
    bool on_step_end(Trainer&, const Report&) {
        step_seconds_ += std::chrono::duration<double>(clock::now() - step_start_).count();
        ++steps_;
        stop_recording();  // evaluation between steps is not a step's
        return false;
    }
    /// Stops recording (also where a step was left by an exception).
    template <class Trainer, class History>
    void on_fit_end(Trainer&, const History&) { stop_recording(); }
    ///@}

    /// Adds `seconds` to part `p` (the library's timers).
    void add(step_part p, double seconds) { parts_[index(p)] += seconds; }
    /// Adds `seconds` to layer `layer` in pass `p`, naming the layer by name(layer) the
    /// first time (the library's timers).
    void add(step_part p, std::size_t layer, double seconds, std::string (*name)(std::size_t)) {
        if (layer >= layers_.size()) layers_.resize(layer + 1);
        layer_times& l = layers_[layer];
        if (l.name.empty() && name) l.name = name(layer);
        l.seconds[index(p)] += seconds;
    }

private:
    using clock = std::chrono::steady_clock;
    struct layer_times {
        std::string name;
        std::array<double, step_part_count> seconds{};
    };
    static std::size_t index(step_part p) { return static_cast<std::size_t>(p); }
    void stop_recording() {
        if (detail::recording_step_profile() == this) detail::recording_step_profile() = nullptr;
    }

    std::array<double, step_part_count> parts_{};
    std::vector<layer_times> layers_;
    std::size_t steps_ = 0;
    double step_seconds_ = 0.0;
    clock::time_point step_start_{};
};

namespace detail {
/// Times its own lifetime as part `p` (or as layer `layer` of pass `p`) of the step the
/// recording profile is in; without one, it reads no clock.
class step_timer {
public:
    explicit step_timer(step_part p, bool active = true) : step_timer(p, no_layer, nullptr, active) {}
    /// Layer `layer` of pass `p`, named name(layer); an inactive timer times nothing.
    step_timer(step_part p, std::size_t layer, std::string (*name)(std::size_t), bool active = true)
        : profile_(active ? recording_step_profile() : nullptr), part_(p), layer_(layer), name_(name) {
        if (profile_) start_ = std::chrono::steady_clock::now();
    }
    step_timer(const step_timer&) = delete;
    step_timer& operator=(const step_timer&) = delete;
    ~step_timer() {
        if (!profile_) return;
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
        if (layer_ == no_layer) profile_->add(part_, s);
        else profile_->add(part_, layer_, s, name_);
    }

private:
    static constexpr std::size_t no_layer = static_cast<std::size_t>(-1);
    step_profile* profile_;
    step_part part_;
    std::size_t layer_;
    std::string (*name_)(std::size_t);
    std::chrono::steady_clock::time_point start_{};
};
}  // namespace detail

}  // namespace snn2ann::inline v0
