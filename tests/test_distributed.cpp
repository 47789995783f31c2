// Data-parallel training over MPI (<snn2ann/distributed.hpp>), run by ctest as
// mpiexec -n 2 test_distributed: every rank runs every test case. A case that compares
// with one process training alone trains that run in the same process, without the group.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <snn2ann/distributed.hpp>
#include <snn2ann/snn2ann.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "synthetic_data.hpp"

namespace s = snn2ann;

namespace {
s::mpi::communicator* world = nullptr;
s::mpi::communicator* synced = nullptr;  // the same ranks, with synchronised BN

// With BN and membrane dropout (the default IF neuron's), for the replica tests.
using bn_net = s::network<s::input<1, 12, 12>, s::conv<4, 3>, s::batch_norm, s::max_pool<2>, s::spiking<>, s::flatten,
                          s::dropout<10>, s::linear<12>, s::spiking<>, s::linear<3>>;
// Without BN, for the comparison with one process (dropout draws are indexed in the
// global batch, so they are the same as one process's).
using plain_net = s::network<s::input<1, 12, 12>, s::conv<4, 3>, s::max_pool<2>, s::spiking<>, s::flatten,
                             s::dropout<10>, s::linear<12>, s::spiking<>, s::linear<3>>;
// Leaky neurons with thresholds of 1, without BN: ATA lowers the thresholds of the silent
// layers, by the global batch's counts.
using lif_1 = s::lif_neuron<2, s::reset::to_zero, s::firing::strict, s::constant_threshold<1>>;
using leaky_net = s::network<s::input<1, 12, 12>, s::conv<4, 3>, s::max_pool<2>, s::spiking<lif_1>, s::flatten,
                             s::linear<12>, s::spiking<lif_1>, s::linear<3>>;
constexpr int T = 4;

/// Every rank's values, gathered on every rank.
std::vector<float> gather(std::span<const float> v) {
    std::vector<float> all(v.size() * static_cast<std::size_t>(world->size()));
    MPI_Allgather(v.data(), static_cast<int>(v.size()), MPI_FLOAT, all.data(), static_cast<int>(v.size()), MPI_FLOAT,
                  MPI_COMM_WORLD);
    return all;
}
/// Whether every rank holds these bits.
bool same_on_every_rank(std::span<const float> v) {
    const auto all = gather(v);
    for (std::size_t r = 1; r < static_cast<std::size_t>(world->size()); ++r)
        if (std::memcmp(all.data(), all.data() + r * v.size(), v.size_bytes()) != 0) return false;
    return true;
}
double max_difference(std::span<const float> a, std::span<const float> b) {
    double d = 0.0;
    for (std::size_t i = 0; i < a.size(); ++i) d = std::max(d, std::abs(static_cast<double>(a[i]) - b[i]));
    return d;
}
double max_magnitude(std::span<const float> a) {
    double m = 0.0;
    for (float v : a) m = std::max(m, std::abs(static_cast<double>(v)));
    return m;
}

template <class Net, class Rule, class Optimizer>
s::model<Net, s::timesteps<T>> train(Rule rule, Optimizer opt, s::detail::process_group* group, std::size_t samples,
                                     std::size_t batch, int epochs = 1) {
    s::model<Net, s::timesteps<T>> m{s::seed{7}};
    s::trainer t{m, rule, opt};
    t.quiet();
    if (group) t.distribute(*group);
    t.fit(test::bars(samples, 11), s::epochs{epochs}, s::batch{batch});
    return m;
}
}  // namespace

TEST_CASE("replicas are bit-identical after 20 steps, for every rule") {
    const auto check = [](auto m) {
        CHECK(same_on_every_rank(m.parameters()));
        CHECK(same_on_every_rank(m.state()));
    };
    check(train<bn_net>(s::rules::snn2ann{}, s::adam{1e-2}, world, 20 * 16, 16));
    check(train<bn_net>(s::rules::bptt{}, s::adam{1e-2}, world, 20 * 16, 16));
    check(train<bn_net>(s::rules::ann{}, s::sgd{0.05, 0.9}, world, 20 * 16, 16));
    check(train<bn_net>(s::rules::snn2ann{}, s::adam{1e-2}, synced, 20 * 16, 16));
}

