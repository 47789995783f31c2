// snn2ann/net: model<net, timesteps<T>, cuda>, the model on a GPU. Parameters, gradients,
// state, optimiser state and every activation live in device memory; the training rules
// (rules::snn2ann, rules::bptt, rules::ann with ReLU) and the trainer drive it through the
// same calls as the CPU model. Inputs come from host memory through a pinned staging
// buffer (asynchronous copies on the model's stream). In training the loss runs on the
// device too (ann_train_pass, bptt_train_pass): only per-sample losses and hits come back.
// Evaluation's outputs (B x classes) come back through the same staging buffer. What
// stays CPU-only is listed in docs/design.md ("The two backends").
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "../core/buffer.hpp"
#include "../core/error.hpp"
#include "../core/messages.hpp"
#include "input_frames.hpp"
#include "../core/process_group.hpp"
#include "../ops/cuda/buffer.cuh"
#include "../ops/cuda/context.cuh"
#include "../ops/cuda/elementwise.cuh"
#include "../ops/cuda/loss.cuh"
#include "../ops/cuda/optimizer.cuh"
#include "../train/loss.hpp"
#include "../train/optimizer.hpp"
#include "cuda_sequence.cuh"
#include "model.hpp"

namespace snn2ann::inline v0 {
namespace detail::cuda_ops {

/// Host-to-device and device-to-host copies through page-locked memory. An event marks
/// when the device is done with the staging buffer, so it is never overwritten early.
class staging {
public:
    staging() { check(cudaEventCreateWithFlags(&done_, cudaEventDisableTiming), "cudaEventCreateWithFlags"); }
    staging(const staging&) = delete;
    staging& operator=(const staging&) = delete;
    ~staging() { (void)cudaEventDestroy(done_); }

    /// Copies n floats from host memory to `to` (device), asynchronously on the stream.
    void upload(const device_context& d, const float* from, float* to, std::size_t n) {
        check(cudaEventSynchronize(done_), "cudaEventSynchronize");
        float* p = host_.ensure(n);
        std::memcpy(p, from, n * sizeof(float));
        check(cudaMemcpyAsync(to, p, n * sizeof(float), cudaMemcpyHostToDevice, d.stream()), "cudaMemcpyAsync");
        check(cudaEventRecord(done_, d.stream()), "cudaEventRecord");
    }
    /// Copies n floats from `from` (device) and waits; the result stays valid until the
    /// next call.
    const float* download(const device_context& d, const float* from, std::size_t n) {
        check(cudaEventSynchronize(done_), "cudaEventSynchronize");
        float* p = host_.ensure(n);
        check(cudaMemcpyAsync(p, from, n * sizeof(float), cudaMemcpyDeviceToHost, d.stream()), "cudaMemcpyAsync");
        d.synchronize();
        return p;
    }

private:
    pinned_buffer<float> host_;
    cudaEvent_t done_ = nullptr;
};

}  // namespace detail::cuda_ops

template <class Net, class... Options>
    requires detail::cuda_options<Options...>
class model<Net, Options...> {
public:
    using network_type = Net;
    using backend = cuda;
    static constexpr int T = detail::pick_option<timesteps<1>, detail::is_timesteps, Options...>::type::value;
    using executor = detail::gpu_sequence<Net::input_shape, typename Net::layer_list>;
    /// The CPU model with the same network and T (same parameter layout).
    using cpu_model = snn2ann::model<Net, timesteps<T>>;
    static constexpr shape input_shape = Net::input_shape;
    static constexpr shape output_shape = Net::output_shape;
    static constexpr std::size_t param_count = executor::param_count;
    static constexpr std::size_t state_count = executor::state_count;
    /// The SNN pass runs on chunks of samples as the CPU model's does (the same even
    /// chunks, detail::snn_chunk), with a budget that fills a GPU: T-step activations of
    /// about 1024 samples (256 samples at T = 4).
    static constexpr std::size_t snn_step_samples = 1024;
    /// Samples per chunk of the SNN pass over `batch` samples.
    static constexpr std::size_t snn_chunk(std::size_t batch) { return detail::snn_chunk(batch, T, snn_step_samples); }

