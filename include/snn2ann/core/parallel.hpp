// snn2ann/core: the library's only source of parallelism, oneTBB. Work is cut into a
// number of chunks that depends on the problem size alone, never on the thread count,
// and every reduction adds the chunks' partial results in chunk order: the same seed then
// gives bit-identical results with any number of threads (docs/design.md, idea 7). Eigen runs
// single-threaded inside the chunks, so there is no oversubscription.
#pragma once

#include <algorithm>
#include <cstddef>
#include <memory>

#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/partitioner.h>

namespace snn2ann::inline v0 {

/// Limits the threads the library uses while alive (0: oneTBB's default, all cores).
class threads {
public:
    /// At most `n` threads (0: no limit) until destroyed.
    explicit threads(int n = 0) {
        if (n > 0)
            control_ = std::make_unique<oneapi::tbb::global_control>(
                oneapi::tbb::global_control::max_allowed_parallelism, static_cast<std::size_t>(n));
    }
    /// Number of threads the library may use now.
    static int active() {
        return static_cast<int>(oneapi::tbb::global_control::active_value(
            oneapi::tbb::global_control::max_allowed_parallelism));
    }

private:
    std::unique_ptr<oneapi::tbb::global_control> control_;
};

namespace detail {

/// At most this many chunks per parallel loop: enough to balance a few cores, few enough
/// that per-chunk partial sums stay cheap to reduce.
inline constexpr std::size_t max_chunks = 8;

/// Number of chunks for n independent items (a function of n only).
constexpr std::size_t chunk_count(std::size_t n, std::size_t min_items_per_chunk = 1) {
    if (n == 0) return 0;
    const std::size_t by_size = (n + min_items_per_chunk - 1) / min_items_per_chunk;
    return std::min(max_chunks, by_size);
}

/// Half-open item range [begin, end) of chunk k when n items are split into `chunks`.
struct item_range {
    std::size_t begin, end;
};
constexpr item_range chunk_items(std::size_t k, std::size_t chunks, std::size_t n) {
    return {n * k / chunks, n * (k + 1) / chunks};
}

/// Calls f(chunk, begin, end) for every chunk, in parallel.
template <class F>
void for_chunks(std::size_t n, std::size_t chunks, F&& f) {
    if (chunks <= 1) {
        if (n) f(std::size_t{0}, std::size_t{0}, n);
        return;
    }
    oneapi::tbb::parallel_for(
        oneapi::tbb::blocked_range<std::size_t>(0, chunks, 1),
        [&](const oneapi::tbb::blocked_range<std::size_t>& r) {
            for (std::size_t k = r.begin(); k != r.end(); ++k) {
                const auto [b, e] = chunk_items(k, chunks, n);
                f(k, b, e);
            }
        },
        oneapi::tbb::simple_partitioner{});
}

/// Calls f(begin, end) over [0, n) split into chunks of at least `grain` items, for
/// element-wise work whose result does not depend on the split.
template <class F>
void for_range(std::size_t n, std::size_t grain, F&& f) {
    if (n <= grain) {
        if (n) f(std::size_t{0}, n);
        return;
    }
    oneapi::tbb::parallel_for(
        oneapi::tbb::blocked_range<std::size_t>(0, n, grain),
        [&](const oneapi::tbb::blocked_range<std::size_t>& r) { f(r.begin(), r.end()); });
}

}  // namespace detail
}  // namespace snn2ann::inline v0
