// BN statistics probe: per BatchNorm-kind layer, what the ranks normalised with in one training
// forward pass and how far that is from what inference will use. docs/syncbn.md defines every
// figure; in short, for rank r and channel c with (mu_rc, var_rc) the statistics the layer
// normalised with, (rm_rc, rv_rc) its running statistics before the pass, var_glob_c the variance
// of the union of all ranks' inputs and eps the layer's:
//   disagreement = mean_c [ std_r(mu_rc) + std_r(sqrt(var_rc + eps)) ] / sqrt(var_glob_c + eps)
//                  over the ranks with values (population std): 0 exactly under SyncBN;
//   noise        = mean over ranks with values of mean_c z_rc,
//                  z_rc = |((mu_rc - rm_rc), sqrt(var_rc + eps) - s_rc)| / s_rc,
//                  s_rc = sqrt(rv_rc + eps): the train/inference mismatch PreciseBN repairs.
// GroupNorm layers have no batch statistics and are left out.
#pragma once

#include <torch/nn/module.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace syncbn::dist {
class ProcessGroup;
}

namespace syncbn::nn {

struct LayerStatistics {
  std::string layer;
  // Mean over channels of the cross-rank std of the ranks' *local* batch means over the global
  // std (sqrt(var_glob + 1e-12)), over the ranks with values. Differs whenever the ranks see
  // different images, whatever the norm; kept for older readers.
  double divergence = 0;
  double disagreement = 0;  // see the top of this file; 0 when no rank had values
  double noise = 0;         // see the top of this file; 0 when no rank had values
  // Per rank, each the mean over channels:
  std::vector<double> rankMean;         // local batch mean (0 for a rank without values)
  std::vector<double> rankVar;          // local biased batch variance (0 likewise)
  std::vector<double> rankNoise;        // mean_c z_rc (0 for a rank without values)
  std::vector<double> rankRunningMean;  // running_mean before the pass
  std::vector<double> rankRunningVar;   // running_var before the pass
  std::vector<int64_t> rankCount;       // values per channel (N*H*W) in the pass
  std::vector<int64_t> rankImages;      // images (N) in the pass
};

class BnStatisticsProbe {
 public:
  BnStatisticsProbe(torch::nn::Module& model, std::shared_ptr<dist::ProcessGroup> group);

  // Records the statistics of the next forward pass (call before it on every rank).
  void arm();

  // Collective: every rank calls it after the armed forward; every rank gets the same summary,
  // one entry per BatchNorm-kind layer in model order. Three collectives whatever the layer
  // count: an all-reduce of 5C+1 and one of 6C+1 float64 values per layer (C its channels), which
  // do not grow with the world size, and an all-gather of 7 values per layer and rank.
  std::vector<LayerStatistics> collect();

 private:
  torch::nn::Module& model_;
  std::shared_ptr<dist::ProcessGroup> group_;
};

}  // namespace syncbn::nn