    /// Initialises exactly as the CPU model with the same seed would (on the host), then
    /// copies to the GPU. Throws cuda_error when no GPU is there.
    explicit model(seed s = seed{0}) : seed_(s.value) {
        std::vector<float> params(param_count), state(state_count);
        executor::init(params.data(), state.data(), seed_, 0);
        params_.ensure(param_count);
        grads_.zeros(param_count, dev_.stream());
        state_.ensure(state_count);
        copy_in(params.data(), state.data());
    }

    std::uint64_t seed_value() const { return seed_; }
    /// TF32 tensor-core GEMMs (faster, about 10 mantissa bits per product) or plain fp32.
    void allow_tf32(bool on) { dev_.allow_tf32(on); }
    /// Waits for every kernel queued so far (for timing).
    void synchronize() const { dev_.synchronize(); }

    /// Copies of the device buffers, in the CPU model's layout.
    std::vector<float> parameters_on_host() const { return to_host(params_.data(), param_count); }
    std::vector<float> gradients_on_host() const { return to_host(grads_.data(), param_count); }
    std::vector<float> state_on_host() const { return to_host(state_.data(), state_count); }
    /// Weights and state to or from a CPU model of the same network (e.g. to save a
    /// checkpoint, or to evaluate metrics the cuda backend does not compute).
    void copy_to(cpu_model& m) const {
        dev_.synchronize();
        auto p = m.parameters();
        auto s = m.state();
        detail::cuda_ops::check(cudaMemcpy(p.data(), params_.data(), param_count * sizeof(float), cudaMemcpyDeviceToHost),
                           "cudaMemcpy");
        detail::cuda_ops::check(cudaMemcpy(s.data(), state_.data(), state_count * sizeof(float), cudaMemcpyDeviceToHost),
                           "cudaMemcpy");
    }
    void copy_from(const cpu_model& m) { copy_in(m.parameters().data(), m.state().data()); }

    void zero_grad() {
        detail::cuda_ops::check(cudaMemsetAsync(grads_.data(), 0, param_count * sizeof(float), dev_.stream()),
                           "cudaMemsetAsync");
    }

    /// The input the passes that follow read (as model<net, T>::set_input_frames): frames
    /// per sample, 1 for a static image.
    void set_input_frames(int frames) {
        if (frames < 1) throw invalid_argument("model::set_input_frames: " + std::to_string(frames) + " frames (at least 1)");
        input_frames_ = frames;
    }
    /// The frames per sample the passes read.
    int input_frames() const { return input_frames_; }

    /// The SNN branch (as model<net, T>::snn_forward); x and the returned logits are host memory.
    const float* snn_forward(const float* x, std::size_t batch, const detail::spiking_options& o,
                             bool training = false, std::uint64_t step = 0) {
        if (batch == 0) throw invalid_argument(detail::messages::empty_batch("snn_forward"));
        if (o.input != encoding::direct)
            throw invalid_argument(detail::messages::cpu_only("Poisson input encoding (encoding::poisson)"));
        const bool framed = input_frames_ > 1 && executor::first_spiking >= 0;
        if (input_frames_ > 1) detail::require_frames_match(input_frames_, T, "model::snn_forward");
        const float* xd = framed ? nullptr : upload_ann_input(x, batch);
        constexpr std::size_t in = input_shape.size(), out = output_shape.size();
        float* logits = snn_outputs_.ensure(batch * out);
        const std::size_t chunk = snn_chunk(batch);
        for (std::size_t first = 0; first < batch; first += chunk) {
            const std::size_t n = std::min(chunk, batch - first);
            detail::layer_context c = context(n, false, step, o);
            c.mode = detail::branch::snn;
            c.snn_training = training;
            c.sample_offset = first;
            c.total_samples = batch;
            const float* chunk_input = framed ? nullptr : xd + first * in;
            if (framed) {  // this chunk's frames, time-major
                float* host = host_frames_.ensure(static_cast<std::size_t>(T) * n * in);
                detail::time_major_frames(x, static_cast<std::size_t>(T), in, first, n, 0, static_cast<std::size_t>(T), host);
                chunk_input = upload(input_, host, static_cast<std::size_t>(T) * n * in);
                c.time_varying_input = true;
            }
            const float* y = exec_.snn_forward(chunk_input, c, dev_);
            detail::cuda_ops::copy(dev_, y, logits + first * out, n * out);
        }
        return outputs_.download(dev_, logits, batch * out);
    }

