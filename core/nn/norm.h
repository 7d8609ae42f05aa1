// Norm2d: the slot where a model keeps its normalisation layer. Models call it like any layer;
// conversions swap what sits inside (BatchNorm, SyncBatchNorm, GroupNorm, frozen BatchNorm)
// without the model knowing, which LibTorch's typed module members could not allow otherwise.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/any.h>
#include <torch/nn/pimpl.h>

#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "common/config.h"

namespace syncbn::dist {
class ProcessGroup;
}

namespace syncbn::nn {

struct NormOptions {
  double eps = 1e-3;  // Ultralytics' BatchNorm settings
  double momentum = 0.03;
  bool freezeAffine = true;  // frozen BN: also freeze weight and bias
};

// What one BatchNorm-kind layer saw and did in one forward pass on this rank, for the BN
// statistics probe. Every tensor is [C], float64, detached, on the input's device.
struct BatchStatistics {
  torch::Tensor mean;  // this rank's batch mean of the input (zeros when it had no values)
  torch::Tensor var;   // this rank's biased batch variance of the input (zeros likewise)
  int64_t count = 0;   // values per channel: N*H*W
  int64_t images = 0;  // N
  // The mean and biased variance the layer normalised with: the batch's under BatchNorm in
  // training, the global batch's under SyncBatchNorm, the running statistics in eval mode and
  // under frozen BatchNorm.
  torch::Tensor normMean, normVar;
  // running_mean and running_var before this pass updated them (undefined when the layer keeps
  // none).
  torch::Tensor runningMean, runningVar;
  double eps = 0;  // the layer's eps
};

// Largest group count <= 32 that divides `channels` (GroupNorm's default of 32 groups).
int64_t groupNormGroups(int64_t channels);

class Norm2dImpl : public torch::nn::Module {
 public:
  Norm2dImpl(int64_t channels, NormKind kind, const NormOptions& options = {},
             std::shared_ptr<dist::ProcessGroup> group = nullptr);

  // x: [N, C, H, W] -> [N, C, H, W]
  torch::Tensor forward(const torch::Tensor& x);

  // Each norm's forward on its own input (norms[i] on xs[i]), for layers whose inputs do not
  // depend on each other's outputs. SyncBatchNorm layers that synchronize this step then meet
  // the other ranks once for all of them, forward and backward, instead of once each
  // (SyncBatchNorm2dImpl::forwardTogether); any other mix runs the norms one by one. Either way
  // the outputs, observers and recorded statistics are what one forward per norm gives.
  static std::vector<torch::Tensor> forwardTogether(const std::vector<Norm2dImpl*>& norms,
                                                    const std::vector<torch::Tensor>& xs);

  NormKind kind() const { return kind_; }
  int64_t channels() const { return channels_; }
  const NormOptions& normOptions() const { return options_; }

  // Replaces the layer inside, carrying over what the two kinds share: weight and bias always;
  // running statistics (and num_batches_tracked) between the BatchNorm kinds.
  void convertTo(NormKind kind, std::shared_ptr<dist::ProcessGroup> group = nullptr);

  // When on, each forward of a BatchNorm-kind layer keeps BatchStatistics for the BN statistics
  // probe (one more statistics pass over the input); GroupNorm keeps none. Turning it on clears
  // what an earlier pass kept.
  void setRecordBatchStatistics(bool on);
  const std::optional<BatchStatistics>& lastBatchStatistics() const { return lastStatistics_; }

  // Called with each forward's input before it is normalised (tests' oracles, diagnostics).
  using InputObserver = std::function<void(const torch::Tensor& x)>;
  void setInputObserver(InputObserver observer) { observer_ = std::move(observer); }

  // The BatchNorm-like layer inside, for code that needs its buffers (PreciseBN, export).
  torch::nn::Module& layer() { return *layer_.ptr(); }
  const torch::nn::Module& layer() const { return *layer_.ptr(); }

  void pretty_print(std::ostream& stream) const override;

 private:
  torch::nn::AnyModule makeLayer(NormKind kind, std::shared_ptr<dist::ProcessGroup> group) const;
  // The two halves of a forward around the layer's own: the observer and what the statistics
  // probe must read before the layer updates its buffers, then the rest of the record.
  std::optional<BatchStatistics> beforeLayer(const torch::Tensor& x);
  void afterLayer(std::optional<BatchStatistics> pending);

  int64_t channels_;
  NormKind kind_;
  NormOptions options_;
  torch::nn::AnyModule layer_;
  bool recordStatistics_ = false;
  std::optional<BatchStatistics> lastStatistics_;
  InputObserver observer_;
};

TORCH_MODULE(Norm2d);

// Every Norm2d in `root`'s tree, with its dotted name, in registration order.
std::vector<std::pair<std::string, std::shared_ptr<Norm2dImpl>>> normLayers(
    torch::nn::Module& root);

// Converts every Norm2d in the tree; returns how many were converted.
std::size_t convertNorms(torch::nn::Module& root, NormKind kind,
                         std::shared_ptr<dist::ProcessGroup> group = nullptr);

// The names users know: BatchNorm2d -> SyncBatchNorm2d, and back (for export).
inline std::size_t convertSyncBatchNorm(torch::nn::Module& root,
                                        std::shared_ptr<dist::ProcessGroup> group) {
  return convertNorms(root, NormKind::SyncBatchNorm, std::move(group));
}
inline std::size_t revertSyncBatchNorm(torch::nn::Module& root) {
  return convertNorms(root, NormKind::BatchNorm);
}

}  // namespace syncbn::nn
