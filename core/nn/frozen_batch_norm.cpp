#include "nn/frozen_batch_norm.h"

#include <torch/torch.h>

namespace syncbn::nn {

FrozenBatchNorm2dImpl::FrozenBatchNorm2dImpl(int64_t numFeatures_, double eps_, bool freezeAffine_)
    : numFeatures(numFeatures_), eps(eps_), freezeAffine(freezeAffine_) {
  reset();
}

void FrozenBatchNorm2dImpl::reset() {
  if (freezeAffine) {
    weight = register_buffer("weight", torch::ones({numFeatures}));
    bias = register_buffer("bias", torch::zeros({numFeatures}));
  } else {
    weight = register_parameter("weight", torch::ones({numFeatures}));
    bias = register_parameter("bias", torch::zeros({numFeatures}));
  }
  running_mean = register_buffer("running_mean", torch::zeros({numFeatures}));
  running_var = register_buffer("running_var", torch::ones({numFeatures}));
}

void FrozenBatchNorm2dImpl::pretty_print(std::ostream& stream) const {
  stream << "syncbn::nn::FrozenBatchNorm2d(" << numFeatures << ", eps=" << eps
         << ", freeze_affine=" << freezeAffine << ")";
}

torch::Tensor FrozenBatchNorm2dImpl::forward(const torch::Tensor& x) {
  TORCH_CHECK(x.dim() == 4 && x.size(1) == numFeatures, "FrozenBatchNorm2d: expected [N, ",
              numFeatures, ", H, W], got ", x.sizes());
  // The same arithmetic as BatchNorm in eval mode, so conversion preserves outputs exactly.
  return torch::batch_norm(x, weight, bias, running_mean, running_var, false, 0.0, eps,
                           at::globalContext().userEnabledCuDNN());
}

}  // namespace syncbn::nn
