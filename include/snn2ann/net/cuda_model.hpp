// snn2ann/net: model<net, timesteps<T>, cuda>, the model on a GPU, and the same code on the
// host execution, model<net, timesteps<T>, cuda_on_host> (ops/cuda/execution.hpp: the
// execution is the one thing that differs). Parameters, gradients, state, optimiser state
// and every activation live in device memory; the training rules
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
#include <type_traits>
#include <vector>

#include "../core/buffer.hpp"
#include "../core/error.hpp"
#include "../core/messages.hpp"
#include "input_frames.hpp"
#include "../core/process_group.hpp"
#include "../ops/cuda/buffer.hpp"
#include "../ops/cuda/elementwise.hpp"
#include "../ops/cuda/host_execution.hpp"
#include "../ops/cuda/loss.hpp"
#include "../ops/cuda/optimizer.hpp"
#include "../train/loss.hpp"
#include "../train/optimizer.hpp"
#include "cuda_sequence.hpp"
#include "model.hpp"

namespace snn2ann::inline v0 {
namespace detail {

template <class>
inline constexpr bool execution_defined = false;
/// The execution of a CUDA backend tag: host_device for cuda_on_host
/// (ops/cuda/host_execution.hpp), gpu_device for cuda (ops/cuda/runtime.cuh, nvcc only).
template <class Tag>
struct cuda_execution {
    static_assert(execution_defined<Tag>,
                  "snn2ann::model<net, ..., cuda>: the GPU execution is defined in <snn2ann/cuda.cuh>: include it "
                  "and compile this file with nvcc (CMake: link snn2ann::cuda); to run the CUDA backend's code on "
                  "the CPU, name cuda_on_host instead of cuda and include <snn2ann/cuda_on_host.hpp>");
    using type = cuda_ops::host_device;  // a stand-in after the sentence, so that the compiler stops there
};
template <>
struct cuda_execution<cuda_on_host> {
    using type = cuda_ops::host_device;
};
/// The CUDA backend tag among a model's options.
template <class... Options>
using cuda_tag = std::conditional_t<(std::is_same_v<Options, cuda> || ...), cuda, cuda_on_host>;

namespace cuda_ops {

/// Host-to-device and device-to-host copies through page-locked memory. An event marks
/// when the device is done with the staging buffer, so it is never overwritten early.
template <class Device>
class staging {
public:
    /// Copies n floats from host memory to `to` (device), asynchronously on the stream.
    void upload(const Device& d, const float* from, float* to, std::size_t n) {
        d.wait(done_);
        float* p = host_.ensure(n);
        std::memcpy(p, from, n * sizeof(float));
        d.copy(to, p, n * sizeof(float));
        d.record(done_);
    }
    /// Copies n floats from `from` (device) and waits; the result stays valid until the
    /// next call.
    const float* download(const Device& d, const float* from, std::size_t n) {
        d.wait(done_);
        float* p = host_.ensure(n);
        d.copy(p, from, n * sizeof(float));
        d.synchronize();
        return p;
    }

private:
    pinned_buffer<float, Device> host_;
    typename Device::event done_;
};

/// Whether any of n values is NaN or infinite (the NaN guard's look at the gradients).
struct count_non_finite_body {
    const float* v;
    unsigned long long* count;
    SNN2ANN_HOST_DEVICE void operator()(std::size_t i) const {
        const float a = v[i] < 0.0f ? -v[i] : v[i];
        if (!(a <= 3.402823466e38f)) atomic_add(count, 1);  // NaN compares false, inf exceeds FLT_MAX
    }
};

}  // namespace cuda_ops
}  // namespace detail

/// The model of a network on the CUDA backend: on a GPU (cuda) or on the host execution
/// (cuda_on_host); the CPU model's calls, with every buffer in device memory.
template <class Net, class... Options>
    requires detail::cuda_options<Options...>
class model<Net, Options...> {
public:
    /// The network<...> description.
    using network_type = Net;
    /// cuda (a GPU) or cuda_on_host (the same code on the CPU).
    using backend = detail::cuda_tag<Options...>;
    /// What runs the kernels and holds the memory (ops/cuda/execution.hpp).
    using device_type = typename detail::cuda_execution<backend>::type;
    static constexpr int T = detail::pick_option<timesteps<1>, detail::is_timesteps, Options...>::type::value;  ///< SNN time steps
    /// The layers' implementation on the execution.
    using executor = detail::gpu_sequence<Net::input_shape, typename Net::layer_list, device_type>;
    /// The CPU model with the same network and T (same parameter layout).
    using cpu_model = snn2ann::model<Net, timesteps<T>>;
    static constexpr shape input_shape = Net::input_shape;  ///< of one sample
    static constexpr shape output_shape = Net::output_shape;  ///< of one sample
    static constexpr std::size_t param_count = executor::param_count;  ///< floats of parameters
    static constexpr std::size_t state_count = executor::state_count;  ///< floats of state (BN statistics, thresholds)
    /// The SNN pass runs on chunks of samples as the CPU model's does (the same even
    /// chunks, detail::snn_chunk), with a budget that fills a GPU: T-step activations of
    /// about 1024 samples (256 samples at T = 4).
    static constexpr std::size_t snn_step_samples = 1024;
    /// Samples per chunk of the SNN pass over `batch` samples.
    static constexpr std::size_t snn_chunk(std::size_t batch) { return detail::snn_chunk(batch, T, snn_step_samples); }

