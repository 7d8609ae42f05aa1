// BN statistics probe: how far apart the ranks' BatchNorm batch statistics are, per layer. With
// plain BN and tiny per-rank batches each rank normalises with different numbers; this makes that
// visible (the GUI's per-rank BN view, and the advice "ranks' BN statistics diverge").
#pragma once

#include <torch/nn/module.h>

#include <memory>
#include <string>
#include <vector>

namespace syncbn::dist {
class ProcessGroup;
}

namespace syncbn::nn {

struct LayerStatistics {
  std::string layer;
  // Mean over channels of (cross-rank std of the ranks' batch means / global std): 0 when every
  // rank sees the same statistics; ~1 when ranks' means differ by a whole standard deviation.
  double divergence = 0;
  std::vector<double> rankMean;  // per rank: mean over channels of its batch mean
  std::vector<double> rankVar;   // per rank: mean over channels of its batch variance
};

class BnStatisticsProbe {
 public:
  BnStatisticsProbe(torch::nn::Module& model, std::shared_ptr<dist::ProcessGroup> group);

  // Records the statistics of the next forward pass (call before it on every rank).
  void arm();

  // Collective: every rank calls it after the armed forward; every rank gets the summary. One
  // all-gather of 2C+1 floats per layer and rank, all layers in one message.
  std::vector<LayerStatistics> collect();

 private:
  torch::nn::Module& model_;
  std::shared_ptr<dist::ProcessGroup> group_;
};

}  // namespace syncbn::nn
