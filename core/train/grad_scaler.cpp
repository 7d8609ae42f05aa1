#include "train/grad_scaler.h"

#include <torch/torch.h>

#include <stdexcept>
#include <string>

namespace syncbn::train {

GradScaler::GradScaler(bool enabled, double initScale, double growthFactor, double backoffFactor,
                       int growthInterval)
    : enabled_(enabled),
      scale_(initScale),
      growthFactor_(growthFactor),
      backoffFactor_(backoffFactor),
      growthInterval_(growthInterval) {
  if (!(initScale > 0)) throw std::invalid_argument("GradScaler: initScale must be > 0");
  if (!(growthFactor > 1)) throw std::invalid_argument("GradScaler: growthFactor must be > 1");
  if (!(backoffFactor > 0 && backoffFactor < 1))
    throw std::invalid_argument("GradScaler: backoffFactor must be in (0, 1)");
  if (growthInterval < 1) throw std::invalid_argument("GradScaler: growthInterval must be >= 1");
}

at::Tensor GradScaler::scale(const at::Tensor& loss) const {
  return enabled_ ? loss * scale_ : loss;
}

bool GradScaler::unscale(torch::optim::Optimizer& optimizer) {
  if (!enabled_) return true;
  if (stage_ != Stage::Ready)
    throw std::logic_error("GradScaler::unscale: already unscaled since the last update()");
  torch::NoGradGuard noGrad;
  // One flag per step, reduced on the gradients' device so that only the final read syncs.
  at::Tensor nonFinite;
  for (auto& group : optimizer.param_groups())
    for (auto& parameter : group.params()) {
      at::Tensor grad = parameter.grad();
      if (!grad.defined()) continue;
      grad.div_(scale_);
      const at::Tensor bad = torch::isfinite(grad).logical_not().any();
      nonFinite = nonFinite.defined() ? nonFinite.logical_or(bad.to(nonFinite.device())) : bad;
    }
  foundInf_ = nonFinite.defined() && nonFinite.item<bool>();
  stage_ = Stage::Unscaled;
  return !foundInf_;
}

bool GradScaler::step(torch::optim::Optimizer& optimizer) {
  if (!enabled_) {
    optimizer.step();
    return true;
  }
  if (stage_ == Stage::Stepped)
    throw std::logic_error("GradScaler::step: already stepped since the last update()");
  if (stage_ == Stage::Ready) unscale(optimizer);
  stage_ = Stage::Stepped;
  if (foundInf_) return false;
  optimizer.step();
  return true;
}

void GradScaler::update() {
  if (!enabled_) return;
  if (stage_ == Stage::Ready)
    throw std::logic_error("GradScaler::update: no gradients were checked since the last update()");
  if (foundInf_) {
    scale_ *= backoffFactor_;
    growthTracker_ = 0;
  } else if (++growthTracker_ == growthInterval_) {
    scale_ *= growthFactor_;
    growthTracker_ = 0;
  }
  stage_ = Stage::Ready;
  foundInf_ = false;
}

void GradScaler::restore(double scale, int growthTracker) {
  if (!(scale > 0) || growthTracker < 0)
    throw std::invalid_argument("GradScaler::restore: scale " + std::to_string(scale) +
                                " must be > 0 and growth tracker " + std::to_string(growthTracker) +
                                " >= 0");
  scale_ = scale;
  growthTracker_ = growthTracker;
  stage_ = Stage::Ready;
  foundInf_ = false;
}

}  // namespace syncbn::train
