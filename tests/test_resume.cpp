// A run interrupted by SIGKILL in the middle of an epoch and resumed in a new process
// ends with the same parameters, state and reported losses, bit for bit, as the same run
// uninterrupted: for each rule, with SGD (momentum) and Adam, and a schedule. Each run is
// a process of its own (resume_worker).
#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace fs = std::filesystem;

namespace {
int run_worker(const std::string& args) {
    return std::system((std::string(SNN2ANN_RESUME_WORKER) + " " + args + " 2>/dev/null").c_str());
}
std::string read_all(const fs::path& p) {
    std::ifstream f(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}
}  // namespace

TEST_CASE("interrupted by SIGKILL mid-epoch and resumed in a new process: the same run, bit for bit") {
    const fs::path dir = fs::temp_directory_path() / ("snn2ann_resume_" + std::to_string(::getpid()));
    fs::create_directories(dir);
    for (const char* rule : {"snn2ann", "bptt", "ann"})
        for (const char* optimizer : {"sgd", "adam"}) {
            CAPTURE(rule);
            CAPTURE(optimizer);
            const std::string base = std::string(rule) + " " + optimizer + " ";
            const fs::path state = dir / "state.npz", whole = dir / "whole.bin", resumed = dir / "resumed.bin";
            fs::remove(state);
            REQUIRE(run_worker(base + "whole none " + whole.string()) == 0);
            const int killed = run_worker(base + "killed " + state.string() + " none");
            CHECK(WIFSIGNALED(killed) ? WTERMSIG(killed) == SIGKILL : WEXITSTATUS(killed) == 128 + SIGKILL);
            REQUIRE(fs::exists(state));
            REQUIRE(run_worker(base + "resume " + state.string() + " " + resumed.string()) == 0);
            const std::string a = read_all(whole), b = read_all(resumed);
            CHECK(a.size() > 1000);
            CHECK(a == b);
        }
    fs::remove_all(dir);
}