    /// The ANN pass with the options of the rule that runs it; x and the returned outputs
    /// are host memory.
    const float* forward(const float* x, std::size_t batch, const detail::spiking_options& o, bool training,
                         std::uint64_t step = 0) {
        if (batch == 0) throw invalid_argument(detail::messages::empty_batch("forward"));
        exec_.forward(upload_ann_input(x, batch), context(batch, training, step, o), dev_);
        return outputs_.download(dev_, exec_.output(), batch * output_shape.size());
    }
    /// Gradients of the last forward (same batch and options; its input is still on the
    /// device) for the host gradient dy of its outputs.
    void backward(const float*, const float* dy, std::size_t batch, const detail::spiking_options& o) {
        float* d = upload(dy_, dy, batch * output_shape.size());
        exec_.backward(input_.data(), d, context(batch, true, step_, o), dev_);
    }
    /// The same for a network without spiking layers, which has nothing to choose.
    const float* forward(const float* x, std::size_t batch, bool training, std::uint64_t step = 0) {
        detail::require_no_spiking_layers<executor>();
        return forward(x, batch, detail::spiking_options{}, training, step);
    }

    /// BPTT's forward (as model<net, T>::bptt_forward): the outputs averaged over T, on the host.
    const float* bptt_forward(const float* x, std::size_t batch, const detail::spiking_options& o, bool training,
                              std::uint64_t step = 0) {
        if (batch == 0) throw invalid_argument(detail::messages::empty_batch("bptt_forward"));
        detail::layer_context c = context(batch, training, step, o);
        c.mode = detail::branch::bptt;
        exec_.forward(upload_bptt_input(x, batch, c), c, dev_);
        constexpr std::size_t n = output_shape.size();
        if constexpr (executor::first_spiking < 0) {
            return outputs_.download(dev_, exec_.output(), batch * n);
        } else {
            float* mean = mean_.ensure(batch * n);
            detail::cuda_ops::mean_over_steps(dev_, exec_.output(), T, batch * n, mean);
            return outputs_.download(dev_, mean, batch * n);
        }
    }
    void bptt_backward(const float*, const float* dmean, std::size_t batch, const detail::spiking_options& o) {
        detail::layer_context c = context(batch, true, step_, o);
        c.mode = detail::branch::bptt;
        c.time_varying_input = input_frames_ > 1 && executor::first_spiking >= 0;  // as the forward's
        constexpr std::size_t n = output_shape.size();
        float* d = upload(dy_, dmean, batch * n);
        if constexpr (executor::first_spiking >= 0) {
            float* per_step = per_step_.ensure(static_cast<std::size_t>(T) * batch * n);
            detail::cuda_ops::spread_over_steps(dev_, d, T, batch * n, per_step);
            d = per_step;
        }
        exec_.backward(input_.data(), d, c, dev_);
    }