TEST_CASE("a fixed number of ranks gives the same bits in every run") {
    const auto a = train<bn_net>(s::rules::snn2ann{}, s::adam{1e-2}, world, 20 * 16, 16);
    const auto b = train<bn_net>(s::rules::snn2ann{}, s::adam{1e-2}, world, 20 * 16, 16);
    CHECK(std::memcmp(a.parameters().data(), b.parameters().data(), a.parameters().size_bytes()) == 0);
    CHECK(std::memcmp(a.state().data(), b.state().data(), a.state().size_bytes()) == 0);
}

TEST_CASE("2 ranks with half the batch each train as 1 process with the whole batch") {
    SUBCASE("no BN, every rule") {
        const auto compare = [](auto rule, auto opt) {
            const auto alone = train<plain_net>(rule, opt, nullptr, 20 * 16, 16);
            const auto together = train<plain_net>(rule, opt, world, 20 * 16, 16);
            const double scale = max_magnitude(alone.parameters());
            INFO("largest parameter " << scale << ", largest difference "
                                      << max_difference(alone.parameters(), together.parameters()));
            CHECK(max_difference(alone.parameters(), together.parameters()) <= 1e-4 * scale);
            // ATA's thresholds: raised by the global batch's noisy counts, as one process's.
            CHECK(max_difference(alone.state(), together.state()) <= 1e-5);
        };
        compare(s::rules::snn2ann{}, s::adam{1e-2});
        compare(s::rules::bptt{}, s::sgd{0.05, 0.9});
        compare(s::rules::ann{}, s::sgd{0.05, 0.9});
    }
    SUBCASE("leaky neurons: ATA lowers thresholds by the global batch's silent neurons") {
        const auto alone = train<leaky_net>(s::rules::snn2ann{}, s::adam{1e-2}, nullptr, 20 * 16, 16);
        const auto together = train<leaky_net>(s::rules::snn2ann{}, s::adam{1e-2}, world, 20 * 16, 16);
        const auto lowest = *std::min_element(alone.state().begin(), alone.state().end());
        CHECK(lowest < 0.95f);  // lowered several times
        CHECK(max_difference(alone.state(), together.state()) <= 1e-5);
    }
    SUBCASE("synchronised BN") {
        const auto compare = [](auto rule) {
            const auto alone = train<bn_net>(rule, s::sgd{0.05, 0.9}, nullptr, 20 * 16, 16);
            const auto together = train<bn_net>(rule, s::sgd{0.05, 0.9}, synced, 20 * 16, 16);
            const double scale = max_magnitude(alone.parameters());
            INFO("largest difference " << max_difference(alone.parameters(), together.parameters()));
            CHECK(max_difference(alone.parameters(), together.parameters()) <= 1e-4 * scale);
            // Running statistics of the global batch, the same as one process's.
            CHECK(max_difference(alone.state(), together.state()) <= 1e-4 * max_magnitude(alone.state()));
        };
        compare(s::rules::snn2ann{});
        compare(s::rules::bptt{});
        compare(s::rules::ann{});
    }
    SUBCASE("without synchronisation BN normalises each rank's part: the run differs") {
        const auto alone = train<bn_net>(s::rules::ann{}, s::sgd{0.05, 0.9}, nullptr, 20 * 16, 16);
        const auto together = train<bn_net>(s::rules::ann{}, s::sgd{0.05, 0.9}, world, 20 * 16, 16);
        CHECK(max_difference(alone.parameters(), together.parameters()) > 1e-3);
    }
}

TEST_CASE("ATA's thresholds are the same on every rank") {
    const auto m = train<bn_net>(s::rules::snn2ann{}, s::adam{1e-2}, world, 20 * 16, 16);
    // The thresholds moved (ATA raised some) and are the same bits everywhere.
    const auto fresh = s::model<bn_net, s::timesteps<T>>{s::seed{7}};
    CHECK(max_difference(m.state(), fresh.state()) > 0.0);
    CHECK(same_on_every_rank(m.state()));
}

