// snn2ann: data-parallel training over the processes of an MPI job (Open MPI, MPICH, or
// any MPI-3 library), the one header of snn2ann that includes <mpi.h>. CMake: link
// snn2ann::mpi. The semantics are those of PyTorch's DistributedDataParallel with a
// DistributedSampler, with the batch global (docs/distributed.md):
//
//   int main(int argc, char** argv) {
//       return snn2ann::mpi::run(argc, argv, [](snn2ann::mpi::communicator& world) {
//           snn2ann::model<net, snn2ann::timesteps<4>> m{snn2ann::seed{1}};  // same seed everywhere
//           snn2ann::trainer t{m, snn2ann::rules::snn2ann{}, snn2ann::adam{1e-3}};
//           t.distribute(world);
//           t.fit(data.train, snn2ann::epochs{6}, snn2ann::batch{64});     // 64 over all ranks
//       });
//   }
//
// - Every rank runs the same program on the whole data set. Each epoch's seeded order is
//   the same on every rank; each global batch of B samples is split into consecutive parts,
//   one per rank, whose sizes differ by one at most. A last batch with fewer samples than
//   ranks is left out of its epoch.
// - Gradients: one average per step of the model's one gradient buffer, weighted by each
//   rank's share of the batch (so uneven parts give the global batch's mean), in buckets
//   started while backward still runs the earlier layers. Each bucket is split into one
//   chunk per rank; the owner of a chunk sums the ranks' values in rank order and sends the
//   sum to every rank (a reduce-scatter then an all-gather, the traffic of a ring
//   all-reduce). Each value is summed once, by one rank, so the replicas get the same bits
//   by construction, and a fixed number of ranks the same bits in every run.
// - ATA counts the noisy neurons of the global batch (integers, exact), so every replica
//   raises the same thresholds. BN's running statistics are averaged over the ranks after
//   every step; options::synchronised_batch_norm takes BN's batch statistics over the global
//   batch instead of each rank's part.
// - evaluate and measure_spikes here shard the data set and sum over the ranks; only rank 0
//   prints and writes checkpoints and training states.
// - run() ends the whole job when any rank throws: the rank and the message go to
//   standard error and MPI_Abort stops the other ranks wherever they wait.
#pragma once

#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "core/process_group.hpp"
#include "data/dataset.hpp"
#include "metrics/sharded.hpp"

