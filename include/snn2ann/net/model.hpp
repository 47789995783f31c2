// snn2ann/net: model<network, options...> owns the one parameter buffer, its gradient
// buffer and the state buffer (docs/design.md), and runs the network on a batch. It holds
// weights and state only, never a rule's settings: every pass of a network with spiking
// layers takes the spiking options of the rule that runs it (rule.options()).
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>
#include <type_traits>

#include "../core/backend.hpp"
#include "../core/buffer.hpp"
#include "../core/error.hpp"
#include "../core/messages.hpp"
#include "input_frames.hpp"
#include "../core/rng.hpp"
#include "../core/parallel.hpp"
#include "../core/process_group.hpp"
#include "../layer/context.hpp"
#include "../ops/cpu/conv.hpp"
#include "../ops/cpu/time_mean.hpp"
#include "../train/step_profile.hpp"
#include "branches.hpp"
#include "network.hpp"
#include "timesteps.hpp"

namespace snn2ann::inline v0 {

namespace detail {
template <class Default, template <class> class Pred, class... Options>
struct pick_option {
    using type = Default;
};
template <class Default, template <class> class Pred, class O, class... Rest>
struct pick_option<Default, Pred, O, Rest...> {
    using type = std::conditional_t<Pred<O>::value, O, typename pick_option<Default, Pred, Rest...>::type>;
};
template <class T>
struct is_backend
    : std::bool_constant<std::is_same_v<T, cpu> || std::is_same_v<T, cuda> || std::is_same_v<T, cuda_on_host>> {};
/// The options of a model name the CUDA backend, on a GPU or on the host (its model is in
/// net/cuda_model.hpp).
template <class... Options>
concept cuda_options = ((std::is_same_v<Options, cuda> || std::is_same_v<Options, cuda_on_host>) || ...);
}  // namespace detail

/// A network's weights and state, with options timesteps<T> (default 1) and a backend
/// tag (default cpu), in any order.
template <class Net, class... Options>
class model {
public:
    using network_type = Net;  ///< the network<...> description
    using backend = typename detail::pick_option<cpu, detail::is_backend, Options...>::type;  ///< cpu (this class) or cuda
    static_assert(std::is_same_v<backend, cpu>,
                  "snn2ann::model<net, ..., cuda>: the CUDA backend's model is defined in <snn2ann/cuda.cuh> "
                  "(compile this file with nvcc; CMake: link snn2ann::cuda), its host execution "
                  "model<net, ..., cuda_on_host> in <snn2ann/cuda_on_host.hpp>: include the one you use");
    static constexpr int T = detail::pick_option<timesteps<1>, detail::is_timesteps, Options...>::type::value;  ///< SNN time steps
    using executor = typename Net::template executor<backend>;  ///< the layers' implementation on the backend
    static constexpr shape input_shape = Net::input_shape;  ///< of one sample
    static constexpr shape output_shape = Net::output_shape;  ///< of one sample
    static constexpr std::size_t param_count = executor::param_count;  ///< floats in parameters()
    static constexpr std::size_t state_count = executor::state_count;  ///< floats in state() (BN statistics, ATA thresholds)
    static_assert(executor::last_stepping == executor::last_spiking,
                  "snn2ann::model: a residual block with spiking layers inside must be followed by a spiking "
                  "layer of the network (the SNN's head reads the last spiking layer's rate)");

    /// Initialised weights, a function of `s` alone.
    explicit model(seed s = seed{0}) : seed_(s.value) {
        params_.zeros(param_count);
        grads_.zeros(param_count);
        state_.zeros(state_count);
        executor::init(params_.data(), state_.data(), seed_, 0);
    }

    /// All trainable parameters, one buffer (layer order).
    std::span<float> parameters() { return {params_.data(), param_count}; }
    std::span<const float> parameters() const { return {params_.data(), param_count}; }  ///< read-only
    /// Gradients, laid out as parameters().
    std::span<float> gradients() { return {grads_.data(), param_count}; }
    /// Non-trained state (running BN statistics, thresholds), one buffer.
    std::span<float> state() { return {state_.data(), state_count}; }
    std::span<const float> state() const { return {state_.data(), state_count}; }  ///< read-only
    /// The seed of the initialisation and of every random draw.
    std::uint64_t seed_value() const { return seed_; }

    /// Sets every gradient to 0.
    void zero_grad() { std::fill(grads_.begin(), grads_.end(), 0.0f); }

    /// The two branches of SNN2ANN over this model's one parameter and one state buffer,
    /// run with the options of `rule` (a rules::snn2ann); without one, with the default
    /// rules::snn2ann{}'s.
    ///@{
    template <class Rule>
    ann_branch<model> ann(const Rule& rule) { return ann_branch<model>(*this, rule.options()); }
    template <class Rule>
    snn_branch<model> snn(const Rule& rule) { return snn_branch<model>(*this, rule.options()); }
    ann_branch<model> ann() { return ann_branch<model>(*this, detail::spiking_options{}); }
    snn_branch<model> snn() { return snn_branch<model>(*this, detail::spiking_options{}); }
    ///@}

