// snn2ann/train: a one-line progress bar on a terminal; silent when stderr is not one
// (logs and CI then get only the per-epoch lines).
#pragma once

#include <chrono>
#include <cstdio>
#include <string>

#include <unistd.h>

namespace snn2ann::inline v0::detail {

class progress_bar {
public:
    explicit progress_bar(bool enabled) : enabled_(enabled && isatty(fileno(stderr))) {}

    void update(std::size_t done, std::size_t total, double loss, double images_per_s) {
        if (!enabled_) return;
        const auto now = std::chrono::steady_clock::now();
        if (done != total && now - last_ < std::chrono::milliseconds(100)) return;
        last_ = now;
        constexpr int width = 30;
        const int filled = total ? static_cast<int>(width * done / total) : width;
        std::string bar(static_cast<std::size_t>(filled), '=');
        if (filled < width) bar += '>' + std::string(static_cast<std::size_t>(width - filled - 1), ' ');
        std::fprintf(stderr, "\r[%s] %zu/%zu loss %.4f %.0f img/s ", bar.c_str(), done, total, loss, images_per_s);
        if (done == total) std::fprintf(stderr, "\r%*s\r", width + 60, "");
        std::fflush(stderr);
    }

private:
    bool enabled_;
    std::chrono::steady_clock::time_point last_{};
};

}  // namespace snn2ann::inline v0::detail
