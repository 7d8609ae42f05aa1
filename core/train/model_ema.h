// An exponential moving average of a model's weights, as Ultralytics' ModelEMA: validation and
// the saved "best" weights use it, as it is smoother than the raw weights late in training.
//   d(u)  = decay * (1 - exp(-u / tau))   (u = updates so far, counting this one)
//   ema   = d * ema + (1 - d) * model     for every floating-point parameter and buffer
// Integer buffers and num_batches_tracked (whatever its dtype) are copied. The ramp keeps early
// averages from remembering the random initialisation: d(1) is about 5e-4.
#pragma once

#include <cstdint>
#include <memory>

#include "model/detection_model.h"

namespace syncbn::train {

struct EmaOptions {
  double decay = 0.9999;
  double tau = 2000.0;
};

class ModelEma {
 public:
  // `copy` must be a model built from the same definition as `model` (LibTorch modules cannot
  // be deep-copied generically); it takes `model`'s parameters and buffers, moves to the device
  // of `model`'s first parameter, switches to eval mode and stops requiring gradients.
  // `updates` > 0 resumes a checkpointed average. Throws std::invalid_argument when the two
  // models' parameter or buffer names or shapes differ.
  ModelEma(const torch::nn::Module& model, std::shared_ptr<torch::nn::Module> copy,
           const EmaOptions& options = {}, std::int64_t updates = 0);

  // After each optimizer step: one more update with d(updates + 1).
  void update(const torch::nn::Module& model);

  double decayAt(std::int64_t updates) const;
  std::int64_t updates() const { return updates_; }
  void setUpdates(std::int64_t updates) { updates_ = updates; }  // checkpoint restore

  torch::nn::Module& module() { return *copy_; }
  const std::shared_ptr<torch::nn::Module>& modulePtr() const { return copy_; }

 private:
  std::shared_ptr<torch::nn::Module> copy_;
  EmaOptions options_;
  std::int64_t updates_;
};

// The detector's EMA: a copy built from model->definition() with the same norm kind in every
// slot, and no process group: the EMA only evaluates, which never communicates.
ModelEma makeModelEma(const model::DetectionModel& model, const EmaOptions& options = {},
                      std::int64_t updates = 0);

}  // namespace syncbn::train
