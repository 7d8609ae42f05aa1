// Each advice rule: fires exactly when its failure mode is present, names the field to change.
#include <gtest/gtest.h>

#include "common/advice.h"

namespace syncbn {
namespace {

const Diagnostic* rule(const Diagnostics& all, const std::string& id) {
  for (const auto& d : all)
    if (d.rule == id) return &d;
  return nullptr;
}

Config cpuRanks(int ranks, int globalBatch, NormKind norm) {
  Config config;
  config.distributed.device = "cpu";
  config.distributed.cpu_ranks = ranks;
  config.distributed.norm = norm;
  config.train.batch = globalBatch;
  config.train.amp = false;
  config.train.nbs = globalBatch;  // no accumulation unless a test wants it
  return config;
}

TEST(Advice, DefaultConfigHasOnlyTheCpuAmpNote) {
  const Diagnostics advice = advise(Config{});
  // nbs 64 over batch 16 accumulates, but BN's 16 images are above the small-batch threshold.
  ASSERT_EQ(advice.size(), 1u);
  EXPECT_NE(rule(advice, "amp-on-cpu"), nullptr);
}

TEST(Advice, SmallPerRankBatchWithPlainBn) {
  // 2 ranks x 4 images: fires, recommends syncbn but not yet groupnorm.
  Diagnostics advice = advise(cpuRanks(2, 8, NormKind::BatchNorm));
  const Diagnostic* d = rule(advice, "small-batch-bn");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->severity, Severity::Warning);
  EXPECT_EQ(d->field, "distributed.norm");
  EXPECT_NE(d->message.find("norm=syncbn"), std::string::npos);
  EXPECT_NE(d->message.find("all 8 images"), std::string::npos);
  EXPECT_EQ(d->message.find("groupnorm"), std::string::npos);

  // 4 ranks x 2 images: also suggests groupnorm.
  advice = advise(cpuRanks(4, 8, NormKind::BatchNorm));
  ASSERT_NE(rule(advice, "small-batch-bn"), nullptr);
  EXPECT_NE(rule(advice, "small-batch-bn")->message.find("norm=groupnorm"), std::string::npos);

  // Boundaries: 5 per rank, one rank, or syncbn: silent.
  EXPECT_EQ(rule(advise(cpuRanks(2, 10, NormKind::BatchNorm)), "small-batch-bn"), nullptr);
  EXPECT_EQ(rule(advise(cpuRanks(1, 2, NormKind::BatchNorm)), "small-batch-bn"), nullptr);
  EXPECT_EQ(rule(advise(cpuRanks(4, 8, NormKind::SyncBatchNorm)), "small-batch-bn"), nullptr);
}

TEST(Advice, SyncBnOnOneRank) {
  const Diagnostics advice = advise(cpuRanks(1, 8, NormKind::SyncBatchNorm));
  const Diagnostic* d = rule(advice, "syncbn-single-rank");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->field, "distributed.norm");
  EXPECT_EQ(rule(advise(cpuRanks(2, 8, NormKind::SyncBatchNorm)), "syncbn-single-rank"), nullptr);
  // Two CUDA devices make it multi-rank even though cpu_ranks is 1.
  Config cuda = cpuRanks(1, 8, NormKind::SyncBatchNorm);
  cuda.distributed.device = "0,1";
  EXPECT_EQ(rule(advise(cuda), "syncbn-single-rank"), nullptr);
}

TEST(Advice, AccumulationDoesNotEnlargeBnBatch) {
  Config config = cpuRanks(2, 8, NormKind::BatchNorm);
  config.train.nbs = 64;  // accumulate 8 iterations, BN still sees 4 per rank
  const Diagnostics advice = advise(config);
  const Diagnostic* d = rule(advice, "accumulation-bn-batch");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->field, "train.nbs");
  EXPECT_NE(d->message.find("over 8 iterations"), std::string::npos) << d->message;
  EXPECT_NE(d->message.find("4 image(s)"), std::string::npos) << d->message;

  config.distributed.norm = NormKind::SyncBatchNorm;  // BN sees 8: still small
  ASSERT_NE(rule(advise(config), "accumulation-bn-batch"), nullptr);
  config.train.batch = 32;  // BN sees 32: fine
  EXPECT_EQ(rule(advise(config), "accumulation-bn-batch"), nullptr);
  config.train.batch = 8;
  config.distributed.norm = NormKind::GroupNorm;  // no batch statistics at all
  EXPECT_EQ(rule(advise(config), "accumulation-bn-batch"), nullptr);
  config.distributed.norm = NormKind::BatchNorm;
  config.train.nbs = 8;  // no accumulation
  EXPECT_EQ(rule(advise(config), "accumulation-bn-batch"), nullptr);
}

TEST(Advice, AmpIgnoredOnCpu) {
  Config config = cpuRanks(1, 8, NormKind::BatchNorm);
  config.train.amp = true;
  const Diagnostics advice = advise(config);
  ASSERT_NE(rule(advice, "amp-on-cpu"), nullptr);
  EXPECT_EQ(rule(advice, "amp-on-cpu")->field, "train.amp");
  config.distributed.device = "";
  EXPECT_EQ(rule(advise(config, {.cudaDevices = 1}), "amp-on-cpu"), nullptr);
  config.train.amp = false;
  EXPECT_EQ(rule(advise(config), "amp-on-cpu"), nullptr);
}

TEST(Advice, NcclWithoutCudaIsAnError) {
  Config config = cpuRanks(2, 8, NormKind::SyncBatchNorm);
  config.distributed.backend = Backend::Nccl;
  const Diagnostics advice = advise(config);
  const Diagnostic* d = rule(advice, "nccl-without-cuda");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->severity, Severity::Error);
  EXPECT_EQ(d->field, "distributed.backend");
  config.distributed.device = "";  // auto with no CUDA visible: still CPU
  EXPECT_NE(rule(advise(config), "nccl-without-cuda"), nullptr);
  EXPECT_EQ(rule(advise(config, {.cudaDevices = 2}), "nccl-without-cuda"), nullptr);
}

TEST(Advice, MultiNodeNeedsReachableMaster) {
  Config config = cpuRanks(2, 8, NormKind::SyncBatchNorm);
  config.distributed.nnodes = 2;
  ASSERT_NE(rule(advise(config), "multi-node-loopback"), nullptr);
  config.distributed.master_addr = "10.0.0.5";
  EXPECT_EQ(rule(advise(config), "multi-node-loopback"), nullptr);
}

TEST(Advice, PreciseBnNeedsBatchNorm) {
  Config config = cpuRanks(2, 8, NormKind::GroupNorm);
  config.distributed.precise_bn = 100;
  ASSERT_NE(rule(advise(config), "precise-bn-without-bn"), nullptr);
  config.distributed.norm = NormKind::SyncBatchNorm;
  EXPECT_EQ(rule(advise(config), "precise-bn-without-bn"), nullptr);
}

}  // namespace
}  // namespace syncbn
