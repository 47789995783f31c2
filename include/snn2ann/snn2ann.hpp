// snn2ann: train spiking neural networks fast and in little memory.
//
// The one header users include. Networks are compile-time type lists:
//   using net = snn2ann::network<snn2ann::input<1, 28, 28>, snn2ann::conv<32, 3>, ...>;
//   snn2ann::model<net> model{snn2ann::seed{1}};
// Internals live in snn2ann::detail and may change without notice.
#pragma once

#include "version.hpp"

#include "core/backend.hpp"
#include "core/cpu_matmul.hpp"
#include "core/buffer.hpp"
#include "core/denormals.hpp"
#include "core/error.hpp"
#include "core/exact_text.hpp"
#include "core/parallel.hpp"
#include "core/rng.hpp"
#include "core/scratch_slots.hpp"
#include "core/shape.hpp"
#include "core/type_list.hpp"

#include "layer/batch_norm.hpp"
#include "layer/conv.hpp"
#include "layer/elementwise.hpp"
#include "layer/linear.hpp"
#include "layer/pool.hpp"
#include "layer/residual.hpp"
#include "layer/spiking.hpp"

#include "neuron/neuron.hpp"
#include "neuron/surrogate.hpp"

#include "net/model.hpp"
#include "net/network.hpp"
#include "net/timesteps.hpp"

#include "rules/rule.hpp"
#include "rules/ann.hpp"
#include "rules/bptt.hpp"
#include "rules/snn2ann.hpp"

#include "train/callbacks.hpp"
#include "train/finite_guard.hpp"
#include "train/loss.hpp"
#include "train/optimizer.hpp"
#include "train/schedule.hpp"
#include "train/step_profile.hpp"
#include "train/trainer.hpp"
#include "train/training_state.hpp"

#include "metrics/accuracy.hpp"
#include "metrics/spikes.hpp"

#include "convert/ann_to_snn.hpp"

#include "data/dataset.hpp"
#include "data/idx.hpp"
#include "data/mnist.hpp"

#include "io/checkpoint.hpp"
#include "io/npy.hpp"
#include "io/zip.hpp"
