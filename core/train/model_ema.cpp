#include "train/model_ema.h"

#include <torch/torch.h>

#include <cmath>
#include <stdexcept>
#include <string>

#include "nn/norm.h"

namespace syncbn::train {

namespace {

// `model`'s parameters then buffers, by name, in registration order.
std::vector<std::pair<std::string, at::Tensor>> namedState(const torch::nn::Module& module) {
  std::vector<std::pair<std::string, at::Tensor>> state;
  for (const auto& item : module.named_parameters())
    state.emplace_back(item.key(), item.value());
  for (const auto& item : module.named_buffers())
    state.emplace_back(item.key(), item.value());
  return state;
}

std::string shapeOf(const at::Tensor& tensor) {
  if (!tensor.defined()) return "undefined";
  std::string text = "[";
  for (const auto size : tensor.sizes())
    text += (text.size() > 1 ? ", " : "") + std::to_string(size);
  return text + "]";
}

struct StatePair {
  at::Tensor ema, model;
  bool isCount;  // a counter, copied: LibTorch's Module::to(dtype) makes even these floating
};

// Pairs the EMA copy's state with the model's; throws naming the first difference.
std::vector<StatePair> pairState(const torch::nn::Module& ema, const torch::nn::Module& model) {
  const auto mine = namedState(ema);
  const auto theirs = namedState(model);
  if (mine.size() != theirs.size())
    throw std::invalid_argument("ModelEma: the model has " + std::to_string(theirs.size()) +
                                " parameters and buffers, its EMA copy " +
                                std::to_string(mine.size()) +
                                "; build the copy from the same definition and norm");
  std::vector<StatePair> pairs;
  for (std::size_t i = 0; i < mine.size(); ++i) {
    const auto& [name, emaTensor] = mine[i];
    const auto& [modelName, modelTensor] = theirs[i];
    if (name != modelName || emaTensor.defined() != modelTensor.defined() ||
        (emaTensor.defined() && emaTensor.sizes() != modelTensor.sizes()))
      throw std::invalid_argument("ModelEma: the model's '" + modelName + "' " +
                                  shapeOf(modelTensor) + " does not match the EMA copy's '" + name +
                                  "' " + shapeOf(emaTensor));
    const std::string_view counter = "num_batches_tracked";
    const bool isCount = name.size() >= counter.size() &&
                         name.compare(name.size() - counter.size(), counter.size(), counter) == 0;
    if (emaTensor.defined()) pairs.push_back({emaTensor, modelTensor, isCount});
  }
  return pairs;
}

}  // namespace

ModelEma::ModelEma(const torch::nn::Module& model, std::shared_ptr<torch::nn::Module> copy,
                   const EmaOptions& options, std::int64_t updates)
    : copy_(std::move(copy)), options_(options), updates_(updates) {
  if (!copy_) throw std::invalid_argument("ModelEma: no copy of the model given");
  if (!(options.decay >= 0.0 && options.decay < 1.0) || !(options.tau > 0.0))
    throw std::invalid_argument("ModelEma: decay must be in [0, 1) and tau positive, got decay " +
                                std::to_string(options.decay) + ", tau " +
                                std::to_string(options.tau));
  if (updates < 0) throw std::invalid_argument("ModelEma: negative update count");
  const auto parameters = model.parameters();
  if (!parameters.empty()) copy_->to(parameters.front().device());
  const at::NoGradGuard noGrad;
  for (auto& [ema, source, isCount] : pairState(*copy_, model))
    ema.copy_(source);
  copy_->eval();
  for (auto& parameter : copy_->parameters())
    parameter.requires_grad_(false);
}

double ModelEma::decayAt(std::int64_t updates) const {
  return options_.decay * (1.0 - std::exp(-static_cast<double>(updates) / options_.tau));
}

void ModelEma::update(const torch::nn::Module& model) {
  const auto pairs = pairState(*copy_, model);  // before counting: a mismatch changes nothing
  ++updates_;
  const double d = decayAt(updates_);
  const at::NoGradGuard noGrad;
  for (auto& [ema, source, isCount] : pairs) {
    if (ema.is_floating_point() && !isCount)
      ema.mul_(d).add_(source.detach(), 1.0 - d);
    else
      ema.copy_(source);
  }
}

ModelEma makeModelEma(const model::DetectionModel& model, const EmaOptions& options,
                      std::int64_t updates) {
  const auto norms = nn::normLayers(*model.ptr());  // read only; normLayers takes non-const
  model::NormChoice choice;
  if (!norms.empty()) choice.kind = norms.front().second->kind();
  model::DetectionModel copy(model->definition(), choice);
  // Conversions may have left different kinds in different slots; mirror each one.
  const auto copyNorms = nn::normLayers(*copy);
  for (std::size_t i = 0; i < norms.size() && i < copyNorms.size(); ++i)
    if (copyNorms[i].second->kind() != norms[i].second->kind())
      copyNorms[i].second->convertTo(norms[i].second->kind());
  copy->setMemoryFormat(model->memoryFormat());  // validation runs in the model's layout
  return ModelEma(*model, copy.ptr(), options, updates);
}

}  // namespace syncbn::train
