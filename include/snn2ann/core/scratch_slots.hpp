// snn2ann/core: scratch buffers for the chunks of a parallel loop, one per thread that can
// run a chunk at a time instead of one per chunk. A loop is cut into up to max_chunks
// chunks whatever the thread count (parallel.hpp), but on T threads at most T chunks run
// at once, so T buffers of pure scratch (an im2col matrix, say) are enough; each chunk
// leases a free one for its duration. Results never depend on which buffer a chunk gets.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cstddef>
#include <thread>

#include "buffer.hpp"
#include "parallel.hpp"

namespace snn2ann::inline v0::detail {

template <class T>
class scratch_slots {
    static_assert(max_chunks <= 32, "snn2ann::detail::scratch_slots: the free-slot mask holds at most 32 slots");

public:
    scratch_slots() = default;
    // Scratch content means nothing between loops: a copy starts without buffers.
    scratch_slots(const scratch_slots&) : scratch_slots() {}
    scratch_slots& operator=(const scratch_slots&) { return *this; }

    /// Makes buffers of n elements ready for a loop of `chunks` chunks on the threads the
    /// library may use now. Call it in the calling thread, before the loop: a lease then
    /// never allocates, and after the first loop of a given size nothing grows.
    void prepare(std::size_t chunks, std::size_t n) {
        const auto threads = static_cast<std::size_t>(std::max(1, snn2ann::threads::active()));
        count_ = std::clamp<std::size_t>(std::min(chunks, threads), 1, max_chunks);
        for (std::size_t i = 0; i < count_; ++i) slots_[i].ensure(n);
        free_.store((count_ == 32 ? ~0u : (1u << count_) - 1u), std::memory_order_release);
    }

    /// A buffer held by one chunk until the lease ends (or none: data() is null).
    class lease {
    public:
        lease(const lease&) = delete;
        lease& operator=(const lease&) = delete;
        ~lease() {
            if (owner_) owner_->free_.fetch_or(1u << slot_, std::memory_order_acq_rel);
        }
        T* data() { return owner_ ? owner_->slots_[slot_].data() : nullptr; }

    private:
        friend class scratch_slots;
        lease(scratch_slots* owner, unsigned slot) : owner_(owner), slot_(slot) {}
        scratch_slots* owner_;
        unsigned slot_;
    };

    /// Takes a free buffer; waits (yielding) in the rare case that another chunk still
    /// holds every one. The chunk body must not start parallel work of its own, or a
    /// stolen chunk could wait for a buffer its own thread holds.
    lease acquire() {
        unsigned mask = free_.load(std::memory_order_acquire);
        for (;;) {
            if (mask == 0) {
                std::this_thread::yield();
                mask = free_.load(std::memory_order_acquire);
                continue;
            }
            const auto slot = static_cast<unsigned>(std::countr_zero(mask));
            if (free_.compare_exchange_weak(mask, mask & ~(1u << slot), std::memory_order_acq_rel))
                return lease{this, slot};
        }
    }
    /// acquire(), or no buffer when `skip` (a chunk that needs no scratch this time).
    lease acquire_unless(bool skip) { return skip ? lease{nullptr, 0} : acquire(); }

private:
    std::array<buffer<T>, max_chunks> slots_;
    std::size_t count_ = 0;
    std::atomic<unsigned> free_{0};
};

}  // namespace snn2ann::inline v0::detail
