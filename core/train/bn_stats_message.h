// The bn_stats progress message from the BN statistics probe's per-layer figures: summaries over
// every layer, and a bounded list of layers so the line stays far below the protocol's 1 MiB.
#pragma once

#include <vector>

#include "common/protocol.h"

namespace syncbn::nn {
struct LayerStatistics;
}

namespace syncbn::train {

// Layers x ranks listed at most (each layer carries 5 lists of one number per rank).
inline constexpr int kBnStatsMaxValues = 4096;
// Layers listed at least, however many ranks.
inline constexpr int kBnStatsMinLayers = 8;

// `iteration`: the index of the probed iteration. Every layer when layers x ranks <=
// kBnStatsMaxValues; otherwise the max(kBnStatsMinLayers, kBnStatsMaxValues / ranks) layers with
// the highest noise (ties: the earlier layer), in model order. The summaries (max and median of
// disagreement and noise, worst layer by noise; median: the middle value, or the mean of the two
// middle ones) and layers_total always cover every layer. rank_images[r] is the most images rank
// r fed any layer. Numbers are rounded to 6 significant digits.
protocol::BnStats makeBnStatsMessage(long long iteration,
                                     const std::vector<nn::LayerStatistics>& layers,
                                     int maxValues = kBnStatsMaxValues);

}  // namespace syncbn::train
