#include "train/lr_schedule.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <stdexcept>
#include <string>

namespace syncbn::train {
namespace {

// np.interp(x, [0, x1], [y0, y1]) for x1 > 0, with numpy's arithmetic: y0 at and before 0, y1
// at and after x1, else slope * x + y0.
double interp(long long x, long long x1, double y0, double y1) {
  if (x <= 0) return y0;
  if (x >= x1) return y1;
  const double slope = (y1 - y0) / static_cast<double>(x1);
  return slope * static_cast<double>(x) + y0;
}

void requirePositive(int value, const char* field) {
  if (value < 1)
    throw std::invalid_argument(std::string("LrScheduleOptions.") + field + " must be >= 1, got " +
                                std::to_string(value));
}

void requireThreeGroups(const torch::optim::Optimizer& optimizer) {
  if (optimizer.param_groups().size() != 3)
    throw std::invalid_argument("expected an optimizer with 3 parameter groups, got " +
                                std::to_string(optimizer.param_groups().size()));
}

}  // namespace

LrSchedule::LrSchedule(LrScheduleOptions options) : options_(options) {
  requirePositive(options_.epochs, "epochs");
  requirePositive(options_.nbs, "nbs");
  requirePositive(options_.globalBatch, "globalBatch");
  requirePositive(options_.iterationsPerEpoch, "iterationsPerEpoch");
}

double LrSchedule::factor(int epoch) const {
  const double x = epoch, epochs = options_.epochs, lrf = options_.lrf;
  if (options_.cosine)  // Ultralytics' one_cycle(1, lrf, epochs)
    return std::max((1 - std::cos(x * std::numbers::pi / epochs)) / 2, 0.0) * (lrf - 1) + 1;
  return std::max(1 - x / epochs, 0.0) * (1.0 - lrf) + lrf;
}

long long LrSchedule::warmupIterations() const {
  if (options_.warmupEpochs <= 0) return -1;
  const double iterations = std::nearbyint(options_.warmupEpochs * options_.iterationsPerEpoch);
  return std::max(static_cast<long long>(iterations), 100LL);
}

OptimizerSettings LrSchedule::at(long long ni, int epoch,
                                 const std::array<double, 3>& initialLr) const {
  const double lf = factor(epoch);
  const double stepsPerNominalBatch = static_cast<double>(options_.nbs) / options_.globalBatch;
  OptimizerSettings settings;
  if (const long long nw = warmupIterations(); ni <= nw) {
    settings.accumulate =
        std::max(1, static_cast<int>(std::nearbyint(interp(ni, nw, 1.0, stepsPerNominalBatch))));
    for (std::size_t g = 0; g < 3; ++g)
      settings.lr[g] = interp(ni, nw, g == 0 ? options_.warmupBiasLr : 0.0, initialLr[g] * lf);
    settings.momentum = interp(ni, nw, options_.warmupMomentum, options_.momentum);
  } else {
    settings.accumulate = std::max(static_cast<int>(std::nearbyint(stepsPerNominalBatch)), 1);
    for (std::size_t g = 0; g < 3; ++g)
      settings.lr[g] = initialLr[g] * lf;
    settings.momentum = options_.momentum;
  }
  return settings;
}

void applySettings(torch::optim::Optimizer& optimizer, const OptimizerSettings& settings) {
  requireThreeGroups(optimizer);
  for (std::size_t g = 0; g < 3; ++g) {
    auto& options = optimizer.param_groups()[g].options();
    options.set_lr(settings.lr[g]);
    if (auto* sgd = dynamic_cast<torch::optim::SGDOptions*>(&options))
      sgd->momentum(settings.momentum);
  }
}

std::array<double, 3> groupLearningRates(const torch::optim::Optimizer& optimizer) {
  requireThreeGroups(optimizer);
  std::array<double, 3> lr{};
  for (std::size_t g = 0; g < 3; ++g)
    lr[g] = optimizer.param_groups()[g].options().get_lr();
  return lr;
}

}  // namespace syncbn::train
