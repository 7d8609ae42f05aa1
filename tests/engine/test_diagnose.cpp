// `syncbn-engine diagnose RUN_DIR` on events.jsonl files written here, and the verdict lines
// `train` prints at an epoch's end (VerdictReporter).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/config.h"
#include "common/config_yaml.h"
#include "common/protocol.h"
#include "engine/diagnose_command.h"
#include "engine/verdict_reporter.h"

namespace syncbn::engine {
namespace {

namespace fs = std::filesystem;

protocol::RunStarted runStarted(NormKind norm, int world, int perRank) {
  Config config;
  config.data.data = "demo";
  config.train.batch = world * perRank;
  config.distributed.device = "cpu";
  config.distributed.cpu_ranks = world;
  config.distributed.norm = norm;
  protocol::RunStarted r;
  r.run_dir = "runs/train/x";
  r.world_size = world;
  r.device = "cpu";
  r.norm = std::string(toString(norm));
  r.epochs = 2;
  r.iterations_per_epoch = 20;
  r.global_batch = world * perRank;
  r.per_rank_batch = perRank;
  r.config_yaml = toYaml(config);
  return r;
}

protocol::BnStats probe(long long iteration, double noise, double disagreement) {
  protocol::BnStats b;
  b.iteration = iteration;
  b.layers_total = 1;
  b.rank_images = {1, 1, 1, 1};
  b.noise_median = b.noise_max = noise;
  b.disagreement_median = b.disagreement_max = disagreement;
  b.worst_layer = "model.0.bn";
  return b;
}

protocol::Val val(int epoch, double map50) {
  protocol::Val v;
  v.epoch = epoch;
  v.map50 = map50;
  return v;
}

class Diagnose : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("syncbn_diagnose_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  void write(const std::vector<protocol::Message>& messages, const std::string& tail = {}) {
    std::ofstream out(dir_ / "events.jsonl", std::ios::binary);
    for (const auto& m : messages) out << protocol::encode(m);
    out << tail;
  }
  int diagnose(bool json = false) {
    out_.str({});
    err_.str({});
    const CommandContext ctx{{}, out_, err_};
    return diagnoseRun(ctx, dir_.string(), json);
  }

  fs::path dir_;
  std::ostringstream out_, err_;
};

TEST_F(Diagnose, ExitsOneAndNamesTheCauseForNoisyBnNormalisers) {
  write({runStarted(NormKind::BatchNorm, 4, 1), probe(0, 0.9, 0.4), probe(8, 0.8, 0.45),
         val(0, 0.02)});
  EXPECT_EQ(diagnose(), kExitInvalid);
  EXPECT_NE(out_.str().find("Each of 4 ranks normalises over 1 image."), std::string::npos)
      << out_.str();
  EXPECT_NE(out_.str().find("Fix: SyncBN"), std::string::npos) << out_.str();
}

TEST_F(Diagnose, ExitsZeroForAHealthySyncBnRunAndPrintsJsonWhenAsked) {
  write({runStarted(NormKind::SyncBatchNorm, 4, 1), probe(0, 0.3, 0.0), val(0, 0.09)});
  EXPECT_EQ(diagnose(true), kExitOk);
  const auto json = nlohmann::json::parse(out_.str());
  EXPECT_EQ(json.at("healthy"), true);
  EXPECT_EQ(json.at("findings").at(0).at("rule"), "healthy");
}

TEST_F(Diagnose, ReadsALiveRecordWhoseLastLineIsCutOffAndReportsOtherBadLines) {
  write({runStarted(NormKind::BatchNorm, 4, 1), probe(0, 0.9, 0.4)},
        "not json\n" + protocol::encode(probe(8, 0.9, 0.4)) + "{\"v\":3,\"type\":\"st");
  EXPECT_EQ(diagnose(), kExitInvalid);
  EXPECT_NE(err_.str().find("events.jsonl:3: "), std::string::npos) << err_.str();
  EXPECT_EQ(err_.str().find("events.jsonl:5"), std::string::npos) << err_.str();
}

TEST_F(Diagnose, ARunWithoutARecordIsAUsageErrorNamingTheFile) {
  EXPECT_EQ(diagnose(), kExitUsage);
  EXPECT_NE(err_.str().find((dir_ / "events.jsonl").string() + ": no such file"),
            std::string::npos)
      << err_.str();
}

struct Recorder final : train::EventSink {
  void publish(const protocol::Message& m) override {
    if (const auto* log = std::get_if<protocol::Log>(&m)) lines.push_back(*log);
  }
  std::vector<protocol::Log> lines;
};

TEST(VerdictReporter, SpeaksAtAnEpochsEndOnlyWhenTheVerdictChanges) {
  Recorder console;
  VerdictReporter reporter({&console});
  reporter.publish(runStarted(NormKind::BatchNorm, 4, 1));
  reporter.publish(probe(0, 0.9, 0.4));
  EXPECT_TRUE(console.lines.empty()) << "nothing before the epoch ends";
  reporter.publish(val(0, 0.02));
  ASSERT_EQ(console.lines.size(), 1u);
  EXPECT_EQ(console.lines[0].level, "warning");
  EXPECT_EQ(console.lines[0].text.rfind("diagnosis after epoch 1: Each of 4 ranks", 0), 0u)
      << console.lines[0].text;
  // Same findings, other numbers: silent.
  reporter.publish(probe(20, 0.85, 0.41));
  reporter.publish(val(1, 0.1));
  EXPECT_EQ(console.lines.size(), 1u);
  // The statistics settle (five quiet probes outvote the old ones): it says so.
  for (int i = 0; i < 5; ++i) reporter.publish(probe(40 + i, 0.1, 0.05));
  reporter.publish(val(2, 0.3));
  ASSERT_EQ(console.lines.size(), 2u);
  EXPECT_EQ(console.lines[1].level, "info");
  EXPECT_NE(console.lines[1].text.find("after epoch 3: Healthy"), std::string::npos)
      << console.lines[1].text;
}

}  // namespace
}  // namespace syncbn::engine
