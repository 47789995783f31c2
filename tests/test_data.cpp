// The IDX reader on good, truncated and corrupt files (plain and gzip), batching order.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <sys/resource.h>
#include <zlib.h>

#include <snn2ann/snn2ann.hpp>
#include <snn2ann/xtensor.hpp>

#include "skip.hpp"
#include "synthetic_data.hpp"

namespace s = snn2ann;
namespace fs = std::filesystem;

namespace {
struct temp_dir {
    fs::path path;
    temp_dir() {
        path = fs::temp_directory_path() / ("snn2ann_test_data_" + std::to_string(::getpid()));
        fs::create_directories(path);
    }
    ~temp_dir() { fs::remove_all(path); }
    std::string file(const std::string& name) const { return (path / name).string(); }
};

std::vector<unsigned char> idx_bytes(std::vector<std::uint32_t> dims, unsigned char type = 0x08) {
    std::vector<unsigned char> b{0, 0, type, static_cast<unsigned char>(dims.size())};
    std::size_t total = 1;
    for (auto d : dims) {
        for (int k = 3; k >= 0; --k) b.push_back(static_cast<unsigned char>(d >> (8 * k)));
        total *= d;
    }
    for (std::size_t i = 0; i < total; ++i) b.push_back(static_cast<unsigned char>(i % 10));
    return b;
}

void write(const std::string& path, const std::vector<unsigned char>& bytes, bool gz) {
    if (gz) {
        gzFile f = gzopen(path.c_str(), "wb");
        REQUIRE(f);
        gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
        gzclose(f);
    } else {
        std::FILE* f = std::fopen(path.c_str(), "wb");
        REQUIRE(f);
        std::fwrite(bytes.data(), 1, bytes.size(), f);
        std::fclose(f);
    }
}
}  // namespace

TEST_CASE("IDX files read back, plain and gzip") {
    temp_dir t;
    for (bool gz : {false, true}) {
        const std::string name = gz ? "a.gz" : "a";
        write(t.file(name), idx_bytes({3, 2, 2}), gz);
        const auto a = s::data::read_idx(t.file(name));
        CHECK(a.dims == std::vector<std::uint32_t>{3, 2, 2});
        REQUIRE(a.bytes.size() == 12);
        CHECK(a.bytes[11] == 1);
    }
}

TEST_CASE("an image/label pair becomes a data set scaled to [0, 1]") {
    temp_dir t;
    write(t.file("img.gz"), idx_bytes({5, 2, 3}), true);
    write(t.file("lab"), idx_bytes({5}), false);
    const auto d = s::data::read_idx_pair(t.file("img.gz"), t.file("lab"));
    CHECK(d.size() == 5);
    CHECK(d.height == 2);
    CHECK(d.width == 3);
    CHECK(d.labels[4] == 4);
    CHECK(d.images[9] == doctest::Approx(9.0f / 255.0f));
}

TEST_CASE("a limit reads only the first samples") {
    temp_dir t;
    write(t.file("img.gz"), idx_bytes({5, 2, 3}), true);
    write(t.file("lab.gz"), idx_bytes({5}), true);
    const auto d = s::data::read_idx_pair(t.file("img.gz"), t.file("lab.gz"), 10, 2);
    CHECK(d.size() == 2);
    CHECK(d.images.size() == 12);
    CHECK(d.labels[1] == 1);
    CHECK(s::data::read_idx(t.file("img.gz"), 7).dims[0] == 5);  // a limit above the count reads all
}

