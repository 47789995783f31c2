// Google Benchmark: the reference network's convolutions, forward and backward (batch
// 64, one thread), in GFLOP/s next to Eigen's own GEMM on the shapes they reduce to and
// on a large square product; and the second convolution with snn2ann::cpu_matmul::
// amx_split_bf16 (AMX), on spike inputs (0/1, BPTT's and the SNN pass's) and on real
// values (the ANN branch's), and with amx_exact_products on spikes, where the machine has
// AMX. Counters: GFLOPs (2 * multiply-adds per second / 1e9).
#include <benchmark/benchmark.h>

#include <type_traits>
#include <vector>

#include <snn2ann/snn2ann.hpp>

namespace s = snn2ann;

namespace {
constexpr std::size_t batch = 64;

enum class inputs { half, spikes, real };

template <s::shape In, class Spec>
struct conv_case {
    using layer = typename Spec::template impl<s::cpu, In>;
    static constexpr auto g = layer::geometry;
    static constexpr double macs = double(batch) * g.oc * g.col_rows() * g.out_plane();
    std::vector<float> x, y, dy, dx, params, grads;
    layer l;
    s::detail::layer_context c;
    explicit conv_case(inputs kind = inputs::half)
        : x(batch * In.size(), 0.5f), y(batch * layer::out.size()), dy(y.size(), 0.1f), dx(x.size()),
          params(layer::param_count), grads(layer::param_count) {
        layer::init(params.data(), nullptr, s::detail::counter_rng(1, 1));
        c.params = params.data();
        c.grads = grads.data();
        c.batch = batch;
        c.training = true;
        // Spikes: about 47% ones, as the reference network's first spiking layer fires.
        for (std::size_t i = 0; kind != inputs::half && i < x.size(); ++i)
            x[i] = kind == inputs::spikes ? float((i * 7919) % 100 < 47) : float((i * 7919) % 1000) / 1000.0f - 0.5f;
    }
};

// Runs a benchmark body with an AMX product, or skips it where the machine has none.
template <class Body>
void with_amx(benchmark::State& st, s::cpu_matmul product, Body body) {
    if (!s::amx_available()) return st.SkipWithError("AMX is not available on this machine");
    const s::cpu_matmul_scope amx(product);
    body();
}

template <s::shape In, class Spec, inputs Kind = inputs::half>
void conv_forward(benchmark::State& st) {
    s::threads one(1);
    conv_case<In, Spec> k(Kind);
    for (auto _ : st) {
        k.l.forward(k.x.data(), k.y.data(), k.c);
        benchmark::DoNotOptimize(k.y.data());
    }
    st.counters["GFLOPs"] = benchmark::Counter(2 * k.macs / 1e9, benchmark::Counter::kIsIterationInvariantRate);
}

// Backward: weight gradient and, when WithInput, the input gradient (two GEMMs).
template <s::shape In, class Spec, bool WithInput, inputs Kind = inputs::half>
void conv_backward(benchmark::State& st) {
    s::threads one(1);
    conv_case<In, Spec> k(Kind);
    k.l.forward(k.x.data(), k.y.data(), k.c);
    for (auto _ : st) {
        k.l.backward(k.x.data(), k.y.data(), k.dy.data(), WithInput ? k.dx.data() : nullptr, k.c);
        benchmark::DoNotOptimize(k.grads.data());
    }
    st.counters["GFLOPs"] = benchmark::Counter((WithInput ? 4 : 2) * k.macs / 1e9,
                                               benchmark::Counter::kIsIterationInvariantRate);
}

template <s::shape In, class Spec, inputs Kind, s::cpu_matmul Product = s::cpu_matmul::amx_split_bf16>
void conv_forward_amx(benchmark::State& st) {
    with_amx(st, Product, [&] { conv_forward<In, Spec, Kind>(st); });
}
template <s::shape In, class Spec, inputs Kind, bool WithInput = true,
          s::cpu_matmul Product = s::cpu_matmul::amx_split_bf16>
void conv_backward_amx(benchmark::State& st) {
    with_amx(st, Product, [&] { conv_backward<In, Spec, WithInput, Kind>(st); });
}
constexpr auto exact = s::cpu_matmul::amx_exact_products;

// Eigen's GEMM alone: C(MxN) = A(MxK) B(KxN), repeated `reps` times per iteration.
void eigen_gemm(benchmark::State& st) {
    const auto m = st.range(0), n = st.range(1), k = st.range(2), reps = st.range(3);
    Eigen::MatrixXf a = Eigen::MatrixXf::Random(m, k), b = Eigen::MatrixXf::Random(k, n), c(m, n);
    for (auto _ : st) {
        for (int r = 0; r < reps; ++r) c.noalias() = a * b;
        benchmark::DoNotOptimize(c.data());
    }
    st.counters["GFLOPs"] = benchmark::Counter(2.0 * double(m) * n * k * reps / 1e9,
                                               benchmark::Counter::kIsIterationInvariantRate);
}
}  // namespace

