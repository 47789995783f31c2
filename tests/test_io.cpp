// Checkpoints: round trip, atomic writes, and clear errors for another network, another
// T, and truncated or corrupt files.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <sys/resource.h>
#include <unistd.h>

#include <snn2ann/snn2ann.hpp>

#include "zip_builder.hpp"

namespace s = snn2ann;
namespace fs = std::filesystem;

// The text (computed once) holds the part; the text is shown when it does not.
#define CHECK_CONTAINS(text, part)                                 \
    do {                                                           \
        const std::string checked_text_ = (text);                  \
        INFO(checked_text_);                                       \
        CHECK(checked_text_.find(part) != std::string::npos);      \
    } while (0)

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

std::size_t peak_rss_kib() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<std::size_t>(u.ru_maxrss);
}

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
    const std::string text(3000, 'q');
    temp_file t;
    write_all(t.path, test::build_zip({test::deflated("c.txt", text)}));
    const auto e = s::io::read_zip(t.path);
    REQUIRE(e.size() == 1);
    CHECK(e[0].bytes == text);
    auto damaged = test::deflated("c.txt", text);
    damaged.crc ^= 1;
    write_all(t.path, test::build_zip({damaged}));
    CHECK_THROWS_WITH_AS(s::io::read_zip(t.path), doctest::Contains("member c.txt is corrupt (libzip: CRC error)"),
                         s::io_error);
}

namespace {
template <class Neuron, class Pool = s::max_pool<2>, class Drop = s::dropout<0>>
using variant = s::network<s::input<1, 8, 8>, s::conv<4, 3>, s::batch_norm, Pool, s::spiking<Neuron>, s::flatten,
                           Drop, s::linear<5>>;
template <class From, class To>
std::string load_error() {
    temp_file t;
    s::model<From, s::timesteps<4>> a{s::seed{1}};
    s::model<To, s::timesteps<4>> b{s::seed{2}};
    s::io::save_checkpoint(a, t.path);
    try {
        s::io::load_checkpoint(b, t.path);
    } catch (const s::io_error& e) {
        return e.what();
    }
    return "loaded";
}
}  // namespace

TEST_CASE("a checkpoint records the neuron type and every layer option, and loads only into the same network") {
    using subtract = s::if_neuron<s::reset::by_subtraction>;
    CHECK((load_error<variant<s::lif_neuron<8>>, variant<s::lif_neuron<8>>>() == "loaded"));
    CHECK_CONTAINS((load_error<variant<subtract>, variant<s::lif_neuron<2>>>()), "layer 3: spiking<if_neuron<reset by subtraction, V > Vth, membrane dropout 50%>>");
    CHECK_CONTAINS((load_error<variant<s::lif_neuron<8>>, variant<s::lif_neuron<2>>>()), "spiking<lif_neuron<tau 8, reset to zero, V > Vth, membrane dropout 50%>>");
    CHECK_CONTAINS((load_error<variant<s::if_neuron<>>, variant<s::if_neuron<s::reset::to_zero, s::firing::inclusive>>>()), "this model \"layer 3: spiking<if_neuron<reset to zero, V >= Vth");
    CHECK_CONTAINS((load_error<variant<s::if_neuron<>>, variant<s::if_neuron<>, s::avg_pool<2>>>()), "the checkpoint has \"layer 2: max_pool<2, stride 2> -> 4x4x4");
    CHECK_CONTAINS((load_error<variant<s::if_neuron<>, s::max_pool<2>, s::dropout<10>>,
                           variant<s::if_neuron<>, s::max_pool<2>, s::dropout<20>>>()), "dropout<20/100>");
    // The thresholds' initial values do not change what the weights mean: they are state.
    CHECK((load_error<variant<s::if_neuron<>>,
                      variant<s::if_neuron<s::reset::to_zero, s::firing::strict, s::constant_threshold<1>>>>() == "loaded"));
}

TEST_CASE("a checkpoint written by snn2ann 0.1.0 (format 1) loads, with a warning") {
    s::model<net, s::timesteps<4>> expected{s::seed{1}}, b{s::seed{2}};
    for (std::size_t i = 0; i < expected.state().size(); ++i) expected.state()[i] += 0.25f;
    std::vector<std::string> warnings;
    const auto report = s::io::load_checkpoint(b, std::string(SNN2ANN_SOURCE_DIR) + "/tests/data/format1_checkpoint.npz",
                                               [&](const std::string& w) { warnings.push_back(w); });
    CHECK(report.format_version == 1);
    CHECK(warnings.size() == 1);
    CHECK(std::equal(expected.parameters().begin(), expected.parameters().end(), b.parameters().begin()));
    CHECK(std::equal(expected.state().begin(), expected.state().end(), b.state().begin()));
}

