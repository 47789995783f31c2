// snn2ann/core: aligned, reusable buffers and the library's workspace accounting.
// Workspaces are sized on the first batch of a given size and reused afterwards
// (docs/design.md, idea 8); every growth is counted so tests can prove the steady state allocates
// nothing, and the high-water mark tells how much memory a training rule keeps.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>

namespace snn2ann::inline v0 {

/// Counters over every workspace buffer of the process.
struct workspace_counters {
    std::size_t growths = 0;       ///< how many times any buffer had to grow
    std::size_t bytes = 0;         ///< bytes held by workspace buffers now
    std::size_t peak_bytes = 0;    ///< high-water mark of `bytes`
};

namespace detail {

struct workspace_registry {
    std::atomic<std::size_t> growths{0}, bytes{0}, peak{0};

    void add(std::size_t n) {
        growths.fetch_add(1, std::memory_order_relaxed);
        const std::size_t now = bytes.fetch_add(n, std::memory_order_relaxed) + n;
        std::size_t p = peak.load(std::memory_order_relaxed);
        while (now > p && !peak.compare_exchange_weak(p, now, std::memory_order_relaxed)) {
        }
    }
    void sub(std::size_t n) { bytes.fetch_sub(n, std::memory_order_relaxed); }

    static workspace_registry& get() {
        static workspace_registry r;
        return r;
    }
};

}  // namespace detail

/// The process-wide workspace counters (growth count, bytes now, high-water mark).
inline workspace_counters workspace_stats() {
    auto& r = detail::workspace_registry::get();
    return {r.growths.load(), r.bytes.load(), r.peak.load()};
}
/// Restart the high-water mark from the bytes held now (e.g. before a training run).
inline void reset_workspace_peak() {
    auto& r = detail::workspace_registry::get();
    r.peak.store(r.bytes.load());
}

namespace detail {

/// A 64-byte aligned array of trivially copyable T that only grows. `ensure(n)` keeps the
/// old capacity when it suffices, so a workspace sized once is reused for every batch.
template <class T>
class buffer {
public:
    static constexpr std::size_t alignment = 64;

    buffer() = default;
    explicit buffer(std::size_t n) { ensure(n); }
    buffer(const buffer& o) : buffer() {
        ensure(o.size_);
        if (o.size_) std::memcpy(data_, o.data_, o.size_ * sizeof(T));
    }
    buffer(buffer&& o) noexcept
        : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)),
          capacity_(std::exchange(o.capacity_, 0)) {}
    buffer& operator=(buffer o) noexcept {
        swap(o);
        return *this;
    }
    ~buffer() { release(); }

    void swap(buffer& o) noexcept {
        std::swap(data_, o.data_);
        std::swap(size_, o.size_);
        std::swap(capacity_, o.capacity_);
    }

    /// Make room for n elements (content is kept only when no growth was needed).
    T* ensure(std::size_t n) {
        if (n > capacity_) {
            release();
            const std::size_t bytes = (n * sizeof(T) + alignment - 1) / alignment * alignment;
            data_ = static_cast<T*>(::operator new(bytes, std::align_val_t{alignment}));
            capacity_ = n;
            workspace_registry::get().add(capacity_ * sizeof(T));
        }
        size_ = n;
        return data_;
    }
    /// ensure(n) and fill with zeros.
    T* zeros(std::size_t n) {
        ensure(n);
        if (n) std::memset(static_cast<void*>(data_), 0, n * sizeof(T));
        return data_;
    }

    T* data() { return data_; }
    const T* data() const { return data_; }
    std::size_t size() const { return size_; }
    std::size_t capacity() const { return capacity_; }
    std::size_t bytes() const { return capacity_ * sizeof(T); }
    T& operator[](std::size_t i) { return data_[i]; }
    const T& operator[](std::size_t i) const { return data_[i]; }
    T* begin() { return data_; }
    T* end() { return data_ + size_; }
    const T* begin() const { return data_; }
    const T* end() const { return data_ + size_; }

private:
    void release() {
        if (data_) {
            workspace_registry::get().sub(capacity_ * sizeof(T));
            ::operator delete(data_, std::align_val_t{alignment});
        }
        data_ = nullptr;
        size_ = capacity_ = 0;
    }

    T* data_ = nullptr;
    std::size_t size_ = 0, capacity_ = 0;
};

}  // namespace detail
}  // namespace snn2ann::inline v0
