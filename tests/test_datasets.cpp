// CIFAR-10/100 and Tiny-ImageNet readers on small files written here in the real formats
// (good ones and corrupt ones), and the crop-and-flip augmentation.
#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

#include <snn2ann/data/augment.hpp>
#include <snn2ann/data/cifar.hpp>
#include <snn2ann/data/tiny_imagenet.hpp>

#include "jpeg_writer.hpp"

namespace s = snn2ann;
namespace fs = std::filesystem;

namespace {
struct temp_dir {
    fs::path path;
    explicit temp_dir(const std::string& name) {
        path = fs::temp_directory_path() / ("snn2ann_test_" + name + "_" + std::to_string(::getpid()));
        fs::remove_all(path);
        fs::create_directories(path);
    }
    ~temp_dir() { fs::remove_all(path); }
    std::string file(const std::string& name) const { return (path / name).string(); }
};

// CIFAR records: label bytes, then 3 x 1024 pixel bytes, pixel k of channel c = (r + c + k) % 256.
void write_cifar(const std::string& path, std::size_t records, std::vector<unsigned char> (*labels)(std::size_t),
                 std::size_t cut = 0) {
    std::vector<unsigned char> bytes;
    for (std::size_t r = 0; r < records; ++r) {
        const auto l = labels(r);
        bytes.insert(bytes.end(), l.begin(), l.end());
        for (int c = 0; c < 3; ++c)
            for (int k = 0; k < 1024; ++k) bytes.push_back(static_cast<unsigned char>((r + c + k) % 256));
    }
    // A truncated file: the last `cut` bytes are not written.
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()),
                                                static_cast<std::streamsize>(bytes.size() - cut));
}
std::vector<unsigned char> cifar10_label(std::size_t r) { return {static_cast<unsigned char>(r % 10)}; }
std::vector<unsigned char> cifar100_label(std::size_t r) {
    return {static_cast<unsigned char>(r % 20), static_cast<unsigned char>((7 * r) % 100)};
}

template <class F>
std::string error_of(F&& f) {
    try {
        f();
    } catch (const s::io_error& e) {
        return e.what();
    }
    return "no error";
}
bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }
}  // namespace

TEST_CASE("CIFAR-10 binary: five training batches and a test batch") {
    temp_dir t("cifar10");
    for (int i = 1; i <= 5; ++i) write_cifar(t.file("data_batch_" + std::to_string(i) + ".bin"), 3, cifar10_label);
    write_cifar(t.file("test_batch.bin"), 4, cifar10_label);
    const auto d = s::data::cifar10(t.path.string());
    CHECK(d.train.size() == 15);
    CHECK(d.test.size() == 4);
    CHECK(d.train.classes == 10);
    CHECK(d.train.sample_shape() == s::image_shape(3, 32, 32));
    CHECK(d.test.labels == std::vector<std::int32_t>{0, 1, 2, 3});
    // record 2 of the test file, channel 1 (green), pixel 5: (2 + 1 + 5) / 255
    CHECK(d.test.image(2)[1024 + 5] == doctest::Approx(8.0 / 255.0));
    CHECK(s::data::cifar10(t.path.string(), 4, 2).train.size() == 4);

    SUBCASE("errors name the file") {
        CHECK(contains(error_of([&] { s::data::cifar10(t.file("nowhere")); }), "data_batch_1.bin: missing"));
        write_cifar(t.file("data_batch_3.bin"), 3, cifar10_label, 100);
        CHECK(contains(error_of([&] { s::data::cifar10(t.path.string()); }), "data_batch_3.bin: size 9119 is not a whole number of 3073-byte records"));
        write_cifar(t.file("data_batch_3.bin"), 3, [](std::size_t) { return std::vector<unsigned char>{12}; });
        CHECK(contains(error_of([&] { s::data::cifar10(t.path.string()); }), "data_batch_3.bin: record 0 has label 12"));
        fs::remove(t.file("data_batch_3.bin"));
        CHECK(contains(error_of([&] { s::data::cifar10(t.path.string()); }), "data_batch_3.bin: missing"));
    }
}

TEST_CASE("CIFAR-100 binary: fine and coarse labels") {
    temp_dir t("cifar100");
    write_cifar(t.file("train.bin"), 6, cifar100_label);
    write_cifar(t.file("test.bin"), 2, cifar100_label);
    const auto fine = s::data::cifar100(t.path.string());
    CHECK(fine.train.classes == 100);
    CHECK(fine.train.labels == std::vector<std::int32_t>{0, 7, 14, 21, 28, 35});
    const auto coarse = s::data::cifar100(t.path.string(), s::data::cifar100_labels::coarse);
    CHECK(coarse.train.classes == 20);
    CHECK(coarse.train.labels == std::vector<std::int32_t>{0, 1, 2, 3, 4, 5});
    CHECK(coarse.test.image(1)[0] == doctest::Approx(1.0 / 255.0));
    // a CIFAR-10 file is not a CIFAR-100 file: 3073-byte records
    write_cifar(t.file("test.bin"), 2, cifar10_label);
    CHECK(contains(error_of([&] { s::data::cifar100(t.path.string()); }), "test.bin: size 6146 is not a whole number of 3074-byte records"));
}