// conv1: 1->32 on 28x28; conv2: 32->64 on 14x14 (the reference network).
BENCHMARK(conv_forward<s::image_shape(1, 28, 28), s::conv<32, 3>>)->Name("conv1_forward")->Unit(benchmark::kMillisecond);
BENCHMARK(conv_backward<s::image_shape(1, 28, 28), s::conv<32, 3>, false>)->Name("conv1_backward_weights")->Unit(benchmark::kMillisecond);
BENCHMARK(conv_forward<s::image_shape(32, 14, 14), s::conv<64, 3>>)->Name("conv2_forward")->Unit(benchmark::kMillisecond);
BENCHMARK(conv_backward<s::image_shape(32, 14, 14), s::conv<64, 3>, true>)->Name("conv2_backward")->Unit(benchmark::kMillisecond);
using conv2_in = std::integral_constant<s::shape, s::image_shape(32, 14, 14)>;
BENCHMARK(conv_forward<conv2_in::value, s::conv<64, 3>, inputs::spikes>)->Name("conv2_forward_spikes")->Unit(benchmark::kMillisecond);
BENCHMARK(conv_forward_amx<conv2_in::value, s::conv<64, 3>, inputs::spikes>)->Name("conv2_forward_spikes_amx")->Unit(benchmark::kMillisecond);
BENCHMARK(conv_forward_amx<conv2_in::value, s::conv<64, 3>, inputs::real>)->Name("conv2_forward_real_amx")->Unit(benchmark::kMillisecond);
BENCHMARK(conv_backward<conv2_in::value, s::conv<64, 3>, true, inputs::spikes>)->Name("conv2_backward_spikes")->Unit(benchmark::kMillisecond);
BENCHMARK(conv_backward_amx<conv2_in::value, s::conv<64, 3>, inputs::spikes>)->Name("conv2_backward_spikes_amx")->Unit(benchmark::kMillisecond);
BENCHMARK(conv_backward_amx<conv2_in::value, s::conv<64, 3>, inputs::real>)->Name("conv2_backward_real_amx")->Unit(benchmark::kMillisecond);
BENCHMARK(conv_forward_amx<conv2_in::value, s::conv<64, 3>, inputs::spikes, exact>)->Name("conv2_forward_spikes_amx_exact")->Unit(benchmark::kMillisecond);
BENCHMARK(conv_backward<conv2_in::value, s::conv<64, 3>, false, inputs::spikes>)->Name("conv2_backward_weights_spikes")->Unit(benchmark::kMillisecond);
BENCHMARK(conv_backward_amx<conv2_in::value, s::conv<64, 3>, inputs::spikes, false, exact>)->Name("conv2_backward_weights_spikes_amx_exact")->Unit(benchmark::kMillisecond);
BENCHMARK(conv_backward_amx<conv2_in::value, s::conv<64, 3>, inputs::spikes, true, exact>)->Name("conv2_backward_spikes_amx_exact")->Unit(benchmark::kMillisecond);
// The GEMMs conv2 reduces to, per image, 64 times; and a large square GEMM.
BENCHMARK(eigen_gemm)->Name("eigen_gemm_conv2_shape")->Args({64, 196, 288, 64})->Unit(benchmark::kMillisecond);
BENCHMARK(eigen_gemm)->Name("eigen_gemm_conv1_shape")->Args({32, 784, 9, 64})->Unit(benchmark::kMillisecond);
BENCHMARK(eigen_gemm)->Name("eigen_gemm_512")->Args({512, 512, 512, 1})->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
