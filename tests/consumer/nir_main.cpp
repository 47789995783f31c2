// A program of a user of snn2ann::hdf5: the headers and the target are enough to build it;
// it writes a network's SNN branch to NIR (at the path it is given), reads it back and runs
// the inference engine.
#include <cstdio>
#include <string>

#include <snn2ann/deploy/inference.hpp>
#include <snn2ann/io/nir.hpp>
#include <snn2ann/snn2ann.hpp>

namespace s = snn2ann;
using net = s::network<s::input<1, 6, 6>, s::conv<2, 3>, s::avg_pool<2>, s::spiking<s::if_neuron<>>, s::flatten,
                       s::linear<3>>;

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s FILE.nir\n", argv[0]);
        return 2;
    }
    const std::string path = argv[1];
    s::model<net, s::timesteps<2>> m{s::seed{1}};
    s::io::save_nir(m, path);
    s::inference<net, s::timesteps<2>> engine{s::io::read_nir(path)};
    const float x[36] = {};
    std::printf("NIR round trip: class %d\n", engine.classify(x));
    return 0;
}
