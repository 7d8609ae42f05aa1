#include "nn/sync_batch_norm.h"

#include <torch/torch.h>

#include <algorithm>
#include <optional>

#include "dist/process_group.h"

namespace syncbn::nn {
namespace {

using torch::Tensor;
using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Carries the process group through autograd's saved data to the backward pass.
struct GroupCapsule : torch::CustomClassHolder {
  explicit GroupCapsule(std::shared_ptr<dist::ProcessGroup> g) : group(std::move(g)) {}
  std::shared_ptr<dist::ProcessGroup> group;
};

// Half and bfloat16 are normalised in float: statistics of 65k-element channels overflow or
// lose all precision in 16 bits.
torch::ScalarType computeType(const Tensor& x) {
  const auto t = x.scalar_type();
  return (t == torch::kHalf || t == torch::kBFloat16) ? torch::kFloat : t;
}

Tensor perChannel(const Tensor& v) {
  return v.view({1, -1, 1, 1});
}

// dx = scale * (dy - meanDy - (x - mean) * k) per channel, where k = invstd * mean(dy*(x-mean)) *
// invstd over the global batch, in one pass over x and dy. The tensor-op form needs four passes
// and a temporary the size of x. (Around the rest of the layer and its all-reduces the difference
// was within bench_syncbn's noise on the 2-core machine: docs/benchmarks.md.)
// LibTorch's fused kernel for this step (batch_norm_backward_elemt) has no CPU implementation, so
// the loop is written here, for float and double with x and dy both contiguous or both channels
// last; other cases (CUDA, mixed layouts) keep the tensor ops. (x - mean) is formed first, as in
// BatchNorm's own CPU backward, so a large mean does not cancel digits away.
template <typename T>
void fusedInputGradient(const Tensor& dy, const Tensor& x, Tensor& dx, const Tensor& mean,
                        const Tensor& k, const Tensor& meanDy, const Tensor& scale,
                        bool channelsLast) {
  constexpr int64_t kGrainElements = 32768;  // per task of at::parallel_for
  const int64_t channels = x.size(1);
  const int64_t plane = channels > 0 && x.size(0) > 0 ? x.numel() / (x.size(0) * channels) : 0;
  const T* dyData = dy.data_ptr<T>();
  const T* xData = x.data_ptr<T>();
  T* dxData = dx.data_ptr<T>();
  const T* meanData = mean.data_ptr<T>();
  const T* kData = k.data_ptr<T>();
  const T* meanDyData = meanDy.data_ptr<T>();
  const T* scaleData = scale.data_ptr<T>();
  if (!channelsLast) {  // [N, C, H*W]: one (image, channel) plane per task item
    at::parallel_for(0, x.size(0) * channels, std::max<int64_t>(1, kGrainElements / plane),
                     [&](int64_t begin, int64_t end) {
                       for (int64_t p = begin; p < end; ++p) {
                         const int64_t c = p % channels;
                         const T m = meanData[c], kc = kData[c], md = meanDyData[c];
                         const T s = scaleData[c];
                         const T* __restrict g = dyData + p * plane;
                         const T* __restrict v = xData + p * plane;
                         T* __restrict out = dxData + p * plane;
                         for (int64_t i = 0; i < plane; ++i)
                           out[i] = (g[i] - md - (v[i] - m) * kc) * s;
                       }
                     });
    return;
  }
  // [N*H*W, C]: one pixel's channels per task item
  at::parallel_for(0, x.size(0) * plane, std::max<int64_t>(1, kGrainElements / channels),
                   [&](int64_t begin, int64_t end) {
                     for (int64_t r = begin; r < end; ++r) {
                       const T* __restrict g = dyData + r * channels;
                       const T* __restrict v = xData + r * channels;
                       T* __restrict out = dxData + r * channels;
                       for (int64_t c = 0; c < channels; ++c)
                         out[c] = (g[c] - meanDyData[c] - (v[c] - meanData[c]) * kData[c]) *
                                  scaleData[c];
                     }
                   });
}

// Which one-pass layout fits x and dy, if any.
std::optional<bool> fusedLayout(const Tensor& dy, const Tensor& x) {
  if (!x.device().is_cpu() || dy.scalar_type() != x.scalar_type() ||
      (x.scalar_type() != torch::kFloat && x.scalar_type() != torch::kDouble))
    return std::nullopt;
  if (x.is_contiguous() && dy.is_contiguous()) return false;
  if (x.is_contiguous(at::MemoryFormat::ChannelsLast) &&
      dy.is_contiguous(at::MemoryFormat::ChannelsLast))
    return true;
  return std::nullopt;
}

Tensor inputGradient(const Tensor& dy, const Tensor& x, const Tensor& mean, const Tensor& k,
                     const Tensor& meanDy, const Tensor& scale) {
  if (x.numel() == 0) return torch::empty_like(x);  // a rank with no samples
  if (const std::optional<bool> channelsLast = fusedLayout(dy, x)) {
    Tensor dx = torch::empty_like(
        x, *channelsLast ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous);
    const auto perChannelOf = [&x](const Tensor& t) { return t.to(x.scalar_type()).contiguous(); };
    const Tensor m = perChannelOf(mean), kc = perChannelOf(k), md = perChannelOf(meanDy),
                 s = perChannelOf(scale);
    if (x.scalar_type() == torch::kFloat)
      fusedInputGradient<float>(dy, x, dx, m, kc, md, s, *channelsLast);
    else
      fusedInputGradient<double>(dy, x, dx, m, kc, md, s, *channelsLast);
    return dx;
  }
  Tensor dx = x - perChannel(mean);
  dx.mul_(perChannel(-scale * k));
  dx.addcmul_(dy, perChannel(scale));
  dx.sub_(perChannel(scale * meanDy));
  return dx;
}

// y = (x - mean) / sqrt(var + eps) * weight + bias with the given (global) statistics: the
// fused eval-mode BatchNorm kernel, one pass over x.
Tensor normalise(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& mean,
                 const Tensor& var, double eps) {
  return torch::batch_norm(x, weight, bias, mean, var, false, 0.0, eps,
                           at::globalContext().userEnabledCuDNN());
}

// Applies the synchronised normalisation of one or more layers; its backward issues one
// all-reduce for all of them. Per layer i: xs[i], weights[i] and biases[i] (empty placeholders
// without affine), the global means[i], vars[i] and invstds[i] (compute dtype), affine[i], eps[i]
// and counts[i] (values per channel over all ranks). `anchor`, an empty tensor requiring grad,
// keeps this rank in the backward pass when another rank needs gradients but this one's inputs do
// not. LibTorch 1.13 cannot record undefined tensor inputs, hence the placeholders. A tensor list
// counts as one input per tensor, so the gradients go back flat, list by list.
struct SyncBatchNormFunction : torch::autograd::Function<SyncBatchNormFunction> {
  // The lists arrive as at::TensorList: LibTorch records only that list type (and single
  // tensors) as inputs; a std::vector of tensors would pass as an opaque argument.
  static variable_list forward(AutogradContext* ctx, at::TensorList xs, at::TensorList weights,
                               at::TensorList biases, at::TensorList means, at::TensorList vars,
                               at::TensorList invstds, const Tensor& anchor,
                               const std::vector<bool>& affine, const std::vector<double>& eps,
                               const std::vector<double>& counts,
                               std::shared_ptr<dist::ProcessGroup> group) {
    (void)anchor;
    variable_list saved;
    c10::List<bool> affineList, xNeedsGrad;
    c10::List<double> countList;
    variable_list ys;
    for (std::size_t i = 0; i < xs.size(); ++i) {
      saved.insert(saved.end(), {xs[i], weights[i], means[i], invstds[i]});
      affineList.push_back(affine[i]);
      xNeedsGrad.push_back(xs[i].requires_grad());
      countList.push_back(counts[i]);
      ys.push_back(affine[i] ? normalise(xs[i], weights[i], biases[i], means[i], vars[i], eps[i])
                             : normalise(xs[i], Tensor(), Tensor(), means[i], vars[i], eps[i]));
    }
    ctx->save_for_backward(saved);
    ctx->saved_data["affine"] = affineList;
    ctx->saved_data["x_needs_grad"] = xNeedsGrad;
    ctx->saved_data["counts"] = countList;
    ctx->saved_data["group"] =
        c10::IValue::make_capsule(c10::make_intrusive<GroupCapsule>(std::move(group)));
    return ys;
  }