    /// A training pass of the ANN branch with the loss on the device (rules call it in
    /// place of forward, softmax_cross_entropy on the host, backward): only the batch's
    /// per-sample losses and hits come back; the logits' gradient never leaves the GPU.
    loss_result ann_train_pass(const float* x, const std::int32_t* y, std::size_t batch, std::uint64_t step,
                               const detail::spiking_options& o) {
        if (batch == 0) throw invalid_argument(detail::messages::empty_batch("forward"));
        const std::int32_t* labels = upload_labels(y, batch);
        const float* xd = upload_ann_input(x, batch);
        const detail::layer_context c = context(batch, true, step, o);
        exec_.forward(xd, c, dev_);
        float* d = device_loss(exec_.output(), labels, batch);
        exec_.backward(xd, d, c, dev_);
        return loss_on_host(batch);
    }
    /// BPTT's training pass with the loss on the device (the loss of the outputs averaged over T).
    loss_result bptt_train_pass(const float* x, const std::int32_t* y, std::size_t batch, std::uint64_t step,
                                const detail::spiking_options& o) {
        if (batch == 0) throw invalid_argument(detail::messages::empty_batch("bptt_forward"));
        const std::int32_t* labels = upload_labels(y, batch);
        detail::layer_context c = context(batch, true, step, o);
        c.mode = detail::branch::bptt;
        const float* xd = upload_bptt_input(x, batch, c);
        exec_.forward(xd, c, dev_);
        constexpr std::size_t n = output_shape.size();
        if constexpr (executor::first_spiking < 0) {
            exec_.backward(xd, device_loss(exec_.output(), labels, batch), c, dev_);
        } else {
            float* mean = mean_.ensure(batch * n);
            detail::cuda_ops::mean_over_steps(dev_, exec_.output(), T, batch * n, mean);
            const float* d = device_loss(mean, labels, batch);
            float* per_step = per_step_.ensure(static_cast<std::size_t>(T) * batch * n);
            detail::cuda_ops::spread_over_steps(dev_, d, T, batch * n, per_step);
            exec_.backward(xd, per_step, c, dev_);
        }
        return loss_on_host(batch);
    }

    /// One optimiser step on the device with the optimiser's current settings (the
    /// trainer calls this instead of optimizer.step on host spans).
    void apply(const sgd& o) {
        float* v = o.momentum != 0.0 ? velocity_.ensure(param_count) : nullptr;
        detail::cuda_ops::sgd_step(dev_, params_.data(), grads_.data(), v, param_count, static_cast<float>(o.lr),
                              static_cast<float>(o.momentum), static_cast<float>(o.weight_decay), o.nesterov,
                              sgd_steps_++ == 0);
    }
    void apply(const adam& o) {
        if (adam_steps_ == 0) {
            adam_m_.zeros(param_count, dev_.stream());
            adam_v_.zeros(param_count, dev_.stream());
        }
        ++adam_steps_;
        const detail::adam_coefficients s = o.coefficients(adam_steps_);
        detail::cuda_ops::adam_step(dev_, params_.data(), grads_.data(), adam_m_.data(), adam_v_.data(), param_count, s);
    }

    executor& layers() { return exec_; }

    /// Data-parallel training (as model<net, T>::join_step): until leave_step(), the
    /// passes of a step whose global batch holds `global_batch` samples, this rank's from
    /// `global_first`. The gradients are averaged through pinned host memory:
    /// gradient_staging() is the host buffer that download_gradients() fills and
    /// upload_gradients() sends back.
    void join_step(detail::process_group& group, std::size_t global_first, std::size_t global_batch) {
        in_step_ = {&group, global_first, global_batch};
    }
    void leave_step() { in_step_ = {}; }
    std::span<float> gradient_staging() { return {gradient_staging_.ensure(param_count), param_count}; }
    void download_gradients() {
        float* host = gradient_staging_.ensure(param_count);
        detail::cuda_ops::check(cudaMemcpyAsync(host, grads_.data(), param_count * sizeof(float), cudaMemcpyDeviceToHost,
                                           dev_.stream()),
                           "cudaMemcpyAsync");
        detail::cuda_ops::check(cudaStreamSynchronize(dev_.stream()), "cudaStreamSynchronize");
    }
    void upload_gradients() {
        detail::cuda_ops::check(cudaMemcpyAsync(grads_.data(), gradient_staging_.ensure(param_count),
                                           param_count * sizeof(float), cudaMemcpyHostToDevice, dev_.stream()),
                           "cudaMemcpyAsync");
        detail::cuda_ops::check(cudaStreamSynchronize(dev_.stream()), "cudaStreamSynchronize");
    }
    /// Replaces the state (BN statistics, thresholds) with host values.
    void upload_state(const float* state) {
        detail::cuda_ops::check(cudaMemcpy(state_.data(), state, state_count * sizeof(float), cudaMemcpyHostToDevice),
                           "cudaMemcpy");
    }