namespace snn2ann::inline v0::mpi {

/// What a communicator does beyond the semantics above.
struct options {
    /// Gradient bytes per bucket: the buffer is averaged in buckets of this size, from its
    /// end (the last layers, whose gradients backward finishes first) to its start.
    std::size_t bucket_bytes = std::size_t{1} << 18;
    /// BN in training normalises with the statistics of the global batch (every rank's
    /// samples) instead of this rank's part; costs two small sums per BN layer and pass.
    bool synchronised_batch_norm = false;
    /// Start each bucket's average as soon as backward has finished it (true), or all of
    /// them after backward (false: for measuring what the overlap hides).
    bool overlap = true;
};

/// Time spent on gradient averaging, summed over the steps since reset_timing().
struct gradient_timing {
    std::uint64_t steps = 0;  ///< steps measured
    double exposed_seconds = 0.0;  ///< from the end of backward until the average is there
    std::size_t bytes_per_step = 0;  ///< gradient bytes averaged per step
};

namespace detail {
inline void check(int rc, const char* call) {
    if (rc == MPI_SUCCESS) return;
    char text[MPI_MAX_ERROR_STRING];
    int length = 0;
    MPI_Error_string(rc, text, &length);
    throw error(std::string("snn2ann::mpi: ") + call + " failed: " + std::string(text, static_cast<std::size_t>(length)));
}
inline int world_rank() {
    int initialised = 0, finalised = 0, rank = -1;
    MPI_Initialized(&initialised);
    MPI_Finalized(&finalised);
    if (initialised && !finalised) MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    return rank;
}
/// Ends the job from any rank: the message with the rank on standard error, then MPI_Abort.
[[noreturn]] inline void abort_job(const char* what) {
    int size = 0;
    const int rank = world_rank();
    if (rank >= 0) MPI_Comm_size(MPI_COMM_WORLD, &size);
    std::fprintf(stderr, "snn2ann: rank %d of %d failed: %s\n", rank, size, what);
    std::fflush(stderr);
    if (rank >= 0) MPI_Abort(MPI_COMM_WORLD, 1);
    std::_Exit(1);
}
}  // namespace detail

/// MPI for the life of the program: MPI_Init_thread (the thread that calls it is the one
/// that trains; the library's worker threads never call MPI) unless MPI is running
/// already, and MPI_Finalize at the end. An exception that leaves main ends the whole job
/// with the rank and the message.
class environment {
public:
    /// Initialises MPI from main's arguments (unless it runs already).
    environment(int& argc, char**& argv) {
        int initialised = 0;
        detail::check(MPI_Initialized(&initialised), "MPI_Initialized");
        if (!initialised) {
            int provided = 0;
            detail::check(MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
            owns_ = true;
            if (provided < MPI_THREAD_FUNNELED)
                throw error("snn2ann::mpi: the MPI library gives no MPI_THREAD_FUNNELED (the library's worker threads "
                            "run beside the thread that calls MPI)");
        }
        publish_node_local_rank();
        std::set_terminate([] {
            try {
                if (const std::exception_ptr e = std::current_exception()) std::rethrow_exception(e);
                detail::abort_job("std::terminate");
            } catch (const std::exception& e) {
                detail::abort_job(e.what());
            } catch (...) {
                detail::abort_job("an exception that is not a std::exception");
            }
        });
    }
    /// This process's rank among the job's processes on its node (MPI_COMM_TYPE_SHARED):
    /// the CUDA backend takes the GPU of that rank (ops/cuda/device_choice.hpp).
    static void publish_node_local_rank() {
        MPI_Comm node;
        detail::check(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node),
                      "MPI_Comm_split_type");
        int rank = 0;
        detail::check(MPI_Comm_rank(node, &rank), "MPI_Comm_rank");
        MPI_Comm_free(&node);
        snn2ann::detail::node_local_rank().store(rank);
    }
    ~environment() {
        int finalised = 0;
        MPI_Finalized(&finalised);
        // An exception on its way out of main: MPI_Finalize would wait for the other
        // ranks, which wait for this one; std::terminate's handler ends the job instead.
        if (owns_ && !finalised && std::uncaught_exceptions() == 0) MPI_Finalize();
    }
    environment(const environment&) = delete;
    environment& operator=(const environment&) = delete;

private:
    bool owns_ = false;
};

/// The ranks of a communicator (MPI_COMM_WORLD by default) as the process group of a
/// data-parallel training (trainer::distribute) and of evaluate/measure_spikes below. It
/// works on duplicates of the communicator, so the user's own MPI traffic never mixes
/// with it.
class communicator final : public snn2ann::detail::process_group {
public:
    /// The ranks of `comm`, with the options `o`.
    explicit communicator(MPI_Comm comm = MPI_COMM_WORLD, options o = {}) : options_(o) {
        if (options_.bucket_bytes < sizeof(float))
            throw invalid_argument("mpi::communicator: buckets of " + std::to_string(options_.bucket_bytes) + " bytes");
        for (MPI_Comm* c : {&sums_, &exchange_, &gather_}) detail::check(MPI_Comm_dup(comm, c), "MPI_Comm_dup");
        MPI_Comm_rank(sums_, &rank_);
        MPI_Comm_size(sums_, &size_);
    }
    ~communicator() override {
        int finalised = 0;
        MPI_Finalized(&finalised);
        if (finalised) return;
        for (MPI_Comm* c : {&sums_, &exchange_, &gather_}) MPI_Comm_free(c);
    }
    communicator(const communicator&) = delete;
    communicator& operator=(const communicator&) = delete;