  static variable_list backward(AutogradContext* ctx, variable_list gradOutputs) {
    const auto saved = ctx->get_saved_variables();
    const auto affine = ctx->saved_data["affine"].toBoolList();
    const auto xNeedsGrad = ctx->saved_data["x_needs_grad"].toBoolList();
    const auto counts = ctx->saved_data["counts"].toDoubleList();
    auto group =
        c10::static_intrusive_pointer_cast<GroupCapsule>(ctx->saved_data["group"].toCapsule())
            ->group;
    const std::size_t layers = gradOutputs.size();

    // Each layer's sums of dy and dy*(x-mean) in one fused pass: with the global mean and invstd
    // as the "saved" statistics, BatchNorm's own backward yields sum(dy*(x-mean))*invstd and
    // sum(dy) as its weight and bias gradients.
    // (Its CPU kernel divides by the element count, so an empty rank contributes zeros itself.)
    std::vector<Tensor> dys, xcs, sumsDy, sumsDyXmuInvstd;
    std::vector<Tensor> payloadParts;
    for (std::size_t i = 0; i < layers; ++i) {
      const Tensor& x = saved[4 * i];
      const Tensor& mean = saved[4 * i + 2];
      const Tensor& invstd = saved[4 * i + 3];
      const auto type = computeType(x);
      dys.push_back(gradOutputs[i].defined() ? gradOutputs[i].to(type)
                                             : torch::zeros_like(x, type));
      xcs.push_back(x.to(type));
      Tensor sumDyXmuInvstd = torch::zeros_like(mean);
      Tensor sumDy = torch::zeros_like(mean);
      if (x.numel() > 0) {
        const auto sums =
            torch::native_batch_norm_backward(dys[i], xcs[i], Tensor(), Tensor(), Tensor(), mean,
                                              invstd, true, 0.0, {false, true, true});
        sumDyXmuInvstd = std::get<1>(sums);
        sumDy = std::get<2>(sums);
      }
      sumsDy.push_back(sumDy);
      sumsDyXmuInvstd.push_back(sumDyXmuInvstd);
      payloadParts.push_back(sumDy.to(torch::kDouble));
      payloadParts.push_back(sumDyXmuInvstd.to(torch::kDouble));
    }

    // Every rank issues this all-reduce, including ranks with no samples.
    Tensor payload = torch::cat(payloadParts).contiguous();
    group->allReduceSumSmall(payload);

    variable_list gradXs(layers), gradWeights(layers), gradBiases(layers);
    int64_t offset = 0;
    for (std::size_t i = 0; i < layers; ++i) {
      const Tensor& x = saved[4 * i];
      const Tensor& weight = saved[4 * i + 1];
      const Tensor& mean = saved[4 * i + 2];
      const Tensor& invstd = saved[4 * i + 3];
      const auto type = computeType(x);
      const int64_t channels = x.size(1);
      const Tensor meanDy = (payload.slice(0, offset, offset + channels) / counts[i]).to(type);
      const Tensor meanDyXmuInvstd =
          (payload.slice(0, offset + channels, offset + 2 * channels) / counts[i]).to(type);
      offset += 2 * channels;
      if (xNeedsGrad[i]) {
        // dx = w*invstd * (dy - mean(dy) - (x-mean)*invstd * mean(dy*(x-mean))*invstd), global
        // means; (x - mean) is formed first so a large mean does not cancel digits away.
        const Tensor scale = affine[i] ? invstd * weight.to(type) : invstd;
        gradXs[i] = inputGradient(dys[i], xcs[i], mean, invstd * meanDyXmuInvstd, meanDy, scale)
                        .to(x.scalar_type());
      }
      if (affine[i]) {
        gradWeights[i] = sumsDyXmuInvstd[i].to(weight.scalar_type());
        gradBiases[i] = sumsDy[i].to(weight.scalar_type());
      }
    }
    // One gradient per input, in the order forward took them: xs, weights, biases, then means,
    // vars, invstds (layers each), anchor, and the four non-tensor arguments.
    variable_list grads;
    grads.insert(grads.end(), gradXs.begin(), gradXs.end());
    grads.insert(grads.end(), gradWeights.begin(), gradWeights.end());
    grads.insert(grads.end(), gradBiases.begin(), gradBiases.end());
    grads.resize(grads.size() + 3 * layers + 1 + 4);
    return grads;
  }
};

}  // namespace

SyncBatchNorm2dImpl::SyncBatchNorm2dImpl(const torch::nn::BatchNormOptions& options_,
                                         std::shared_ptr<dist::ProcessGroup> group)
    : options(options_), group_(std::move(group)) {
  reset();
}

void SyncBatchNorm2dImpl::reset() {
  const int64_t c = options.num_features();
  if (options.affine()) {
    weight = register_parameter("weight", torch::ones({c}));
    bias = register_parameter("bias", torch::zeros({c}));
  }
  if (options.track_running_stats()) {
    running_mean = register_buffer("running_mean", torch::zeros({c}));
    running_var = register_buffer("running_var", torch::ones({c}));
    num_batches_tracked = register_buffer("num_batches_tracked", torch::zeros({}, torch::kLong));
  }
}

void SyncBatchNorm2dImpl::pretty_print(std::ostream& stream) const {
  stream << "syncbn::nn::SyncBatchNorm2d(" << options.num_features() << ", eps=" << options.eps()
         << ", momentum=";
  if (options.momentum())
    stream << *options.momentum();
  else
    stream << "None";
  stream << ", affine=" << options.affine()
         << ", track_running_stats=" << options.track_running_stats() << ")";
}

double SyncBatchNorm2dImpl::momentumForThisStep() {
  // torch semantics: a fixed momentum, or (momentum None) a cumulative moving average.
  num_batches_tracked.add_(1);
  return options.momentum() ? *options.momentum()
                            : 1.0 / static_cast<double>(num_batches_tracked.item<int64_t>());
}

bool SyncBatchNorm2dImpl::synchronizesThisStep() const {
  return is_training() && group_ && group_->worldSize() > 1;
}

void SyncBatchNorm2dImpl::checkInput(const Tensor& x) const {
  TORCH_CHECK(x.dim() == 4, "SyncBatchNorm2d: expected input [N, C, H, W], got ", x.sizes());
  TORCH_CHECK(x.size(1) == options.num_features(), "SyncBatchNorm2d: expected ",
              options.num_features(), " channels, got ", x.size(1));
}

Tensor SyncBatchNorm2dImpl::forward(const Tensor& x) {
  checkInput(x);
  const bool tracked = options.track_running_stats();
  const bool useBatchStats = is_training() || !tracked;
  lastGlobalMean_ = Tensor();
  lastGlobalVar_ = Tensor();

  if (!useBatchStats)  // eval: running statistics, no communication
    return torch::batch_norm(x, weight, bias, running_mean, running_var, false, 0.0, options.eps(),
                             at::globalContext().userEnabledCuDNN());
  if (synchronizesThisStep()) return forwardTogether({this}, {x}).front();

  const double momentum = (is_training() && tracked) ? momentumForThisStep() : 0.0;
  return torch::batch_norm(x, weight, bias, tracked ? running_mean : Tensor(),
                           tracked ? running_var : Tensor(), true, momentum, options.eps(),
                           at::globalContext().userEnabledCuDNN());
}

bool SyncBatchNorm2dImpl::needsGradient(const Tensor& x) const {
  return torch::GradMode::is_enabled() &&
         (x.requires_grad() || (weight.defined() && weight.requires_grad()) ||
          (bias.defined() && bias.requires_grad()));
}

Tensor SyncBatchNorm2dImpl::localSums(const Tensor& x) const {
  const int64_t channels = x.size(1);
  const int64_t localCount = channels > 0 ? x.numel() / channels : 0;
  const bool needsGrad = needsGradient(x);

  // Local moments from BatchNorm's own per-channel kernel (two-pass, so stable; it accumulates
  // float in double on the CPU), then sums in double: S1 = n*mean, S2 = n*var + n*mean^2. The
  // payload is double on every rank whatever the input dtype; the count travels as a double.
  const auto doubleOpts = torch::TensorOptions().dtype(torch::kDouble).device(x.device());
  Tensor sum = torch::zeros({channels}, doubleOpts);
  Tensor sumSquares = torch::zeros({channels}, doubleOpts);
  {
    torch::NoGradGuard noGrad;
    if (localCount > 0) {
      const auto [mean, var] = torch::batch_norm_update_stats(x, Tensor(), Tensor(), 0.0);
      const Tensor meanD = mean.to(torch::kDouble);
      sum = meanD * localCount;
      sumSquares = (var.to(torch::kDouble) + meanD * meanD) * localCount;
    }
  }
  return torch::cat(
      {sum, sumSquares,
       torch::tensor({static_cast<double>(localCount), needsGrad ? 1.0 : 0.0}, doubleOpts)});
}

SyncBatchNorm2dImpl::GlobalStatistics SyncBatchNorm2dImpl::takeGlobalStatistics(
    const Tensor& sums, double count, bool anyRankNeedsGrad, const Tensor& x) {
  const int64_t channels = x.size(1);
  GlobalStatistics global;
  global.count = count;
  global.anyRankNeedsGrad = anyRankNeedsGrad;
  TORCH_CHECK(global.count > 1, "SyncBatchNorm2d: expected more than 1 value per channel across ",
              group_->worldSize(), " ranks when training, got ", global.count);

  const Tensor mean = sums.slice(0, 0, channels) / global.count;
  const Tensor var =
      (sums.slice(0, channels, 2 * channels) / global.count - mean * mean).clamp_min(0);
  const Tensor invstd = (var + options.eps()).rsqrt();
  lastGlobalMean_ = mean;
  lastGlobalVar_ = var;

  if (options.track_running_stats()) {
    torch::NoGradGuard noGrad;
    const double momentum = momentumForThisStep();
    const Tensor unbiasedVar = var * (global.count / (global.count - 1));
    running_mean.mul_(1 - momentum).add_(mean.to(running_mean.scalar_type()), momentum);
    running_var.mul_(1 - momentum).add_(unbiasedVar.to(running_var.scalar_type()), momentum);
  }

  // Statistics in the compute type: float for half/bfloat16 inputs, else the input's own.
  const auto type = computeType(x);
  global.mean = mean.to(type);
  global.var = var.to(type);
  global.invstd = invstd.to(type);
  return global;
}

std::vector<Tensor> SyncBatchNorm2dImpl::forwardTogether(
    const std::vector<SyncBatchNorm2dImpl*>& layers, const std::vector<Tensor>& xs) {
  TORCH_CHECK(layers.size() == xs.size(), "SyncBatchNorm2d::forwardTogether: ", layers.size(),
              " layers for ", xs.size(), " inputs");
  if (layers.empty()) return {};
  const std::shared_ptr<dist::ProcessGroup> group = layers.front()->group_;
  const bool together = std::all_of(layers.begin(), layers.end(), [&](const auto* layer) {
    return layer->synchronizesThisStep() && layer->group_ == group;
  });
  std::vector<Tensor> ys;
  ys.reserve(xs.size());
  if (!together) {
    for (std::size_t i = 0; i < layers.size(); ++i)
      ys.push_back(layers[i]->forward(xs[i]));
    return ys;
  }

  // One collective for every layer's sums: the all-gather sums element by element in rank order,
  // so each layer's slice is what its own collective would have returned.
  std::vector<Tensor> parts;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    layers[i]->checkInput(xs[i]);
    parts.push_back(layers[i]->localSums(xs[i]));
  }
  Tensor payload = torch::cat(parts);
  group->allReduceSumSmall(payload);
  const Tensor payloadOnHost = payload.cpu();  // the counts and flags, in one transfer

