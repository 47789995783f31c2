// snn2ann/core: the error sentences that more than one part of the library throws (the
// CPU and the CUDA model, the CPU and the CUDA layers), written once so that a user sees
// the same words for the same mistake on either backend.
#pragma once

#include <string>

namespace snn2ann::inline v0::detail::messages {

/// A pass of a model was called with no samples: "model::PASS: the batch is empty".
inline std::string empty_batch(const char* pass) { return std::string("model::") + pass + ": the batch is empty"; }

/// A feature the CUDA backend does not have: "cuda backend: WHAT runs on the cpu backend
/// only" (docs/design.md lists them).
inline std::string cpu_only(const char* what) {
    return std::string("cuda backend: ") + what + " runs on the cpu backend only";
}

/// A spiking layer's SNN pass ran in chunks of different whole batches.
inline constexpr const char* snn_chunks_of_different_batches = "spiking layer: SNN chunks of different batches";
/// BPTT's backward came without the training forward it differentiates.
inline constexpr const char* bptt_backward_without_forward =
    "spiking layer: BPTT backward needs a training forward of the same batch first";
/// The ANN branch ran without the SNN pass whose counts it maps.
inline constexpr const char* ann_branch_without_counts =
    "spiking layer: the ANN branch needs the spike counts of an SNN2ANN SNN pass over the same batch first "
    "(use rules::snn2ann)";

}  // namespace snn2ann::inline v0::detail::messages