TEST_CASE("defective IDX input raises an error that names the file and the problem") {
    temp_dir t;
    const std::string f = t.file("bad.gz");
    SUBCASE("missing file") {
        CHECK_THROWS_WITH_AS(s::data::read_idx(t.file("nope.gz")),
                             doctest::Contains((t.file("nope.gz") + ": cannot open").c_str()), s::io_error);
    }
    SUBCASE("wrong magic number") {
        auto b = idx_bytes({2, 2});
        b[0] = 7;
        write(f, b, true);
        CHECK_THROWS_WITH_AS(s::data::read_idx(f), doctest::Contains((f + ": not an IDX file: wrong magic").c_str()),
                             s::io_error);
    }
    SUBCASE("unsupported element type, named in hexadecimal") {
        write(f, idx_bytes({2, 2}, 0x0D), true);
        CHECK_THROWS_WITH_AS(s::data::read_idx(f), doctest::Contains("IDX element type 0x0d is not supported"),
                             s::io_error);
    }
    SUBCASE("truncation reports the payload's bytes as such, plain and gzip") {
        auto b = idx_bytes({1, 1000, 1000});  // a 1,000,016-byte file
        b.resize(b.size() - 16);
        write(t.file("cut"), b, false);
        CHECK_THROWS_WITH_AS(s::data::read_idx(t.file("cut")),
                             doctest::Contains("the dimensions 1 x 1000 x 1000 need 1000000 payload bytes after the "
                                               "16-byte header, the file has 999984"),
                             s::io_error);
        write(f, b, true);
        CHECK_THROWS_WITH_AS(s::data::read_idx(f),
                             doctest::Contains("the payload needs 1000000 bytes from byte 16 (uncompressed), but the "
                                               "file ends after 999984 of them"),
                             s::io_error);
    }
    SUBCASE("truncated payload") {
        auto b = idx_bytes({4, 28, 28});
        b.resize(b.size() - 100);
        write(f, b, true);
        CHECK_THROWS_WITH_AS(s::data::read_idx(f), doctest::Contains((f + ": truncated: the payload").c_str()),
                             s::io_error);
    }
    SUBCASE("truncated header") {
        auto b = idx_bytes({4, 28, 28});
        b.resize(9);
        write(f, b, false);
        CHECK_THROWS_WITH_AS(s::data::read_idx(f), doctest::Contains("truncated: the dimensions"), s::io_error);
    }
    SUBCASE("trailing data") {
        auto b = idx_bytes({2, 2});
        b.push_back(1);
        write(f, b, true);
        CHECK_THROWS_WITH_AS(s::data::read_idx(f), doctest::Contains("unexpected data after"), s::io_error);
    }
    SUBCASE("corrupt compressed stream") {
        std::vector<unsigned char> b{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
        write(f, b, false);
        CHECK_THROWS_WITH_AS(s::data::read_idx(f), doctest::Contains(f.c_str()), s::io_error);
    }
    SUBCASE("image and label counts disagree") {
        write(t.file("img"), idx_bytes({5, 2, 2}), false);
        write(t.file("lab"), idx_bytes({4}), false);
        CHECK_THROWS_WITH_AS(s::data::read_idx_pair(t.file("img"), t.file("lab")),
                             doctest::Contains("holds 4 labels but"), s::io_error);
    }
    SUBCASE("a label outside the classes") {
        write(t.file("img"), idx_bytes({12, 2, 2}), false);
        write(t.file("lab"), idx_bytes({12}), false);
        CHECK_THROWS_WITH_AS(s::data::read_idx_pair(t.file("img"), t.file("lab"), 5),
                             doctest::Contains("label 5 of sample 5 is not below 5"), s::io_error);
    }
    SUBCASE("a data directory without the files") {
        CHECK_THROWS_WITH_AS(s::data::fashion_mnist(t.path.string()),
                             doctest::Contains("train-images-idx3-ubyte.gz: missing"), s::io_error);
    }
}

TEST_CASE("Fashion-MNIST from its Debian package, when installed") {
    if (!fs::exists(std::string(s::data::fashion_mnist_default_dir) + "/t10k-labels-idx1-ubyte.gz"))
        TEST_SKIP("dataset-fashion-mnist is not installed");
    const auto d = s::data::fashion_mnist();
    CHECK(d.train.size() == 60000);
    CHECK(d.test.size() == 10000);
    CHECK(d.train.height == 28);
    CHECK(*std::max_element(d.test.labels.begin(), d.test.labels.end()) == 9);
}

TEST_CASE("shuffled order is a seeded permutation") {
    std::vector<std::uint32_t> a, b, c;
    s::data::shuffled_order(a, 1000, 1, 1);
    s::data::shuffled_order(b, 1000, 1, 1);
    s::data::shuffled_order(c, 1000, 1, 2);
    CHECK(a == b);
    CHECK(a != c);
    std::sort(c.begin(), c.end());
    for (std::uint32_t i = 0; i < 1000; ++i) CHECK(c[i] == i);
}

TEST_CASE("normalize per channel") {
    s::data::dataset d;
    d.channels = 2;
    d.height = d.width = 1;
    d.images = {1.0f, 3.0f};
    d.labels = {0};
    s::data::normalize(d, {0.5f, 1.0f}, {0.5f, 2.0f});
    CHECK(d.images[0] == 1.0f);
    CHECK(d.images[1] == 1.0f);
    CHECK_THROWS_AS(s::data::normalize(d, {0.5f}, {0.5f}), s::invalid_argument);
}

namespace {
std::vector<unsigned char> header_only(std::vector<std::uint32_t> dims) {
    std::vector<unsigned char> b{0, 0, 0x08, static_cast<unsigned char>(dims.size())};
    for (auto d : dims)
        for (int k = 3; k >= 0; --k) b.push_back(static_cast<unsigned char>(d >> (8 * k)));
    return b;
}
std::size_t peak_rss_kib() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<std::size_t>(u.ru_maxrss);
}
}  // namespace