  // Layers no rank needs gradients for are normalised outside autograd; the others go through
  // one SyncBatchNormFunction, whose backward is again one collective.
  const auto placeholder = [] { return torch::empty({0}); };
  variable_list inputs, weights, biases, means, vars, invstds;
  std::vector<bool> affine;
  std::vector<double> eps, counts;
  std::vector<std::size_t> inFunction;  // which layers, in order
  bool anchorNeeded = false;
  int64_t offset = 0;
  ys.resize(xs.size());
  for (std::size_t i = 0; i < layers.size(); ++i) {
    SyncBatchNorm2dImpl& layer = *layers[i];
    const Tensor& x = xs[i];
    const int64_t channels = x.size(1);
    const int64_t size = 2 * channels + 2;
    const GlobalStatistics global =
        layer.takeGlobalStatistics(payload.slice(0, offset, offset + 2 * channels),
                                   payloadOnHost[offset + 2 * channels].item<double>(),
                                   payloadOnHost[offset + 2 * channels + 1].item<double>() > 0, x);
    offset += size;
    if (!global.anyRankNeedsGrad) {
      torch::NoGradGuard noGrad;
      ys[i] = normalise(x, layer.weight, layer.bias, global.mean, global.var, layer.options.eps());
      continue;
    }
    // A rank whose own inputs need no gradient still joins the backward all-reduce: the anchor
    // puts these layers into its autograd graph.
    anchorNeeded = anchorNeeded || !layer.needsGradient(x);
    const bool hasAffine = layer.weight.defined();
    inputs.push_back(x);
    weights.push_back(hasAffine ? layer.weight : placeholder());
    biases.push_back(hasAffine ? layer.bias : placeholder());
    means.push_back(global.mean);
    vars.push_back(global.var);
    invstds.push_back(global.invstd);
    affine.push_back(hasAffine);
    eps.push_back(layer.options.eps());
    counts.push_back(global.count);
    inFunction.push_back(i);
  }
  if (inFunction.empty()) return ys;
  const Tensor anchor = anchorNeeded ? placeholder().requires_grad_(true) : placeholder();
  const variable_list normalised = SyncBatchNormFunction::apply(
      at::TensorList(inputs), at::TensorList(weights), at::TensorList(biases),
      at::TensorList(means), at::TensorList(vars), at::TensorList(invstds), anchor, affine, eps,
      counts, group);
  for (std::size_t k = 0; k < inFunction.size(); ++k)
    ys[inFunction[k]] = normalised[k];
  return ys;
}

}  // namespace syncbn::nn
