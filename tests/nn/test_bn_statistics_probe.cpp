// The BN statistics probe against hand and float64 computations on fixed tensors, with ranks as
// threads over real Gloo collectives: BN and SyncBN with different inputs per rank, uneven
// batches, a rank without images, frozen BN and running statistics set by hand.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <numeric>

#include "nn/bn_statistics_probe.h"
#include "nn/norm.h"
#include "rank_threads.h"

namespace syncbn::nn {
namespace {

using syncbn::testing::runRanks;
using torch::Tensor;

constexpr double kEps = 1e-3;  // NormOptions' default, Ultralytics' BatchNorm eps

Tensor bufferOf(Norm2d& norm, const std::string& name) {
  for (const auto& b : norm->named_buffers())
    if (b.key() == "layer." + name) return b.value();
  throw std::logic_error("no buffer " + name);
}

void setRunning(Norm2d& norm, const std::vector<double>& mean, const std::vector<double>& var) {
  torch::NoGradGuard noGrad;
  bufferOf(norm, "running_mean").copy_(torch::tensor(mean, torch::kDouble));
  bufferOf(norm, "running_var").copy_(torch::tensor(var, torch::kDouble));
}

// Rank r's values as one image per value: [N, 1, 1, 1].
Tensor images(const std::vector<double>& values) {
  return torch::tensor(values, torch::kDouble).view({-1, 1, 1, 1});
}

// ---- The float64 oracle: the definitions of docs/syncbn.md, in plain loops ----

enum class Normaliser { Local, Global, Running };

struct Oracle {
  double disagreement = 0, noise = 0, divergence = 0;
  std::vector<double> rankNoise;
};

double populationStd(const std::vector<double>& values) {
  if (values.empty()) return 0;
  double mean = 0;
  for (const double v : values)
    mean += v / static_cast<double>(values.size());
  double sum = 0;
  for (const double v : values)
    sum += (v - mean) * (v - mean);
  return std::sqrt(sum / static_cast<double>(values.size()));
}

// inputs[r]: rank r's [N, C, H, W] double input; running[r]: its running mean and var per channel.
Oracle oracle(const std::vector<Tensor>& inputs, Normaliser normaliser,
              const std::vector<std::pair<std::vector<double>, std::vector<double>>>& running) {
  const std::size_t ranks = inputs.size();
  const int64_t channels = inputs[0].size(1);
  Oracle out;
  out.rankNoise.assign(ranks, 0.0);
  std::vector<double> disagreement, divergence;
  for (int64_t c = 0; c < channels; ++c) {
    std::vector<std::vector<double>> values(ranks);
    std::vector<double> all;
    for (std::size_t r = 0; r < ranks; ++r) {
      const Tensor x = inputs[r].select(1, c).contiguous();
      const double* data = x.data_ptr<double>();
      values[r].assign(data, data + x.numel());
      all.insert(all.end(), values[r].begin(), values[r].end());
    }
    const auto meanOf = [](const std::vector<double>& v) {
      return std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
    };
    const auto varOf = [&](const std::vector<double>& v) {
      const double m = meanOf(v);
      double s = 0;
      for (const double x : v)
        s += (x - m) * (x - m);
      return s / static_cast<double>(v.size());
    };
    const double globalMean = meanOf(all), globalVar = varOf(all);
    std::vector<double> mus, sds, locals;
    for (std::size_t r = 0; r < ranks; ++r) {
      if (values[r].empty()) continue;
      const double rm = running[r].first[static_cast<std::size_t>(c)];
      const double rv = running[r].second[static_cast<std::size_t>(c)];
      double mu = meanOf(values[r]), var = varOf(values[r]);
      if (normaliser == Normaliser::Global) mu = globalMean, var = globalVar;
      if (normaliser == Normaliser::Running) mu = rm, var = rv;
      mus.push_back(mu);
      sds.push_back(std::sqrt(var + kEps));
      locals.push_back(meanOf(values[r]));
      const double s = std::sqrt(rv + kEps);
      const double z = std::hypot((mu - rm) / s, (std::sqrt(var + kEps) - s) / s);
      out.rankNoise[r] += z / static_cast<double>(channels);
    }
    disagreement.push_back((populationStd(mus) + populationStd(sds)) / std::sqrt(globalVar + kEps));
    divergence.push_back(populationStd(locals) / std::sqrt(globalVar + 1e-12));
  }
  out.disagreement = std::accumulate(disagreement.begin(), disagreement.end(), 0.0) /
                     static_cast<double>(channels);
  out.divergence =
      std::accumulate(divergence.begin(), divergence.end(), 0.0) / static_cast<double>(channels);
  int present = 0;
  for (std::size_t r = 0; r < ranks; ++r)
    if (inputs[r].size(0) > 0) {
      out.noise += out.rankNoise[r];
      ++present;
    }
  out.noise /= present;
  return out;
}

// Runs one armed forward of a single Norm2d on every rank and returns rank 0's view (after
// checking every rank got the same numbers).
LayerStatistics probeOnce(NormKind kind, const std::vector<Tensor>& inputs,
                          const std::vector<std::pair<std::vector<double>, std::vector<double>>>&
                              running) {
  const int world = static_cast<int>(inputs.size());
  std::vector<std::vector<LayerStatistics>> results(inputs.size());
  runRanks(world, [&](int rank, std::shared_ptr<dist::ProcessGroup> group) {
    Norm2d norm(inputs[0].size(1), kind, NormOptions{}, group);
    torch::nn::Sequential model(norm);
    model->to(torch::kDouble);
    setRunning(norm, running[static_cast<std::size_t>(rank)].first,
               running[static_cast<std::size_t>(rank)].second);
    model->train();
    BnStatisticsProbe probe(*model, group);
    probe.arm();
    model->forward(inputs[static_cast<std::size_t>(rank)]);
    results[static_cast<std::size_t>(rank)] = probe.collect();
  });
  for (const auto& result : results) {
    EXPECT_EQ(result.size(), 1u);
    EXPECT_EQ(result[0].disagreement, results[0][0].disagreement);
    EXPECT_EQ(result[0].noise, results[0][0].noise);
    EXPECT_EQ(result[0].rankNoise, results[0][0].rankNoise);
  }
  return results[0][0];
}

void expectMatches(const LayerStatistics& s, const Oracle& o) {
  EXPECT_NEAR(s.disagreement, o.disagreement, 1e-12 * std::max(1.0, o.disagreement));
  EXPECT_NEAR(s.noise, o.noise, 1e-12 * std::max(1.0, o.noise));
  EXPECT_NEAR(s.divergence, o.divergence, 1e-12 * std::max(1.0, o.divergence));
  ASSERT_EQ(s.rankNoise.size(), o.rankNoise.size());
  for (std::size_t r = 0; r < o.rankNoise.size(); ++r)
    EXPECT_NEAR(s.rankNoise[r], o.rankNoise[r], 1e-12 * std::max(1.0, o.rankNoise[r])) << r;
  for (const double v : s.rankNoise)
    EXPECT_FALSE(std::isnan(v));
}

// Two images per rank, one channel, one pixel: rank 0 sees {0, 2} (mean 1, variance 1), rank 1
// {4, 8} (mean 6, variance 4); the union {0, 2, 4, 8} has mean 3.5 and variance 8.75. Running
// statistics set by hand: rank 0 (3, 9), rank 1 (2, 4).
const std::vector<Tensor> kHandInputs{images({0, 2}), images({4, 8})};
const std::vector<std::pair<std::vector<double>, std::vector<double>>> kHandRunning{{{3}, {9}},
                                                                                    {{2}, {4}}};

double zOf(double mu, double var, double rm, double rv) {
  const double s = std::sqrt(rv + kEps);
  return std::sqrt(std::pow((mu - rm) / s, 2) + std::pow((std::sqrt(var + kEps) - s) / s, 2));
}

TEST(BnStatisticsProbe, BatchNormDisagreementAndNoiseByHand) {
  const LayerStatistics s = probeOnce(NormKind::BatchNorm, kHandInputs, kHandRunning);
  // Each rank normalised with its own (mean, var): std over ranks of the means |1 - 6| / 2, of
  // the standard deviations |sqrt(1 + eps) - sqrt(4 + eps)| / 2, over sqrt(8.75 + eps).
  const double expected = (2.5 + (std::sqrt(4 + kEps) - std::sqrt(1 + kEps)) / 2) /
                          std::sqrt(8.75 + kEps);
  EXPECT_NEAR(s.disagreement, expected, 1e-12);
  EXPECT_NEAR(s.rankNoise[0], zOf(1, 1, 3, 9), 1e-12);
  EXPECT_NEAR(s.rankNoise[1], zOf(6, 4, 2, 4), 1e-12);
  EXPECT_NEAR(s.noise, (zOf(1, 1, 3, 9) + zOf(6, 4, 2, 4)) / 2, 1e-12);
  EXPECT_NEAR(s.divergence, 2.5 / std::sqrt(8.75), 1e-12);
  EXPECT_EQ(s.rankMean, (std::vector<double>{1, 6}));
  EXPECT_EQ(s.rankVar, (std::vector<double>{1, 4}));
  EXPECT_EQ(s.rankRunningMean, (std::vector<double>{3, 2}));  // before the pass updated them
  EXPECT_EQ(s.rankRunningVar, (std::vector<double>{9, 4}));
  EXPECT_EQ(s.rankImages, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(s.rankCount, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(s.layer, "0");
}

TEST(BnStatisticsProbe, SyncBatchNormDisagreesExactlyZeroAndItsNoiseUsesTheGlobalStatistics) {
  const LayerStatistics s = probeOnce(NormKind::SyncBatchNorm, kHandInputs, kHandRunning);
  EXPECT_EQ(s.disagreement, 0.0);  // exactly: every rank normalised with the same numbers
  EXPECT_NEAR(s.rankNoise[0], zOf(3.5, 8.75, 3, 9), 1e-12);
  EXPECT_NEAR(s.rankNoise[1], zOf(3.5, 8.75, 2, 4), 1e-12);
  EXPECT_NEAR(s.noise, (zOf(3.5, 8.75, 3, 9) + zOf(3.5, 8.75, 2, 4)) / 2, 1e-12);
  // The local view is the same as under BN: the ranks still see different images.
  EXPECT_NEAR(s.divergence, 2.5 / std::sqrt(8.75), 1e-12);
  EXPECT_EQ(s.rankMean, (std::vector<double>{1, 6}));
}

// Three channels of 2x2 pixels, values that differ per rank, channel and image.
Tensor patterned(int64_t images, double offset, double scale) {
  return torch::arange(images * 3 * 4, torch::kDouble).view({images, 3, 2, 2}).sin() * scale +
         offset;
}

TEST(BnStatisticsProbe, UnevenBatchesMatchTheFloat64Oracle) {
  const std::vector<Tensor> inputs{patterned(3, 0.5, 2.0), patterned(1, -1.0, 0.5)};
  const std::vector<std::pair<std::vector<double>, std::vector<double>>> running{
      {{0.1, 0.2, 0.3}, {1.0, 2.0, 0.5}}, {{0.1, 0.2, 0.3}, {1.0, 2.0, 0.5}}};
  for (const auto& [kind, normaliser] :
       {std::pair{NormKind::BatchNorm, Normaliser::Local},
        std::pair{NormKind::SyncBatchNorm, Normaliser::Global}}) {
    SCOPED_TRACE(toString(kind));
    const LayerStatistics s = probeOnce(kind, inputs, running);
    expectMatches(s, oracle(inputs, normaliser, running));
    EXPECT_EQ(s.rankImages, (std::vector<int64_t>{3, 1}));
    EXPECT_EQ(s.rankCount, (std::vector<int64_t>{12, 4}));
    if (kind == NormKind::SyncBatchNorm) {
      EXPECT_EQ(s.disagreement, 0.0);
    }
    if (kind == NormKind::BatchNorm) {
      EXPECT_GT(s.disagreement, 0.1);
    }
  }
}

TEST(BnStatisticsProbe, ARankWithoutImagesIsLeftOutWithoutNaN) {
  const std::vector<Tensor> inputs{patterned(2, 0.0, 1.0), patterned(0, 0.0, 1.0),
                                   patterned(2, 3.0, 0.25)};
  const std::vector<std::pair<std::vector<double>, std::vector<double>>> running(
      3, {{0.0, 0.5, 1.0}, {1.0, 1.0, 1.0}});
  for (const auto& [kind, normaliser] :
       {std::pair{NormKind::BatchNorm, Normaliser::Local},
        std::pair{NormKind::SyncBatchNorm, Normaliser::Global}}) {
    SCOPED_TRACE(toString(kind));
    const LayerStatistics s = probeOnce(kind, inputs, running);
    const Oracle expected = oracle(inputs, normaliser, running);
    expectMatches(s, expected);
    EXPECT_EQ(s.rankImages, (std::vector<int64_t>{2, 0, 2}));
    EXPECT_EQ(s.rankNoise[1], 0.0);
    EXPECT_EQ(s.rankMean[1], 0.0);
    EXPECT_EQ(s.rankRunningMean[1], 0.5);  // it still has running statistics
    EXPECT_FALSE(std::isnan(s.disagreement));
    EXPECT_FALSE(std::isnan(s.noise));
    if (kind == NormKind::SyncBatchNorm) {
      EXPECT_EQ(s.disagreement, 0.0);
    }
  }
}

TEST(BnStatisticsProbe, FrozenBatchNormNormalisesWithItsRunningStatistics) {
  const std::vector<std::pair<std::vector<double>, std::vector<double>>> running(
      2, {{0.25, -1.0, 2.0}, {0.5, 4.0, 1.5}});
  const LayerStatistics s = probeOnce(
      NormKind::FrozenBatchNorm, {patterned(2, 0.0, 1.0), patterned(3, 5.0, 3.0)}, running);
  EXPECT_EQ(s.disagreement, 0.0);
  EXPECT_EQ(s.noise, 0.0);
  EXPECT_EQ(s.rankNoise, (std::vector<double>{0, 0}));
  EXPECT_DOUBLE_EQ(s.rankRunningMean[0], (0.25 - 1.0 + 2.0) / 3);
  EXPECT_DOUBLE_EQ(s.rankRunningVar[1], (0.5 + 4.0 + 1.5) / 3);
  EXPECT_GT(s.divergence, 0.5);  // the inputs do differ
}

TEST(BnStatisticsProbe, NoiseIsZeroAtTheRunningStatisticsAndGrowsAwayFromThem) {
  // One rank: its batch has mean 1 and variance 1 ({0, 2}).
  const auto noiseWith = [](double rm, double rv) {
    return probeOnce(NormKind::BatchNorm, {images({0, 2})}, {{{rm}, {rv}}}).noise;
  };
  EXPECT_NEAR(noiseWith(1, 1), 0.0, 1e-15);
  // Mean off by one running std, variance right: z = 1.
  EXPECT_NEAR(noiseWith(1 - std::sqrt(1 + kEps), 1), 1.0, 1e-12);
  // Mean right, running variance 4x: std ratio sqrt(1+eps)/sqrt(4+eps), z = |ratio - 1|.
  EXPECT_NEAR(noiseWith(1, 4), 1 - std::sqrt((1 + kEps) / (4 + kEps)), 1e-12);
}

TEST(BnStatisticsProbe, GroupNormLayersAreLeftOut) {
  runRanks(2, [&](int rank, std::shared_ptr<dist::ProcessGroup> group) {
    torch::nn::Sequential model(Norm2d(3, NormKind::BatchNorm, NormOptions{}, group),
                                Norm2d(3, NormKind::GroupNorm, NormOptions{}, group),
                                Norm2d(3, NormKind::SyncBatchNorm, NormOptions{}, group));
    BnStatisticsProbe probe(*model, group);
    probe.arm();
    model->forward(patterned(2, rank, 1.0).to(torch::kFloat));
    const auto stats = probe.collect();
    ASSERT_EQ(stats.size(), 2u);
    EXPECT_EQ(stats[0].layer, "0");
    EXPECT_EQ(stats[1].layer, "2");
    EXPECT_EQ(stats[1].disagreement, 0.0);
    EXPECT_GT(stats[0].disagreement, 0.0);
  });
}

TEST(BnStatisticsProbe, RecordsOnlyTheArmedPass) {
  Norm2d norm(3, NormKind::BatchNorm);
  torch::nn::Sequential model(norm);
  model->forward(patterned(2, 0, 1).to(torch::kFloat));
  EXPECT_FALSE(norm->lastBatchStatistics());
  BnStatisticsProbe probe(*model, nullptr);
  probe.arm();
  model->forward(patterned(2, 0, 1).to(torch::kFloat));
  ASSERT_EQ(probe.collect().size(), 1u);
  model->forward(patterned(2, 0, 1).to(torch::kFloat));
  EXPECT_FALSE(norm->lastBatchStatistics());
}

}  // namespace
}  // namespace syncbn::nn