    /// Initialises exactly as the CPU model with the same seed would (on the host), then
    /// copies to the device. Throws cuda_error when no GPU is there (cuda).
    explicit model(seed s = seed{0}) : seed_(s.value) {
        std::vector<float> params(param_count), state(state_count);
        executor::init(params.data(), state.data(), seed_, 0);
        params_.ensure(param_count);
        grads_.zeros(param_count, dev_);
        state_.ensure(state_count);
        copy_in(params.data(), state.data());
    }

    /// The seed of the initialisation and of every random draw.
    std::uint64_t seed_value() const { return seed_; }
    /// TF32 tensor-core GEMMs (faster, about 10 mantissa bits per product) or plain fp32.
    void allow_tf32(bool on) { dev_.allow_tf32(on); }
    /// Waits for every kernel queued so far (for timing).
    void synchronize() const { dev_.synchronize(); }
    /// Makes every kernel launch wait for its kernel, so that a fault inside one is
    /// reported under its name (debugging; SNN2ANN_CUDA_SYNCHRONIZE=1 turns it on too).
    void synchronize_every_launch(bool on) { dev_.synchronize_every_launch(on); }
    /// The execution: its stream, memory and GEMMs.
    const device_type& device() const { return dev_; }

    /// Copies of the device buffers, in the CPU model's layout.
    std::vector<float> parameters_on_host() const { return to_host(params_.data(), param_count); }
    /// The gradients, copied to the host.
    std::vector<float> gradients_on_host() const { return to_host(grads_.data(), param_count); }
    /// The state (BN statistics, thresholds), copied to the host.
    std::vector<float> state_on_host() const { return to_host(state_.data(), state_count); }
    /// Weights and state to or from a CPU model of the same network (e.g. to save a
    /// checkpoint, or to evaluate metrics the cuda backend does not compute).
    void copy_to(cpu_model& m) const {
        dev_.copy_now(m.parameters().data(), params_.data(), param_count * sizeof(float));
        dev_.copy_now(m.state().data(), state_.data(), state_count * sizeof(float));
    }
    /// Weights and state from a CPU model of the same network.
    void copy_from(const cpu_model& m) { copy_in(m.parameters().data(), m.state().data()); }

    /// Sets every gradient to 0.
    void zero_grad() { dev_.fill_zero(grads_.data(), param_count * sizeof(float)); }