    /// This process's rank.
    int rank() const override { return rank_; }
    /// The number of ranks.
    int size() const override { return size_; }
    /// The options it was made with.
    const options& settings() const { return options_; }

    /// Replaces `v` by its sum over the ranks (exact: integers).
    void sum(std::int64_t* v, std::size_t n) override {
        detail::check(MPI_Allreduce(MPI_IN_PLACE, v, count(n), MPI_INT64_T, MPI_SUM, sums_), "MPI_Allreduce");
    }
    /// Each value is added over the ranks in rank order by one rank and sent to all: the
    /// same bits on every rank, whatever order MPI's own reductions would take. A short
    /// vector is gathered whole on every rank; a long one (BN's running statistics, the
    /// thresholds) goes in one chunk per rank (all-to-all, then all-gather), so that each
    /// rank moves about twice the vector, not the number of ranks times it.
    void sum(double* v, std::size_t n) override {
        const auto ranks = static_cast<std::size_t>(size_);
        if (n * ranks <= short_sum) {
            all_values_.resize(n * ranks);
            detail::check(MPI_Allgather(v, count(n), MPI_DOUBLE, all_values_.data(), count(n), MPI_DOUBLE, sums_),
                          "MPI_Allgather");
            add_in_rank_order(all_values_.data(), n, n, v);
            return;
        }
        const std::size_t chunk = (n + ranks - 1) / ranks;
        padded_.assign(chunk * ranks, 0.0);
        std::copy(v, v + n, padded_.begin());
        all_values_.resize(chunk * ranks);
        detail::check(MPI_Alltoall(padded_.data(), count(chunk), MPI_DOUBLE, all_values_.data(), count(chunk),
                                   MPI_DOUBLE, sums_),
                      "MPI_Alltoall");
        owned_sum_.resize(chunk);
        add_in_rank_order(all_values_.data(), chunk, chunk, owned_sum_.data());
        detail::check(MPI_Allgather(owned_sum_.data(), count(chunk), MPI_DOUBLE, padded_.data(), count(chunk),
                                    MPI_DOUBLE, sums_),
                      "MPI_Allgather");
        std::copy(padded_.begin(), padded_.begin() + static_cast<std::ptrdiff_t>(n), v);
    }
    /// Throws on every rank, naming the ranks that differ, unless `value` is the same on all.
    void require_equal(std::uint64_t value, const std::string& what) override {
        std::vector<std::uint64_t> all(static_cast<std::size_t>(size_));
        detail::check(MPI_Allgather(&value, 1, MPI_UINT64_T, all.data(), 1, MPI_UINT64_T, sums_), "MPI_Allgather");
        std::string differ;
        for (int r = 1; r < size_; ++r)
            if (all[static_cast<std::size_t>(r)] != all[0]) differ += (differ.empty() ? "" : ", ") + std::to_string(r);
        if (!differ.empty())
            throw invalid_argument("data-parallel training: the ranks do not train the same model: rank" +
                                   std::string(differ.find(',') == std::string::npos ? " " : "s ") + differ +
                                   (differ.find(',') == std::string::npos ? " differs" : " differ") +
                                   " from rank 0 in the " + what);
    }

    /// Whether BN normalises over the global batch.
    bool synchronised_batch_norm() const override { return options_.synchronised_batch_norm; }
    /// This rank's share of the current step's global batch.
    double batch_share() const override { return share_; }