    /// The input the passes that follow read (time-varying input): `frames` frames of the
    /// input shape per sample, frame-major within the sample, frame t the input of step t;
    /// 1 (the default): one image, the input of every step. The SNN and BPTT passes need
    /// frames = T, the converted SNN runs at most `frames` steps, the ANN passes take the
    /// frames' mean. The trainer, evaluate, measure_spikes and conversion set it from their
    /// data set (data::dataset::frames) and restore it after.
    void set_input_frames(int frames) { input_frames_ = detail::checked_input_frames(frames); }
    /// The frames per sample the passes read (see set_input_frames).
    int input_frames() const { return input_frames_; }

    /// The SNN branch over T steps on `batch` samples, with the spiking options `o` of the
    /// rule that runs it (o.input: the image as the input current at every step, or T
    /// Bernoulli spike frames of it, a function of seed, step and pixel; with frames as the
    /// input (set_input_frames), frame t at step t); returns the logits of the head on the
    /// last spiking layer's mean firing rate, and leaves every spiking layer's spike counts
    /// for the ANN branch, which sees the image (or the frames' mean).
    /// `training` turns on membrane dropout; BN always uses its running statistics.
    const float* snn_forward(const float* x, std::size_t batch, const detail::spiking_options& o,
                             bool training = false, std::uint64_t step = 0) {
        if (batch == 0) throw invalid_argument(detail::messages::empty_batch("snn_forward"));
        const detail::step_timer timer(step_part::snn_branch);
        const bool framed = input_frames_ > 1;
        if (framed) {
            detail::require_frames_match(input_frames_, T, "model::snn_forward");
            if (o.input == encoding::poisson)
                throw invalid_argument("model::snn_forward: Poisson encoding draws its frames from a static image; "
                                       "this input holds frames already (use encoding::direct)");
        }
        // The SNN runs on chunks of samples: its T-step activations then take a chunk's
        // memory, not the batch's. Samples are independent here (BN uses running
        // statistics), and counts and random draws are indexed in the whole batch, so the
        // result does not depend on the chunk size.
        constexpr std::size_t in = input_shape.size(), out = output_shape.size();
        float* logits = snn_outputs_.ensure(batch * out);
        const auto make_context = [&](std::size_t n) { return context(n, false, step, o); };
        detail::for_each_snn_chunk(batch, snn_chunk(batch), training, make_context,
                                   [&](detail::layer_context& c, std::size_t first, std::size_t n) {
            const float* chunk_input = x + first * in;
            if (framed) {
                if constexpr (executor::first_spiking >= 0) {
                    float* frames = encoded_.ensure(static_cast<std::size_t>(T) * n * in);
                    detail::time_major_frames(x, static_cast<std::size_t>(T), in, first, n, 0, static_cast<std::size_t>(T), frames);
                    chunk_input = frames;
                    c.time_varying_input = true;
                } else {
                    chunk_input = mean_of_frames(x + first * in * static_cast<std::size_t>(T), n);
                }
            } else if (o.input == encoding::poisson && executor::first_spiking >= 0) {
                chunk_input = poisson_frames(x, batch, first, n, step);
                c.time_varying_input = true;
            }
            const float* y = exec_.snn_forward(chunk_input, c);
            std::copy(y, y + n * out, logits + first * out);
        });
        return logits;
    }
    /// Samples per chunk of the SNN pass (see snn_forward): even chunks whose T-step
    /// activations hold at most snn_step_samples samples (one sample where T alone is
    /// more), so the pass's memory does not grow with T. 64 keeps its GEMMs as fast as
    /// the whole batch's (16 samples at T = 4; 8 made them 1.5% slower).
    static constexpr std::size_t snn_step_samples = 64;
    /// The chunk size snn_forward uses for `batch` samples.
    static constexpr std::size_t snn_chunk(std::size_t batch) { return detail::snn_chunk(batch, T, snn_step_samples); }