    /// The input the passes that follow read (as model<net, T>::set_input_frames): frames
    /// per sample, 1 for a static image.
    void set_input_frames(int frames) { input_frames_ = detail::checked_input_frames(frames); }
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
        const auto make_context = [&](std::size_t n) { return context(n, false, step, o); };
        detail::for_each_snn_chunk(batch, snn_chunk(batch), training, make_context,
                                   [&](detail::layer_context& c, std::size_t first, std::size_t n) {
            const float* chunk_input = framed ? nullptr : xd + first * in;
            if (framed) {  // this chunk's frames, time-major
                float* host = host_frames_.ensure(static_cast<std::size_t>(T) * n * in);
                detail::time_major_frames(x, static_cast<std::size_t>(T), in, first, n, 0, static_cast<std::size_t>(T), host);
                chunk_input = upload(input_, host, static_cast<std::size_t>(T) * n * in);
                c.time_varying_input = true;
            }
            const float* y = exec_.snn_forward(chunk_input, c, dev_);
            detail::cuda_ops::copy(dev_, y, logits + first * out, n * out);
        });
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
    /// BPTT's backward (as model<net, T>::bptt_backward) for the host gradient of the time-averaged output.
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
        float* d = device_loss(exec_.output(), labels, batch, o.label_smoothing);
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
            exec_.backward(xd, device_loss(exec_.output(), labels, batch, o.label_smoothing), c, dev_);
        } else {
            float* mean = mean_.ensure(batch * n);
            detail::cuda_ops::mean_over_steps(dev_, exec_.output(), T, batch * n, mean);
            const float* d = device_loss(mean, labels, batch, o.label_smoothing);
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
    /// One Adam (or AdamW) step on the device with the optimiser's current settings.
    void apply(const adam& o) {
        if (adam_steps_ == 0) {
            adam_m_.zeros(param_count, dev_);
            adam_v_.zeros(param_count, dev_);
        }
        ++adam_steps_;
        const detail::adam_coefficients s = o.coefficients(adam_steps_);
        detail::cuda_ops::adam_step(dev_, params_.data(), grads_.data(), adam_m_.data(), adam_v_.data(), param_count, s);
    }

    /// The layers' implementation (for tests and custom rules).
    executor& layers() { return exec_; }

    /// Data-parallel training (as model<net, T>::join_step): until leave_step(), the
    /// passes of a step whose global batch holds `global_batch` samples, this rank's from
    /// `global_first`. The gradients are averaged through pinned host memory:
    /// gradient_staging() is the host buffer that download_gradients() fills and
    /// upload_gradients() sends back.
    void join_step(detail::process_group& group, std::size_t global_first, std::size_t global_batch) {
        in_step_ = {&group, global_first, global_batch};
    }
    /// Ends join_step().
    void leave_step() { in_step_ = {}; }
    /// The host buffer of the gradients in data-parallel training.
    std::span<float> gradient_staging() { return {gradient_staging_.ensure(param_count), param_count}; }
    /// Copies the gradients to gradient_staging() (waits for the device).
    void download_gradients() {
        dev_.copy(gradient_staging_.ensure(param_count), grads_.data(), param_count * sizeof(float));
        dev_.synchronize();
    }
    /// Copies gradient_staging() back to the device's gradients (waits for the device).
    void upload_gradients() {
        dev_.copy(grads_.data(), gradient_staging_.ensure(param_count), param_count * sizeof(float));
        dev_.synchronize();
    }
    /// Replaces the state (BN statistics, thresholds) with host values.
    void upload_state(const float* state) { dev_.copy_now(state_.data(), state, state_count * sizeof(float)); }

    /// The NaN guard's (trainer): the state (BN statistics, thresholds) before a training
    /// step is kept on the device, and put back when the step is undone.
    void keep_state_before_step() {
        dev_.copy(state_before_.ensure(std::max<std::size_t>(state_count, 1)), state_.data(), state_count * sizeof(float));
    }
    /// Puts back the state kept by keep_state_before_step().
    void restore_state_before_step() { dev_.copy(state_.data(), state_before_.data(), state_count * sizeof(float)); }
    /// Whether every gradient is finite (waits for the device).
    bool gradients_finite() {
        unsigned long long* count = non_finite_.zeros(1, dev_);
        dev_.for_each(param_count, detail::cuda_ops::count_non_finite_body{grads_.data(), count}, "count_non_finite");
        unsigned long long n = 0;
        dev_.copy_now(&n, count, sizeof n);
        return n == 0;
    }

    /// For training states (train/training_state.hpp): the model on the host, the
    /// optimiser's state from the device, and both back.
    cpu_model host_model() const {
        cpu_model m{seed{seed_}};
        copy_to(m);
        return m;
    }
    /// SGD's state (its velocity), copied from the device, for a training state file.
    snn2ann::optimizer_snapshot optimizer_snapshot(const sgd& o) const {
        snn2ann::optimizer_snapshot s;
        s.numbers.emplace_back("started", sgd_steps_ > 0 ? 1.0 : 0.0);
        if (o.momentum != 0.0 && sgd_steps_ > 0) s.arrays.emplace_back("velocity", to_host(velocity_.data(), param_count));
        return s;
    }
    /// Adam's state (step count, moments), copied from the device, for a training state file.
    snn2ann::optimizer_snapshot optimizer_snapshot(const adam&) const {
        snn2ann::optimizer_snapshot s;
        s.numbers.emplace_back("steps", static_cast<double>(adam_steps_));
        if (adam_steps_ > 0) {
            s.arrays.emplace_back("m", to_host(adam_m_.data(), param_count));
            s.arrays.emplace_back("v", to_host(adam_v_.data(), param_count));
        }
        return s;
    }
    /// Weights, state and SGD's state from a training state file.
    void restore(const cpu_model& m, const snn2ann::optimizer_snapshot& s, const sgd& o) {
        copy_from(m);
        sgd_steps_ = s.number("started") != 0.0 ? 1 : 0;
        if (const auto* v = s.array("velocity"); v && o.momentum != 0.0) upload_now(velocity_, v->data());
    }
    /// Weights, state and Adam's state from a training state file.
    void restore(const cpu_model& m, const snn2ann::optimizer_snapshot& s, const adam&) {
        copy_from(m);
        adam_steps_ = static_cast<std::uint64_t>(s.number("steps"));
        if (adam_steps_ > 0) {
            adam_m_.zeros(param_count, dev_);
            adam_v_.zeros(param_count, dev_);
            if (const auto* a = s.array("m")) upload_now(adam_m_, a->data());
            if (const auto* a = s.array("v")) upload_now(adam_v_, a->data());
        }
    }

private:
    void upload_now(detail::cuda_ops::device_buffer<float, device_type>& to, const float* from) {
        dev_.copy_now(to.ensure(param_count), from, param_count * sizeof(float));
    }
    float* upload(detail::cuda_ops::device_buffer<float, device_type>& to, const float* from, std::size_t n) {
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
        dev_.copy(p, y, batch * sizeof(std::int32_t));
        return p;
    }
    /// Softmax cross-entropy of `logits` (device, batch x classes) with label smoothing
    /// `smoothing` (checked by the rule); returns dlogits (device).
    float* device_loss(const float* logits, const std::int32_t* labels, std::size_t batch, float smoothing) {
        float* d = dlogits_.ensure(batch * output_shape.size());
        detail::cuda_ops::softmax_cross_entropy(dev_, logits, labels, batch, output_shape.c, smoothing, d,
                                                losses_.ensure(batch), hits_.ensure(batch));
        return d;
    }
    /// The mean loss and the hits of the last device_loss, summed on the host in sample order.
    loss_result loss_on_host(std::size_t batch) {
        host_losses_.resize(batch);
        host_hits_.resize(batch);
        dev_.copy_now(host_losses_.data(), losses_.data(), batch * sizeof(double));
        dev_.copy_now(host_hits_.data(), hits_.data(), batch * sizeof(std::int32_t));
        loss_result r;
        for (std::size_t k = 0; k < batch; ++k) r.loss += host_losses_[k], r.correct += host_hits_[k] != 0;
        r.loss /= static_cast<double>(batch);
        return r;
    }
    void copy_in(const float* params, const float* state) {
        dev_.copy_now(params_.data(), params, param_count * sizeof(float));
        dev_.copy_now(state_.data(), state, state_count * sizeof(float));
    }
    std::vector<float> to_host(const float* from, std::size_t n) const {
        std::vector<float> v(n);
        dev_.copy_now(v.data(), from, n * sizeof(float));
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
    device_type dev_;  // first member to construct: it checks for a GPU
    template <class V>
    using device_buffer = detail::cuda_ops::device_buffer<V, device_type>;
    device_buffer<float> params_, grads_, state_, state_before_;
    device_buffer<float> velocity_, adam_m_, adam_v_;
    device_buffer<float> input_, dy_, snn_outputs_, mean_, per_step_, dlogits_;
    int input_frames_ = 1;                 // frames per sample of the input (set_input_frames)
    detail::buffer<float> host_frames_;    // the input's frames re-laid out (or averaged) on the host
    device_buffer<std::int32_t> labels_, hits_;
    device_buffer<double> losses_;
    device_buffer<unsigned long long> non_finite_;
    std::vector<double> host_losses_;
    std::vector<std::int32_t> host_hits_;
    detail::cuda_ops::staging<device_type> staging_, outputs_;
    detail::cuda_ops::pinned_buffer<float, device_type> gradient_staging_;  // data-parallel: gradients on the host
    detail::data_parallel_step in_step_;  // set by join_step for a data-parallel step
    executor exec_;
};

}  // namespace snn2ann::inline v0
