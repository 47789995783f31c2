// snn2ann/train: learning-rate schedules, as factors of the base rate per epoch
// (epochs count from 0).
#pragma once

#include <cmath>
#include <initializer_list>
#include <vector>

namespace snn2ann::inline v0 {

/// The same rate every epoch.
struct constant_lr {
    double operator()(int) const { return 1.0; }  ///< 1 for every epoch
};

/// Multiply by gamma every `every` epochs (torch StepLR).
struct step_lr {
    int every = 30;  ///< epochs between steps
    double gamma = 0.1;  ///< factor per step
    double operator()(int epoch) const { return std::pow(gamma, epoch / every); }  ///< the factor of 0-based `epoch`
};

/// Multiply by gamma at each milestone epoch (torch MultiStepLR), e.g. {100, 150, 175}.
struct multi_step_lr {
    std::vector<int> milestones;  ///< 0-based epochs from which one more factor gamma applies
    double gamma = 0.1;  ///< factor per milestone
    /// Milestones `m`, factor `g`.
    multi_step_lr(std::initializer_list<int> m, double g = 0.1) : milestones(m), gamma(g) {}
    /// The factor of 0-based `epoch`.
    double operator()(int epoch) const {
        double f = 1.0;
        for (int m : milestones)
            if (epoch >= m) f *= gamma;
        return f;
    }
};

/// Cosine annealing from 1 to min_factor over `epochs` epochs (torch CosineAnnealingLR).
struct cosine_lr {
    int epochs = 1;  ///< the length of the annealing
    double min_factor = 0.0;  ///< the factor at its end and after
    /// The factor of 0-based `epoch`.
    double operator()(int epoch) const {
        if (epoch >= epochs) return min_factor;
        return min_factor + (1.0 - min_factor) * 0.5 * (1.0 + std::cos(3.141592653589793 * epoch / epochs));
    }
};

}  // namespace snn2ann::inline v0
