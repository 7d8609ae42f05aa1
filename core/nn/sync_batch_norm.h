// SyncBatchNorm2d: BatchNorm whose training statistics are computed over the batches of every
// rank in a process group, so W ranks with batch b normalise like one rank with batch W*b.
#pragma once

#include <torch/nn/cloneable.h>
#include <torch/nn/options/batchnorm.h>
#include <torch/nn/pimpl.h>

#include <memory>

namespace syncbn::dist {
class ProcessGroup;
}

namespace syncbn::nn {

// Communication per layer and training step: one all-reduce of 2C+2 doubles in forward
// (per-channel sums of x and x^2 formed from stable local moments, the sample count, and whether
// any rank needs gradients) and one of 2C doubles in backward (sums of dy and dy*(x-mean)).
// weight/bias gradients are this rank's share, as with torch's SyncBatchNorm: data-parallel
// gradient all-reduce adds them up. With no group or a group of one it is plain BatchNorm2d.
class SyncBatchNorm2dImpl : public torch::nn::Cloneable<SyncBatchNorm2dImpl> {
 public:
  explicit SyncBatchNorm2dImpl(const torch::nn::BatchNormOptions& options,
                               std::shared_ptr<dist::ProcessGroup> group = nullptr);
  explicit SyncBatchNorm2dImpl(int64_t numFeatures)
      : SyncBatchNorm2dImpl(torch::nn::BatchNormOptions(numFeatures)) {}

  void reset() override;
  void pretty_print(std::ostream& stream) const override;

  // x: [N, C, H, W] -> [N, C, H, W]; N may be 0 on some ranks.
  torch::Tensor forward(const torch::Tensor& x);

  void setProcessGroup(std::shared_ptr<dist::ProcessGroup> group) { group_ = std::move(group); }
  const std::shared_ptr<dist::ProcessGroup>& processGroup() const { return group_; }

  // The global mean and biased variance ([C], float64) the last forward normalised with when it
  // was synchronized (training, group of more than one rank); undefined after any other forward.
  const torch::Tensor& lastGlobalMean() const { return lastGlobalMean_; }
  const torch::Tensor& lastGlobalVar() const { return lastGlobalVar_; }

  torch::nn::BatchNormOptions options;
  torch::Tensor weight, bias;                                    // undefined unless affine
  torch::Tensor running_mean, running_var, num_batches_tracked;  // undefined unless tracked

 private:
  torch::Tensor forwardSynchronized(const torch::Tensor& x);
  double momentumForThisStep();

  std::shared_ptr<dist::ProcessGroup> group_;
  torch::Tensor lastGlobalMean_, lastGlobalVar_;
};

TORCH_MODULE(SyncBatchNorm2d);

}  // namespace syncbn::nn
