// The bn_stats message: summaries over every layer, the bounded list of layers, and the encoded
// size for the largest model at many ranks.
#include <gtest/gtest.h>

#include <cmath>
#include <iostream>
#include <string>
#include <vector>

#include "common/protocol.h"
#include "model/detection_model.h"
#include "nn/bn_statistics_probe.h"
#include "nn/norm.h"
#include "train/bn_stats_message.h"

namespace syncbn::train {
namespace {

nn::LayerStatistics layer(const std::string& name, double disagreement, double noise, int ranks) {
  nn::LayerStatistics l;
  l.layer = name;
  l.disagreement = disagreement;
  l.noise = noise;
  l.divergence = disagreement * 2;
  for (int r = 0; r < ranks; ++r) {
    l.rankMean.push_back(0.1 * r);
    l.rankVar.push_back(1 + r);
    l.rankNoise.push_back(noise);
    l.rankRunningMean.push_back(0.05);
    l.rankRunningVar.push_back(0.9);
    l.rankCount.push_back(64 * (r + 1));
    l.rankImages.push_back(r + 1);
  }
  return l;
}

std::vector<std::string> namesOf(const protocol::BnStats& message) {
  std::vector<std::string> names;
  for (const auto& l : message.layers)
    names.push_back(l.layer);
  return names;
}

TEST(BnStatsMessage, ListsEveryLayerWithSummariesWhenSmall) {
  const std::vector<nn::LayerStatistics> layers{layer("a", 0.5, 0.2, 2), layer("b", 0.1, 0.9, 2),
                                                layer("c", 0.3, 0.4, 2),
                                                layer("d", 0.7, 0.1, 2)};
  const protocol::BnStats m = makeBnStatsMessage(41, layers);
  EXPECT_EQ(m.iteration, 41);
  EXPECT_EQ(m.layers_total, 4);
  EXPECT_EQ(namesOf(m), (std::vector<std::string>{"a", "b", "c", "d"}));
  EXPECT_EQ(m.disagreement_max, 0.7);
  EXPECT_DOUBLE_EQ(m.disagreement_median, (0.3 + 0.5) / 2);  // even count: the two middle ones
  EXPECT_EQ(m.noise_max, 0.9);
  EXPECT_DOUBLE_EQ(m.noise_median, (0.2 + 0.4) / 2);
  EXPECT_EQ(m.worst_layer, "b");
  EXPECT_EQ(m.rank_images, (std::vector<int>{1, 2}));
  EXPECT_EQ(m.layers[1].noise, 0.9);
  EXPECT_EQ(m.layers[1].rank_running_var, (std::vector<double>{0.9, 0.9}));
  EXPECT_EQ(m.layers[3].divergence, 1.4);

  const protocol::BnStats odd = makeBnStatsMessage(0, {layers[0], layers[1], layers[2]});
  EXPECT_EQ(odd.noise_median, 0.4);
  EXPECT_EQ(odd.disagreement_median, 0.3);
}

TEST(BnStatsMessage, RoundsToSixSignificantDigits) {
  nn::LayerStatistics l = layer("x", 0.123456789, 1.0 / 3.0, 1);
  l.rankMean = {-1.23456789e-5};
  const protocol::BnStats m = makeBnStatsMessage(0, {l});
  EXPECT_EQ(m.layers[0].disagreement, 0.123457);
  EXPECT_EQ(m.layers[0].noise, 0.333333);
  EXPECT_EQ(m.layers[0].rank_mean[0], -1.23457e-5);
  EXPECT_EQ(makeBnStatsMessage(0, {layer("z", 0.0, 0.0, 1)}).layers[0].disagreement, 0.0);
}

TEST(BnStatsMessage, KeepsTheNoisiestLayersInModelOrderWhenLarge) {
  // 100 layers x 64 ranks = 6400 values > 4096: the 4096 / 64 = 64 noisiest layers.
  std::vector<nn::LayerStatistics> layers;
  for (int i = 0; i < 100; ++i)
    layers.push_back(layer("layer" + std::to_string(i), 0.01 * i, (i * 37) % 100 / 100.0, 64));
  const protocol::BnStats m = makeBnStatsMessage(0, layers);
  EXPECT_EQ(m.layers_total, 100);
  ASSERT_EQ(m.layers.size(), 64u);
  double lowestKept = 1, highestDropped = 0;
  std::vector<bool> kept(100, false);
  for (const auto& l : m.layers)
    kept[static_cast<std::size_t>(std::stoi(l.layer.substr(5)))] = true;
  for (int i = 0; i < 100; ++i) {
    const double noise = layers[static_cast<std::size_t>(i)].noise;
    if (kept[static_cast<std::size_t>(i)])
      lowestKept = std::min(lowestKept, noise);
    else
      highestDropped = std::max(highestDropped, noise);
  }
  EXPECT_GE(lowestKept, highestDropped);
  for (std::size_t i = 1; i < m.layers.size(); ++i)  // model order
    EXPECT_LT(std::stoi(m.layers[i - 1].layer.substr(5)), std::stoi(m.layers[i].layer.substr(5)));
  // The summaries still cover all 100.
  EXPECT_EQ(m.disagreement_max, 0.99);
  EXPECT_EQ(m.noise_max, 0.99);

  // However many ranks, at least 8 layers.
  std::vector<nn::LayerStatistics> wide;
  for (int i = 0; i < 20; ++i)
    wide.push_back(layer("w" + std::to_string(i), 0, i / 20.0, 1024));
  const protocol::BnStats many = makeBnStatsMessage(0, wide);
  ASSERT_EQ(many.layers.size(), 8u);
  EXPECT_EQ(many.layers.front().layer, "w12");
  EXPECT_EQ(many.worst_layer, "w19");
  EXPECT_EQ(many.rank_images.size(), 1024u);
}

// Numbers of the longest form 6 significant digits take: "-1.23457e-05".
nn::LayerStatistics widest(const std::string& name, int ranks) {
  nn::LayerStatistics l;
  l.layer = name;
  l.disagreement = l.noise = l.divergence = -1.234567891e-5;
  for (std::vector<double>* list : {&l.rankMean, &l.rankVar, &l.rankNoise, &l.rankRunningMean,
                                    &l.rankRunningVar})
    list->assign(static_cast<std::size_t>(ranks), -1.234567891e-5);
  l.rankCount.assign(static_cast<std::size_t>(ranks), 123456);
  l.rankImages.assign(static_cast<std::size_t>(ranks), 65536);
  return l;
}

std::size_t encodedSize(int ranks, const std::vector<std::string>& names) {
  std::vector<nn::LayerStatistics> layers;
  for (const auto& name : names)
    layers.push_back(widest(name, ranks));
  return protocol::encode(makeBnStatsMessage(1LL << 40, layers)).size();
}

TEST(BnStatsMessage, YoloV8xAtSixtyFourRanksStaysFarBelowTheLineLimit) {
  auto yolo = model::buildDetectionModel("yolov8x.yaml", "", 80);
  std::vector<std::string> names;
  for (const auto& [name, norm] : nn::normLayers(*yolo))
    names.push_back(name);
  ASSERT_GT(names.size(), 64u);
  const std::size_t at64 = encodedSize(64, names);
  EXPECT_LT(at64, protocol::kMaxLineBytes / 2) << at64;
  // The lower bound of 8 layers makes the line grow with the ranks beyond 512 of them.
  EXPECT_LT(encodedSize(1024, names), protocol::kMaxLineBytes);
  std::cout << "bn_stats of yolov8x (" << names.size() << " BatchNorm layers): " << at64
            << " bytes at 64 ranks, " << encodedSize(512, names) << " at 512, "
            << encodedSize(1024, names) << " at 1024\n";
}

}  // namespace
}  // namespace syncbn::train
