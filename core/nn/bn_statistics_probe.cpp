#include "nn/bn_statistics_probe.h"

#include <torch/torch.h>

#include "dist/process_group.h"
#include "nn/norm.h"

namespace syncbn::nn {

BnStatisticsProbe::BnStatisticsProbe(torch::nn::Module& model,
                                     std::shared_ptr<dist::ProcessGroup> group)
    : model_(model), group_(std::move(group)) {}

void BnStatisticsProbe::arm() {
  for (const auto& [name, norm] : normLayers(model_))
    norm->setRecordBatchStatistics(true);
}

std::vector<LayerStatistics> BnStatisticsProbe::collect() {
  const auto layers = normLayers(model_);
  // Pack [mean(C), var(C), count] per layer; a rank with no samples sends zeros and count 0.
  std::vector<torch::Tensor> parts;
  torch::Device device = torch::kCPU;
  for (const auto& [name, norm] : layers) {
    const auto& stats = norm->lastBatchStatistics();
    const int64_t c = norm->channels();
    if (stats) device = stats->mean.device();
    parts.push_back(stats ? stats->mean : torch::zeros({c}));
    parts.push_back(stats ? stats->var : torch::zeros({c}));
    parts.push_back(torch::full({1}, stats ? static_cast<double>(stats->count) : 0.0));
    norm->setRecordBatchStatistics(false);
  }
  for (auto& part : parts)
    part = part.to(device, torch::kFloat);
  const torch::Tensor local = parts.empty() ? torch::zeros({0}) : torch::cat(parts);

  std::vector<torch::Tensor> perRank{local};
  if (group_ && group_->worldSize() > 1) perRank = group_->allGather(local);
  const torch::Tensor all = torch::stack(perRank).to(torch::kCPU, torch::kDouble);  // [W, total]

  std::vector<LayerStatistics> out;
  int64_t offset = 0;
  for (const auto& [name, norm] : layers) {
    const int64_t c = norm->channels();
    const torch::Tensor means = all.slice(1, offset, offset + c);                   // [W, C]
    const torch::Tensor vars = all.slice(1, offset + c, offset + 2 * c);            // [W, C]
    const torch::Tensor counts = all.slice(1, offset + 2 * c, offset + 2 * c + 1);  // [W, 1]
    offset += 2 * c + 1;

    LayerStatistics stats;
    stats.layer = name;
    const double total = counts.sum().item<double>();
    if (total > 0) {
      const torch::Tensor weights = counts / total;
      const torch::Tensor globalMean = (weights * means).sum(0);
      const torch::Tensor globalVar = (weights * (vars + (means - globalMean).pow(2))).sum(0);
      const torch::Tensor present = (counts.squeeze(1) > 0);
      const torch::Tensor presentMeans = means.index({present});
      const torch::Tensor spread = presentMeans.size(0) > 1
                                       ? presentMeans.std(0, /*unbiased=*/false)
                                       : torch::zeros({c}, torch::kDouble);
      stats.divergence = (spread / (globalVar + 1e-12).sqrt()).mean().item<double>();
    }
    for (int64_t r = 0; r < all.size(0); ++r) {
      stats.rankMean.push_back(means[r].mean().item<double>());
      stats.rankVar.push_back(vars[r].mean().item<double>());
    }
    out.push_back(std::move(stats));
  }
  return out;
}

}  // namespace syncbn::nn
