#include "train/optimizer_setup.h"

#include <torch/torch.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <stdexcept>
#include <unordered_set>

#include "nn/frozen_batch_norm.h"
#include "nn/norm.h"
#include "nn/sync_batch_norm.h"

namespace syncbn::train {
namespace {

std::string lowercase(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

// The canonical spelling of a supported optimizer name, or "" for an unknown one.
std::string canonicalName(const std::string& name) {
  const std::string lower = lowercase(name);
  if (lower == "sgd") return "SGD";
  if (lower == "adam") return "Adam";
  if (lower == "adamw") return "AdamW";
  return "";
}

// Python's round(x, 6): the decimal nearest the exact binary value, ties to even, which is what
// printf's correctly rounded conversion gives.
double roundTo6Decimals(double x) {
  char text[64];
  std::snprintf(text, sizeof text, "%.6f", x);
  return std::strtod(text, nullptr);
}

template <typename Layer>
bool is(const torch::nn::Module& module) {
  return dynamic_cast<const Layer*>(&module) != nullptr;
}

bool isNormLayer(const torch::nn::Module& module) {
  return is<nn::Norm2dImpl>(module) || is<nn::SyncBatchNorm2dImpl>(module) ||
         is<nn::FrozenBatchNorm2dImpl>(module) || is<torch::nn::BatchNorm1dImpl>(module) ||
         is<torch::nn::BatchNorm2dImpl>(module) || is<torch::nn::BatchNorm3dImpl>(module) ||
         is<torch::nn::GroupNormImpl>(module) || is<torch::nn::LayerNormImpl>(module) ||
         is<torch::nn::InstanceNorm1dImpl>(module) || is<torch::nn::InstanceNorm2dImpl>(module) ||
         is<torch::nn::InstanceNorm3dImpl>(module);
}

template <typename Optim, typename Options>
std::unique_ptr<torch::optim::Optimizer> makeOptimizer(const ParameterGroups& groups,
                                                       Options defaults, double weightDecay) {
  defaults.weight_decay(0.0);
  auto withDecay = [&](double decay) {
    auto options = std::make_unique<Options>(defaults);
    options->weight_decay(decay);
    return options;
  };
  std::vector<torch::optim::OptimizerParamGroup> paramGroups;
  paramGroups.emplace_back(groups.biases, withDecay(0.0));
  paramGroups.emplace_back(groups.weights, withDecay(weightDecay));
  paramGroups.emplace_back(groups.normWeights, withDecay(0.0));
  return std::make_unique<Optim>(std::move(paramGroups), defaults);
}

}  // namespace

OptimizerChoice chooseOptimizer(const TrainConfig& train, std::int64_t numClasses,
                                std::int64_t trainImages) {
  std::ostringstream reason;
  OptimizerChoice choice;
  if (lowercase(train.optimizer) == "auto") {
    if (trainImages < 0) throw std::invalid_argument("chooseOptimizer: trainImages < 0");
    const std::int64_t perStep = std::max(train.batch, train.nbs);
    if (perStep < 1) throw std::invalid_argument("train.batch and train.nbs must be >= 1");
    const std::int64_t iterations = (trainImages + perStep - 1) / perStep * train.epochs;
    const bool sgd = iterations > 10000;
    choice.name = sgd ? "SGD" : "AdamW";
    choice.lr0 = sgd ? 0.01 : roundTo6Decimals(0.002 * 5 / static_cast<double>(4 + numClasses));
    choice.momentum = 0.9;
    choice.warmupBiasLr = 0.0;
    reason << "optimizer=auto: " << choice.name << "(lr=" << choice.lr0
           << ", momentum=" << choice.momentum << ") for " << iterations << " iterations ("
           << (sgd ? "> " : "<= ") << "10000)";
  } else {
    choice.name = canonicalName(train.optimizer);
    if (choice.name.empty())
      throw std::invalid_argument("train.optimizer: unknown optimizer '" + train.optimizer +
                                  "' (auto, SGD, Adam, AdamW)");
    choice.lr0 = train.lr0;
    choice.momentum = train.momentum;
    choice.warmupBiasLr = train.warmup_bias_lr;
    reason << "optimizer=" << train.optimizer << ": " << choice.name << "(lr=" << choice.lr0
           << ", momentum=" << choice.momentum << ") from train.lr0 and train.momentum";
  }
  choice.reason = reason.str();
  return choice;
}

int accumulateSteps(int nbs, int globalBatch) {
  if (nbs < 1) throw std::invalid_argument("train.nbs must be >= 1, got " + std::to_string(nbs));
  if (globalBatch < 1)
    throw std::invalid_argument("train.batch must be >= 1, got " + std::to_string(globalBatch));
  // nearbyint rounds half to even under the default rounding mode, as Python's round.
  return std::max(static_cast<int>(std::nearbyint(static_cast<double>(nbs) / globalBatch)), 1);
}

double scaledWeightDecay(const TrainConfig& train, int globalBatch) {
  const int accumulate = accumulateSteps(train.nbs, globalBatch);
  return train.weight_decay * globalBatch * accumulate / train.nbs;
}

ParameterGroups groupParameters(const torch::nn::Module& model) {
  // Modules inside an nn::Norm2d belong to the norm, whatever layer it holds now.
  std::unordered_set<const torch::nn::Module*> normModules;
  std::vector<std::pair<std::string, const torch::nn::Module*>> modules{{"", &model}};
  for (const auto& item : model.named_modules("", /*include_self=*/false)) {
    modules.emplace_back(item.key(), item.value().get());
    if (is<nn::Norm2dImpl>(*item.value()))
      for (const auto& inner : item.value()->modules(/*include_self=*/false))
        normModules.insert(inner.get());
  }
  if (is<nn::Norm2dImpl>(model))
    for (const auto& inner : model.modules(/*include_self=*/false))
      normModules.insert(inner.get());

  ParameterGroups groups;
  std::unordered_set<const void*> seen;  // a parameter shared by two modules goes in once
  for (const auto& [prefix, module] : modules) {
    const bool norm = isNormLayer(*module) || normModules.count(module) > 0;
    for (const auto& item : module->named_parameters(/*recurse=*/false)) {
      const at::Tensor& parameter = item.value();
      if (!parameter.requires_grad() || !seen.insert(parameter.unsafeGetTensorImpl()).second)
        continue;
      const std::string name = prefix.empty() ? item.key() : prefix + "." + item.key();
      if (item.key() == "bias") {
        groups.biases.push_back(parameter);
        groups.biasNames.push_back(name);
      } else if (norm) {
        groups.normWeights.push_back(parameter);
        groups.normWeightNames.push_back(name);
      } else {
        groups.weights.push_back(parameter);
        groups.weightNames.push_back(name);
      }
    }
  }
  return groups;
}

std::unique_ptr<torch::optim::Optimizer> buildOptimizer(const torch::nn::Module& model,
                                                        const OptimizerChoice& choice,
                                                        double weightDecay) {
  const ParameterGroups groups = groupParameters(model);
  const std::string name = canonicalName(choice.name);
  const std::tuple<double, double> betas{choice.momentum, 0.999};
  if (name == "SGD")
    return makeOptimizer<torch::optim::SGD>(
        groups,
        torch::optim::SGDOptions(choice.lr0).momentum(choice.momentum).dampening(0).nesterov(true),
        weightDecay);
  if (name == "Adam")
    return makeOptimizer<torch::optim::Adam>(
        groups, torch::optim::AdamOptions(choice.lr0).betas(betas), weightDecay);
  if (name == "AdamW")
    return makeOptimizer<torch::optim::AdamW>(
        groups, torch::optim::AdamWOptions(choice.lr0).betas(betas), weightDecay);
  throw std::invalid_argument("buildOptimizer: unknown optimizer '" + choice.name +
                              "' (SGD, Adam, AdamW)");
}

}  // namespace syncbn::train
