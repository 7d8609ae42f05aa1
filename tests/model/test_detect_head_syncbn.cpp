// The detection head under SyncBN on 2 ranks against the independent oracle: the same head with
// torch's BatchNorm2d over the concatenated global batch, in float64. Detect runs each of its two
// Conv stages for all branches at once, so its norms meet the other ranks once per stage each way
// (Norm2dImpl::forwardTogether); this also counts those meetings.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <map>
#include <mutex>
#include <string>

#include "../nn/rank_threads.h"
#include "model/yolo_modules.h"

namespace syncbn::model {
namespace {

using torch::Tensor;

double maxRelativeError(const Tensor& actual, const Tensor& expected) {
  const double scale = std::max(expected.abs().max().item<double>(), 1e-30);
  return (actual - expected).abs().max().item<double>() / scale;
}

TEST(DetectHead, SyncBnOnTwoRanksMatchesBatchNormOverTheGlobalBatchMeetingOncePerStage) {
  constexpr int64_t kClasses = 3;
  constexpr int kRanks = 2;
  constexpr int64_t kImagesPerRank = 2;
  constexpr double kTolerance = 1e-10;
  const std::vector<int64_t> channels{16, 32}, strides{8, 16};
  const auto doubles = torch::TensorOptions().dtype(torch::kDouble);

  torch::manual_seed(7);
  Detect oracle(kClasses, channels, strides, NormChoice{NormKind::BatchNorm, nullptr});
  oracle->to(torch::kDouble);
  std::map<std::string, Tensor> initialState;  // parameters and buffers, before any step
  for (const auto& p : oracle->named_parameters())
    initialState[p.key()] = p.value().detach().clone();
  for (const auto& b : oracle->named_buffers())
    initialState[b.key()] = b.value().clone();

  // Levels with means and spreads away from 0 and 1, so a wrong statistic cannot hide; a loss
  // that weights every output differently.
  const int64_t images = kRanks * kImagesPerRank;
  const std::vector<Tensor> levels{torch::randn({images, 16, 6, 6}, doubles) * 2 + 1,
                                   torch::randn({images, 32, 3, 3}, doubles) * 0.5 - 0.5};
  const int64_t outChannels = 4 * oracle->layout().regMax + kClasses;
  const std::vector<Tensor> lossWeights{torch::randn({images, outChannels, 6, 6}, doubles),
                                        torch::randn({images, outChannels, 3, 3}, doubles)};
  const auto lossOf = [&](const std::vector<Tensor>& outputs, int64_t begin) {
    Tensor loss = torch::zeros({}, doubles);
    for (std::size_t l = 0; l < outputs.size(); ++l)
      loss = loss + (outputs[l] * lossWeights[l].slice(0, begin, begin + outputs[l].size(0))).sum();
    return loss;
  };

  std::vector<Tensor> oracleInputs;
  for (const Tensor& level : levels)
    oracleInputs.push_back(level.clone().requires_grad_(true));
  const std::vector<Tensor> oracleOutputs = oracle->forward(oracleInputs);
  lossOf(oracleOutputs, 0).backward();

  std::mutex mutex;
  std::map<std::string, Tensor> summedGrads;  // each rank holds its share of a parameter's grad
  testing::runRanks(kRanks, [&](int rank, std::shared_ptr<dist::ProcessGroup> group) {
    Detect head(kClasses, channels, strides, NormChoice{NormKind::SyncBatchNorm, group});
    head->to(torch::kDouble);
    {
      torch::NoGradGuard noGrad;
      for (auto& p : head->named_parameters())
        p.value().copy_(initialState.at(p.key()));
      for (auto& b : head->named_buffers())
        b.value().copy_(initialState.at(b.key()));
    }
    const int64_t begin = rank * kImagesPerRank;
    std::vector<Tensor> inputs;
    for (const Tensor& level : levels)
      inputs.push_back(level.slice(0, begin, begin + kImagesPerRank).clone().requires_grad_(true));

    const long long before = group->collectiveCount();
    const std::vector<Tensor> outputs = head->forward(inputs);
    EXPECT_EQ(group->collectiveCount() - before, 2) << "one per Conv stage, not one per norm";
    lossOf(outputs, begin).backward();
    EXPECT_EQ(group->collectiveCount() - before, 4);

    for (std::size_t l = 0; l < levels.size(); ++l) {
      SCOPED_TRACE("rank " + std::to_string(rank) + " level " + std::to_string(l));
      const auto mine = [&](const Tensor& t) { return t.slice(0, begin, begin + kImagesPerRank); };
      EXPECT_LE(maxRelativeError(outputs[l], mine(oracleOutputs[l])), kTolerance);
      EXPECT_LE(maxRelativeError(inputs[l].grad(), mine(oracleInputs[l].grad())), kTolerance);
    }
    for (const auto& b : head->named_buffers()) {
      if (b.key().find("running_") == std::string::npos) continue;
      EXPECT_LE(maxRelativeError(b.value(), oracle->named_buffers()[b.key()]), kTolerance)
          << b.key() << ", rank " << rank;
    }
    std::lock_guard lock(mutex);
    for (const auto& p : head->named_parameters()) {
      if (!p.value().grad().defined()) continue;  // the DFL's fixed weights
      Tensor& sum = summedGrads[p.key()];
      sum = sum.defined() ? sum + p.value().grad() : p.value().grad().clone();
    }
  });

  std::size_t compared = 0;
  for (const auto& p : oracle->named_parameters()) {
    if (!p.value().grad().defined()) continue;
    ASSERT_TRUE(summedGrads.count(p.key())) << p.key();
    EXPECT_LE(maxRelativeError(summedGrads.at(p.key()), p.value().grad()), kTolerance) << p.key();
    ++compared;
  }
  EXPECT_EQ(compared, summedGrads.size());
  EXPECT_GE(compared, 8u * 3u);  // 8 Convs' weights and norm weights and biases, and more
}

}  // namespace
}  // namespace syncbn::model
