#include "nn/bn_statistics_probe.h"

#include <torch/torch.h>

#include <cmath>
#include <limits>
#include <optional>

#include "dist/process_group.h"
#include "nn/norm.h"

namespace syncbn::nn {
namespace {

using torch::Tensor;

Tensor bufferOf(torch::nn::Module& module, const std::string& name) {
  for (const auto& b : module.named_buffers(false))
    if (b.key() == name) return b.value();
  return {};
}

// Every layer's values side by side: per-channel tensors of all layers concatenated ([T], T the
// channels of all layers), per-layer ones [L]; float64 on one device. Layer l owns channels
// [offset_l, offset_l + C_l).
struct Columns {
  std::vector<std::string> names;
  std::vector<int64_t> channels;
  Tensor layerOfChannel;              // [T] int64: the layer each channel belongs to
  Tensor channelCounts;               // [L]: C_l
  Tensor count, images, hasRunning;   // [L]
  Tensor countPerChannel, eps;        // [T]
  Tensor mean, var;                   // [T] local batch statistics (zeros without values)
  Tensor normMean, normSd;            // [T] what the layers normalised with: mean, sqrt(var + eps)
  Tensor runningMean, runningVar;     // [T] before the pass (0 and 1 where a layer keeps none)

  // Per layer, the mean over its channels of a [T] tensor.
  Tensor layerMean(const Tensor& perChannel) const {
    return torch::zeros_like(channelCounts).index_add_(0, layerOfChannel, perChannel) /
           channelCounts;
  }
};

Columns gather(const std::vector<std::pair<std::string, std::shared_ptr<Norm2dImpl>>>& norms,
               torch::Device device) {
  const auto doubles = torch::TensorOptions().dtype(torch::kDouble).device(device);
  std::vector<Tensor> mean, var, normMean, normVar, runningMean, runningVar, eps, layerOf;
  std::vector<double> count, images, hasRunning, channels;
  Columns out;
  for (std::size_t i = 0; i < norms.size(); ++i) {
    Norm2dImpl& norm = *norms[i].second;
    const int64_t c = norm.channels();
    BatchStatistics stats;
    if (const auto& recorded = norm.lastBatchStatistics()) {
      stats = *recorded;
    } else {
      // The layer did not run in the armed pass on this rank: no values, its current buffers.
      if (const Tensor rm = bufferOf(norm.layer(), "running_mean"); rm.defined())
        stats.runningMean = rm.detach();
      if (const Tensor rv = bufferOf(norm.layer(), "running_var"); rv.defined())
        stats.runningVar = rv.detach();
    }
    const auto column = [&](const Tensor& t, double fill) {
      return t.defined() ? t.to(device, torch::kDouble) : torch::full({c}, fill, doubles);
    };
    const double layerEps = stats.eps > 0 ? stats.eps : norm.normOptions().eps;
    const bool running = stats.runningMean.defined() && stats.runningVar.defined();
    out.names.push_back(norms[i].first);
    out.channels.push_back(c);
    channels.push_back(static_cast<double>(c));
    count.push_back(static_cast<double>(stats.count));
    images.push_back(static_cast<double>(stats.images));
    hasRunning.push_back(running ? 1.0 : 0.0);
    mean.push_back(column(stats.mean, 0.0));
    var.push_back(column(stats.var, 0.0));
    normMean.push_back(column(stats.normMean.defined() ? stats.normMean : stats.mean, 0.0));
    normVar.push_back(column(stats.normVar.defined() ? stats.normVar : stats.var, 0.0));
    runningMean.push_back(column(running ? stats.runningMean : Tensor(), 0.0));
    runningVar.push_back(column(running ? stats.runningVar : Tensor(), 1.0));
    eps.push_back(torch::full({c}, layerEps, doubles));
    layerOf.push_back(torch::full({c}, static_cast<int64_t>(i),
                                  torch::TensorOptions().dtype(torch::kLong).device(device)));
  }
  const auto vector = [&](const std::vector<double>& v) {
    return torch::tensor(v, torch::kDouble).to(device);
  };
  out.layerOfChannel = torch::cat(layerOf);
  out.channelCounts = vector(channels);
  out.count = vector(count);
  out.images = vector(images);
  out.hasRunning = vector(hasRunning);
  out.countPerChannel = out.count.index_select(0, out.layerOfChannel);
  out.eps = torch::cat(eps);
  out.mean = torch::cat(mean);
  out.var = torch::cat(var);
  out.normMean = torch::cat(normMean);
  out.normSd = (torch::cat(normVar) + out.eps).sqrt();
  out.runningMean = torch::cat(runningMean);
  out.runningVar = torch::cat(runningVar);
  return out;
}

// Population std over P values from the sums of their differences to a reference value.
// Identical values equal to the reference give exactly 0.
Tensor spreadFromShiftedSums(const Tensor& sum, const Tensor& sumSquares, const Tensor& present) {
  const Tensor p = present.clamp_min(1);
  return (sumSquares / p - (sum / p).pow(2)).clamp_min(0).sqrt();
}

}  // namespace

BnStatisticsProbe::BnStatisticsProbe(torch::nn::Module& model,
                                     std::shared_ptr<dist::ProcessGroup> group)
    : model_(model), group_(std::move(group)) {}

void BnStatisticsProbe::arm() {
  for (const auto& [name, norm] : normLayers(model_))
    norm->setRecordBatchStatistics(true);
}

std::vector<LayerStatistics> BnStatisticsProbe::collect() {
  std::vector<std::pair<std::string, std::shared_ptr<Norm2dImpl>>> norms;
  for (auto& [name, norm] : normLayers(model_))
    if (norm->kind() != NormKind::GroupNorm) norms.emplace_back(name, norm);
  if (norms.empty()) return {};
  // The collectives run where the statistics are (CUDA tensors for NCCL).
  std::optional<torch::Device> device;
  for (const auto& [name, norm] : norms)
    if (const auto& stats = norm->lastBatchStatistics(); stats && !device)
      device = stats->mean.device();
  for (const auto& p : model_.parameters())
    if (!device) device = p.device();
  const Columns l = gather(norms, device.value_or(torch::kCPU));
  for (const auto& [name, norm] : norms)
    norm->setRecordBatchStatistics(false);

  const bool distributed = group_ && group_->worldSize() > 1;
  const int64_t layers = static_cast<int64_t>(norms.size());
  const int64_t t = l.mean.size(0);
  const auto slice = [layers, t](const Tensor& payload, int k) {  // [L | T | T | ...]
    return payload.slice(0, layers + k * t, layers + (k + 1) * t);
  };

  // 1. Sums for the global variance, and rank 0's values as the reference every rank shifts by
  //    (the others add zeros, so the sums are rank 0's values exactly). Where rank 0 had no
  //    values its running statistics, which lie near the data too, serve as reference.
  const double keep = !distributed || group_->rank() == 0 ? 1.0 : 0.0;
  const Tensor own = (l.countPerChannel > 0).to(torch::kDouble);
  const Tensor runningSd = (l.runningVar + l.eps).sqrt();
  Tensor sums = torch::cat({l.count, l.mean * l.countPerChannel,
                            (l.var + l.mean * l.mean) * l.countPerChannel,
                            keep * torch::where(own > 0, l.normMean, l.runningMean),
                            keep * torch::where(own > 0, l.normSd, runningSd),
                            keep * torch::where(own > 0, l.mean, l.runningMean)});
  if (distributed) group_->allReduceSum(sums);

  // 2. Sums of the differences to the reference over the ranks with values.
  const Tensor present = (l.count > 0).to(torch::kDouble);
  const Tensor dMean = (l.normMean - slice(sums, 2)) * own;
  const Tensor dSd = (l.normSd - slice(sums, 3)) * own;
  const Tensor dLocal = (l.mean - slice(sums, 4)) * own;
  Tensor spreads =
      torch::cat({present, dMean, dMean * dMean, dSd, dSd * dSd, dLocal, dLocal * dLocal});
  if (distributed) group_->allReduceSum(spreads);

  // 3. Each rank's per-layer figures, [7, L]: count, images, mean, var, noise, running mean and
  //    running variance (noise 0 without values, NaN without running statistics).
  const Tensor z = (((l.normMean - l.runningMean) / runningSd).pow(2) +
                    ((l.normSd - runningSd) / runningSd).pow(2))
                       .sqrt();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const Tensor withoutRunning = torch::full_like(l.count, nan);
  const Tensor noise = torch::where(l.hasRunning > 0, l.layerMean(z), withoutRunning);
  const Tensor mine = torch::stack({l.count, l.images, l.layerMean(l.mean), l.layerMean(l.var),
                                    torch::where(l.count > 0, noise, torch::zeros_like(noise)),
                                    torch::where(l.hasRunning > 0, l.layerMean(l.runningMean),
                                                 withoutRunning),
                                    torch::where(l.hasRunning > 0, l.layerMean(l.runningVar),
                                                 withoutRunning)});
  std::vector<Tensor> perRank{mine};
  if (distributed) perRank = group_->allGather(mine);
  const Tensor all = torch::stack(perRank).to(torch::kCPU).contiguous();  // [W, 7, L]

  // The layer figures, from the sums every rank now has.
  const Tensor total = sums.slice(0, 0, layers).index_select(0, l.layerOfChannel);
  const Tensor withValues = spreads.slice(0, 0, layers).index_select(0, l.layerOfChannel);
  const Tensor globalMean = slice(sums, 0) / total.clamp_min(1);
  const Tensor globalVar = (slice(sums, 1) / total.clamp_min(1) - globalMean.pow(2)).clamp_min(0);
  const Tensor disagreement =
      (spreadFromShiftedSums(slice(spreads, 0), slice(spreads, 1), withValues) +
       spreadFromShiftedSums(slice(spreads, 2), slice(spreads, 3), withValues)) /
      (globalVar + l.eps).sqrt();
  const Tensor divergence =
      spreadFromShiftedSums(slice(spreads, 4), slice(spreads, 5), withValues) /
      (globalVar + 1e-12).sqrt();
  const Tensor layerTotals = sums.slice(0, 0, layers).to(torch::kCPU);
  const Tensor layerDisagreement = l.layerMean(disagreement).to(torch::kCPU).contiguous();
  const Tensor layerDivergence = l.layerMean(divergence).to(torch::kCPU).contiguous();

  std::vector<LayerStatistics> out;
  const int64_t ranks = all.size(0);
  const auto table = all.accessor<double, 3>();
  const auto totals = layerTotals.accessor<double, 1>();
  const auto disagreements = layerDisagreement.accessor<double, 1>();
  const auto divergences = layerDivergence.accessor<double, 1>();
  for (int64_t i = 0; i < layers; ++i) {
    LayerStatistics stats;
    stats.layer = l.names[static_cast<std::size_t>(i)];
    const bool any = totals[i] > 0;
    stats.disagreement = any ? disagreements[i] : 0.0;
    stats.divergence = any ? divergences[i] : 0.0;
    double noiseSum = 0;
    int ranksWithValues = 0;
    for (int64_t r = 0; r < ranks; ++r) {
      const double count = table[r][0][i];
      stats.rankCount.push_back(static_cast<int64_t>(std::llround(count)));
      stats.rankImages.push_back(static_cast<int64_t>(std::llround(table[r][1][i])));
      stats.rankMean.push_back(table[r][2][i]);
      stats.rankVar.push_back(table[r][3][i]);
      stats.rankNoise.push_back(table[r][4][i]);
      stats.rankRunningMean.push_back(table[r][5][i]);
      stats.rankRunningVar.push_back(table[r][6][i]);
      if (count > 0) {
        noiseSum += table[r][4][i];
        ++ranksWithValues;
      }
    }
    stats.noise = ranksWithValues > 0 ? noiseSum / ranksWithValues : 0.0;
    out.push_back(std::move(stats));
  }
  return out;
}

}  // namespace syncbn::nn