TEST_CASE("IDX dimensions are checked against what the file holds before anything is allocated") {
    temp_dir t;
    const std::size_t before = peak_rss_kib();
    for (bool gz : {false, true}) {
        CAPTURE(gz);
        const std::string f = t.file(gz ? "h.gz" : "h");
        // 16 bytes that claim 1 x 2^17 x 2^17 = 16 GiB of payload
        write(f, header_only({1, 1u << 17, 1u << 17}), gz);
        CHECK_THROWS_WITH_AS(s::data::read_idx(f), doctest::Contains("implausible IDX dimensions 1 x 131072 x 131072"),
                             s::io_error);
        // 2^32 bytes pass the cap, but the file does not hold them
        write(f, header_only({1, 1u << 16, 1u << 16}), gz);
        CHECK_THROWS_WITH_AS(s::data::read_idx(f), doctest::Contains("truncated"), s::io_error);
        // 16 x 2^30 x 2^30 wraps a 64-bit product to zero
        write(f, header_only({16, 1u << 30, 1u << 30}), gz);
        CHECK_THROWS_WITH_AS(s::data::read_idx(f), doctest::Contains("implausible IDX dimensions 16 x 1073741824"),
                             s::io_error);
    }
    CHECK(peak_rss_kib() - before < 256 * 1024);  // nothing near the claimed sizes was allocated
    // No images, but absurd image sizes: refused by the image reader, which makes them ints.
    write(t.file("img"), header_only({0, 1u << 31, 1u << 31}), false);
    write(t.file("lab"), header_only({0}), false);
    CHECK_THROWS_WITH_AS(s::data::read_idx_pair(t.file("img"), t.file("lab")),
                         doctest::Contains("an image height of 2147483648 pixels is not in [1, 65535]"), s::io_error);
}

