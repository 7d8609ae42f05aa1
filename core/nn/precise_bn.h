// PreciseBN: replaces BatchNorm running statistics, an exponential average biased towards recent
// and still-changing weights, by the true average of batch statistics over K batches with the
// final weights (Wu & Johnson, "Rethinking 'Batch' in BatchNorm", 2021; as Detectron2 does).
#pragma once

#include <torch/nn/module.h>

#include <functional>
#include <memory>

namespace syncbn::dist {
class ProcessGroup;
}

namespace syncbn::nn {

struct PreciseBnReport {
  std::size_t layers = 0;  // BatchNorm / SyncBatchNorm layers recalibrated
  int batches = 0;
};

// Runs `forwardOneBatch` `batches` times (under no_grad, model in training mode) and sets each
// BatchNorm-kind Norm2d's running mean and variance to the average of the batch statistics seen.
// SyncBatchNorm layers see global batches already; plain BatchNorm layers' averages are then
// averaged over `group`'s ranks so every rank ends with the same statistics. Call it on every
// rank with the same `batches`. The model's training mode and momenta are restored.
PreciseBnReport recalibrateBatchNorm(torch::nn::Module& model, int batches,
                                     const std::function<void()>& forwardOneBatch,
                                     const std::shared_ptr<dist::ProcessGroup>& group = nullptr);

}  // namespace syncbn::nn
