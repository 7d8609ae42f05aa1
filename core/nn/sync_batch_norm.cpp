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

// Applies the synchronised normalisation; its backward issues the one backward all-reduce.
// Inputs: x, weight, bias (undefined without affine), mean and invstd (global, compute dtype),
// and `anchor`, an empty tensor requiring grad that keeps this rank in the backward pass when
// another rank needs gradients but this one's inputs do not.
struct SyncBatchNormFunction : torch::autograd::Function<SyncBatchNormFunction> {
  // LibTorch 1.13 cannot record undefined tensor inputs, so absent weight/bias/anchor arrive as
  // empty placeholders and `affine` says which case applies.
  static Tensor forward(AutogradContext* ctx, const Tensor& x, const Tensor& weight,
                        const Tensor& bias, const Tensor& mean, const Tensor& var,
                        const Tensor& invstd, const Tensor& anchor, bool affine, double eps,
                        double globalCount, std::shared_ptr<dist::ProcessGroup> group) {
    (void)anchor;
    ctx->save_for_backward({x, weight, mean, invstd});
    ctx->saved_data["count"] = globalCount;
    ctx->saved_data["affine"] = affine;
    ctx->saved_data["x_needs_grad"] = x.requires_grad();
    ctx->saved_data["group"] =
        c10::IValue::make_capsule(c10::make_intrusive<GroupCapsule>(std::move(group)));
    return affine ? normalise(x, weight, bias, mean, var, eps)
                  : normalise(x, Tensor(), Tensor(), mean, var, eps);
  }

  static variable_list backward(AutogradContext* ctx, variable_list gradOutputs) {
    const auto saved = ctx->get_saved_variables();
    const Tensor& x = saved[0];
    const bool affine = ctx->saved_data["affine"].toBool();
    const Tensor weight = affine ? saved[1] : Tensor();
    const Tensor& mean = saved[2];
    const Tensor& invstd = saved[3];
    const double count = ctx->saved_data["count"].toDouble();
    auto group =
        c10::static_intrusive_pointer_cast<GroupCapsule>(ctx->saved_data["group"].toCapsule())
            ->group;

    const auto type = computeType(x);
    const Tensor dy =
        gradOutputs[0].defined() ? gradOutputs[0].to(type) : torch::zeros_like(x, type);
    const Tensor xc = x.to(type);

    // This rank's sums of dy and dy*(x-mean) in one fused pass: with the global mean and invstd
    // as the "saved" statistics, BatchNorm's own backward yields sum(dy*(x-mean))*invstd and
    // sum(dy) as its weight and bias gradients.
    // (Its CPU kernel divides by the element count, so an empty rank contributes zeros itself.)
    Tensor sumDyXmuInvstd = torch::zeros_like(mean);
    Tensor sumDy = torch::zeros_like(mean);
    if (x.numel() > 0) {
      const auto sums = torch::native_batch_norm_backward(
          dy, xc, Tensor(), Tensor(), Tensor(), mean, invstd, true, 0.0, {false, true, true});
      sumDyXmuInvstd = std::get<1>(sums);
      sumDy = std::get<2>(sums);
    }

    // Every rank issues this all-reduce, including ranks with no samples.
    Tensor payload = torch::cat({sumDy, sumDyXmuInvstd}).to(torch::kDouble).contiguous();
    group->allReduceSumSmall(payload);
    const int64_t channels = x.size(1);
    const Tensor meanDy = (payload.slice(0, 0, channels) / count).to(type);
    const Tensor meanDyXmuInvstd = (payload.slice(0, channels) / count).to(type);

    Tensor gradX;
    if (ctx->saved_data["x_needs_grad"].toBool()) {
      // dx = w*invstd * (dy - mean(dy) - (x-mean)*invstd * mean(dy*(x-mean))*invstd), global
      // means; (x - mean) is formed first so a large mean does not cancel digits away.
      const Tensor scale = weight.defined() ? invstd * weight.to(type) : invstd;
      gradX =
          inputGradient(dy, xc, mean, invstd * meanDyXmuInvstd, meanDy, scale).to(x.scalar_type());
    }
    Tensor gradWeight, gradBias;
    if (affine) {
      gradWeight = sumDyXmuInvstd.to(weight.scalar_type());
      gradBias = sumDy.to(weight.scalar_type());
    }
    return {gradX,    gradWeight, gradBias, Tensor(), Tensor(), Tensor(),
            Tensor(), Tensor(),   Tensor(), Tensor(), Tensor()};
  }

