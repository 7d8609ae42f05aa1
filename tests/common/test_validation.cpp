// Validation: each error kind, all reported together, plus the topology arithmetic behind them.
#include <gtest/gtest.h>

#include "common/config_schema.h"
#include "common/validation.h"

namespace syncbn {
namespace {

std::vector<std::string> errorFields(const Diagnostics& all) {
  std::vector<std::string> fields;
  for (const auto& d : all) {
    EXPECT_EQ(d.severity, Severity::Error);
    fields.push_back(d.field);
  }
  return fields;
}

TEST(Validation, DefaultConfigIsValid) {
  EXPECT_TRUE(validate(Config{}).empty());
}

TEST(Validation, EveryRangeViolationNamesFieldAndBounds) {
  for (const auto& spec : configFields()) {
    if (spec.type != FieldType::Int && spec.type != FieldType::Float) continue;
    Config config;
    const double below = spec.min - 1;
    spec.set(config,
             spec.type == FieldType::Int ? FieldValue{(long long)below} : FieldValue{below});
    const Diagnostics problems = validate(config);
    bool found = false;
    for (const auto& d : problems)
      found |= d.field == spec.path() && d.message.find("must be") != std::string::npos;
    EXPECT_TRUE(found) << spec.path() << " accepted " << below;
  }
}

TEST(Validation, ReportsEveryProblemAtOnce) {
  Config config;
  config.train.epochs = 0;
  config.train.lrf = 2.0;
  config.data.imgsz = 100;
  config.data.data = "";
  config.distributed.device = "0,0";
  config.distributed.nnodes = 2;
  config.distributed.node_rank = 2;
  config.output.name = "a/b";
  const auto fields = errorFields(validate(config));
  for (const std::string expected : {"train.epochs", "train.lrf", "data.imgsz", "data.data",
                                     "distributed.device", "distributed.node_rank", "output.name"})
    EXPECT_NE(std::find(fields.begin(), fields.end(), expected), fields.end()) << expected;
}

TEST(Validation, GlobalBatchMustDivideAcrossAllRanks) {
  Config config;
  config.distributed.device = "cpu";
  config.distributed.cpu_ranks = 2;
  config.distributed.nnodes = 2;
  config.train.batch = 6;  // 4 ranks
  const Diagnostics problems = validate(config);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].field, "train.batch");
  EXPECT_NE(problems[0].message.find("4 ranks"), std::string::npos) << problems[0].message;
  config.train.batch = 8;
  EXPECT_TRUE(validate(config).empty());
}

TEST(Validation, DeviceListSyntax) {
  for (const std::string bad : {"gpu", "0,", ",1", "-1", "0,1,1", "1.5", "cuda:0"}) {
    Config config;
    config.distributed.device = bad;
    EXPECT_EQ(errorFields(validate(config)), std::vector<std::string>{"distributed.device"}) << bad;
  }
  for (const std::string good : {"", "cpu", "0", "0,1", "3, 1"}) {
    Config config;
    config.distributed.device = good;
    EXPECT_TRUE(validate(config).empty()) << good;
  }
}

TEST(Topology, CpuRanksAndCudaDevices) {
  Config config;
  config.train.batch = 16;
  config.distributed.device = "cpu";
  config.distributed.cpu_ranks = 4;
  config.distributed.norm = NormKind::BatchNorm;
  Topology t = resolveTopology(config, {.cudaDevices = 8});
  EXPECT_FALSE(t.cuda);
  EXPECT_EQ(t.worldSize, 4);
  EXPECT_EQ(t.perRankBatch, 4);
  EXPECT_EQ(t.bnBatch, 4);
  EXPECT_EQ(t.backend, Backend::Gloo);
  EXPECT_EQ(t.accumulate, 4);  // round(64 / 16)

  config.distributed.device = "";  // auto: all visible CUDA devices
  config.distributed.norm = NormKind::SyncBatchNorm;
  t = resolveTopology(config, {.cudaDevices = 2});
  EXPECT_TRUE(t.cuda);
  EXPECT_EQ(t.cudaDeviceIds, (std::vector<int>{0, 1}));
  EXPECT_EQ(t.perRankBatch, 8);
  EXPECT_EQ(t.bnBatch, 16);
  EXPECT_EQ(t.backend, Backend::Nccl);

  config.train.batch = 24;
  config.distributed.device = "2,5,7";
  config.distributed.nnodes = 2;
  t = resolveTopology(config, {});
  EXPECT_EQ(t.worldSize, 6);
  EXPECT_EQ(t.perRankBatch, 4);
  EXPECT_EQ(t.accumulate, 3);  // round(64 / 24) = round(2.67)
}

}  // namespace
}  // namespace syncbn
