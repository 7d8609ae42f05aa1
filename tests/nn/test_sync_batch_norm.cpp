// SyncBatchNorm2d over W ranks against the independent oracle: torch::nn::BatchNorm2d over the
// concatenated global batch.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <mutex>
#include <numeric>

#include "nn/norm.h"
#include "nn/sync_batch_norm.h"
#include "rank_threads.h"

namespace syncbn::nn {
namespace {

using syncbn::testing::runRanks;
using torch::Tensor;

double maxRelativeError(const Tensor& actual, const Tensor& expected) {
  if (expected.numel() == 0) return actual.numel() == 0 ? 0.0 : 1.0;
  const double scale = std::max(expected.abs().max().item<double>(), 1e-30);
  return (actual.to(torch::kDouble) - expected.to(torch::kDouble)).abs().max().item<double>() /
         scale;
}

// Channels with different means and spreads, so a wrong statistic cannot hide.
Tensor makeBatch(int64_t n, int64_t channels, torch::Dtype dtype, int64_t seed, int64_t height = 3,
                 int64_t width = 2) {
  torch::manual_seed(seed);
  const auto opts = torch::TensorOptions().dtype(torch::kDouble);
  const Tensor scale = torch::linspace(0.5, 3.0, channels, opts).view({1, -1, 1, 1});
  const Tensor shift = torch::linspace(-2.0, 5.0, channels, opts).view({1, -1, 1, 1});
  return (torch::randn({n, channels, height, width}, opts) * scale + shift).to(dtype);
}

struct Case {
  std::vector<int64_t> perRank;
  torch::Dtype dtype;
  double tolerance;
  bool channelsLast = false;          // the input x
  bool gradientChannelsLast = false;  // the output gradient dy
  int64_t height = 3, width = 2;
  double affineTolerance = 0;  // for the summed weight and bias gradients; 0: `tolerance`
};

std::string describe(const Case& c) {
  std::string s = c.dtype == torch::kDouble ? "float64 (" : "float32 (";
  for (auto n : c.perRank)
    s += std::to_string(n) + ",";
  s += ") " + std::to_string(c.height) + "x" + std::to_string(c.width);
  if (c.channelsLast) s += " x channels_last";
  if (c.gradientChannelsLast) s += " dy channels_last";
  return s;
}

// Three training steps: outputs, input grads, summed weight/bias grads and running stats.
void expectEquivalentToGlobalBatchNorm(const Case& c) {
  SCOPED_TRACE(describe(c));
  constexpr int64_t kChannels = 5;
  constexpr int kSteps = 3;
  const int world = static_cast<int>(c.perRank.size());
  const int64_t total = std::accumulate(c.perRank.begin(), c.perRank.end(), int64_t{0});
  std::vector<int64_t> offsets(c.perRank.size(), 0);
  std::partial_sum(c.perRank.begin(), c.perRank.end() - 1, offsets.begin() + 1);

  // Oracle: BatchNorm over the concatenated batch in float64 whatever the case's dtype, so that a
  // float32 case is judged against the exact answer for its inputs, not against a second float32
  // computation with its own rounding.
  torch::nn::BatchNorm2d oracle{torch::nn::BatchNorm2dOptions(kChannels)};
  oracle->to(torch::kDouble);
  struct StepResult {
    Tensor y, dx, dw, db;
  };
  std::vector<StepResult> expected;
  std::vector<Tensor> inputs, gradOutputs;
  for (int step = 0; step < kSteps; ++step) {
    inputs.push_back(makeBatch(total, kChannels, c.dtype, 100 + step, c.height, c.width));
    gradOutputs.push_back(makeBatch(total, kChannels, c.dtype, 200 + step, c.height, c.width));
    oracle->zero_grad();
    const Tensor x = inputs.back().to(torch::kDouble, false, /*copy=*/true).requires_grad_(true);
    const Tensor y = oracle->forward(x);
    (y * gradOutputs.back().to(torch::kDouble)).sum().backward();
    expected.push_back(
        {y.detach(), x.grad(), oracle->weight.grad().clone(), oracle->bias.grad().clone()});
  }

  std::mutex mutex;
  std::vector<std::vector<Tensor>> weightGrads(kSteps), biasGrads(kSteps);
  runRanks(world, [&](int rank, std::shared_ptr<dist::ProcessGroup> group) {
    SyncBatchNorm2d bn(torch::nn::BatchNormOptions(kChannels), group);
    bn->to(c.dtype);
    const int64_t begin = offsets[rank], n = c.perRank[rank];
    for (int step = 0; step < kSteps; ++step) {
      bn->zero_grad();
      Tensor x = inputs[step].slice(0, begin, begin + n).clone();
      Tensor dy = gradOutputs[step].slice(0, begin, begin + n).clone();
      if (c.channelsLast) x = x.contiguous(at::MemoryFormat::ChannelsLast);
      if (c.gradientChannelsLast) dy = dy.contiguous(at::MemoryFormat::ChannelsLast);
      x.requires_grad_(true);
      const Tensor y = bn->forward(x);
      y.backward(dy);  // dy reaches the layer as it is, in its own memory layout
      EXPECT_LE(maxRelativeError(y, expected[step].y.slice(0, begin, begin + n)), c.tolerance)
          << "output, rank " << rank << " step " << step;
      EXPECT_LE(maxRelativeError(x.grad(), expected[step].dx.slice(0, begin, begin + n)),
                c.tolerance)
          << "input grad, rank " << rank << " step " << step;
      std::lock_guard lock(mutex);
      weightGrads[step].push_back(bn->weight.grad().clone());
      biasGrads[step].push_back(bn->bias.grad().clone());
    }
    EXPECT_LE(maxRelativeError(bn->running_mean, oracle->running_mean), c.tolerance)
        << "rank " << rank;
    EXPECT_LE(maxRelativeError(bn->running_var, oracle->running_var), c.tolerance)
        << "rank " << rank;
    EXPECT_EQ(bn->num_batches_tracked.item<int64_t>(), kSteps);
  });
  // Each rank holds its share of the affine gradients; data-parallel sync adds them up.
  for (int step = 0; step < kSteps; ++step) {
    const double affineTolerance = c.affineTolerance > 0 ? c.affineTolerance : c.tolerance;
    EXPECT_LE(maxRelativeError(torch::stack(weightGrads[step]).sum(0), expected[step].dw),
              affineTolerance)
        << "weight grad, step " << step;
    EXPECT_LE(maxRelativeError(torch::stack(biasGrads[step]).sum(0), expected[step].db),
              affineTolerance)
        << "bias grad, step " << step;
  }
}

TEST(SyncBatchNorm2d, MatchesBatchNormOverConcatenatedBatch) {
  const std::vector<std::vector<int64_t>> splits{{4}, {2, 2}, {3, 1}, {4, 0, 1}, {1, 1, 1, 1}};
  for (const auto& split : splits) {
    expectEquivalentToGlobalBatchNorm({split, torch::kDouble, 1e-10});
    expectEquivalentToGlobalBatchNorm({split, torch::kFloat, 1e-5});
  }
}

TEST(SyncBatchNorm2d, ChannelsLastInputWithContiguousGradient) {
  expectEquivalentToGlobalBatchNorm({{2, 2}, torch::kDouble, 1e-10, true});
  expectEquivalentToGlobalBatchNorm({{3, 1}, torch::kFloat, 1e-5, true});
}

// Both channels last: the backward's one-pass CPU loop over pixels (the contiguous cases above
// take its loop over planes; a contiguous x with a channels-last dy takes the tensor ops).
TEST(SyncBatchNorm2d, ChannelsLastInputAndGradient) {
  expectEquivalentToGlobalBatchNorm({{2, 2}, torch::kDouble, 1e-10, true, true});
  expectEquivalentToGlobalBatchNorm({{3, 1}, torch::kFloat, 1e-5, true, true});
  expectEquivalentToGlobalBatchNorm({{2, 1}, torch::kDouble, 1e-10, false, true});
}

// Planes large enough that the backward's loop splits them over several tasks and threads.
TEST(SyncBatchNorm2d, LargePlanesSplitAcrossThreads) {
  const int threads = torch::get_num_threads();
  torch::set_num_threads(2);
  expectEquivalentToGlobalBatchNorm({{3, 2}, torch::kDouble, 1e-10, false, false, 48, 40});
  // The float32 weight and bias gradients are per-rank sums over 16384 values per channel from
  // LibTorch's channels-last BatchNorm backward kernel, which accumulates in float: LibTorch's own
  // float32 BatchNorm2d on these inputs is 1.5e-4 to 4.4e-4 off the float64 answer there (and
  // 4e-6 to 1.1e-5 contiguous), so they are held to 1e-3; the input gradient, this file's own
  // loop, stays at 1e-5.
  expectEquivalentToGlobalBatchNorm({{2, 2}, torch::kFloat, 1e-5, true, true, 64, 64, 1e-3});
  torch::set_num_threads(threads);
}

TEST(SyncBatchNorm2d, VeryUnevenRanksRunningStatsConvergeToGlobalStatistics) {
  // Momentum 0.99 over 50 steps of the same data leaves (0.01)^50 of the initial value: the
  // running statistics must equal the concatenated data's mean and unbiased variance.
  const std::vector<int64_t> sizes{1, 10, 100};
  const Tensor all = makeBatch(111, 4, torch::kDouble, 7);
  const Tensor expectedMean = all.mean({0, 2, 3});
  const Tensor expectedVar = all.transpose(0, 1).reshape({4, -1}).var(1, /*unbiased=*/true);
  runRanks(3, [&](int rank, std::shared_ptr<dist::ProcessGroup> group) {
    SyncBatchNorm2d bn(torch::nn::BatchNormOptions(4).momentum(0.99), group);
    bn->to(torch::kDouble);
    const int64_t begin = rank == 0 ? 0 : (rank == 1 ? 1 : 11);
    const Tensor x = all.slice(0, begin, begin + sizes[rank]);
    for (int step = 0; step < 50; ++step)
      bn->forward(x);
    EXPECT_LE(maxRelativeError(bn->running_mean, expectedMean), 1e-10);
    EXPECT_LE(maxRelativeError(bn->running_var, expectedVar), 1e-10);
  });
}

TEST(SyncBatchNorm2d, IllConditionedFloat32Variance) {
  // Mean 1e3, std 1e-2: naive E[x^2] - E[x]^2 in float32 loses every digit.
  torch::manual_seed(11);
  const Tensor data = (torch::randn({8, 3, 4, 4}, torch::kDouble) * 1e-2 + 1e3).to(torch::kFloat);
  const Tensor expectedVar =
      data.to(torch::kDouble).transpose(0, 1).reshape({3, -1}).var(1, /*unbiased=*/true);
  runRanks(2, [&](int rank, std::shared_ptr<dist::ProcessGroup> group) {
    SyncBatchNorm2d bn(torch::nn::BatchNormOptions(3).momentum(1.0), group);
    bn->forward(data.slice(0, rank * 4, rank * 4 + 4));
    EXPECT_LE(maxRelativeError(bn->running_var, expectedVar), 1e-3);
  });
}

TEST(SyncBatchNorm2d, EvalUsesRunningStatisticsWithoutCommunication) {
  const Tensor x = makeBatch(4, 5, torch::kFloat, 3);
  runRanks(2, [&](int rank, std::shared_ptr<dist::ProcessGroup> group) {
    SyncBatchNorm2d bn(torch::nn::BatchNormOptions(5), group);
    bn->forward(x.slice(0, rank * 2, rank * 2 + 2));  // one training step fills running stats
    torch::nn::BatchNorm2d reference(torch::nn::BatchNorm2dOptions(5));
    reference->running_mean.copy_(bn->running_mean);
    reference->running_var.copy_(bn->running_var);
    bn->eval();
    reference->eval();
    const long long before = group->collectiveCount();
    const Tensor y = bn->forward(x);
    EXPECT_EQ(group->collectiveCount(), before);
    EXPECT_TRUE(torch::equal(y, reference->forward(x)));
  });
}

TEST(SyncBatchNorm2d, OneAllReduceForwardAndOneBackwardPerLayer) {
  const Tensor x = makeBatch(4, 5, torch::kFloat, 4);
  runRanks(2, [&](int rank, std::shared_ptr<dist::ProcessGroup> group) {
    SyncBatchNorm2d bn(torch::nn::BatchNormOptions(5), group);
    const Tensor input = x.slice(0, rank * 2, rank * 2 + 2).clone().requires_grad_(true);
    const long long before = group->collectiveCount();
    const Tensor y = bn->forward(input);
    EXPECT_EQ(group->collectiveCount() - before, 1);
    y.sum().backward();
    EXPECT_EQ(group->collectiveCount() - before, 2);
  });
}

TEST(SyncBatchNorm2d, RankWhoseInputNeedsNoGradientStillJoinsBackward) {
  // Without affine parameters, rank 1's graph has nothing requiring grad; it must still issue the
  // backward all-reduce or rank 0 waits forever (here: until the 10 s timeout fails the test).
  const Tensor x = makeBatch(4, 3, torch::kDouble, 5);
  const Tensor expectedGrad = [&] {
    torch::nn::BatchNorm2d oracle(torch::nn::BatchNorm2dOptions(3).affine(false));
    oracle->to(torch::kDouble);
    const Tensor input = x.clone().requires_grad_(true);
    (oracle->forward(input) * x).sum().backward();
    return input.grad();
  }();
  runRanks(
      2,
      [&](int rank, std::shared_ptr<dist::ProcessGroup> group) {
        SyncBatchNorm2d bn(torch::nn::BatchNormOptions(3).affine(false), group);
        bn->to(torch::kDouble);
        Tensor input = x.slice(0, rank * 2, rank * 2 + 2).clone();
        if (rank == 0) input.requires_grad_(true);
        (bn->forward(input) * x.slice(0, rank * 2, rank * 2 + 2)).sum().backward();
        if (rank == 0) {
          EXPECT_LE(maxRelativeError(input.grad(), expectedGrad.slice(0, 0, 2)), 1e-10);
        }
      },
      std::chrono::seconds(10));
}

TEST(SyncBatchNorm2d, SingleValuePerChannelIsValidAcrossRanks) {
  const Tensor x = makeBatch(2, 3, torch::kDouble, 6).slice(2, 0, 1).slice(3, 0, 1).contiguous();
  torch::nn::BatchNorm2d oracle(torch::nn::BatchNorm2dOptions(3));
  oracle->to(torch::kDouble);
  const Tensor expected = oracle->forward(x);
  runRanks(2, [&](int rank, std::shared_ptr<dist::ProcessGroup> group) {
    SyncBatchNorm2d bn(torch::nn::BatchNormOptions(3), group);
    bn->to(torch::kDouble);
    const Tensor y = bn->forward(x.slice(0, rank, rank + 1));  // [1, 3, 1, 1] on each rank
    EXPECT_LE(maxRelativeError(y, expected.slice(0, rank, rank + 1)), 1e-10);
    EXPECT_FALSE(torch::isnan(y).any().item<bool>());
  });
}

TEST(SyncBatchNorm2d, WithoutGroupItIsPlainBatchNorm) {
  const Tensor x = makeBatch(4, 5, torch::kFloat, 8);
  SyncBatchNorm2d bn(5);
  torch::nn::BatchNorm2d reference(5);
  EXPECT_TRUE(torch::equal(bn->forward(x), reference->forward(x)));
  EXPECT_TRUE(torch::equal(bn->running_var, reference->running_var));
}

// Independent layers normalised together (the detection head's branches): one collective each
// way for all of them, and bitwise the results of one forward per layer, the path the oracle
// tests above judge. Through Norm2d, so the statistics probe's records are compared too.
TEST(SyncBatchNorm2d, LayersForwardTogetherMeetOnceEachWayAndMatchTheirOwnForwardsBitwise) {
  const std::vector<int64_t> channels{3, 5, 4};
  const std::vector<int64_t> heights{5, 3, 4};  // so that the layers' value counts differ
  // Made before the ranks start: makeBatch seeds torch's one global generator.
  std::vector<Tensor> globalInputs, lossWeights;  // lossWeights: [layer][image] of 4 images
  for (std::size_t i = 0; i < channels.size(); ++i) {
    const auto seed = static_cast<int64_t>(i);
    globalInputs.push_back(makeBatch(4, channels[i], torch::kFloat, 40 + seed, heights[i], 3));
    lossWeights.push_back(makeBatch(4, channels[i], torch::kFloat, 60 + seed, heights[i], 3));
  }
  runRanks(2, [&](int rank, std::shared_ptr<dist::ProcessGroup> group) {
    struct Set {
      std::vector<Norm2d> norms;
      std::vector<Tensor> inputs;
    };
    const auto makeSet = [&] {
      Set set;
      for (std::size_t i = 0; i < channels.size(); ++i) {
        set.norms.emplace_back(channels[i], NormKind::SyncBatchNorm, NormOptions{}, group);
        set.norms.back()->setRecordBatchStatistics(true);
        // Rank r holds images [2r, 2r+2) of a global batch of 4; the second layer's input is
        // channels-last, as the trainer's are.
        Tensor x = globalInputs[i].slice(0, 2 * rank, 2 * rank + 2).clone();
        if (i == 1) x = x.contiguous(at::MemoryFormat::ChannelsLast);
        set.inputs.push_back(x.requires_grad_(true));
      }
      return set;
    };
    const auto lossOf = [&](const std::vector<Tensor>& ys) {
      Tensor loss = torch::zeros({});
      for (std::size_t i = 0; i < ys.size(); ++i)
        loss = loss + (ys[i] * lossWeights[i].slice(0, 2 * rank, 2 * rank + 2)).sum();
      return loss;
    };

    Set own = makeSet(), together = makeSet();
    for (int step = 0; step < 2; ++step) {
      SCOPED_TRACE("rank " + std::to_string(rank) + " step " + std::to_string(step));
      long long before = group->collectiveCount();
      std::vector<Tensor> ownOutputs;
      for (std::size_t i = 0; i < channels.size(); ++i)
        ownOutputs.push_back(own.norms[i]->forward(own.inputs[i]));
      lossOf(ownOutputs).backward();
      EXPECT_EQ(group->collectiveCount() - before, 2 * static_cast<long long>(channels.size()));

      before = group->collectiveCount();
      std::vector<Norm2dImpl*> norms;
      for (auto& norm : together.norms)
        norms.push_back(norm.get());
      const std::vector<Tensor> togetherOutputs =
          Norm2dImpl::forwardTogether(norms, together.inputs);
      EXPECT_EQ(group->collectiveCount() - before, 1);
      lossOf(togetherOutputs).backward();
      EXPECT_EQ(group->collectiveCount() - before, 2);

      for (std::size_t i = 0; i < channels.size(); ++i) {
        SCOPED_TRACE("layer " + std::to_string(i));
        const auto& a = *own.norms[i]->layer().as<SyncBatchNorm2dImpl>();
        const auto& b = *together.norms[i]->layer().as<SyncBatchNorm2dImpl>();
        EXPECT_TRUE(torch::equal(ownOutputs[i], togetherOutputs[i]));
        EXPECT_TRUE(torch::equal(own.inputs[i].grad(), together.inputs[i].grad()));
        EXPECT_TRUE(torch::equal(a.weight.grad(), b.weight.grad()));
        EXPECT_TRUE(torch::equal(a.bias.grad(), b.bias.grad()));
        EXPECT_TRUE(torch::equal(a.running_mean, b.running_mean));
        EXPECT_TRUE(torch::equal(a.running_var, b.running_var));
        const auto& sa = *own.norms[i]->lastBatchStatistics();
        const auto& sb = *together.norms[i]->lastBatchStatistics();
        EXPECT_TRUE(torch::equal(sa.mean, sb.mean));
        EXPECT_TRUE(torch::equal(sa.normMean, sb.normMean));
        EXPECT_TRUE(torch::equal(sa.normVar, sb.normVar));
        EXPECT_TRUE(torch::equal(sa.runningMean, sb.runningMean));
        EXPECT_EQ(sa.count, sb.count);
        own.inputs[i].mutable_grad().reset();
        together.inputs[i].mutable_grad().reset();
        own.norms[i]->zero_grad();
        together.norms[i]->zero_grad();
      }
    }

    // In eval mode they run on their running statistics, without meeting.
    for (std::size_t i = 0; i < channels.size(); ++i) {
      own.norms[i]->eval();
      together.norms[i]->eval();
    }
    const long long before = group->collectiveCount();
    std::vector<Norm2dImpl*> norms;
    for (auto& norm : together.norms)
      norms.push_back(norm.get());
    const std::vector<Tensor> evalOutputs = Norm2dImpl::forwardTogether(norms, together.inputs);
    EXPECT_EQ(group->collectiveCount(), before);
    for (std::size_t i = 0; i < channels.size(); ++i)
      EXPECT_TRUE(torch::equal(evalOutputs[i], own.norms[i]->forward(own.inputs[i])));
  });
}

}  // namespace
}  // namespace syncbn::nn