  // y = (x - mean) / sqrt(var + eps) * weight + bias with the given (global) statistics: the
  // fused eval-mode BatchNorm kernel, one pass over x.
  static Tensor normalise(const Tensor& x, const Tensor& weight, const Tensor& bias,
                          const Tensor& mean, const Tensor& var, double eps) {
    return torch::batch_norm(x, weight, bias, mean, var, false, 0.0, eps,
                             at::globalContext().userEnabledCuDNN());
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

Tensor SyncBatchNorm2dImpl::forward(const Tensor& x) {
  TORCH_CHECK(x.dim() == 4, "SyncBatchNorm2d: expected input [N, C, H, W], got ", x.sizes());
  TORCH_CHECK(x.size(1) == options.num_features(), "SyncBatchNorm2d: expected ",
              options.num_features(), " channels, got ", x.size(1));
  const bool tracked = options.track_running_stats();
  const bool useBatchStats = is_training() || !tracked;
  lastGlobalMean_ = Tensor();
  lastGlobalVar_ = Tensor();

  if (!useBatchStats)  // eval: running statistics, no communication
    return torch::batch_norm(x, weight, bias, running_mean, running_var, false, 0.0, options.eps(),
                             at::globalContext().userEnabledCuDNN());
  if (is_training() && group_ && group_->worldSize() > 1) return forwardSynchronized(x);

  const double momentum = (is_training() && tracked) ? momentumForThisStep() : 0.0;
  return torch::batch_norm(x, weight, bias, tracked ? running_mean : Tensor(),
                           tracked ? running_var : Tensor(), true, momentum, options.eps(),
                           at::globalContext().userEnabledCuDNN());
}

Tensor SyncBatchNorm2dImpl::forwardSynchronized(const Tensor& x) {
  const int64_t channels = x.size(1);
  const int64_t localCount = channels > 0 ? x.numel() / channels : 0;
  const bool needsGrad = torch::GradMode::is_enabled() &&
                         (x.requires_grad() || (weight.defined() && weight.requires_grad()) ||
                          (bias.defined() && bias.requires_grad()));

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
  Tensor payload = torch::cat(
      {sum, sumSquares,
       torch::tensor({static_cast<double>(localCount), needsGrad ? 1.0 : 0.0}, doubleOpts)});
  group_->allReduceSumSmall(payload);

  const Tensor flags = payload.slice(0, 2 * channels).cpu();
  const double globalCount = flags[0].item<double>();
  const bool anyRankNeedsGrad = flags[1].item<double>() > 0;
  TORCH_CHECK(globalCount > 1, "SyncBatchNorm2d: expected more than 1 value per channel across ",
              group_->worldSize(), " ranks when training, got ", globalCount);

  const Tensor mean = payload.slice(0, 0, channels) / globalCount;
  const Tensor var =
      (payload.slice(0, channels, 2 * channels) / globalCount - mean * mean).clamp_min(0);
  const Tensor invstd = (var + options.eps()).rsqrt();
  lastGlobalMean_ = mean;
  lastGlobalVar_ = var;

  if (options.track_running_stats()) {
    torch::NoGradGuard noGrad;
    const double momentum = momentumForThisStep();
    const Tensor unbiasedVar = var * (globalCount / (globalCount - 1));
    running_mean.mul_(1 - momentum).add_(mean.to(running_mean.scalar_type()), momentum);
    running_var.mul_(1 - momentum).add_(unbiasedVar.to(running_var.scalar_type()), momentum);
  }

  // Statistics in the compute type: float for half/bfloat16 inputs, else the input's own.
  const auto type = computeType(x);
  const Tensor meanT = mean.to(type);
  const Tensor varT = var.to(type);
  const Tensor invstdT = invstd.to(type);
  if (!anyRankNeedsGrad) {
    torch::NoGradGuard noGrad;
    return SyncBatchNormFunction::normalise(x, weight, bias, meanT, varT, options.eps());
  }
  // A rank whose own inputs need no gradient still joins the backward all-reduce: the anchor
  // puts this layer into its autograd graph.
  const auto placeholder = [] { return torch::empty({0}); };
  const bool affine = weight.defined();
  const Tensor anchor = needsGrad ? placeholder() : placeholder().requires_grad_(true);
  return SyncBatchNormFunction::apply(x, affine ? weight : placeholder(),
                                      affine ? bias : placeholder(), meanT, varT, invstdT, anchor,
                                      affine, options.eps(), globalCount, group_);
}

}  // namespace syncbn::nn
