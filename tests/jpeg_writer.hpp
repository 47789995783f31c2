// JPEG files for the Tiny-ImageNet tests and fuzz seeds, written with TurboJPEG (the
// library the reader decodes with).
#pragma once

#include <string>
#include <vector>

extern "C" {
void* tjInitCompress(void);
int tjCompress2(void* handle, const unsigned char* pixels, int width, int pitch, int height, int pixel_format,
                unsigned char** jpeg, unsigned long* size, int subsampling, int quality, int flags);
void tjFree(unsigned char* buffer);
int tjDestroy(void* handle);
}

namespace test {

/// A width x height JPEG of the RGB (or, with channels 1, grey) pixels, quality 95.
inline std::string jpeg(const std::vector<unsigned char>& pixels, int width, int height, int channels = 3) {
    constexpr int rgb = 0, gray = 6, subsampling_420 = 2, subsampling_gray = 3;  // TJPF_*, TJSAMP_*
    void* h = tjInitCompress();
    unsigned char* out = nullptr;
    unsigned long size = 0;
    const int rc = tjCompress2(h, pixels.data(), width, width * channels, height, channels == 1 ? gray : rgb, &out,
                               &size, channels == 1 ? subsampling_gray : subsampling_420, 95, 0);
    std::string bytes = rc == 0 ? std::string(reinterpret_cast<const char*>(out), size) : std::string();
    tjFree(out);
    tjDestroy(h);
    return bytes;
}

}  // namespace test
