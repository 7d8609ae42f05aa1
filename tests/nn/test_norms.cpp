// Norm2d conversions, frozen BN, PreciseBN and the BN statistics probe.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "nn/bn_statistics_probe.h"
#include "nn/frozen_batch_norm.h"
#include "nn/norm.h"
#include "nn/precise_bn.h"
#include "nn/sync_batch_norm.h"
#include "rank_threads.h"

namespace syncbn::nn {
namespace {

using syncbn::testing::runRanks;
using torch::Tensor;

// conv -> norm -> SiLU, twice: a miniature of the detector's Conv blocks.
struct TinyNetImpl : torch::nn::Module {
  explicit TinyNetImpl(NormKind kind)
      : conv1(register_module("conv1",
                              torch::nn::Conv2d(torch::nn::Conv2dOptions(3, 8, 3).padding(1)))),
        norm1(register_module("norm1", Norm2d(8, kind))),
        conv2(register_module("conv2",
                              torch::nn::Conv2d(torch::nn::Conv2dOptions(8, 6, 3).padding(1)))),
        norm2(register_module("norm2", Norm2d(6, kind))) {}
  // x: [N, 3, H, W] -> [N, 6, H, W]
  Tensor forward(const Tensor& x) {
    return torch::silu(norm2(conv2(torch::silu(norm1(conv1(x))))));
  }
  torch::nn::Conv2d conv1;
  Norm2d norm1;
  torch::nn::Conv2d conv2;
  Norm2d norm2;
};
TORCH_MODULE(TinyNet);

// A net whose BN statistics and affine parameters are all non-trivial.
TinyNet trainedNet() {
  torch::manual_seed(1);
  TinyNet net(NormKind::BatchNorm);
  for (int step = 0; step < 5; ++step)
    net(torch::randn({4, 3, 8, 8}) * 2 + 1);
  torch::NoGradGuard noGrad;
  for (auto& p : net->parameters())
    p.add_(torch::randn_like(p) * 0.1);
  net->eval();
  return net;
}

Tensor findRunningMean(const Norm2d& norm) {
  for (const auto& b : norm->named_buffers())
    if (b.key() == "layer.running_mean") return b.value();
  return {};
}

TEST(Norm2d, ConversionRoundTripPreservesEvalOutputsExactly) {
  TinyNet net = trainedNet();
  const Tensor x = torch::randn({2, 3, 8, 8});
  const Tensor expected = net(x);
  EXPECT_EQ(convertSyncBatchNorm(*net, nullptr), 2u);
  EXPECT_EQ(net->norm1->kind(), NormKind::SyncBatchNorm);
  EXPECT_NE(net->norm1->layer().as<SyncBatchNorm2dImpl>(), nullptr);
  EXPECT_TRUE(torch::equal(net(x), expected));
  EXPECT_EQ(convertNorms(*net, NormKind::FrozenBatchNorm), 2u);
  EXPECT_TRUE(torch::equal(net(x), expected));
  EXPECT_EQ(revertSyncBatchNorm(*net), 2u);
  EXPECT_NE(net->norm1->layer().as<torch::nn::BatchNorm2dImpl>(), nullptr);
  EXPECT_TRUE(torch::equal(net(x), expected));
}

TEST(Norm2d, ConversionCarriesRunningStatisticsAndCounters) {
  TinyNet net = trainedNet();
  auto* bn = net->norm1->layer().as<torch::nn::BatchNorm2dImpl>();
  const Tensor mean = bn->running_mean.clone();
  const Tensor weight = bn->weight.clone();
  convertSyncBatchNorm(*net, nullptr);
  auto* sync = net->norm1->layer().as<SyncBatchNorm2dImpl>();
  EXPECT_TRUE(torch::equal(sync->running_mean, mean));
  EXPECT_TRUE(torch::equal(sync->weight, weight));
  EXPECT_EQ(sync->num_batches_tracked.item<int64_t>(), 5);
  EXPECT_FALSE(sync->is_training());  // the eval mode of the net carries over
  EXPECT_DOUBLE_EQ(sync->options.eps(), 1e-3);
  EXPECT_DOUBLE_EQ(*sync->options.momentum(), 0.03);
  // The converted layer's parameters are the model's parameters (what an optimizer sees).
  bool found = false;
  for (const auto& p : net->named_parameters())
    found |= p.key() == "norm1.layer.weight" && p.value().is_same(sync->weight);
  EXPECT_TRUE(found);
}

TEST(Norm2d, GroupNormKeepsAffineAndDividesChannels) {
  TinyNet net = trainedNet();
  const Tensor weight = net->norm2->layer().as<torch::nn::BatchNorm2dImpl>()->weight.clone();
  convertNorms(*net, NormKind::GroupNorm);
  auto* gn = net->norm2->layer().as<torch::nn::GroupNormImpl>();
  ASSERT_NE(gn, nullptr);
  EXPECT_EQ(gn->options.num_groups(), 6);
  EXPECT_TRUE(torch::equal(gn->weight, weight));
  // GroupNorm does not depend on the batch: one image alone gives the same output as in a batch.
  net->train();
  const Tensor batch = torch::randn({3, 3, 8, 8});
  EXPECT_TRUE(torch::allclose(net(batch).slice(0, 1, 2), net(batch.slice(0, 1, 2)), 1e-6, 1e-6));
  EXPECT_EQ(groupNormGroups(64), 32);
  EXPECT_EQ(groupNormGroups(48), 24);
  EXPECT_EQ(groupNormGroups(7), 7);
  EXPECT_EQ(groupNormGroups(1), 1);
}

TEST(FrozenBatchNorm2d, NeverUpdatesAndFreezesAffineOnRequest) {
  FrozenBatchNorm2d frozen(4, 1e-5, /*freezeAffine=*/true);
  EXPECT_TRUE(frozen->parameters().empty());
  frozen->train();
  const Tensor x = torch::randn({2, 4, 3, 3}) * 5 + 2;
  const Tensor y = frozen(x);
  EXPECT_TRUE(torch::equal(frozen->running_mean, torch::zeros({4})));
  EXPECT_TRUE(torch::allclose(y, x / std::sqrt(1 + 1e-5)));
  FrozenBatchNorm2d trainableAffine(4, 1e-5, /*freezeAffine=*/false);
  EXPECT_EQ(trainableAffine->parameters().size(), 2u);
}

TEST(PreciseBn, RunningStatisticsAreTheExactAverageOfBatchStatistics) {
  Norm2d norm(3, NormKind::BatchNorm);
  torch::nn::Sequential model(norm);  // the norm sees the batches themselves
  std::vector<Tensor> batches;
  for (int i = 0; i < 5; ++i)
    batches.push_back(torch::randn({4, 3, 5, 5}, torch::kDouble) * (i + 1) + i);
  model->to(torch::kDouble);
  model->eval();
  int next = 0;
  const PreciseBnReport report =
      recalibrateBatchNorm(*model, 5, [&] { model->forward(batches[next++]); });
  EXPECT_EQ(report.layers, 1u);
  EXPECT_EQ(report.batches, 5);

  Tensor meanSum = torch::zeros({3}, torch::kDouble), varSum = torch::zeros({3}, torch::kDouble);
  for (const auto& b : batches) {
    const Tensor perChannel = b.transpose(0, 1).reshape({3, -1});
    meanSum += perChannel.mean(1);
    varSum += perChannel.var(1, /*unbiased=*/true);
  }
  auto* bn = norm->layer().as<torch::nn::BatchNorm2dImpl>();
  EXPECT_TRUE(torch::allclose(bn->running_mean, meanSum / 5, 0, 1e-12));
  EXPECT_TRUE(torch::allclose(bn->running_var, varSum / 5, 0, 1e-12));
  EXPECT_DOUBLE_EQ(*bn->options.momentum(), 0.03);  // restored
  EXPECT_FALSE(model->is_training());               // restored
}

TEST(PreciseBn, AcrossRanksSyncBnAveragesGlobalBatches) {
  std::vector<Tensor> globalBatches;
  for (int i = 0; i < 3; ++i)
    globalBatches.push_back(torch::randn({4, 2, 3, 3}, torch::kDouble) + i);
  Tensor expectedMean = torch::zeros({2}, torch::kDouble),
         expectedVar = torch::zeros({2}, torch::kDouble);
  for (const auto& b : globalBatches) {
    const Tensor perChannel = b.transpose(0, 1).reshape({2, -1});
    expectedMean += perChannel.mean(1) / 3;
    expectedVar += perChannel.var(1, true) / 3;
  }
  for (const NormKind kind : {NormKind::SyncBatchNorm, NormKind::BatchNorm}) {
    runRanks(2, [&](int rank, std::shared_ptr<dist::ProcessGroup> group) {
      Norm2d norm(2, kind, NormOptions{}, group);
      torch::nn::Sequential model(norm);
      model->to(torch::kDouble);
      int next = 0;
      recalibrateBatchNorm(
          *model, 3,
          [&] { model->forward(globalBatches[next++].slice(0, rank * 2, rank * 2 + 2)); }, group);
      const Tensor mean = findRunningMean(norm);
      if (kind == NormKind::SyncBatchNorm) {
        EXPECT_TRUE(torch::allclose(mean, expectedMean, 0, 1e-12));
      }
      // Either way every rank ends with the same statistics.
      Tensor gathered = mean.clone();
      group->broadcast(gathered, 0);
      EXPECT_TRUE(torch::equal(gathered, mean)) << toString(kind);
    });
  }
}

TEST(BnStatisticsProbe, ZeroWhenRanksAgreeAndMeasuresSpreadWhenTheyDoNot) {
  // Rank r sees values {2r - 1, 2r + 1}: per-rank mean 2r, variance 1. Global mean 1, global
  // variance 1 + 1 = 2, cross-rank std of means 1: divergence 1 / sqrt(2).
  runRanks(2, [&](int rank, std::shared_ptr<dist::ProcessGroup> group) {
    Norm2d norm(3, NormKind::BatchNorm, NormOptions{}, group);
    torch::nn::Sequential model(norm);
    BnStatisticsProbe probe(*model, group);
    const Tensor same =
        torch::tensor({-1.0f, 1.0f}).view({2, 1, 1, 1}).expand({2, 3, 2, 2}).contiguous();
    probe.arm();
    model->forward(same);
    auto stats = probe.collect();
    ASSERT_EQ(stats.size(), 1u);
    EXPECT_NEAR(stats[0].divergence, 0.0, 1e-7);

    probe.arm();
    model->forward(same + 2.0f * rank);
    stats = probe.collect();
    EXPECT_NEAR(stats[0].divergence, 1 / std::sqrt(2.0), 1e-6);
    EXPECT_EQ(stats[0].rankMean.size(), 2u);
    EXPECT_NEAR(stats[0].rankMean[1], 2.0, 1e-6);
    EXPECT_NEAR(stats[0].rankVar[0], 1.0, 1e-6);
    EXPECT_EQ(stats[0].layer, "0");
  });
}

}  // namespace
}  // namespace syncbn::nn
