// Checkpoints: round trip, atomic writes, and clear errors for another network, another
// T, and truncated or corrupt files.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>
#include <zlib.h>

#include <snn2ann/snn2ann.hpp>

namespace s = snn2ann;
namespace fs = std::filesystem;

namespace {
using net = s::network<s::input<1, 8, 8>, s::conv<4, 3>, s::batch_norm, s::max_pool<2>, s::spiking<>, s::flatten,
                       s::linear<5>>;
using other = s::network<s::input<1, 8, 8>, s::conv<6, 3>, s::batch_norm, s::max_pool<2>, s::spiking<>, s::flatten,
                         s::linear<5>>;

struct temp_file {
    std::string path = (fs::temp_directory_path() / ("snn2ann_ckpt_" + std::to_string(::getpid()) + ".npz")).string();
    ~temp_file() {
        fs::remove(path);
        fs::remove(path + ".tmp");
    }
};

std::string read_all(const std::string& p) {
    std::ifstream f(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}
void write_all(const std::string& p, const std::string& bytes) {
    std::ofstream f(p, std::ios::binary | std::ios::trunc);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}
}  // namespace

TEST_CASE("a checkpoint restores parameters, BN statistics and thresholds exactly") {
    temp_file t;
    s::model<net, s::timesteps<4>> a{s::seed{1}}, b{s::seed{2}};
    for (std::size_t i = 0; i < a.state().size(); ++i) a.state()[i] += 0.25f;  // e.g. ATA moved the thresholds
    s::io::save_checkpoint(a, t.path);
    CHECK_FALSE(fs::exists(t.path + ".tmp"));
    s::io::load_checkpoint(b, t.path);
    CHECK(std::equal(a.parameters().begin(), a.parameters().end(), b.parameters().begin()));
    CHECK(std::equal(a.state().begin(), a.state().end(), b.state().begin()));
    // A second save replaces the file whole.
    s::model<net, s::timesteps<4>> c{s::seed{3}};
    s::io::save_checkpoint(c, t.path);
    s::io::load_checkpoint(b, t.path);
    CHECK(std::equal(c.parameters().begin(), c.parameters().end(), b.parameters().begin()));
}

TEST_CASE("the archive is a standard .npz: one .npy member per named array") {
    temp_file t;
    s::model<net, s::timesteps<4>> a;
    s::io::save_checkpoint(a, t.path);
    const auto entries = s::io::read_zip(t.path);
    std::vector<std::string> names;
    for (const auto& e : entries) names.push_back(e.name);
    CHECK(std::find(names.begin(), names.end(), "layer00.params.npy") != names.end());  // conv
    CHECK(std::find(names.begin(), names.end(), "layer01.state.npy") != names.end());   // BN running stats
    CHECK(std::find(names.begin(), names.end(), "layer03.state.npy") != names.end());   // thresholds
    CHECK(std::find(names.begin(), names.end(), "signature.npy") != names.end());
    CHECK(entries[0].bytes.substr(1, 5) == "NUMPY");
}

TEST_CASE("loading refuses another network, another T, and damaged files, naming the file") {
    temp_file t;
    s::model<net, s::timesteps<4>> a{s::seed{1}}, target{s::seed{9}};
    s::io::save_checkpoint(a, t.path);
    const auto before = std::vector<float>(target.parameters().begin(), target.parameters().end());
    SUBCASE("another network") {
        s::model<other, s::timesteps<4>> o;
        CHECK_THROWS_WITH_AS(s::io::load_checkpoint(o, t.path), doctest::Contains("saved from another network"),
                             s::io_error);
    }
    SUBCASE("another T") {
        s::model<net, s::timesteps<8>> o;
        CHECK_THROWS_WITH_AS(s::io::load_checkpoint(o, t.path), doctest::Contains("saved with T = 4, the model has T = 8"),
                             s::io_error);
    }
    SUBCASE("missing file") {
        CHECK_THROWS_WITH_AS(s::io::load_checkpoint(target, t.path + ".none"), doctest::Contains("cannot open"),
                             s::io_error);
    }
    SUBCASE("truncated file") {
        const auto bytes = read_all(t.path);
        write_all(t.path, bytes.substr(0, bytes.size() / 2));
        CHECK_THROWS_WITH_AS(s::io::load_checkpoint(target, t.path), doctest::Contains(t.path.c_str()), s::io_error);
    }
    SUBCASE("a flipped byte in an array") {
        auto bytes = read_all(t.path);
        bytes[bytes.size() / 3] ^= 0x5a;
        write_all(t.path, bytes);
        CHECK_THROWS_WITH_AS(s::io::load_checkpoint(target, t.path), doctest::Contains(t.path.c_str()), s::io_error);
    }
    SUBCASE("not an archive") {
        write_all(t.path, "hello, this is not a zip file at all, just some text long enough");
        CHECK_THROWS_WITH_AS(s::io::load_checkpoint(target, t.path), doctest::Contains("not a zip/npz archive"),
                             s::io_error);
    }
    // Nothing was changed by a failed load.
    CHECK(std::equal(before.begin(), before.end(), target.parameters().begin()));
}

TEST_CASE("zip round trip of several members") {
    temp_file t;
    s::io::write_zip(t.path, {{"a.txt", "hello"}, {"b.bin", std::string(1000, 'x')}});
    const auto e = s::io::read_zip(t.path);
    REQUIRE(e.size() == 2);
    CHECK(e[0].bytes == "hello");
    CHECK(e[1].bytes == std::string(1000, 'x'));
}

TEST_CASE("deflated members (numpy.savez_compressed) are read, and their CRC is checked") {
    // One member "c.txt", deflated by zlib, in a hand-built archive.
    const std::string text(3000, 'q');
    std::string packed(compressBound(static_cast<uLong>(text.size())), '\0');
    z_stream z{};
    REQUIRE(deflateInit2(&z, 6, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK);
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
    z.avail_in = static_cast<uInt>(text.size());
    z.next_out = reinterpret_cast<Bytef*>(packed.data());
    z.avail_out = static_cast<uInt>(packed.size());
    REQUIRE(deflate(&z, Z_FINISH) == Z_STREAM_END);
    packed.resize(z.total_out);
    deflateEnd(&z);
    const auto crc = static_cast<std::uint32_t>(crc32(0L, reinterpret_cast<const Bytef*>(text.data()),
                                                      static_cast<uInt>(text.size())));
    auto archive = [&](std::uint32_t stored_crc) {
        namespace d = s::io::detail;
        std::string a, cd;
        d::put32(a, d::local_signature);
        d::put16(a, 20), d::put16(a, 0), d::put16(a, 8), d::put16(a, 0), d::put16(a, 0);
        d::put32(a, stored_crc), d::put32(a, static_cast<std::uint32_t>(packed.size()));
        d::put32(a, static_cast<std::uint32_t>(text.size())), d::put16(a, 5), d::put16(a, 0);
        a += "c.txt" + packed;
        d::put32(cd, d::central_signature);
        d::put16(cd, 20), d::put16(cd, 20), d::put16(cd, 0), d::put16(cd, 8), d::put16(cd, 0), d::put16(cd, 0);
        d::put32(cd, stored_crc), d::put32(cd, static_cast<std::uint32_t>(packed.size()));
        d::put32(cd, static_cast<std::uint32_t>(text.size())), d::put16(cd, 5);
        for (int k = 0; k < 4; ++k) d::put16(cd, 0);  // extra, comment, disk, internal attributes
        d::put32(cd, 0), d::put32(cd, 0);  // external attributes, local header offset
        cd += "c.txt";
        const auto offset = static_cast<std::uint32_t>(a.size());
        a += cd;
        d::put32(a, d::end_signature), d::put16(a, 0), d::put16(a, 0), d::put16(a, 1), d::put16(a, 1);
        d::put32(a, static_cast<std::uint32_t>(cd.size())), d::put32(a, offset), d::put16(a, 0);
        return a;
    };
    temp_file t;
    write_all(t.path, archive(crc));
    const auto e = s::io::read_zip(t.path);
    REQUIRE(e.size() == 1);
    CHECK(e[0].bytes == text);
    write_all(t.path, archive(crc ^ 1));
    CHECK_THROWS_WITH_AS(s::io::read_zip(t.path), doctest::Contains("CRC mismatch in member c.txt"), s::io_error);
}