TEST_CASE("an uneven data set: parts of unequal size, and a last batch smaller than the ranks") {
    // 7 samples a batch over 2 ranks (4 + 3), a last batch of 3 (2 + 1): weighted by each
    // rank's share, the average is the global batch's mean.
    const auto alone = train<plain_net>(s::rules::snn2ann{}, s::adam{1e-2}, nullptr, 7 * 5 + 3, 7, 2);
    const auto together = train<plain_net>(s::rules::snn2ann{}, s::adam{1e-2}, world, 7 * 5 + 3, 7, 2);
    CHECK(max_difference(alone.parameters(), together.parameters()) <= 1e-4 * max_magnitude(alone.parameters()));
    // A last batch of one sample over two ranks is left out of the epoch.
    s::model<plain_net, s::timesteps<T>> m{s::seed{7}};
    s::trainer t{m, s::rules::snn2ann{}, s::adam{1e-2}};
    t.quiet().distribute(*world);
    t.fit(test::bars(7 * 3 + 1, 11), s::epochs{2}, s::batch{7});
    CHECK(t.steps_done() == 6);
    // The epoch's accuracy counts every rank's hits over the global batches (4 + 3 samples):
    // one process training on the same 21 samples in the same batches gets it within one
    // sample (an accuracy of this rank's hits alone, or counted twice, fails).
    s::model<plain_net, s::timesteps<T>> two{s::seed{7}}, one{s::seed{7}};
    s::trainer a{two, s::rules::snn2ann{}, s::adam{1e-2}};
    s::trainer u{one, s::rules::snn2ann{}, s::adam{1e-2}};
    a.quiet().distribute(*world);
    const double two_ranks = a.fit(test::bars(21, 11), s::epochs{2}, s::batch{7}).back().train_accuracy;
    const double one_rank = u.quiet().fit(test::bars(21, 11), s::epochs{2}, s::batch{7}).back().train_accuracy;
    CHECK(two_ranks > 0.0);
    CHECK(std::abs(two_ranks - one_rank) <= 1.0 / 21 + 1e-12);
    CHECK_THROWS_WITH_AS(t.fit(test::bars(22, 11), s::epochs{3}, s::batch{1}),
                         doctest::Contains("a batch of 1 over 2 ranks"), s::invalid_argument);
}

TEST_CASE("another seed on one rank is reported on every rank, naming it") {
    s::model<bn_net, s::timesteps<T>> m{s::seed{world->rank() == 1 ? 8ULL : 7ULL}};
    s::trainer t{m, s::rules::snn2ann{}, s::adam{1e-2}};
    CHECK_THROWS_WITH_AS(t.distribute(*world), doctest::Contains("rank 1 differs from rank 0 in the weights or state"),
                         s::invalid_argument);
    s::trainer other_rule{m, world->rank() == 1 ? s::rules::snn2ann{s::mapping_unit::stsu} : s::rules::snn2ann{},
                          s::adam{1e-2}};
    CHECK_THROWS_WITH_AS(other_rule.distribute(*world), doctest::Contains("rank 1 differs from rank 0 in the rule"),
                         s::invalid_argument);
}

TEST_CASE("metrics are sharded and summed: evaluation equals one process's") {
    auto m = train<bn_net>(s::rules::snn2ann{}, s::adam{1e-2}, world, 10 * 16, 16);
    const auto held_out = test::bars(61, 12);
    const auto one = s::evaluate(m, held_out, 16, s::rules::snn2ann{});
    const auto all = s::mpi::evaluate(*world, m, held_out, 16, s::rules::snn2ann{});
    CHECK(all.correct == one.correct);
    CHECK(all.total == 61);
    CHECK(all.loss == doctest::Approx(one.loss).epsilon(1e-6));
    const auto spikes = s::measure_spikes(m, held_out, 16, s::rules::snn2ann{});
    const auto shared = s::mpi::measure_spikes(*world, m, held_out, 16, s::rules::snn2ann{});
    CHECK(shared.spikes_per_image == doctest::Approx(spikes.spikes_per_image).epsilon(1e-9));
    CHECK(shared.sops_per_image == doctest::Approx(spikes.sops_per_image).epsilon(1e-9));
    CHECK(shared.layers[1].firing_rate == doctest::Approx(spikes.layers[1].firing_rate).epsilon(1e-9));
}

TEST_CASE("the validation figures and the epoch's figures are the global batch's") {
    s::model<bn_net, s::timesteps<T>> m{s::seed{7}};
    s::trainer t{m, s::rules::snn2ann{}, s::adam{1e-2}};
    const auto held_out = test::bars(45, 12);
    t.quiet().validate_on(held_out).distribute(*world);
    const auto history = t.fit(test::bars(96, 11), s::epochs{1}, s::batch{16});
    const auto check = s::evaluate(m, held_out, 256, s::rules::snn2ann{});
    CHECK(history[0].test_accuracy == doctest::Approx(check.accuracy));
    const double figures[] = {history[0].loss, history[0].train_accuracy, history[0].snn_train_accuracy};
    std::vector<double> all(3 * static_cast<std::size_t>(world->size()));
    MPI_Allgather(figures, 3, MPI_DOUBLE, all.data(), 3, MPI_DOUBLE, MPI_COMM_WORLD);
    for (std::size_t k = 0; k < 3; ++k) CHECK(all[k] == all[3 + k]);
}

