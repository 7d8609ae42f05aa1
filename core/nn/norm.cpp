#include "nn/norm.h"

#include <torch/torch.h>

#include "nn/frozen_batch_norm.h"
#include "nn/sync_batch_norm.h"

namespace syncbn::nn {
namespace {

torch::Tensor findTensor(torch::nn::Module& module, const std::string& name) {
  for (const auto& p : module.named_parameters(false))
    if (p.key() == name) return p.value();
  for (const auto& b : module.named_buffers(false))
    if (b.key() == name) return b.value();
  return {};
}

bool isBatchNormKind(NormKind kind) {
  return kind != NormKind::GroupNorm;
}

}  // namespace

int64_t groupNormGroups(int64_t channels) {
  for (int64_t groups = std::min<int64_t>(32, channels); groups > 1; --groups)
    if (channels % groups == 0) return groups;
  return 1;
}

Norm2dImpl::Norm2dImpl(int64_t channels, NormKind kind, const NormOptions& options,
                       std::shared_ptr<dist::ProcessGroup> group)
    : channels_(channels),
      kind_(kind),
      options_(options),
      layer_(makeLayer(kind, std::move(group))) {
  register_module("layer", layer_.ptr());
}

torch::nn::AnyModule Norm2dImpl::makeLayer(NormKind kind,
                                           std::shared_ptr<dist::ProcessGroup> group) const {
  switch (kind) {
    case NormKind::BatchNorm:
      return torch::nn::AnyModule(torch::nn::BatchNorm2d(
          torch::nn::BatchNorm2dOptions(channels_).eps(options_.eps).momentum(options_.momentum)));
    case NormKind::SyncBatchNorm:
      return torch::nn::AnyModule(SyncBatchNorm2d(
          torch::nn::BatchNormOptions(channels_).eps(options_.eps).momentum(options_.momentum),
          std::move(group)));
    case NormKind::GroupNorm:
      return torch::nn::AnyModule(torch::nn::GroupNorm(
          torch::nn::GroupNormOptions(groupNormGroups(channels_), channels_).eps(options_.eps)));
    case NormKind::FrozenBatchNorm:
      return torch::nn::AnyModule(
          FrozenBatchNorm2d(channels_, options_.eps, options_.freezeAffine));
  }
  throw std::logic_error("unknown NormKind");
}

void Norm2dImpl::setRecordBatchStatistics(bool on) {
  recordStatistics_ = on;
  lastStatistics_.reset();
}

torch::Tensor Norm2dImpl::forward(const torch::Tensor& x) {
  std::optional<BatchStatistics> pending = beforeLayer(x);
  torch::Tensor y = layer_.forward(x);
  afterLayer(std::move(pending));
  return y;
}

std::vector<torch::Tensor> Norm2dImpl::forwardTogether(const std::vector<Norm2dImpl*>& norms,
                                                       const std::vector<torch::Tensor>& xs) {
  TORCH_CHECK(norms.size() == xs.size(), "Norm2d::forwardTogether: ", norms.size(), " norms for ",
              xs.size(), " inputs");
  std::vector<SyncBatchNorm2dImpl*> synchronized;
  for (Norm2dImpl* norm : norms)
    if (auto* sync = norm->layer().as<SyncBatchNorm2dImpl>()) synchronized.push_back(sync);
  if (synchronized.size() != norms.size()) {
    std::vector<torch::Tensor> ys;
    ys.reserve(xs.size());
    for (std::size_t i = 0; i < norms.size(); ++i)
      ys.push_back(norms[i]->forward(xs[i]));
    return ys;
  }
  std::vector<std::optional<BatchStatistics>> pending;
  pending.reserve(norms.size());
  for (std::size_t i = 0; i < norms.size(); ++i)
    pending.push_back(norms[i]->beforeLayer(xs[i]));
  std::vector<torch::Tensor> ys = SyncBatchNorm2dImpl::forwardTogether(synchronized, xs);
  for (std::size_t i = 0; i < norms.size(); ++i)
    norms[i]->afterLayer(std::move(pending[i]));
  return ys;
}

std::optional<BatchStatistics> Norm2dImpl::beforeLayer(const torch::Tensor& x) {
  if (observer_) observer_(x);
  if (!recordStatistics_ || !isBatchNormKind(kind_)) return std::nullopt;

  BatchStatistics stats;
  torch::nn::Module& layer = *layer_.ptr();
  torch::NoGradGuard noGrad;
  const auto doubles = torch::TensorOptions().dtype(torch::kDouble).device(x.device());
  const int64_t c = x.size(1);
  stats.images = x.size(0);
  stats.count = c > 0 ? x.numel() / c : 0;
  stats.mean = torch::zeros({c}, doubles);
  stats.var = torch::zeros({c}, doubles);
  if (stats.count > 0) {
    // BatchNorm's own statistics kernel: the numbers plain BatchNorm normalises with.
    const auto [mean, var] = torch::batch_norm_update_stats(x.detach(), {}, {}, 0.0);
    stats.mean = mean.to(torch::kDouble);
    stats.var = var.to(torch::kDouble);
  }
  // Before the forward pass updates them.
  if (const torch::Tensor rm = findTensor(layer, "running_mean"); rm.defined())
    stats.runningMean = rm.detach().to(torch::kDouble, /*non_blocking=*/false, /*copy=*/true);
  if (const torch::Tensor rv = findTensor(layer, "running_var"); rv.defined())
    stats.runningVar = rv.detach().to(torch::kDouble, /*non_blocking=*/false, /*copy=*/true);
  return stats;
}

void Norm2dImpl::afterLayer(std::optional<BatchStatistics> pending) {
  if (!pending) return;
  BatchStatistics& stats = *pending;
  torch::nn::Module& layer = *layer_.ptr();
  bool batchStatistics = false;
  if (auto* bn = layer.as<torch::nn::BatchNorm2dImpl>()) {
    stats.eps = bn->options.eps();
    batchStatistics = bn->is_training() || !bn->options.track_running_stats();
  } else if (auto* sync = layer.as<SyncBatchNorm2dImpl>()) {
    stats.eps = sync->options.eps();
    batchStatistics = sync->is_training() || !sync->options.track_running_stats();
    if (sync->lastGlobalMean().defined()) {
      stats.normMean = sync->lastGlobalMean();
      stats.normVar = sync->lastGlobalVar();
    }
  } else if (auto* frozen = layer.as<FrozenBatchNorm2dImpl>()) {
    stats.eps = frozen->eps;
  }
  if (!stats.normMean.defined()) {
    stats.normMean = batchStatistics ? stats.mean : stats.runningMean;
    stats.normVar = batchStatistics ? stats.var : stats.runningVar;
  }
  lastStatistics_ = std::move(stats);
}

void Norm2dImpl::convertTo(NormKind kind, std::shared_ptr<dist::ProcessGroup> group) {
  if (kind == kind_) {
    if (auto* sync = layer_.ptr()->as<SyncBatchNorm2dImpl>())
      sync->setProcessGroup(std::move(group));
    return;
  }
  torch::nn::AnyModule next = makeLayer(kind, std::move(group));
  torch::nn::Module& from = *layer_.ptr();
  torch::nn::Module& to = *next.ptr();
  if (const torch::Tensor weight = findTensor(from, "weight"); weight.defined())
    to.to(weight.device(), weight.scalar_type());

  std::vector<std::string> shared{"weight", "bias"};
  if (isBatchNormKind(kind_) && isBatchNormKind(kind))
    shared.insert(shared.end(), {"running_mean", "running_var", "num_batches_tracked"});
  torch::NoGradGuard noGrad;
  for (const auto& name : shared) {
    const torch::Tensor source = findTensor(from, name);
    torch::Tensor target = findTensor(to, name);
    if (source.defined() && target.defined()) target.copy_(source);
  }
  replace_module("layer", next.ptr());
  layer_ = std::move(next);
  kind_ = kind;
  train(is_training());
}

void Norm2dImpl::pretty_print(std::ostream& stream) const {
  stream << "syncbn::nn::Norm2d(" << channels_ << ", " << toString(kind_) << ")";
}

std::vector<std::pair<std::string, std::shared_ptr<Norm2dImpl>>> normLayers(
    torch::nn::Module& root) {
  std::vector<std::pair<std::string, std::shared_ptr<Norm2dImpl>>> layers;
  // include_self=false: named_modules on the root itself would need it to be owned by a
  // shared_ptr; a Norm2d is never a model's root.
  for (const auto& item : root.named_modules("", false))
    if (auto norm = std::dynamic_pointer_cast<Norm2dImpl>(item.value()))
      layers.emplace_back(item.key(), std::move(norm));
  return layers;
}

std::size_t convertNorms(torch::nn::Module& root, NormKind kind,
                         std::shared_ptr<dist::ProcessGroup> group) {
  const auto layers = normLayers(root);
  for (const auto& [name, norm] : layers)
    norm->convertTo(kind, group);
  return layers.size();
}

}  // namespace syncbn::nn