TEST_CASE("a checkpoint of format 1 still loads, with a warning of what could not be checked") {
    temp_file t;
    s::model<net, s::timesteps<4>> a{s::seed{1}}, b{s::seed{2}};
    s::io::save_checkpoint(a, t.path);
    auto entries = s::io::read_zip(t.path);
    for (auto& e : entries) {  // what format 1 wrote: version 1, shapes and counts only
        if (e.name == "format_version.npy") {
            const std::int32_t one = 1;
            e.bytes = s::io::write_npy(&one, 1);
        } else if (e.name == "signature.npy") {
            const std::string sig = s::io::network_signature(a);
            e.bytes = s::io::write_npy(reinterpret_cast<const std::uint8_t*>(sig.data()), sig.size());
        }
    }
    s::io::write_zip(t.path, entries);
    std::vector<std::string> warnings;
    const auto report = s::io::load_checkpoint(b, t.path, [&](const std::string& w) { warnings.push_back(w); });
    CHECK(report.format_version == 1);
    REQUIRE(warnings.size() == 1);
    CHECK(warnings == report.warnings);
    CHECK_CONTAINS(warnings[0], "format 1");
    CHECK_CONTAINS(warnings[0], "the neuron types");
    CHECK(std::equal(a.parameters().begin(), a.parameters().end(), b.parameters().begin()));
    // A format-1 file of another network is still refused.
    s::model<other, s::timesteps<4>> o;
    CHECK_THROWS_WITH_AS(s::io::load_checkpoint(o, t.path), doctest::Contains("saved from another network"),
                         s::io_error);
    // A format-2 file reports no warning.
    s::io::save_checkpoint(a, t.path);
    warnings.clear();
    CHECK(s::io::load_checkpoint(b, t.path, [&](const std::string& w) { warnings.push_back(w); }).format_version == 2);
    CHECK(warnings.empty());
}

TEST_CASE("the zip reader believes no offset or size a header claims") {
    temp_file t;
    const auto refused = [&](const std::string& bytes) {
        write_all(t.path, bytes);
        try {
            s::io::read_zip(t.path, 1 << 20);
        } catch (const s::io_error& e) {
            return std::string(e.what());
        }
        return std::string("read");
    };
    SUBCASE("a local header offset near 2^32 (a 32-bit sum wrapped)") {
        auto m = test::stored("a", "x");
        m.local_offset = 0xfffffff0u;
        CHECK_CONTAINS(refused(test::build_zip({m})), t.path);
    }
    SUBCASE("a deflated member that claims 4 GiB") {
        auto m = test::deflated("big", "tiny");
        m.uncompressed = 0xffffffffu;
        const std::size_t before = peak_rss_kib();
        CHECK_CONTAINS(refused(test::build_zip({m})), t.path);
        CHECK(peak_rss_kib() - before < 256 * 1024);  // the claim was not allocated
    }
    SUBCASE("a member that truly inflates past the cap (a compression bomb)") {
        CHECK_CONTAINS(refused(test::build_zip({test::deflated("zeros", std::string(4 << 20, '\0'))})), "holds more than 1048576 bytes");
    }
    SUBCASE("a stored member larger than the file") {
        auto m = test::stored("a", "0123456789");
        m.uncompressed = 1000;
        std::string bytes = test::build_zip({m});
        CHECK_CONTAINS(refused(bytes), t.path);
    }
    SUBCASE("a central directory that claims more entries than it holds") {
        std::string bytes = test::build_zip({test::stored("a", "x")});
        bytes[bytes.size() - 12] = '\xff', bytes[bytes.size() - 14] = '\xff';  // 65535 entries
        CHECK_CONTAINS(refused(bytes), t.path);
    }
}

TEST_CASE("a flipped byte in the central directory is reported as damage, not as a missing member") {
    temp_file t;
    s::model<net, s::timesteps<4>> a{s::seed{1}}, b{s::seed{2}};
    s::io::save_checkpoint(a, t.path);
    auto bytes = read_all(t.path);
    const auto central = bytes.rfind("layer05.params.npy");  // the last name is the central directory's
    REQUIRE(central != std::string::npos);
    bytes[central + 8] ^= 0x01;  // "layer05.qarams.npy"
    write_all(t.path, bytes);
    try {
        s::io::load_checkpoint(b, t.path);
        FAIL("a damaged archive loaded");
    } catch (const s::io_error& e) {
        const std::string what = e.what();
        CHECK_CONTAINS(what, t.path);
        const bool names_the_damage = what.find("inconsistent") != std::string::npos ||
                                      what.find("layer05.qarams.npy") != std::string::npos;
        CHECK(names_the_damage);
    }
}

