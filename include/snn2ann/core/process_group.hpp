// snn2ann/core: what one training needs of the processes that run it together, as an
// interface the library's code calls without knowing the transport. <snn2ann/distributed.hpp>
// implements it over MPI; a process that trains alone has none (a null pointer), and
// nothing of this header costs it anything.
//
// Every call is collective: each rank of the group makes the same calls in the same
// order (the library's passes are the same on every rank, so they do), from the thread
// that runs fit().
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>

namespace snn2ann::inline v0::detail {

class process_group {
public:
    virtual ~process_group() = default;

    virtual int rank() const = 0;
    virtual int size() const = 0;

    /// Sums v over the ranks, in place: exact (integers).
    virtual void sum(std::int64_t* v, std::size_t n) = 0;
    /// Sums v over the ranks in rank order, in place: every rank gets the same bits, and a
    /// fixed number of ranks gets them in every run.
    virtual void sum(double* v, std::size_t n) = 0;
    /// Throws on every rank when the ranks' values differ; `what` names the value.
    virtual void require_equal(std::uint64_t value, const std::string& what) = 0;

    /// Batch normalisation in training takes its statistics over the global batch (the
    /// samples of every rank), not this rank's share of it.
    virtual bool synchronised_batch_norm() const = 0;
    /// This rank's samples over the global batch's, of the step that runs: the weight of
    /// its gradient in the average (and of its BN sums when they are synchronised).
    virtual double batch_share() const = 0;

    /// A training step's gradients: begin_step before the step's passes, with the model's
    /// gradient buffer and the step's global batch (which fixes every rank's share);
    /// gradients_ready(first) when backward has set every gradient at index >= first of
    /// the buffer (the model's backward calls it after each of its layers, last to first:
    /// an implementation may start averaging that part while backward goes on);
    /// finish_gradients after backward: on return the buffer holds the global batch's
    /// gradient, the same bits on every rank.
    virtual void begin_step(float* gradients, std::size_t n, std::size_t global_batch) = 0;
    virtual void gradients_ready(std::size_t first) = 0;
    virtual void finish_gradients() = 0;
};

/// This rank's part of a global batch of `n` samples: ranks take consecutive parts whose
/// sizes differ by one at most, the larger ones first.
struct batch_part {
    std::size_t first = 0, count = 0;
};
inline batch_part part_of_batch(std::size_t n, int rank, int ranks) {
    const auto r = static_cast<std::size_t>(rank), k = static_cast<std::size_t>(ranks);
    const std::size_t base = n / k, extra = n % k;
    return {r * base + (r < extra ? r : extra), base + (r < extra ? 1 : 0)};
}

/// FNV-1a over bytes, continuing from `h`: the fingerprints ranks compare to find out
/// that they do not train the same model.
inline std::uint64_t fingerprint(const void* data, std::size_t bytes, std::uint64_t h = 0xcbf29ce484222325ULL) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (std::size_t i = 0; i < bytes; ++i) h = (h ^ p[i]) * 0x100000001b3ULL;
    return h;
}
inline std::uint64_t fingerprint(const std::string& text) { return fingerprint(text.data(), text.size()); }

/// This process's rank among the processes of its node in a data-parallel job (set by
/// mpi::environment), -1 outside one: the CUDA backend picks its GPU by it.
inline std::atomic<int>& node_local_rank() {
    static std::atomic<int> rank{-1};
    return rank;
}

}  // namespace snn2ann::inline v0::detail
