// snn2ann/ops/cuda: which GPU a process uses. A process of a data-parallel job takes the
// GPU of its rank on its node (mpi::environment publishes that rank, found with
// MPI_COMM_TYPE_SHARED), so the ranks of one node spread over its GPUs; the environment
// variable SNN2ANN_CUDA_DEVICE overrides the choice. Pure functions: tested without a GPU.
#pragma once

#include <cstdlib>
#include <string>

#include "../../core/error.hpp"
#include "../../core/process_group.hpp"

namespace snn2ann::inline v0::detail {
namespace cuda_ops {

/// The device of this process among `count` (> 0): `override_text` (SNN2ANN_CUDA_DEVICE)
/// if given, else the node-local rank modulo count, else 0.
inline int choose_device(int count, const char* override_text, int local_rank) {
    if (override_text && *override_text) {
        char* end = nullptr;
        const long d = std::strtol(override_text, &end, 10);
        if (*end != '\0' || d < 0 || d >= count)
            throw invalid_argument(std::string("SNN2ANN_CUDA_DEVICE=") + override_text + ": not a device of this machine (" +
                                   std::to_string(count) + " CUDA device" + (count == 1 ? "" : "s") + ", 0 to " +
                                   std::to_string(count - 1) + ")");
        return static_cast<int>(d);
    }
    return local_rank >= 0 ? local_rank % count : 0;
}

/// The choice for this process, from its environment.
inline int device_for_this_process(int count) {
    return choose_device(count, std::getenv("SNN2ANN_CUDA_DEVICE"), node_local_rank().load());
}

}  // namespace cuda_ops
}  // namespace snn2ann::inline v0::detail