    /// Starts a step whose gradients (`n` floats) are averaged in buckets.
    void begin_step(float* gradients, std::size_t n, std::size_t global_batch) override {
        if (pending()) throw error("snn2ann::mpi: a step began before the last one's gradients were averaged");
        grads_ = gradients;
        shares_.resize(static_cast<std::size_t>(size_));
        for (int r = 0; r < size_; ++r)
            shares_[static_cast<std::size_t>(r)] = static_cast<float>(
                static_cast<double>(snn2ann::detail::part_of_batch(global_batch, r, size_).count) /
                static_cast<double>(global_batch));
        share_ = static_cast<double>(snn2ann::detail::part_of_batch(global_batch, rank_, size_).count) /
                 static_cast<double>(global_batch);
        if (n != buffer_size_) plan(n);
        started_ = gathering_ = 0;
        in_step_ = size_ > 1;  // one rank: its gradient is the global batch's already
    }
    /// Backward has finished the gradients from `first` on: their buckets may start.
    void gradients_ready(std::size_t first) override {
        if (!in_step_ || !options_.overlap) return;
        start_buckets_from(first);
        advance(false);
    }
    /// Waits until every bucket is averaged.
    void finish_gradients() override {
        if (!in_step_) return;
        const auto t0 = std::chrono::steady_clock::now();
        start_buckets_from(0);
        advance(true);
        gathers_.clear();
        for (bucket& b : buckets_) gathers_.push_back(b.gathered);
        detail::check(MPI_Waitall(count(gathers_.size()), gathers_.data(), MPI_STATUSES_IGNORE), "MPI_Waitall");
        for (bucket& b : buckets_) {
            b.gathered = MPI_REQUEST_NULL;
            std::copy(b.send.begin(), b.send.begin() + static_cast<std::ptrdiff_t>(b.end - b.begin), grads_ + b.begin);
        }
        in_step_ = false;
        timing_.exposed_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        ++timing_.steps;
    }

    /// Gradient averaging's time since the last reset (or since construction).
    gradient_timing timing() const {
        gradient_timing t = timing_;
        t.bytes_per_step = buffer_size_ * sizeof(float);
        return t;
    }
    /// Starts timing() again from zero.
    void reset_timing() { timing_ = {}; }

private:
    /// A bucket [begin, end) of the gradient buffer: split into size_ chunks of `chunk`
    /// floats (the last ones padded), chunk r owned by rank r.
    struct bucket {
        std::size_t begin = 0, end = 0, chunk = 0;
        std::vector<float> send, received, owned;  // send: this rank's chunks, then the averaged bucket
        MPI_Request exchanged = MPI_REQUEST_NULL, gathered = MPI_REQUEST_NULL;
    };

    /// Values gathered whole by sum(double*) up to this many (ranks x values).
    static constexpr std::size_t short_sum = 4096;
    /// out[i] = sum over r of values[r * stride + i], r = 0, 1, ... in that order.
    void add_in_rank_order(const double* values, std::size_t stride, std::size_t n, double* out) const {
        for (std::size_t i = 0; i < n; ++i) {
            double sum = 0.0;
            for (std::size_t r = 0; r < static_cast<std::size_t>(size_); ++r) sum += values[r * stride + i];
            out[i] = sum;
        }
    }
    static int count(std::size_t n) {
        if (n > static_cast<std::size_t>(INT32_MAX)) throw invalid_argument("mpi::communicator: a message of over 2^31 values");
        return static_cast<int>(n);
    }
    bool pending() const { return in_step_; }