    /// BPTT's forward with the spiking options `o` of rules::bptt: every layer from the
    /// first spiking one on runs over T x B samples, spiking layers step through time
    /// (keeping their membranes for backward when `training`), and the result is the mean
    /// over T of the network's outputs (batch x output size). BN normalises over the T x B
    /// samples. With frames as the input (set_input_frames), frame t is step t's input and
    /// every layer runs over the T x B samples.
    const float* bptt_forward(const float* x, std::size_t batch, const detail::spiking_options& o, bool training,
                              std::uint64_t step = 0) {
        if (batch == 0) throw invalid_argument(detail::messages::empty_batch("bptt_forward"));
        const detail::step_timer timer(step_part::bptt_forward);
        detail::layer_context c = context(batch, training, step, o);
        c.mode = detail::branch::bptt;
        exec_.forward(bptt_input(x, batch, c), c);
        if constexpr (executor::first_spiking < 0) {
            return exec_.output();
        } else {
            float* mean = mean_.ensure(batch * output_shape.size());
            detail::cpu_ops::mean_over_steps(exec_.output(), T, batch * output_shape.size(), mean);
            return mean;
        }
    }
    /// Sets the gradients of the last bptt_forward (same x, batch and options, training)
    /// for the gradient `dmean` of its time-averaged output.
    void bptt_backward(const float* x, const float* dmean, std::size_t batch, const detail::spiking_options& o) {
        const detail::step_timer timer(step_part::bptt_backward);
        detail::layer_context c = context(batch, true, step_, o);
        c.mode = detail::branch::bptt;
        if (input_frames_ > 1) {  // the forward's frames (or their mean), prepared there
            x = encoded_.data();
            c.time_varying_input = executor::first_spiking >= 0;
        }
        if constexpr (executor::first_spiking < 0) {
            exec_.backward(x, dmean, nullptr, c);
        } else {
            constexpr std::size_t n = output_shape.size();
            float* d = per_step_.ensure(static_cast<std::size_t>(T) * batch * n);
            const float inv_t = 1.0f / static_cast<float>(T);
            for (std::size_t t = 0; t < static_cast<std::size_t>(T); ++t)
                for (std::size_t j = 0; j < batch * n; ++j) d[t * batch * n + j] = dmean[j] * inv_t;
            exec_.backward(x, d, nullptr, c);
        }
    }

    /// `steps` steps of the SNN that ANN-to-SNN conversion makes of this network (see
    /// convert/ann_to_snn.hpp): returns the outputs of every step, steps x batch x output
    /// size, time-major. With `resume` the membranes and spike counts of the previous call
    /// (same batch and input) carry on, so a long run can go in chunks of steps. With
    /// frames as the input (set_input_frames), the run takes the next `steps` frames.
    const float* converted_forward(const float* x, std::size_t batch, int steps, bool resume) {
        detail::require_integrate_and_fire<executor>();
        if (batch == 0) throw invalid_argument(detail::messages::empty_batch("converted_forward"));
        if (steps <= 0) throw invalid_argument("model::converted_forward: steps must be positive");
        if (!resume) converted_steps_ = 0;
        const bool framed = input_frames_ > 1;
        if (framed && converted_steps_ + steps > input_frames_)
            throw invalid_argument("model::converted_forward: the input holds " + std::to_string(input_frames_) +
                                   " frames per sample; the converted SNN ran " + std::to_string(converted_steps_) +
                                   " steps and asks for " + std::to_string(steps) + " more");
        detail::spiking_options o;  // conversion's own neurons; nothing of any rule's
        o.converted = true;
        o.resume = resume;
        detail::layer_context c = context(batch, false, 0, o);
        c.mode = detail::branch::snn;
        c.timesteps = steps;
        if (framed) {
            constexpr std::size_t in = input_shape.size();
            float* frames = encoded_.ensure(static_cast<std::size_t>(steps) * batch * in);
            detail::time_major_frames(x, static_cast<std::size_t>(input_frames_), in, 0, batch,
                                      static_cast<std::size_t>(converted_steps_), static_cast<std::size_t>(steps), frames);
            x = frames;
            c.time_varying_input = true;
        }
        converted_steps_ += steps;
        return exec_.snn_forward(x, c);
    }

    /// Runs the network on `batch` samples as an ANN, its spiking layers doing what the
    /// options `o` of the rule that runs it say (SNN2ANN's mapping units on the counts of
    /// the SNN pass just before, ReLU or QCFS); returns the outputs (batch x output size),
    /// valid until the next forward. `step` keys the randomness of stochastic layers.
    const float* forward(const float* x, std::size_t batch, const detail::spiking_options& o, bool training,
                         std::uint64_t step = 0) {
        if (batch == 0) throw invalid_argument(detail::messages::empty_batch("forward"));
        const detail::step_timer timer(step_part::ann_forward);
        exec_.forward(ann_input(x, batch), context(batch, training, step, o));
        return exec_.output();
    }
    /// Sets the gradients of the last forward (same x, batch and options) for output
    /// gradient dy. With frames as the input, the forward's mean of them is reused.
    void backward(const float* x, const float* dy, std::size_t batch, const detail::spiking_options& o) {
        const detail::step_timer timer(step_part::ann_backward);
        exec_.backward(input_frames_ > 1 ? mean_frame_.data() : x, dy, nullptr, context(batch, true, step_, o));
    }
    /// The same for a network without spiking layers, which has nothing to choose.
    const float* forward(const float* x, std::size_t batch, bool training, std::uint64_t step = 0) {
        detail::require_no_spiking_layers<executor>();
        return forward(x, batch, detail::spiking_options{}, training, step);
    }
    /// The same for a network without spiking layers.
    void backward(const float* x, const float* dy, std::size_t batch) {
        static_assert(executor::first_spiking < 0,
                      "snn2ann::model::backward(x, dy, batch): the network has spiking layers; pass the options "
                      "of the forward it differentiates: backward(x, dy, batch, rule.options())");
        backward(x, dy, batch, detail::spiking_options{});
    }