TEST_CASE("Tiny-ImageNet folder layout, decoded in parallel") {
    temp_dir t("tiny");
    const std::vector<std::string> wnids{"n01443537", "n01629819", "n01641577"};
    std::ofstream(t.file("wnids.txt")) << wnids[0] << "\n" << wnids[1] << "\n" << wnids[2] << "\n";
    std::vector<unsigned char> pixels(64 * 64 * 3);
    auto jpeg = [&](const std::string& path, int value) {
        std::fill(pixels.begin(), pixels.end(), static_cast<unsigned char>(value));
        const std::string bytes = test::jpeg(pixels, 64, 64);
        REQUIRE(!bytes.empty());
        std::ofstream(path, std::ios::binary) << bytes;
    };
    for (std::size_t k = 0; k < wnids.size(); ++k) {
        fs::create_directories(t.path / "train" / wnids[k] / "images");
        for (int i = 0; i < 2; ++i)
            jpeg((t.path / "train" / wnids[k] / "images" / (wnids[k] + "_" + std::to_string(i) + ".JPEG")).string(),
                 40 * static_cast<int>(k) + 20 * i);
    }
    fs::create_directories(t.path / "val" / "images");
    jpeg(t.file("val/images/val_0.JPEG"), 200);
    jpeg(t.file("val/images/val_1.JPEG"), 100);
    std::ofstream(t.file("val/val_annotations.txt")) << "val_0.JPEG\t" << wnids[2] << "\t0\t0\t63\t63\n"
                                                     << "val_1.JPEG\t" << wnids[0] << "\t1\t2\t40\t50\n";
    const auto d = s::data::tiny_imagenet(t.path.string());
    CHECK(d.train.size() == 6);
    CHECK(d.train.classes == 3);
    CHECK(d.train.sample_shape() == s::image_shape(3, 64, 64));
    CHECK(d.train.labels == std::vector<std::int32_t>{0, 0, 1, 1, 2, 2});
    CHECK(d.test.labels == std::vector<std::int32_t>{2, 0});
    CHECK(d.train.image(3)[4000] == doctest::Approx(60.0 / 255.0).epsilon(0.05));  // class 1, image 1
    CHECK(d.test.image(0)[64 * 64 * 2 + 7] == doctest::Approx(200.0 / 255.0).epsilon(0.05));
    CHECK(s::data::tiny_imagenet(t.path.string(), 1, 1).train.size() == 3);

    SUBCASE("errors name the file") {
        CHECK(contains(error_of([&] { s::data::tiny_imagenet(t.file("absent")); }), "wnids.txt: missing"));
        std::ofstream(t.file("val/images/val_1.JPEG")) << "not a jpeg";
        CHECK(contains(error_of([&] { s::data::tiny_imagenet(t.path.string()); }), "val_1.JPEG: cannot be decoded"));
        std::ofstream(t.file("val/val_annotations.txt")) << "val_0.JPEG\tn99999999\t0\t0\t1\t1\n";
        CHECK(contains(error_of([&] { s::data::tiny_imagenet(t.path.string()); }),
                       "val_annotations.txt: line 1: class n99999999 is not in wnids.txt"));
        fs::remove_all(t.path / "train" / wnids[1]);
        CHECK(contains(error_of([&] { s::data::tiny_imagenet(t.path.string()); }), wnids[1] + "/images: missing"));
    }
}

TEST_CASE("JPEG decoding: grey images become three channels; other sizes and damaged files are refused") {
    temp_dir t("jpeg");
    std::vector<unsigned char> grey(8 * 8, 128);
    std::ofstream(t.file("grey.jpg"), std::ios::binary) << test::jpeg(grey, 8, 8, 1);
    std::ofstream(t.file("big.jpg"), std::ios::binary) << test::jpeg(std::vector<unsigned char>(16 * 16 * 3), 16, 16);
    s::data::dataset d;
    s::data::decode_images(d, {t.file("grey.jpg")}, {0}, 8);
    REQUIRE(d.images.size() == 3 * 64);
    CHECK(d.images[5] == doctest::Approx(d.images[64 + 5]));
    CHECK(d.images[5] == doctest::Approx(128.0 / 255.0).epsilon(0.02));
    CHECK(contains(error_of([&] { s::data::decode_images(d, {t.file("grey.jpg"), t.file("big.jpg")}, {0, 1}, 8); }),
                   "big.jpg: is 16x16, expected 8x8"));
    CHECK(d.size() == 1);  // a failed call leaves the data set as it was
    CHECK(d.images.size() == 3 * 64);
    // The fuzzer's first finding: a JPEG whose Huffman table overflows Debian 12's
    // stb_image (a write past the table). The reader now refuses it with a message.
    const std::string kept = std::string(SNN2ANN_SOURCE_DIR) + "/tests/fuzz/regressions/tiny_imagenet/stb_huffman_table_overflow.jpg";
    CHECK(contains(error_of([&] { s::data::decode_images(d, {kept}, {0}, 64); }), "cannot be decoded as a JPEG image"));
}

TEST_CASE("crop and flip: a shifted, possibly mirrored copy with padding, reproducible") {
    const s::shape sh = s::image_shape(1, 4, 4);
    std::vector<float> x(16 * 8);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i % 16 + 1);
    auto a = x, b = x;
    const s::data::crop_flip aug{1, true, {-5.0f}};
    const s::detail::counter_rng rng(3, 4);
    aug(a.data(), 8, sh, rng);
    aug(b.data(), 8, sh, rng);
    CHECK(a == b);
    CHECK(a != x);
    for (std::size_t n = 0; n < 8; ++n) {
        // every output pixel is the pad value or one of the image's values
        int padded = 0;
        for (std::size_t i = 0; i < 16; ++i) {
            const float v = a[n * 16 + i];
            CHECK(((v >= 1.0f && v <= 16.0f) || v == -5.0f));
            padded += v == -5.0f;
        }
        CHECK((padded == 0 || padded == 4 || padded == 7));  // no shift, one row/column, or both
    }
    const s::data::crop_flip none{0, false, {}};
    auto c = x;
    none(c.data(), 8, sh, rng);
    CHECK(c == x);
}
