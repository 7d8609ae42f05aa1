#include "nn/precise_bn.h"

#include <torch/torch.h>

#include "dist/process_group.h"
#include "nn/norm.h"
#include "nn/sync_batch_norm.h"

namespace syncbn::nn {
namespace {

// The parts of a BatchNorm-kind layer PreciseBN touches, whichever class implements it.
struct RunningStatistics {
  std::function<void(c10::optional<double>)> setMomentum;
  c10::optional<double> originalMomentum;
  torch::Tensor runningMean, runningVar;
  torch::Tensor meanSum, varSum;
  bool synchronized = false;
};

std::optional<RunningStatistics> runningStatisticsOf(Norm2dImpl& norm) {
  RunningStatistics stats;
  torch::nn::Module& layer = norm.layer();
  if (auto* bn = layer.as<torch::nn::BatchNorm2dImpl>()) {
    stats.originalMomentum = bn->options.momentum();
    stats.setMomentum = [bn](c10::optional<double> m) { bn->options.momentum(m); };
    stats.runningMean = bn->running_mean;
    stats.runningVar = bn->running_var;
  } else if (auto* sync = layer.as<SyncBatchNorm2dImpl>()) {
    stats.originalMomentum = sync->options.momentum();
    stats.setMomentum = [sync](c10::optional<double> m) { sync->options.momentum(m); };
    stats.runningMean = sync->running_mean;
    stats.runningVar = sync->running_var;
    stats.synchronized = true;
  } else {
    return std::nullopt;  // GroupNorm and frozen BN have no statistics to recalibrate
  }
  if (!stats.runningMean.defined()) return std::nullopt;
  stats.meanSum = torch::zeros_like(stats.runningMean, torch::kDouble);
  stats.varSum = torch::zeros_like(stats.runningVar, torch::kDouble);
  return stats;
}

}  // namespace

PreciseBnReport recalibrateBatchNorm(torch::nn::Module& model, int batches,
                                     const std::function<void()>& forwardOneBatch,
                                     const std::shared_ptr<dist::ProcessGroup>& group) {
  std::vector<RunningStatistics> layers;
  for (const auto& [name, norm] : normLayers(model))
    if (auto stats = runningStatisticsOf(*norm)) layers.push_back(std::move(*stats));
  if (layers.empty() || batches <= 0) return {layers.size(), 0};

  const bool wasTraining = model.is_training();
  torch::NoGradGuard noGrad;
  model.train(true);
  // Momentum 1: after each forward the running statistics are exactly that batch's statistics
  // (mean, unbiased variance), which we sum in double.
  for (auto& layer : layers)
    layer.setMomentum(1.0);
  for (int batch = 0; batch < batches; ++batch) {
    forwardOneBatch();
    for (auto& layer : layers) {
      layer.meanSum.add_(layer.runningMean.to(torch::kDouble));
      layer.varSum.add_(layer.runningVar.to(torch::kDouble));
    }
  }
  for (auto& layer : layers) {
    torch::Tensor mean = layer.meanSum / batches;
    torch::Tensor var = layer.varSum / batches;
    if (!layer.synchronized && group && group->worldSize() > 1) {
      torch::Tensor both = torch::cat({mean, var}).contiguous();
      group->allReduceAverage(both);
      mean = both.slice(0, 0, mean.size(0));
      var = both.slice(0, mean.size(0));
    }
    layer.runningMean.copy_(mean);
    layer.runningVar.copy_(var);
    layer.setMomentum(layer.originalMomentum);
  }
  model.train(wasTraining);
  return {layers.size(), batches};
}

}  // namespace syncbn::nn
