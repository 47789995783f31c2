// A program of a user of snn2ann::mpi: the header and the target are enough to build it.
#include <cstdio>

#include <snn2ann/distributed.hpp>

int main(int argc, char** argv) {
    return snn2ann::mpi::run(argc, argv, [](snn2ann::mpi::communicator& world) {
        std::printf("rank %d of %d\n", world.rank(), world.size());
    });
}