    /// For training states (train/training_state.hpp): the model on the host, the
    /// optimiser's state from the device, and both back.
    cpu_model host_model() const {
        cpu_model m{seed{seed_}};
        copy_to(m);
        return m;
    }
    snn2ann::optimizer_snapshot optimizer_snapshot(const sgd& o) const {
        snn2ann::optimizer_snapshot s;
        s.numbers.emplace_back("started", sgd_steps_ > 0 ? 1.0 : 0.0);
        if (o.momentum != 0.0 && sgd_steps_ > 0) s.arrays.emplace_back("velocity", to_host(velocity_.data(), param_count));
        return s;
    }
    snn2ann::optimizer_snapshot optimizer_snapshot(const adam&) const {
        snn2ann::optimizer_snapshot s;
        s.numbers.emplace_back("steps", static_cast<double>(adam_steps_));
        if (adam_steps_ > 0) {
            s.arrays.emplace_back("m", to_host(adam_m_.data(), param_count));
            s.arrays.emplace_back("v", to_host(adam_v_.data(), param_count));
        }
        return s;
    }
    void restore(const cpu_model& m, const snn2ann::optimizer_snapshot& s, const sgd& o) {
        copy_from(m);
        sgd_steps_ = s.number("started") != 0.0 ? 1 : 0;
        if (const auto* v = s.array("velocity"); v && o.momentum != 0.0) upload_now(velocity_, v->data());
    }
    void restore(const cpu_model& m, const snn2ann::optimizer_snapshot& s, const adam&) {
        copy_from(m);
        adam_steps_ = static_cast<std::uint64_t>(s.number("steps"));
        if (adam_steps_ > 0) {
            adam_m_.zeros(param_count, dev_.stream());
            adam_v_.zeros(param_count, dev_.stream());
            if (const auto* a = s.array("m")) upload_now(adam_m_, a->data());
            if (const auto* a = s.array("v")) upload_now(adam_v_, a->data());
        }
    }

private:
    void upload_now(detail::cuda_ops::device_buffer<float>& to, const float* from) {
        float* p = to.ensure(param_count);
        dev_.synchronize();
        detail::cuda_ops::check(cudaMemcpy(p, from, param_count * sizeof(float), cudaMemcpyHostToDevice), "cudaMemcpy");
    }
    float* upload(detail::cuda_ops::device_buffer<float>& to, const float* from, std::size_t n) {
        float* p = to.ensure(n);
        staging_.upload(dev_, from, p, n);
        return p;
    }
    const float* upload_input(const float* x, std::size_t batch) {
        return upload(input_, x, batch * input_shape.size());
    }
    /// The ANN passes' input on the device: x, or the mean of its frames (set_input_frames).
    const float* upload_ann_input(const float* x, std::size_t batch) {
        if (input_frames_ <= 1) return upload_input(x, batch);
        constexpr std::size_t in = input_shape.size();
        float* mean = host_frames_.ensure(batch * in);
        detail::mean_frame(x, static_cast<std::size_t>(input_frames_), in, batch, mean);
        return upload(input_, mean, batch * in);
    }
    /// BPTT's input on the device: x, or its frames time-major, marked time-varying in `c`.
    const float* upload_bptt_input(const float* x, std::size_t batch, detail::layer_context& c) {
        const float* host = detail::bptt_host_input(x, batch, input_frames_, T, input_shape.size(),
                                                    executor::first_spiking >= 0, host_frames_, c);
        const std::size_t steps = c.time_varying_input ? static_cast<std::size_t>(T) : 1;
        return upload(input_, host, steps * batch * input_shape.size());
    }
    const std::int32_t* upload_labels(const std::int32_t* y, std::size_t batch) {
        constexpr int classes = output_shape.c;
        for (std::size_t k = 0; k < batch; ++k)  // the CPU loss's check and message
            if (y[k] < 0 || y[k] >= classes)
                throw invalid_argument("softmax_cross_entropy: label " + std::to_string(y[k]) + " of sample " +
                                       std::to_string(k) + " is outside [0, " + std::to_string(classes) + ")");
        std::int32_t* p = labels_.ensure(batch);
        // from pageable memory: staged before the call returns, so y may change afterwards
        detail::cuda_ops::check(cudaMemcpyAsync(p, y, batch * sizeof(std::int32_t), cudaMemcpyHostToDevice, dev_.stream()),
                           "cudaMemcpyAsync");
        return p;
    }
    /// Softmax cross-entropy of `logits` (device, batch x classes); returns dlogits (device).
    float* device_loss(const float* logits, const std::int32_t* labels, std::size_t batch) {
        float* d = dlogits_.ensure(batch * output_shape.size());
        detail::cuda_ops::softmax_cross_entropy(dev_, logits, labels, batch, output_shape.c, d, losses_.ensure(batch),
                                           hits_.ensure(batch));
        return d;
    }
    /// The mean loss and the hits of the last device_loss, summed on the host in sample order.
    loss_result loss_on_host(std::size_t batch) {
        host_losses_.resize(batch);
        host_hits_.resize(batch);
        dev_.synchronize();
        detail::cuda_ops::check(cudaMemcpy(host_losses_.data(), losses_.data(), batch * sizeof(double),
                                      cudaMemcpyDeviceToHost), "cudaMemcpy");
        detail::cuda_ops::check(cudaMemcpy(host_hits_.data(), hits_.data(), batch * sizeof(std::int32_t),
                                      cudaMemcpyDeviceToHost), "cudaMemcpy");
        loss_result r;
        for (std::size_t k = 0; k < batch; ++k) r.loss += host_losses_[k], r.correct += host_hits_[k] != 0;
        r.loss /= static_cast<double>(batch);
        return r;
    }
    void copy_in(const float* params, const float* state) {
        dev_.synchronize();
        detail::cuda_ops::check(cudaMemcpy(params_.data(), params, param_count * sizeof(float), cudaMemcpyHostToDevice),
                           "cudaMemcpy");
        detail::cuda_ops::check(cudaMemcpy(state_.data(), state, state_count * sizeof(float), cudaMemcpyHostToDevice),
                           "cudaMemcpy");
    }
    std::vector<float> to_host(const float* from, std::size_t n) const {
        dev_.synchronize();
        std::vector<float> v(n);
        detail::cuda_ops::check(cudaMemcpy(v.data(), from, n * sizeof(float), cudaMemcpyDeviceToHost), "cudaMemcpy");
        return v;
    }
    /// The context of one pass; it points at `o`, which outlives the pass.
    detail::layer_context context(std::size_t batch, bool training, std::uint64_t step,
                                  const detail::spiking_options& o) {
        step_ = step;
        detail::layer_context c = detail::model_pass_context(params_.data(), grads_.data(), state_.data(), &o, seed_, T,
                                                             batch, training, step);
        in_step_.mark(c);  // empty but within a data-parallel training step
        return c;
    }

    std::uint64_t seed_;
    std::uint64_t step_ = 0, sgd_steps_ = 0, adam_steps_ = 0;
    detail::cuda_ops::device_context dev_;  // first member to construct: it checks for a GPU
    detail::cuda_ops::device_buffer<float> params_, grads_, state_;
    detail::cuda_ops::device_buffer<float> velocity_, adam_m_, adam_v_;
    detail::cuda_ops::device_buffer<float> input_, dy_, snn_outputs_, mean_, per_step_, dlogits_;
    int input_frames_ = 1;                 // frames per sample of the input (set_input_frames)
    detail::buffer<float> host_frames_;    // the input's frames re-laid out (or averaged) on the host
    detail::cuda_ops::device_buffer<std::int32_t> labels_, hits_;
    detail::cuda_ops::device_buffer<double> losses_;
    std::vector<double> host_losses_;
    std::vector<std::int32_t> host_hits_;
    detail::cuda_ops::staging staging_, outputs_;
    detail::cuda_ops::pinned_buffer<float> gradient_staging_;  // data-parallel: gradients on the host
    detail::data_parallel_step in_step_;  // set by join_step for a data-parallel step
    executor exec_;
};

}  // namespace snn2ann::inline v0