namespace {
std::string npy_with_header(const std::string& dictionary, const std::string& payload) {
    std::string h = dictionary;
    while ((10 + h.size() + 1) % 64 != 0) h += ' ';
    h += '\n';
    std::string out = "\x93NUMPY";
    out += '\x01';
    out += '\x00';
    out += static_cast<char>(h.size() & 0xff);
    out += static_cast<char>(h.size() >> 8);
    return out + h + payload;
}
std::string npy_error(const std::string& bytes) {
    try {
        s::io::read_npy<float>(bytes, "f.npz", "m.npy");
    } catch (const s::io_error& e) {
        return e.what();
    }
    return "read";
}
}  // namespace

TEST_CASE(".npy headers are parsed and checked before anything is allocated or copied") {
    const std::string four(16, '\0');
    CHECK(npy_error(npy_with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", four)) == "read");
    CHECK(s::io::read_npy<float>(s::io::write_npy(std::vector<float>{1, 2, 3}.data(), 3), "f").size() == 3);
    CHECK_CONTAINS(npy_error(npy_with_header("{'descr': '<f4', 'fortran_order': False, 'shape': }", four)), "expected '(' to open 'shape'");
    CHECK_CONTAINS(npy_error(npy_with_header("{'descr': '<f4', 'fortran_order': True, 'shape': (4294967296, 4294967297), }",
                                         four)), "the shape's product overflows");
    CHECK_CONTAINS(npy_error(npy_with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (2147483648,), }", four)), "the shape gives 2147483648 elements of 4 bytes, the payload holds 16 bytes");
    CHECK_CONTAINS(npy_error(npy_with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (8,), }", four)), "the payload holds 16 bytes");  // cut to its header plus 16 bytes
    CHECK_CONTAINS(npy_error(npy_with_header("{'descr': '>f4', 'fortran_order': False, 'shape': (4,), }", four)), "its elements are '>f4', expected '<f4'");
    CHECK_CONTAINS(npy_error(npy_with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }", four)), "it has 2 dimensions");
    CHECK_CONTAINS(npy_error(npy_with_header("{'descr': '<f4', 'shape': (4,), }", four)), "lacks 'descr', 'fortran_order' or 'shape'");
    CHECK_CONTAINS(npy_error(npy_with_header("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (4,)}", four)), "appears twice");
    CHECK_CONTAINS(npy_error(std::string("\x93NUMPY\x01\x00\xff\xff{}", 12)), "the header claims 65535 bytes");
    CHECK_CONTAINS(npy_error("PK\x03\x04 not npy"), "member m.npy: not a valid .npy array");
}

TEST_CASE("a checkpoint member with a lying .npy header is refused, naming the file and the member") {
    temp_file t;
    s::model<net, s::timesteps<4>> a{s::seed{1}}, b{s::seed{2}};
    s::io::save_checkpoint(a, t.path);
    const auto good = s::io::read_zip(t.path);
    const std::string payload(4 * 36, '\0');  // the conv's 36 weights
    const std::vector<std::pair<std::string, std::string>> lies{
        {"cut short by 4 bytes", ""},
        {"an empty shape", npy_with_header("{'descr': '<f4', 'fortran_order': False, 'shape': }", payload)},
        {"a product that wraps, Fortran order",
         npy_with_header("{'descr': '<f4', 'fortran_order': True, 'shape': (4294967296, 4294967296, 36), }", payload)},
        {"2^31 elements in a small file",
         npy_with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (2147483648,), }", payload)},
    };
    const std::size_t before = peak_rss_kib();
    for (const auto& [what, bytes] : lies) {
        CAPTURE(what);
        auto entries = good;
        for (auto& e : entries)
            if (e.name == "layer00.params.npy") {
                if (bytes.empty()) e.bytes.resize(e.bytes.size() - 4);
                else e.bytes = bytes;
            }
        s::io::write_zip(t.path, entries);
        CHECK_THROWS_WITH_AS(s::io::load_checkpoint(b, t.path), doctest::Contains("member layer00.params.npy"),
                             s::io_error);
    }
    CHECK(peak_rss_kib() - before < 256 * 1024);  // no claimed size was allocated
    CHECK(std::equal(b.parameters().begin(), b.parameters().end(), s::model<net, s::timesteps<4>>{s::seed{2}}.parameters().begin()));
}