    /// The layers' implementation (for tests and custom rules).
    executor& layers() { return exec_; }

    /// Data-parallel training (the trainer's, see distributed.hpp): until leave_step(),
    /// training passes belong to a step of `group` whose global batch holds `global_batch`
    /// samples, this rank's starting at `global_first`. Their random draws are indexed in
    /// the global batch, ATA and synchronised BN count over it, and backward reports its
    /// finished gradients to the group. Evaluation passes never take part.
    void join_step(detail::process_group& group, std::size_t global_first, std::size_t global_batch) {
        in_step_ = {&group, global_first, global_batch};
    }
    /// Ends join_step().
    void leave_step() { in_step_ = {}; }

private:
    /// The ANN passes' input: x itself, or the mean of its frames (time-varying input).
    const float* ann_input(const float* x, std::size_t batch) {
        if (input_frames_ <= 1) return x;
        return mean_of_frames(x, batch);
    }
    const float* mean_of_frames(const float* x, std::size_t batch) {
        constexpr std::size_t in = input_shape.size();
        float* mean = mean_frame_.ensure(batch * in);
        detail::mean_frame(x, static_cast<std::size_t>(input_frames_), in, batch, mean);
        return mean;
    }
    /// BPTT's input: x itself, or its frames time-major, marked as time-varying in `c`.
    const float* bptt_input(const float* x, std::size_t batch, detail::layer_context& c) {
        return detail::bptt_host_input(x, batch, input_frames_, T, input_shape.size(), executor::first_spiking >= 0,
                                       encoded_, c);
    }

    /// T Bernoulli frames of samples [first, first + n) of the batch (time-major), drawn
    /// as a function of (seed, step, position in the whole batch).
    const float* poisson_frames(const float* x, std::size_t batch, std::size_t first, std::size_t n, std::uint64_t step) {
        constexpr std::size_t in = input_shape.size();
        float* frames = encoded_.ensure(static_cast<std::size_t>(T) * n * in);
        const detail::counter_rng rng(seed_, detail::random_stream::poisson(step));
        // Draws are indexed in the global batch of a data-parallel step (join_step).
        const std::size_t draw_total = in_step_.global_batch ? in_step_.global_batch : batch,
                          draw_first = in_step_.global_first;
        detail::for_range(n, 1, [&](std::size_t b0, std::size_t b1) {
            for (std::size_t t = 0; t < static_cast<std::size_t>(T); ++t)
                for (std::size_t b = b0; b < b1; ++b)
                    for (std::size_t i = 0; i < in; ++i) {
                        const std::size_t at = (t * draw_total + draw_first + first + b) * in + i;
                        frames[(t * n + b) * in + i] = rng.uniform(at) < x[(first + b) * in + i] ? 1.0f : 0.0f;
                    }
        });
        return frames;
    }

    /// The context of one pass; it points at `o`, which outlives the pass.
    detail::layer_context context(std::size_t batch, bool training, std::uint64_t step,
                                  const detail::spiking_options& o) {
        step_ = step;
        detail::layer_context c = detail::model_pass_context(params_.data(), grads_.data(), state_.data(), &o,
                                                             seed_, T, batch, training, step);
        c.shared_conv_scratch = &conv_scratch_;
        in_step_.mark(c);  // empty but within a data-parallel training step
        return c;
    }

    std::uint64_t seed_;
    std::uint64_t step_ = 0;
    detail::data_parallel_step in_step_;  // set by join_step for a data-parallel step
    detail::buffer<float> params_, grads_, state_;
    int input_frames_ = 1;    // frames per sample of the input (set_input_frames)
    int converted_steps_ = 0; // steps of the converted SNN's run so far (its frames taken)
    detail::buffer<float> encoded_;  // the input as T frames, time-major: Poisson draws or the input's frames
    detail::buffer<float> mean_frame_;  // the ANN passes' input from frames: their mean, batch x input
    detail::buffer<float> snn_outputs_;      // the SNN's logits, batch x output
    detail::buffer<float> mean_, per_step_;  // BPTT: time-averaged outputs and their per-step gradient
    detail::cpu_ops::conv_workspace<cpu> conv_scratch_;  // shared by every convolution (layers run one at a time)
    executor exec_;
};

}  // namespace snn2ann::inline v0