    void plan(std::size_t n) {
        buffer_size_ = n;
        buckets_.clear();
        const std::size_t per = std::max<std::size_t>(1, options_.bucket_bytes / sizeof(float));
        const auto ranks = static_cast<std::size_t>(size_);
        for (std::size_t end = n; end > 0;) {
            bucket b;
            b.end = end;
            b.begin = end > per ? end - per : 0;
            b.chunk = (b.end - b.begin + ranks - 1) / ranks;
            b.send.assign(b.chunk * ranks, 0.0f);
            b.received.assign(b.chunk * ranks, 0.0f);
            b.owned.assign(b.chunk, 0.0f);
            buckets_.push_back(std::move(b));
            end = buckets_.back().begin;
        }
    }
    /// Starts, in bucket order (the same on every rank), the exchange of every bucket that
    /// lies wholly at or above `first`.
    void start_buckets_from(std::size_t first) {
        while (started_ < buckets_.size() && buckets_[started_].begin >= first) {
            bucket& b = buckets_[started_++];
            std::copy(grads_ + b.begin, grads_ + b.end, b.send.begin());
            detail::check(MPI_Ialltoall(b.send.data(), count(b.chunk), MPI_FLOAT, b.received.data(), count(b.chunk),
                                        MPI_FLOAT, exchange_, &b.exchanged),
                          "MPI_Ialltoall");
        }
    }
    /// Sums the chunks whose exchange is done and starts their all-gather, in bucket order
    /// (an all-gather never starts before the one of the bucket before it); `wait` waits
    /// for every started exchange.
    void advance(bool wait) {
        while (gathering_ < started_) {
            bucket& b = buckets_[gathering_];
            if (wait) {
                detail::check(MPI_Wait(&b.exchanged, MPI_STATUS_IGNORE), "MPI_Wait");
            } else {
                int done = 0;
                detail::check(MPI_Test(&b.exchanged, &done, MPI_STATUS_IGNORE), "MPI_Test");
                if (!done) return;
            }
            for (std::size_t i = 0; i < b.chunk; ++i) {
                float s = 0.0f;
                for (std::size_t r = 0; r < static_cast<std::size_t>(size_); ++r) s += shares_[r] * b.received[r * b.chunk + i];
                b.owned[i] = s;
            }
            detail::check(MPI_Iallgather(b.owned.data(), count(b.chunk), MPI_FLOAT, b.send.data(), count(b.chunk),
                                         MPI_FLOAT, gather_, &b.gathered),
                          "MPI_Iallgather");
            ++gathering_;
        }
    }

    options options_;
    MPI_Comm sums_ = MPI_COMM_NULL, exchange_ = MPI_COMM_NULL, gather_ = MPI_COMM_NULL;
    int rank_ = 0, size_ = 1;
    std::vector<double> all_values_, padded_, owned_sum_;  // sum(double*)'s buffers, reused
    std::vector<MPI_Request> gathers_;                     // finish_gradients()'s, reused
    std::vector<float> shares_;
    double share_ = 1.0;
    float* grads_ = nullptr;
    std::size_t buffer_size_ = 0, started_ = 0, gathering_ = 0;
    std::vector<bucket> buckets_;
    bool in_step_ = false;
    gradient_timing timing_;
};

/// Runs f(world) on every rank of the job with MPI initialised (environment) and a
/// communicator over MPI_COMM_WORLD. An exception on any rank ends the whole job within
/// moments: "snn2ann: rank R of N failed: message" on standard error, then MPI_Abort, so
/// no rank waits for ever on one that has gone. Returns main's exit status: f's if it
/// returns an int, else 0.
template <class F>
int run(int& argc, char**& argv, F&& f, options o = {}) {
    // The catch runs while MPI and the communicator are alive: unwinding through
    // MPI_Finalize or MPI_Comm_free would wait for the ranks that wait for this one.
    environment env(argc, argv);
    communicator world(MPI_COMM_WORLD, o);
    try {
        if constexpr (std::is_convertible_v<std::invoke_result_t<F, communicator&>, int>) {
            return static_cast<int>(f(world));
        } else {
            f(world);
            return 0;
        }
    } catch (const std::exception& e) {
        detail::abort_job(e.what());
    } catch (...) {
        detail::abort_job("an exception that is not a std::exception");
    }
}

/// evaluate(model, data, batch, rule) over the ranks: each rank runs its part of `d`, and
/// every rank returns the whole set's accuracy and loss.
template <class Model, class Rule>
accuracy_result evaluate(communicator& world, Model& m, const data::dataset& d, std::size_t batch, Rule rule) {
    return snn2ann::detail::sharded_evaluate(world, m, d, batch, std::move(rule));
}
/// measure_spikes(model, data, batch, rule) over the ranks, in the same way.
template <class Model, class Rule>
spike_report measure_spikes(communicator& world, Model& m, const data::dataset& d, std::size_t batch, Rule rule) {
    return snn2ann::detail::sharded_measure_spikes(world, m, d, batch, std::move(rule));
}

}  // namespace snn2ann::inline v0::mpi