TEST_CASE("a training state saved by rank 0 resumes bit-identically on the same ranks, and on one") {
    const std::string path = "distributed_state.npz";
    const auto data = test::bars(8 * 16, 11);
    s::model<bn_net, s::timesteps<T>> whole{s::seed{7}};
    {
        s::trainer t{whole, s::rules::snn2ann{}, s::adam{1e-2}};
        t.quiet().distribute(*world);
        t.fit(data, s::epochs{2}, s::batch{16}, s::callbacks::checkpoint_every::steps(5, path));
    }
    MPI_Barrier(MPI_COMM_WORLD);  // rank 0 has written the state of step 10
    s::model<bn_net, s::timesteps<T>> resumed{s::seed{7}};
    s::trainer t{resumed, s::rules::snn2ann{}, s::adam{1e-2}};
    t.quiet().resume(path);
    t.distribute(*world);
    CHECK(t.steps_done() == 15);
    t.fit(data, s::epochs{2}, s::batch{16});
    CHECK(std::memcmp(whole.parameters().data(), resumed.parameters().data(), whole.parameters().size_bytes()) == 0);
    // One process goes on from the same state (another world size: the same run within
    // rounding, its batch is global).
    s::model<bn_net, s::timesteps<T>> alone{s::seed{7}};
    s::trainer a{alone, s::rules::snn2ann{}, s::adam{1e-2}};
    a.quiet().resume(path);
    a.fit(data, s::epochs{2}, s::batch{16});
    CHECK(a.steps_done() == 16);
    MPI_Barrier(MPI_COMM_WORLD);
    if (world->rank() == 0) std::remove(path.c_str());
}

TEST_CASE("bucketing: any bucket size gives the same average") {
    s::mpi::options small;
    small.bucket_bytes = 64;  // many buckets, chunks padded
    s::mpi::communicator tiny(MPI_COMM_WORLD, small);
    s::mpi::options none;
    none.overlap = false;
    s::mpi::communicator after(MPI_COMM_WORLD, none);
    const auto a = train<bn_net>(s::rules::snn2ann{}, s::adam{1e-2}, &tiny, 5 * 16, 16);
    const auto b = train<bn_net>(s::rules::snn2ann{}, s::adam{1e-2}, &after, 5 * 16, 16);
    const auto c = train<bn_net>(s::rules::snn2ann{}, s::adam{1e-2}, world, 5 * 16, 16);
    CHECK(std::memcmp(a.parameters().data(), c.parameters().data(), a.parameters().size_bytes()) == 0);
    CHECK(std::memcmp(b.parameters().data(), c.parameters().data(), b.parameters().size_bytes()) == 0);
    CHECK(tiny.timing().steps == 5);
}

TEST_CASE("a long sum goes in chunks, with the bits of the whole gathered on every rank") {
    // Long enough for the chunked path (10,001 values over 2 ranks: chunks padded).
    std::vector<double> v(10001), expected(v.size());
    for (std::size_t i = 0; i < v.size(); ++i) {
        for (int r = 0; r < world->size(); ++r)  // each rank's values, added in rank order
            expected[i] += 0.1 * static_cast<double>(i) * (r + 1) + 1e-3 / (r + 1);
        v[i] = 0.1 * static_cast<double>(i) * (world->rank() + 1) + 1e-3 / (world->rank() + 1);
    }
    world->sum(v.data(), v.size());
    CHECK(std::memcmp(v.data(), expected.data(), v.size() * sizeof(double)) == 0);
    std::vector<double> short_one{1.0 / (world->rank() + 3)};
    world->sum(short_one.data(), 1);
    double sum = 0.0;
    for (int r = 0; r < world->size(); ++r) sum += 1.0 / (r + 3);
    CHECK(short_one[0] == sum);
}

int main(int argc, char** argv) {
    s::mpi::environment env(argc, argv);
    s::mpi::communicator w;
    s::mpi::options o;
    o.synchronised_batch_norm = true;
    s::mpi::communicator sync(MPI_COMM_WORLD, o);
    world = &w, synced = &sync;
    if (w.size() < 2) {
        std::printf("test_distributed: run it on 2 ranks or more (mpiexec -n 2)\n");
        return 1;
    }
    doctest::Context context(argc, argv);
    int failed = context.run();
    // One verdict for the job: a rank whose checks failed fails it on every rank.
    MPI_Allreduce(MPI_IN_PLACE, &failed, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    return failed;
}
