// One fixed batch of random inputs in [-1, 1) and labels 0..classes-1 in turn, for the
// step benchmarks (zoo_step, cuda_benchmark): the same data for every rule and backend.
#pragma once

#include <cstdint>
#include <vector>

#include <snn2ann/core/rng.hpp>

namespace snn2ann_bench {

struct random_batch {
    std::vector<float> x;
    std::vector<std::int32_t> y;

    random_batch(std::size_t batch, std::size_t sample_size, int classes = 10) : x(batch * sample_size), y(batch) {
        const snn2ann::detail::counter_rng rng(7, 1);
        for (std::size_t i = 0; i < x.size(); ++i) x[i] = 2.0f * rng.uniform(i) - 1.0f;
        for (std::size_t i = 0; i < batch; ++i) y[i] = static_cast<std::int32_t>(i % static_cast<std::size_t>(classes));
    }
};

}  // namespace snn2ann_bench
