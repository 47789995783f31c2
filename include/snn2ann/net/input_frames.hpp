// snn2ann/net: time-varying input, a sample of F frames of the input shape (frame-major
// within the sample, as data::dataset holds it), for both models. The SNN passes take
// frame t at step t, laid out time-major (step t's frames of the whole batch together, as
// the layers' T x B passes read them); the ANN passes take the frames' mean, the rate of
// the input, as the ANN branch reads a spiking layer's count as its rate.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>

#include "../core/buffer.hpp"
#include "../core/error.hpp"
#include "../core/parallel.hpp"
#include "../layer/context.hpp"

namespace snn2ann::inline v0::detail {

/// Steps [t0, t0 + steps) of samples [first, first + n) of a batch of F-frame samples of
/// `in` values each, time-major: out[(t - t0) n + b] is frame t of sample first + b.
inline void time_major_frames(const float* x, std::size_t frames, std::size_t in, std::size_t first, std::size_t n,
                              std::size_t t0, std::size_t steps, float* out) {
    for_range(n, 1, [&](std::size_t b0, std::size_t b1) {
        for (std::size_t t = 0; t < steps; ++t)
            for (std::size_t b = b0; b < b1; ++b) {
                const float* src = x + ((first + b) * frames + t0 + t) * in;
                float* dst = out + (t * n + b) * in;
                for (std::size_t i = 0; i < in; ++i) dst[i] = src[i];
            }
    });
}

/// The mean of each sample's F frames (batch x in), summed in double: F equal frames give
/// the frame itself, bit for bit, so a static image given as T frames trains as the image.
inline void mean_frame(const float* x, std::size_t frames, std::size_t in, std::size_t batch, float* out) {
    for_range(batch, 1, [&](std::size_t b0, std::size_t b1) {
        for (std::size_t b = b0; b < b1; ++b)
            for (std::size_t i = 0; i < in; ++i) {
                double s = 0.0;
                for (std::size_t t = 0; t < frames; ++t) s += x[(b * frames + t) * in + i];
                out[b * in + i] = static_cast<float>(s / static_cast<double>(frames));
            }
    });
}

/// A pass that runs T steps on F-frame input needs F = T: the error names both and the
/// remedy.
inline void require_frames_match(int frames, int timesteps, const char* who) {
    if (frames > 1 && frames != timesteps)
        throw invalid_argument(std::string(who) + ": the input holds " + std::to_string(frames) +
                               " frames per sample, the model runs T = " + std::to_string(timesteps) +
                               " steps (integrate the events into " + std::to_string(timesteps) +
                               " frames, or re-bin them: data::rebin_frames(data, " + std::to_string(timesteps) + "))");
}

/// BPTT's input on the host for `batch` samples of `frames` frames of `in` values (both
/// models): x itself for static input; for frames, their mean where the network has no
/// stepping layer, else the frames time-major, in `scratch`, and `c` marked time-varying.
inline const float* bptt_host_input(const float* x, std::size_t batch, int frames, int timesteps, std::size_t in,
                                    bool steps_through_time, buffer<float>& scratch, layer_context& c) {
    if (frames <= 1) return x;
    require_frames_match(frames, timesteps, "model::bptt_forward");
    const auto f = static_cast<std::size_t>(frames);
    if (!steps_through_time) {
        float* mean = scratch.ensure(batch * in);
        mean_frame(x, f, in, batch, mean);
        return mean;
    }
    float* out = scratch.ensure(f * batch * in);
    time_major_frames(x, f, in, 0, batch, 0, f, out);
    c.time_varying_input = true;
    return out;
}

/// Sets a model's input frames (model::set_input_frames) for a scope and restores the
/// previous setting after it, also when the scope is left by an exception.
template <class Model>
class input_frames_scope {
public:
    input_frames_scope(Model& m, int frames) : model_(m), previous_(m.input_frames()) { m.set_input_frames(frames); }
    ~input_frames_scope() { model_.set_input_frames(previous_); }
    input_frames_scope(const input_frames_scope&) = delete;
    input_frames_scope& operator=(const input_frames_scope&) = delete;

private:
    Model& model_;
    int previous_;
};

/// Before a run over a data set of `frames` frames per sample: the rule's prediction can
/// take them (an SNN of T steps needs frames = T, the converted SNN at most `frames`
/// steps; an ANN takes their mean). `who` names the entry point.
template <class Model, class Rule>
void require_frames_fit(int frames, const Rule& rule, const char* who) {
    if (frames <= 1) return;
    if constexpr (requires { rule.timesteps; }) {
        if (rule.timesteps > frames)
            throw invalid_argument(std::string(who) + ": the converted SNN runs " + std::to_string(rule.timesteps) +
                                   " steps, the input holds " + std::to_string(frames) + " frames per sample");
    } else if constexpr (Rule::predicts_with_snn) {
        require_frames_match(frames, Model::T, who);
    }
}

/// The frame count set_input_frames accepts (both models): at least 1.
inline int checked_input_frames(int frames) {
    if (frames < 1) throw invalid_argument("model::set_input_frames: " + std::to_string(frames) + " frames (at least 1)");
    return frames;
}

/// The SNN pass's chunks (both models): samples run in chunks of `chunk`, each with the
/// context make_context(n) marked as the SNN pass over samples [first, first + n) of a
/// batch of `batch` (counts and random draws are indexed in the whole batch, so the result
/// does not depend on the chunk size); run(c, first, n) runs one.
template <class MakeContext, class Run>
void for_each_snn_chunk(std::size_t batch, std::size_t chunk, bool training, MakeContext&& make_context, Run&& run) {
    for (std::size_t first = 0; first < batch; first += chunk) {
        const std::size_t n = std::min(chunk, batch - first);
        layer_context c = make_context(n);
        c.mode = branch::snn;
        c.snn_training = training;
        c.sample_offset = first;
        c.total_samples = batch;
        c.params_as_before = first > 0;
        run(c, first, n);
    }
}

}  // namespace snn2ann::inline v0::detail
