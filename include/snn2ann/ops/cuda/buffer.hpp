// snn2ann/ops/cuda: device and pinned host buffers of an execution (execution.hpp). Like
// detail::buffer on the CPU they only grow, so a workspace sized on the first batch is
// reused; device bytes are counted so benchmarks can report the library's own device
// high-water mark.
#pragma once

#include <atomic>
#include <cstddef>
#include <utility>

namespace snn2ann::inline v0 {

/// Device bytes held by snn2ann's buffers now and at most (cuBLAS's own workspace excluded).
struct device_memory_counters {
    std::size_t bytes = 0;       ///< held now
    std::size_t peak_bytes = 0;  ///< the most held at once since the last reset
};

namespace detail::cuda_ops {

struct device_registry {
    std::atomic<std::size_t> bytes{0}, peak{0};
    static device_registry& get() {
        static device_registry r;
        return r;
    }
    void add(std::size_t n) {
        const std::size_t now = bytes.fetch_add(n) + n;
        std::size_t p = peak.load();
        while (now > p && !peak.compare_exchange_weak(p, now)) {
        }
    }
    void sub(std::size_t n) { bytes.fetch_sub(n); }
};

/// A grow-only array in the device memory of execution Device.
template <class T, class Device>
class device_buffer {
public:
    device_buffer() = default;
    device_buffer(const device_buffer&) = delete;
    device_buffer& operator=(const device_buffer&) = delete;
    device_buffer(device_buffer&& o) noexcept
        : data_(std::exchange(o.data_, nullptr)), capacity_(std::exchange(o.capacity_, 0)) {}
    device_buffer& operator=(device_buffer&& o) noexcept {
        std::swap(data_, o.data_);
        std::swap(capacity_, o.capacity_);
        return *this;
    }
    ~device_buffer() { release(); }

    /// Room for n elements; the content is kept only when no growth was needed.
    T* ensure(std::size_t n) {
        if (n > capacity_) {
            release();
            data_ = static_cast<T*>(Device::allocate(n * sizeof(T)));
            capacity_ = n;
            device_registry::get().add(n * sizeof(T));
        }
        return data_;
    }
    /// ensure(n) and set to zero in the order of `d`'s stream.
    T* zeros(std::size_t n, const Device& d) {
        ensure(n);
        d.fill_zero(data_, n * sizeof(T));
        return data_;
    }
    T* data() { return data_; }
    const T* data() const { return data_; }
    std::size_t capacity() const { return capacity_; }
    std::size_t bytes() const { return capacity_ * sizeof(T); }

private:
    void release() noexcept {
        if (data_) {
            device_registry::get().sub(capacity_ * sizeof(T));
            Device::deallocate(data_);  // no throw from destructors; a failed free leaks
        }
        data_ = nullptr;
        capacity_ = 0;
    }
    T* data_ = nullptr;
    std::size_t capacity_ = 0;
};

/// A grow-only host array that Device copies from and to asynchronously (page-locked
/// memory on a GPU).
template <class T, class Device>
class pinned_buffer {
public:
    pinned_buffer() = default;
    pinned_buffer(const pinned_buffer&) = delete;
    pinned_buffer& operator=(const pinned_buffer&) = delete;
    ~pinned_buffer() {
        if (data_) Device::deallocate_pinned(data_);
    }
    T* ensure(std::size_t n) {
        if (n > capacity_) {
            if (data_) Device::deallocate_pinned(data_);
            data_ = nullptr;
            capacity_ = 0;
            data_ = static_cast<T*>(Device::allocate_pinned(n * sizeof(T)));
            capacity_ = n;
        }
        return data_;
    }
    T* data() { return data_; }

private:
    T* data_ = nullptr;
    std::size_t capacity_ = 0;
};

}  // namespace detail::cuda_ops

/// The device-memory counters of snn2ann's buffers in this process.
inline device_memory_counters device_memory_stats() {
    auto& r = detail::cuda_ops::device_registry::get();
    return {r.bytes.load(), r.peak.load()};
}
/// Restart the device high-water mark from the bytes held now.
inline void reset_device_memory_peak() {
    auto& r = detail::cuda_ops::device_registry::get();
    r.peak.store(r.bytes.load());
}

}  // namespace snn2ann::inline v0
