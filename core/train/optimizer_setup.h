// The optimizer as Ultralytics v8 builds it (engine/trainer.py: _setup_train, build_optimizer):
// which optimizer and lr, gradient accumulation up to the nominal batch, the weight decay scaled
// to it, and three parameter groups with decay on conv/linear weights only.
#pragma once

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/config.h"

namespace syncbn::train {

struct OptimizerChoice {
  std::string name;  // "SGD", "Adam" (plain Adam) or "AdamW"
  double lr0 = 0.01;
  double momentum = 0.937;  // SGD momentum / Adam beta1
  double warmupBiasLr = 0.1;
  std::string reason;  // one human line: how the choice was made
};

// train.optimizer "auto" (Ultralytics' rule):
//   iterations = ceil(trainImages / max(batch, nbs)) * epochs
//   > 10000: SGD(lr 0.01, momentum 0.9); else AdamW(lr round(0.002 * 5 / (4 + nc), 6), momentum
//   0.9) and, in both branches as Ultralytics does, warmupBiasLr = 0 ("no higher than 0.01 for
//   Adam").
// Otherwise the named optimizer (SGD, Adam, AdamW, any case) with train.lr0, train.momentum and
// train.warmup_bias_lr. Throws std::invalid_argument naming `train.optimizer` for other names.
OptimizerChoice chooseOptimizer(const TrainConfig& train, std::int64_t numClasses,
                                std::int64_t trainImages);

// Optimizer steps come every max(round(nbs / batch), 1) iterations (Python's round: half to even).
int accumulateSteps(int nbs, int globalBatch);

// weight_decay * batch * accumulate / nbs: the decay per image seen stays that of the nominal
// batch.
double scaledWeightDecay(const TrainConfig& train, int globalBatch);

// Ultralytics' groups, in its optimizer order:
//   0 biases (no decay), 1 weights of conv/linear layers (decay), 2 norm-layer weights (no decay).
// A parameter is a bias when its own name is "bias"; a norm weight when its owning module is a
// norm layer (BatchNorm, SyncBatchNorm, GroupNorm, LayerNorm, frozen BatchNorm) or sits inside an
// nn::Norm2d. Parameters that do not require gradients (the DFL's fixed conv) are left out.
struct ParameterGroups {
  std::vector<at::Tensor> biases, weights, normWeights;
  std::vector<std::string> biasNames, weightNames, normWeightNames;  // dotted, as named_parameters
};
ParameterGroups groupParameters(const torch::nn::Module& model);

// SGD: nesterov, `choice.momentum`, dampening 0. Adam/AdamW: betas (choice.momentum, 0.999).
// All groups start at lr `choice.lr0`; weight decay `weightDecay` on group 1 only. Throws
// std::invalid_argument for an unknown choice.name.
std::unique_ptr<torch::optim::Optimizer> buildOptimizer(const torch::nn::Module& model,
                                                        const OptimizerChoice& choice,
                                                        double weightDecay);

}  // namespace syncbn::train
