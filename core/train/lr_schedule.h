// Ultralytics v8's learning-rate schedule and warmup (engine/trainer.py: _setup_scheduler and
// the warmup block of _do_train), as values the training loop writes into the optimizer.
//   lr(epoch)  = initial_lr * lf(epoch)     (LambdaLR, stepped once per epoch)
//   warmup     : for global iteration ni <= nw, np.interp from (ni = 0) to (ni = nw) of
//                accumulate 1 -> nbs / batch, group 0's lr warmupBiasLr -> lr(epoch), the other
//                groups' 0 -> lr(epoch), momentum warmupMomentum -> momentum.
#pragma once

#include <array>

namespace torch::optim {
class Optimizer;
}

namespace syncbn::train {

struct LrScheduleOptions {
  int epochs = 100;
  double lrf = 0.01;  // final lr as a fraction of lr0
  bool cosine = false;
  double warmupEpochs = 3.0;
  double warmupMomentum = 0.8;
  double warmupBiasLr = 0.1;  // OptimizerChoice::warmupBiasLr (0 after optimizer=auto)
  // The momentum warmup ends at. Ultralytics warms to train.momentum even when optimizer=auto
  // built SGD with 0.9, and never resets it after, so pass train.momentum to match it.
  double momentum = 0.937;
  int nbs = 64;
  int globalBatch = 16;
  int iterationsPerEpoch = 1;  // nb: batches per epoch
};

struct OptimizerSettings {
  std::array<double, 3> lr{};  // per parameter group 0..2 (biases, weights, norm weights)
  double momentum = 0.0;
  int accumulate = 1;  // iterations per optimizer step
};

class LrSchedule {
 public:
  // Throws std::invalid_argument naming the field when epochs, nbs, globalBatch or
  // iterationsPerEpoch is < 1.
  explicit LrSchedule(LrScheduleOptions options);

  // lf(epoch): linear (1 - e / epochs) * (1 - lrf) + lrf,
  //            or cosine ((1 - cos(e * pi / epochs)) / 2) * (lrf - 1) + 1.
  double factor(int epoch) const;

  // nw = max(round(warmupEpochs * nb), 100) (round half to even), or -1 when warmupEpochs <= 0.
  long long warmupIterations() const;

  // Settings for global iteration `ni` (0-based, counted across epochs) in `epoch`, given each
  // group's initial lr: warmed up while ni <= nw, else lr = initialLr * factor(epoch),
  // momentum = options.momentum and accumulate = max(round(nbs / batch), 1).
  OptimizerSettings at(long long ni, int epoch, const std::array<double, 3>& initialLr) const;

  const LrScheduleOptions& options() const { return options_; }

 private:
  LrScheduleOptions options_;
};

// Writes settings.lr[g] into parameter group g (0..2) and settings.momentum into SGD's momentum.
// Adam and AdamW keep their betas: Ultralytics warms only groups that have a "momentum" entry,
// which PyTorch's Adam(W) groups do not. `accumulate` is the loop's business, not the
// optimizer's. Throws std::invalid_argument unless the optimizer has exactly 3 groups.
void applySettings(torch::optim::Optimizer& optimizer, const OptimizerSettings& settings);

// Each group's current lr; throws std::invalid_argument unless there are exactly 3 groups.
std::array<double, 3> groupLearningRates(const torch::optim::Optimizer& optimizer);

}  // namespace syncbn::train
