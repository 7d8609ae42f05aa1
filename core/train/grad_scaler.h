// Dynamic loss scaling for mixed-precision training, as torch.cuda.amp.GradScaler (which
// LibTorch's C++ API lacks). Per optimizer step:
//   scale(loss).backward(); [unscale(optimizer); clip ...]; step(optimizer); update();
// A step whose gradients hold an inf or NaN is skipped and the scale shrinks by backoffFactor;
// after growthInterval finite steps in a row it grows by growthFactor. One optimizer per scaler.
// With data parallelism the gradients are averaged before unscale, so every rank sees the same
// inf and skips the same steps.
#pragma once

#include <ATen/core/Tensor.h>

namespace torch::optim {
class Optimizer;
}

namespace syncbn::train {

class GradScaler {
 public:
  explicit GradScaler(bool enabled, double initScale = 65536.0, double growthFactor = 2.0,
                      double backoffFactor = 0.5, int growthInterval = 2000);

  // loss * scale; the loss itself when disabled.
  at::Tensor scale(const at::Tensor& loss) const;

  // Divides every gradient by the scale, once per step (a second call before update() throws
  // std::logic_error). Returns whether all gradients are finite; true when disabled.
  bool unscale(torch::optim::Optimizer& optimizer);

  // Unscales if not done yet, then runs optimizer.step() unless a gradient was inf or NaN.
  // Returns whether it stepped. A second call before update() throws std::logic_error.
  bool step(torch::optim::Optimizer& optimizer);

  // After step(): backoff if the step was skipped, else count it and grow every growthInterval
  // finite steps. Throws std::logic_error if no gradients were checked since the last update().
  void update();

  bool enabled() const { return enabled_; }
  double scaleValue() const { return scale_; }
  int growthTracker() const { return growthTracker_; }  // finite steps since the last change
  void restore(double scale, int growthTracker);        // from a checkpoint

 private:
  enum class Stage { Ready, Unscaled, Stepped };

  bool enabled_;
  double scale_;
  double growthFactor_;
  double backoffFactor_;
  int growthInterval_;
  int growthTracker_ = 0;
  Stage stage_ = Stage::Ready;
  bool foundInf_ = false;
};

}  // namespace syncbn::train