TEST_CASE("xtensor arrays in and out: a data set from arrays, predictions as an array") {
    namespace s = snn2ann;
    xt::xtensor<float, 4> images = xt::zeros<float>({std::size_t{5}, std::size_t{1}, std::size_t{4}, std::size_t{4}});
    for (std::size_t i = 0; i < images.size(); ++i) images.data()[i] = static_cast<float>(i % 7) / 7.0f;
    const xt::xtensor<std::int32_t, 1> labels = {0, 1, 2, 1, 0};
    const s::data::dataset d = s::data::from_xtensor(images, labels, 3);
    CHECK(d.size() == 5);
    CHECK(d.channels == 1);
    CHECK(d.height == 4);
    CHECK(d.image(2)[3] == images(2, 0, 0, 3));
    CHECK(d.labels[4] == 0);
    const xt::xtensor<std::int32_t, 1> bad = {0, 1, 3, 1, 0};
    CHECK_THROWS_WITH_AS(s::data::from_xtensor(images, bad, 3), doctest::Contains("label"), s::invalid_argument);
    const xt::xtensor<std::int32_t, 1> short_labels = {0, 1};
    CHECK_THROWS_WITH_AS(s::data::from_xtensor(images, short_labels, 3), doctest::Contains("5 images but 2 labels"),
                         s::invalid_argument);

    using net = s::network<s::input<1, 4, 4>, s::flatten, s::linear<8>, s::spiking<>, s::linear<3>>;
    s::model<net, s::timesteps<4>> m{s::seed{2}};
    s::rules::snn2ann rule;
    const xt::xtensor<float, 2> scores = s::predict(m, images, rule, 2);
    REQUIRE(scores.shape()[0] == 5);
    REQUIRE(scores.shape()[1] == 3);
    const float* direct = rule.predict(m, d.image(0), 5);  // the same rule on the whole set at once
    for (std::size_t i = 0; i < 15; ++i) CHECK(scores.data()[i] == doctest::Approx(direct[i]).epsilon(1e-6));
    const xt::xtensor<float, 4> wrong = xt::zeros<float>({std::size_t{2}, std::size_t{1}, std::size_t{3}, std::size_t{4}});
    CHECK_THROWS_WITH_AS(s::predict(m, wrong, rule), doctest::Contains("the network takes 1x4x4"), s::invalid_argument);

    // Time-varying samples, N x T x C x H x W: the same images as T equal frames predict the same.
    xt::xtensor<float, 5> frames = xt::zeros<float>({std::size_t{5}, std::size_t{4}, std::size_t{1}, std::size_t{4}, std::size_t{4}});
    for (std::size_t i = 0; i < 5; ++i)
        for (std::size_t t = 0; t < 4; ++t)
            for (std::size_t k = 0; k < 16; ++k) frames.data()[(i * 4 + t) * 16 + k] = images.data()[i * 16 + k];
    const s::data::dataset f = s::data::from_xtensor(frames, labels, 3);
    CHECK(f.frames == 4);
    CHECK(f.image_size() == 64);
    const xt::xtensor<float, 2> framed = s::predict(m, frames, rule, 2);
    for (std::size_t i = 0; i < 15; ++i) CHECK(framed.data()[i] == scores.data()[i]);
    CHECK(m.input_frames() == 1);
    const xt::xtensor<float, 5> three = xt::zeros<float>({std::size_t{2}, std::size_t{3}, std::size_t{1}, std::size_t{4}, std::size_t{4}});
    CHECK_THROWS_WITH_AS(s::predict(m, three, rule), doctest::Contains("3 frames per sample, the model runs T = 4"),
                         s::invalid_argument);
}

TEST_CASE("split_off: a seeded validation set off the training set, disjoint from what is left, orders kept") {
    auto d = test::bars(50, 3);
    for (std::size_t i = 0; i < d.size(); ++i) d.images[i * d.image_size()] = static_cast<float>(i);  // a sample's id
    const auto v = s::data::split_off(d, 12, 7);
    REQUIRE(v.validation.size() == 12);
    REQUIRE(v.train.size() == 38);
    CHECK(v.train.image_size() == d.image_size());
    std::vector<int> ids;
    for (const auto* part : {&v.train, &v.validation}) {
        int previous = -1;
        for (std::size_t i = 0; i < part->size(); ++i) {
            const int id = static_cast<int>(part->image(i)[0]);
            CHECK(id > previous);  // the order of d, in each part
            previous = id;
            ids.push_back(id);
            CHECK(part->labels[i] == d.labels[static_cast<std::size_t>(id)]);
            CHECK(std::equal(part->image(i), part->image(i) + d.image_size(), d.image(static_cast<std::size_t>(id))));
        }
    }
    std::sort(ids.begin(), ids.end());
    for (int i = 0; i < 50; ++i) CHECK(ids[static_cast<std::size_t>(i)] == i);  // every sample once
    // a function of the seed: the same seed the same split, another one another
    const auto again = s::data::split_off(d, 12, 7), other = s::data::split_off(d, 12, 8);
    CHECK(again.validation.labels == v.validation.labels);
    CHECK(again.validation.images == v.validation.images);
    CHECK(other.validation.images != v.validation.images);
    // not the first or the last samples: drawn
    CHECK(v.validation.image(0)[0] != 0.0f);
    CHECK_THROWS_WITH_AS(s::data::split_off(d, 50), "snn2ann: data::split_off: 50 validation samples of a data set of 50 (at least 1, fewer than all)",
                         s::invalid_argument);
    CHECK_THROWS_AS(s::data::split_off(d, 0), s::invalid_argument);
}
