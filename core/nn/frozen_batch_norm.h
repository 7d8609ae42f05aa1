// FrozenBatchNorm2d: BatchNorm with fixed statistics (and, optionally, fixed affine), the
// batch-independent choice for fine-tuning with 1-2 images per GPU.
#pragma once

#include <torch/nn/cloneable.h>
#include <torch/nn/pimpl.h>

namespace syncbn::nn {

class FrozenBatchNorm2dImpl : public torch::nn::Cloneable<FrozenBatchNorm2dImpl> {
 public:
  // freezeAffine: weight and bias become buffers too; otherwise they stay trainable parameters.
  FrozenBatchNorm2dImpl(int64_t numFeatures, double eps, bool freezeAffine = true);

  void reset() override;
  void pretty_print(std::ostream& stream) const override;

  // x: [N, C, H, W] -> [N, C, H, W]; the same in training and eval.
  torch::Tensor forward(const torch::Tensor& x);

  int64_t numFeatures;
  double eps;
  bool freezeAffine;
  torch::Tensor weight, bias, running_mean, running_var;
};

TORCH_MODULE(FrozenBatchNorm2d);

}  // namespace syncbn::nn
