// GradientSynchronizer over W rank threads against the independent oracle: one model on one rank,
// the concatenated batch, the mean of the ranks' losses. In float64 the two must agree to 1e-10.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <mutex>

#include "model/detection_model.h"
#include "nn/norm.h"
#include "rank_threads.h"
#include "tiny_detector.h"
#include "train/gradient_synchronizer.h"

namespace syncbn::train {
namespace {

using syncbn::testing::runRanks;
using torch::Tensor;

constexpr int64_t kPerRank = 2;
constexpr auto kWatchdog = std::chrono::seconds(20);  // a hung collective fails the test

// conv -> norm -> SiLU -> conv/2 -> norm -> SiLU -> mean -> linear, plus a parameter no loss
// uses and one that only some ranks' losses use. Those two are registered first, so in reverse
// order they fall into the last buckets.
class TinyNetImpl : public torch::nn::Module {
 public:
  TinyNetImpl(NormKind kind, std::shared_ptr<dist::ProcessGroup> group) {
    neverUsed = register_parameter("never_used", torch::zeros({5}));
    sometimesUsed = register_parameter("sometimes_used", torch::zeros({3}));
    frozen = register_parameter("frozen", torch::ones({2}), /*requires_grad=*/false);
    conv1 = register_module(
        "conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(3, 4, 3).padding(1).bias(false)));
    bn1 = register_module("bn1", nn::Norm2d(4, kind, nn::NormOptions{}, group));
    conv2 = register_module(
        "conv2", torch::nn::Conv2d(torch::nn::Conv2dOptions(4, 6, 3).stride(2).padding(1)));
    bn2 = register_module("bn2", nn::Norm2d(6, kind, nn::NormOptions{}, group));
    head = register_module("head", torch::nn::Linear(6, 3));
  }
  // x: [N, 3, H, W] -> [N, 3]
  Tensor forward(const Tensor& x) {
    Tensor y = torch::silu(bn1(conv1(x)));
    y = torch::silu(bn2(conv2(y)));
    return head(y.mean({2, 3}));
  }

  Tensor neverUsed, sometimesUsed, frozen;
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr};
  nn::Norm2d bn1{nullptr}, bn2{nullptr};
  torch::nn::Linear head{nullptr};
};
TORCH_MODULE(TinyNet);

// The same weights on every rank and in the oracle, without the shared random generator.
void initDeterministically(torch::nn::Module& module) {
  const torch::NoGradGuard noGrad;
  double phase = 0.0;
  for (auto& p : module.parameters()) {
    const auto values =
        torch::sin(torch::arange(p.numel(), torch::kDouble) * 0.7 + (phase += 1.3)) * 0.4;
    p.copy_(values.view(p.sizes()));
  }
}

TinyNet makeNet(NormKind kind, std::shared_ptr<dist::ProcessGroup> group) {
  TinyNet net(kind, std::move(group));
  net->to(torch::kDouble);
  initDeterministically(*net);
  return net;
}

// One rank's data of one step; `identical`: every rank gets rank 0's.
struct Batch {
  Tensor images, targets;
};
Batch batchFor(int rank, int step, bool identical) {
  const int64_t seed = 1000 * step + (identical ? 0 : rank);
  const auto opts = torch::TensorOptions().dtype(torch::kDouble);
  const double phase = static_cast<double>(seed);
  const Tensor images = torch::sin(torch::arange(kPerRank * 3 * 6 * 6, opts) * 0.37 + phase)
                                .view({kPerRank, 3, 6, 6}) *
                            (1.5 + 0.3 * rank * !identical) +
                        0.2 * phase / 1000.0;
  const Tensor targets = torch::cos(torch::arange(kPerRank * 3, opts) + phase).view({kPerRank, 3});
  return {images, targets};
}

bool usesOptional(int rank) {
  return rank == 0;
}

// Rank r's loss given its outputs: mean squared error, plus sometimes_used on rank 0 only.
Tensor rankLoss(TinyNetImpl& net, const Tensor& outputs, const Tensor& targets, int rank) {
  const Tensor y = usesOptional(rank) ? outputs + net.sometimesUsed : outputs;
  return (y - targets).pow(2).mean();
}

using Gradients = std::map<std::string, Tensor>;

// The oracle: one plain-BN model over all ranks' data at once; loss = mean of the ranks' losses.
std::vector<Gradients> oracleGradients(int world, int steps, bool identical) {
  TinyNet net = makeNet(NormKind::BatchNorm, nullptr);
  std::vector<Gradients> result;
  for (int step = 0; step < steps; ++step) {
    std::vector<Tensor> images, targets;
    for (int rank = 0; rank < world; ++rank) {
      const Batch batch = batchFor(rank, step, identical);
      images.push_back(batch.images);
      targets.push_back(batch.targets);
    }
    net->zero_grad();
    const Tensor outputs = net->forward(torch::cat(images));
    Tensor loss = torch::zeros({}, torch::kDouble);
    for (int rank = 0; rank < world; ++rank)
      loss = loss + rankLoss(*net, outputs.slice(0, rank * kPerRank, (rank + 1) * kPerRank),
                             targets[static_cast<std::size_t>(rank)], rank);
    (loss / world).backward();
    Gradients grads;
    for (const auto& item : net->named_parameters())
      if (item.value().requires_grad())
        grads[item.key()] = item.value().grad().defined() ? item.value().grad().clone()
                                                          : torch::zeros_like(item.value());
    result.push_back(std::move(grads));
  }
  return result;
}

double maxDifference(const Tensor& a, const Tensor& b) {
  return (a - b).abs().max().item<double>();
}

struct Scenario {
  int world;
  NormKind norm;
  bool identicalData;
  int64_t bucketBytes;
  bool overlap;
};

std::string describe(const Scenario& s) {
  return "W=" + std::to_string(s.world) + (s.norm == NormKind::SyncBatchNorm ? " syncbn" : " bn") +
         (s.identicalData ? " identical data" : " different data") + " bucket " +
         std::to_string(s.bucketBytes) + (s.overlap ? " overlapped" : " blocking");
}

// Two steps (the second checks the per-step state was reset), every rank against the oracle.
// Returns the largest difference of any gradient from the oracle's.
double worstOracleDifference(const Scenario& s) {
  SCOPED_TRACE(describe(s));
  constexpr int kSteps = 2;
  const auto expected = oracleGradients(s.world, kSteps, s.identicalData);
  std::mutex mutex;
  double worst = 0.0;
  runRanks(
      s.world,
      [&](int rank, std::shared_ptr<dist::ProcessGroup> group) {
        TinyNet net = makeNet(s.norm, group);
        GradientSynchronizer sync(*net, group, {s.bucketBytes, s.overlap});
        const long long mainGroupBefore = group->collectiveCount();
        for (int step = 0; step < kSteps; ++step) {
          net->zero_grad();
          const Batch batch = batchFor(rank, step, s.identicalData);
          rankLoss(*net, net->forward(batch.images), batch.targets, rank).backward();
          sync.finish();
          for (const auto& [name, grad] : expected[static_cast<std::size_t>(step)]) {
            const Tensor actual = net->named_parameters()[name].grad();
            ASSERT_TRUE(actual.defined()) << name << " rank " << rank << " step " << step;
            const std::lock_guard lock(mutex);
            worst = std::max(worst, maxDifference(actual, grad));
          }
          EXPECT_FALSE(net->frozen.grad().defined()) << "frozen parameter got a gradient";

          const GradientSyncStats& stats = sync.lastStep();
          if (s.world == 1) {
            EXPECT_FALSE(sync.communicates());
            EXPECT_EQ(stats.collectives, 0);
            EXPECT_EQ(group->collectiveCount(), 0) << "a world of one must not communicate";
            continue;
          }
          EXPECT_EQ(stats.collectives, static_cast<long long>(sync.bucketCount()));
          long long bytes = 0;
          for (const auto& p : net->parameters())
            if (p.requires_grad()) bytes += p.numel() * 8;
          EXPECT_EQ(stats.bytes, bytes);
          EXPECT_GE(stats.waitMs, 0.0);
          if (!s.overlap) {
            EXPECT_EQ(stats.startedEarly, 0);
          }
          if (s.overlap && s.bucketBytes == 1) {
            // One bucket per parameter: all but those waiting behind never_used (the last)
            // and, where unused, sometimes_used start during backward.
            const auto blocked = usesOptional(rank) ? 1 : 2;
            EXPECT_EQ(stats.startedEarly, static_cast<long long>(sync.bucketCount()) - blocked);
          }
        }
        // Gradients travel on the synchronizer's own group; the main group carries only SyncBN's.
        if (s.norm == NormKind::BatchNorm) {
          EXPECT_EQ(group->collectiveCount(), mainGroupBefore);
        }
      },
      kWatchdog);
  return worst;
}

TEST(GradientSynchronizer, SyncBnRanksMatchOneRankOverTheConcatenatedBatch) {
  for (const int world : {1, 2, 3})
    for (const bool overlap : {true, false})
      for (const int64_t bucket : {int64_t{1}, int64_t{25} << 20, int64_t{1} << 40})
        EXPECT_LE(worstOracleDifference({world, NormKind::SyncBatchNorm, false, bucket, overlap}),
                  1e-10)
            << "W=" << world << " bucket " << bucket << (overlap ? " overlapped" : " blocking");
}

TEST(GradientSynchronizer, PlainBnRanksWithIdenticalDataMatchTheOracle) {
  for (const int world : {2, 3})
    EXPECT_LE(worstOracleDifference({world, NormKind::BatchNorm, true, 1, true}), 1e-10)
        << "W=" << world;
}

TEST(GradientSynchronizer, PlainBnWithDifferentDataDoesNotMatchTheOracle) {
  // Guards the oracle: per-rank BN statistics differ from the global ones, so the test above
  // would fail if the data were not identical.
  EXPECT_GT(worstOracleDifference({2, NormKind::BatchNorm, false, 1, true}), 1e-6);
}

TEST(GradientSynchronizer, BucketsFollowReverseRegistrationOrderAndTheSizeCap) {
  runRanks(2, [](int, std::shared_ptr<dist::ProcessGroup> group) {
    TinyNet net = makeNet(NormKind::BatchNorm, nullptr);
    // head.weight (18 doubles = 144 bytes) and head.bias (24 bytes) fit 200 bytes together.
    GradientSynchronizer sync(*net, group, {200, true});
    EXPECT_EQ(sync.bucketParameters(0), (std::vector<std::string>{"head.bias", "head.weight"}));
    EXPECT_EQ(sync.bucketParameters(sync.bucketCount() - 1),
              (std::vector<std::string>{"sometimes_used", "never_used"}));
    GradientSynchronizer one(*net, group, {int64_t{1} << 40, true});
    EXPECT_EQ(one.bucketCount(), 1u);
    EXPECT_EQ(one.bucketParameters(0).size(), 11u);  // every trainable parameter, not `frozen`
  });
}

// Three linear layers; only rank 0's loss uses the last (so its parameters are in buckets 0-1).
class LateOptionalImpl : public torch::nn::Module {
 public:
  LateOptionalImpl() {
    first = register_module("first", torch::nn::Linear(3, 4));
    second = register_module("second", torch::nn::Linear(4, 2));
    optional = register_module("optional", torch::nn::Linear(2, 2));
    to(torch::kDouble);
    initDeterministically(*this);
  }
  Tensor loss(const Tensor& x, bool useOptional) {
    Tensor y = second(torch::tanh(first(x)));
    if (useOptional) y = optional(y);
    return y.pow(2).mean();
  }
  torch::nn::Linear first{nullptr}, second{nullptr}, optional{nullptr};
};
TORCH_MODULE(LateOptional);

TEST(GradientSynchronizer, ABucketWaitingForAnUnusedParameterHoldsBackTheLaterOnes) {
  constexpr int kWorld = 2;
  std::mutex mutex;
  std::vector<std::map<std::string, Tensor>> local(kWorld), averaged(kWorld);
  std::vector<long long> startedEarly(kWorld);
  runRanks(
      kWorld,
      [&](int rank, std::shared_ptr<dist::ProcessGroup> group) {
        LateOptional net;
        GradientSynchronizer sync(*net, group, {1, true});
        ASSERT_EQ(sync.bucketParameters(0), std::vector<std::string>{"optional.bias"});
        const Tensor x = torch::sin(torch::arange(6, torch::kDouble) + rank).view({2, 3});
        net->loss(x, rank == 0).backward();
        std::map<std::string, Tensor> mine;
        for (const auto& item : net->named_parameters())
          mine[item.key()] = item.value().grad().defined() ? item.value().grad().clone()
                                                           : torch::zeros_like(item.value());
        sync.finish();
        const std::lock_guard lock(mutex);
        local[static_cast<std::size_t>(rank)] = std::move(mine);
        for (const auto& item : net->named_parameters())
          averaged[static_cast<std::size_t>(rank)][item.key()] = item.value().grad().clone();
        startedEarly[static_cast<std::size_t>(rank)] = sync.lastStep().startedEarly;
      },
      kWatchdog);
  // Rank 1 has no gradient for bucket 0, so it may start nothing before finish(); rank 0 starts
  // every bucket during backward. Both issue them in the same order, so the sums line up.
  EXPECT_EQ(startedEarly[0], 6);
  EXPECT_EQ(startedEarly[1], 0);
  for (const auto& [name, grad] : local[0]) {
    const Tensor expected = (grad + local[1].at(name)) / 2;
    for (int rank = 0; rank < kWorld; ++rank)
      EXPECT_LE(maxDifference(averaged[static_cast<std::size_t>(rank)].at(name), expected), 1e-12)
          << name << " rank " << rank;
  }
  EXPECT_GT(local[0].at("optional.weight").abs().max().item<double>(), 0.0);
}

TEST(GradientSynchronizer, SecondBackwardBeforeFinishIsRefused) {
  runRanks(
      2,
      [](int rank, std::shared_ptr<dist::ProcessGroup> group) {
        TinyNet net = makeNet(NormKind::BatchNorm, nullptr);
        GradientSynchronizer sync(*net, group, {1, true});
        const Batch batch = batchFor(rank, 0, true);
        rankLoss(*net, net->forward(batch.images), batch.targets, 0).backward();
        try {
          rankLoss(*net, net->forward(batch.images), batch.targets, 0).backward();
          ADD_FAILURE() << "second backward accepted";
        } catch (const std::exception& e) {
          EXPECT_NE(std::string(e.what()).find("before finish()"), std::string::npos) << e.what();
        }
        sync.finish();  // both ranks are in the same state: it completes
      },
      kWatchdog);
}

TEST(GradientSynchronizer, DifferentModelsOnTheRanksAreReported) {
  EXPECT_THROW(runRanks(
                   2,
                   [](int rank, std::shared_ptr<dist::ProcessGroup> group) {
                     TinyNet net = makeNet(NormKind::BatchNorm, nullptr);
                     if (rank == 1) net->head->bias.set_requires_grad(false);
                     GradientSynchronizer sync(*net, group);
                   },
                   kWatchdog),
               std::runtime_error);
}

TEST(GradientSynchronizer, BroadcastFromRank0CopiesParametersAndBuffers) {
  const auto definition = testing::tinyDetectorDefinition();
  constexpr int kWorld = 3;
  std::mutex mutex;
  std::vector<std::map<std::string, Tensor>> states(kWorld);
  runRanks(
      kWorld,
      [&](int rank, std::shared_ptr<dist::ProcessGroup> group) {
        model::DetectionModel detector(definition,
                                       model::NormChoice{NormKind::SyncBatchNorm, group});
        {
          const torch::NoGradGuard noGrad;
          for (auto& p : detector->parameters())
            p.add_(rank);  // the DFL weights (no gradient) too
          for (auto& b : detector->buffers())
            b.fill_(rank + 1);
        }
        GradientSynchronizer sync(*detector, group);
        sync.broadcastFromRank0(*detector);
        std::map<std::string, Tensor> state;
        for (const auto& item : detector->named_parameters())
          state[item.key()] = item.value().detach().clone();
        for (const auto& item : detector->named_buffers())
          state[item.key()] = item.value().clone();
        const std::lock_guard lock(mutex);
        states[static_cast<std::size_t>(rank)] = std::move(state);
      },
      kWatchdog);
  ASSERT_FALSE(states[0].empty());
  EXPECT_TRUE(torch::equal(states[0].at("model.0.bn.layer.num_batches_tracked"),
                           torch::ones({}, torch::kLong)));
  for (int rank = 1; rank < kWorld; ++rank)
    for (const auto& [name, value] : states[0])
      EXPECT_TRUE(torch::equal(states[static_cast<std::size_t>(rank)].at(name), value))
          << name << " on rank " << rank;
}

TEST(GradientSynchronizer, BroadcastBuffersLeavesParametersAlone) {
  runRanks(
      2,
      [](int rank, std::shared_ptr<dist::ProcessGroup> group) {
        TinyNet net = makeNet(NormKind::BatchNorm, nullptr);
        {
          const torch::NoGradGuard noGrad;
          net->head->bias.fill_(rank);
          net->bn1->layer().buffers()[0].fill_(10 + rank);
        }
        GradientSynchronizer sync(*net, group);
        sync.broadcastBuffers(*net);
        EXPECT_EQ(net->head->bias[0].item<double>(), rank);
        EXPECT_EQ(net->bn1->layer().buffers()[0][0].item<double>(), 10.0);  // running_mean
      },
      kWatchdog);
}

TEST(GradientSynchronizer, NoGroupIsANoOp) {
  TinyNet net = makeNet(NormKind::BatchNorm, nullptr);
  GradientSynchronizer sync(*net, nullptr);
  const Batch batch = batchFor(0, 0, true);
  rankLoss(*net, net->forward(batch.images), batch.targets, 0).backward();
  const Tensor before = net->head->weight.grad().clone();
  sync.finish();
  sync.broadcastFromRank0(*net);
  EXPECT_TRUE(torch::equal(net->head->weight.grad(), before));
  // Unused parameters get zeros alone as with W ranks, so optimizers treat them alike.
  ASSERT_TRUE(net->neverUsed.grad().defined());
  EXPECT_TRUE(torch::equal(net->neverUsed.grad(), torch::zeros({5}, torch::kDouble)));
  EXPECT_EQ(sync.lastStep().collectives, 0);
  EXPECT_EQ(sync.bucketCount(), 0u);
  EXPECT_THROW(GradientSynchronizer(*net, nullptr, {0, true}), std::invalid_argument);
}

TEST(GradientSynchronizer, TinyDetectionModelWithSyncBnMatchesTheOracle) {
  const auto definition = testing::tinyDetectorDefinition();
  constexpr int kWorld = 2;
  const auto opts = torch::TensorOptions().dtype(torch::kDouble);
  const Tensor images = torch::sin(torch::arange(kWorld * 2 * 3 * 16 * 16, opts) * 0.11)
                            .view({kWorld * 2, 3, 16, 16});
  auto loss = [](const std::vector<Tensor>& levels) {
    Tensor total = torch::zeros({}, torch::kDouble);
    // Per-sample weights, so rank slices of the batch see the oracle's weights.
    for (const auto& level : levels) {
      const Tensor weights =
          torch::cos(torch::arange(level[0].numel(), torch::kDouble) * 0.3).view(level[0].sizes());
      total = total + (level * weights).sum() / level.size(0);
    }
    return total;
  };
  model::DetectionModel oracle(definition, model::NormChoice{NormKind::BatchNorm, nullptr});
  oracle->to(torch::kDouble);
  initDeterministically(*oracle);
  loss(oracle->forwardLevels(images)).backward();

  runRanks(
      kWorld,
      [&](int rank, std::shared_ptr<dist::ProcessGroup> group) {
        model::DetectionModel detector(definition,
                                       model::NormChoice{NormKind::SyncBatchNorm, group});
        detector->to(torch::kDouble);
        initDeterministically(*detector);
        GradientSynchronizer sync(*detector, group, {4096, true});
        loss(detector->forwardLevels(images.slice(0, rank * 2, rank * 2 + 2))).backward();
        sync.finish();
        const auto expected = oracle->named_parameters();
        for (const auto& item : detector->named_parameters()) {
          if (!item.value().requires_grad()) continue;
          EXPECT_LE(maxDifference(item.value().grad(), expected[item.key()].grad()), 1e-10)
              << item.key() << " rank " << rank;
        }
        EXPECT_GT(sync.bucketCount(), 1u);
      },
      kWatchdog);
}

}  // namespace
}  // namespace syncbn::train
