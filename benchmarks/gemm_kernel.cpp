// The library's GEMM kernel (ops/cpu/sgemm.hpp) against Eigen's product compiled into the
// same program, one thread, on the shapes the benchmarks' layers reduce to: the layer
// benchmark's linear over T x B = 8,000 rows (forward and weight gradient), the reference
// network's second convolution per image (forward and input gradient), its linear layer
// on 3,136 inputs and its first convolution. Alternated, median of --repeat products each.
// Built with and without -march=native, it shows what each build's Eigen gets and that the
// kernel is the same in both (it is compiled for AVX2 and FMA either way).
//   gemm_kernel [--repeat 7]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#include <Eigen/Core>
#include <snn2ann/snn2ann.hpp>

#include "../examples/command_line.hpp"

namespace ops = snn2ann::detail::cpu_ops;

namespace {
using matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

template <class F>
double seconds(F&& f) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}
double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}
}  // namespace

int main(int argc, char** argv) {
    int repeat = 7;
    snn2ann_examples::command_line cli{"gemm_kernel", "The library's GEMM kernel against Eigen's, one thread."};
    cli.app().add_option("--repeat", repeat, "products timed per shape and kernel")->check(CLI::PositiveNumber)
        ->capture_default_str();
    if (const int rc = cli.parse(argc, argv); rc >= 0) return rc;
    if (!ops::sgemm_detail::cpu_runs_kernel()) {
        std::printf("gemm_kernel: this CPU has no AVX2 and FMA; the library uses Eigen's product\n");
        return 0;
    }
    struct shape {
        const char* what;
        int m, n, k;
    };
    const shape shapes[] = {{"layer benchmark n 1024, forward", 8000, 1024, 1024},
                            {"layer benchmark n 1024, weight gradient", 1024, 1024, 8000},
                            {"conv 32->64 on 14x14, forward", 64, 196, 288},
                            {"conv 32->64 on 14x14, input gradient", 288, 196, 64},
                            {"linear 3136->128, 32 rows", 32, 128, 3136},
                            {"conv 1->32 on 28x28, forward", 32, 784, 9}};
    std::printf("%-58s %11s %11s %7s\n", "shape (m x n x k)", "Eigen", "library", "ratio");
    for (const shape& sh : shapes) {
        const matrix a = matrix::Random(sh.m, sh.k), b = matrix::Random(sh.k, sh.n);
        matrix c(sh.m, sh.n);
        snn2ann::detail::buffer<float> scratch;
        float* s = scratch.ensure(ops::sgemm_scratch_floats(sh.m, sh.n, sh.k));
        std::vector<double> eigen, library;
        for (int r = 0; r < repeat; ++r) {
            eigen.push_back(seconds([&] { c.noalias() = a * b; }));
            library.push_back(seconds([&] {
                ops::sgemm(sh.m, sh.n, sh.k, {a.data(), sh.k, 1}, {b.data(), sh.n, 1}, c.data(), sh.n, false, s);
            }));
        }
        const double flops = 2.0 * sh.m * sh.n * sh.k, e = flops / median(eigen) / 1e9, l = flops / median(library) / 1e9;
        std::printf("%-40s %5dx%5dx%5d: %6.1f GF/s %6.1f GF/s %6.2fx\n", sh.what, sh.m, sh.n, sh.k, e, l, l / e);
    }
}
