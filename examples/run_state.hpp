// The examples' flags for long runs: --checkpoint FILE saves the training state there
// (every --checkpoint-every N steps, and after every epoch), --resume FILE continues a run
// saved by --checkpoint. An interrupted run resumed with the same command line and
// --resume ends as the uninterrupted run would, bit for bit.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <snn2ann/snn2ann.hpp>

#include "command_line.hpp"

namespace snn2ann_examples {

struct run_state_flags {
    std::string checkpoint, resume;
    std::uint64_t every = 0;

    /// Adds --checkpoint, --checkpoint-every (which needs --checkpoint) and --resume.
    void add_to(CLI::App& app) {
        CLI::Option* file = app.add_option("--checkpoint", checkpoint,
                                           "save the training state in FILE after every epoch (and every "
                                           "--checkpoint-every N steps)")->type_name("FILE");
        app.add_option("--checkpoint-every", every, "also save the state every N steps")->needs(file);
        app.add_option("--resume", resume, "continue the run saved in FILE by --checkpoint")->type_name("FILE");
    }

    /// trainer.fit with these flags: resumes first, saves as asked.
    template <class Trainer>
    std::vector<snn2ann::epoch_report> fit(Trainer& t, const snn2ann::data::dataset& train, int epochs,
                                           std::size_t batch) const {
        namespace s = snn2ann;
        if (!resume.empty()) {
            t.resume(resume);
            std::printf("resumed from %s after %d epochs and %llu steps\n", resume.c_str(), t.epochs_done(),
                        static_cast<unsigned long long>(t.steps_done()));
        }
        if (checkpoint.empty()) return t.fit(train, s::epochs{epochs}, s::batch{batch});
        if (every)
            return t.fit(train, s::epochs{epochs}, s::batch{batch}, s::callbacks::checkpoint_every::steps(every, checkpoint),
                         s::callbacks::checkpoint_every::epochs(1, checkpoint));
        return t.fit(train, s::epochs{epochs}, s::batch{batch}, s::callbacks::checkpoint_every::epochs(1, checkpoint));
    }
};

}  // namespace snn2ann_examples
