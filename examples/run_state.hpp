// The examples' flags for long runs: --checkpoint FILE saves the training state there
// (every --checkpoint-every N steps, and after every epoch), --resume FILE continues a run
// saved by --checkpoint. An interrupted run resumed with the same command line and
// --resume ends as the uninterrupted run would, bit for bit.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include <snn2ann/snn2ann.hpp>

#include "command_line.hpp"

namespace snn2ann_examples {

struct run_state_flags {
    std::string checkpoint, resume;
    std::uint64_t every = 0;

    static constexpr const char* usage =
        "  --checkpoint FILE: save the training state in FILE after every epoch (and every\n"
        "    --checkpoint-every N steps); --resume FILE: continue the run saved in FILE\n";

    /// Takes the current flag if it is one of these.
    bool take(arguments& args) {
        if (args.is("--checkpoint")) checkpoint = args.text();
        else if (args.is("--checkpoint-every")) every = args.value<std::uint64_t>();
        else if (args.is("--resume")) resume = args.text();
        else return false;
        return true;
    }
    void check() const {
        if (every && checkpoint.empty()) throw std::invalid_argument("--checkpoint-every needs --checkpoint FILE");
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
