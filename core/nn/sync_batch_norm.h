// SyncBatchNorm2d: BatchNorm whose training statistics are computed over the batches of every
// rank in a process group, so W ranks with batch b normalise like one rank with batch W*b.
#pragma once

#include <torch/nn/cloneable.h>
#include <torch/nn/options/batchnorm.h>
#include <torch/nn/pimpl.h>

#include <memory>
#include <vector>

namespace syncbn::dist {
class ProcessGroup;
}

namespace syncbn::nn {

// Communication per layer and training step: one all-reduce of 2C+2 doubles in forward
// (per-channel sums of x and x^2 formed from stable local moments, the sample count, and whether
// any rank needs gradients) and one of 2C doubles in backward (sums of dy and dy*(x-mean)).
// weight/bias gradients are this rank's share, as with torch's SyncBatchNorm: data-parallel
// gradient all-reduce adds them up. With no group or a group of one it is plain BatchNorm2d.
// forwardTogether lets independent layers share those two collectives.
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

  // Every layer's forward on its own input (layers[i] on xs[i]), with one collective for all of
  // them forward and one backward where each layer alone issues one of each. For layers whose
  // inputs do not depend on each other's outputs, such as the detection head's branches: on one
  // node SyncBN's cost is the number of times the ranks meet, not the bytes (docs/syncbn.md).
  // The result is bitwise what the layers' own forwards give, since the sums are element-wise
  // in rank order either way. It applies when every layer synchronizes this step (training, in
  // one group of more than one rank); otherwise each layer runs its own forward.
  static std::vector<torch::Tensor> forwardTogether(const std::vector<SyncBatchNorm2dImpl*>& layers,
                                                    const std::vector<torch::Tensor>& xs);

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
  // What the forward's collective needs to normalise with, once summed over the ranks.
  struct GlobalStatistics {
    torch::Tensor mean, var, invstd;  // [C], the compute type
    double count = 0;                 // values per channel over all ranks
    bool anyRankNeedsGrad = false;
  };

  bool synchronizesThisStep() const;
  bool needsGradient(const torch::Tensor& x) const;  // this rank's, for this input
  void checkInput(const torch::Tensor& x) const;
  // This rank's share of the forward collective, 2C+2 doubles: per-channel sums of x and x^2,
  // the value count, and whether this rank needs gradients.
  torch::Tensor localSums(const torch::Tensor& x) const;
  // From this layer's summed payload (sums: its first 2C values; the count and the flag, read
  // on the host): checks the count, updates the running statistics and keeps the global mean
  // and variance.
  GlobalStatistics takeGlobalStatistics(const torch::Tensor& sums, double count,
                                        bool anyRankNeedsGrad, const torch::Tensor& x);
  double momentumForThisStep();

  std::shared_ptr<dist::ProcessGroup> group_;
  torch::Tensor lastGlobalMean_, lastGlobalVar_;
};

TORCH_MODULE(SyncBatchNorm2d);

}  // namespace syncbn::nn
