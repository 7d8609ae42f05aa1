// TensorBoard event files against an independent reader: tests/train/tensorboard/read_tfevents.py
// checks every record's framing with its own bitwise CRC-32C and decodes the events with the
// protobuf runtime from the published .proto definitions (python3-protobuf, protoc).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "temp_dir.h"
#include "tensorboard/read_tfevents.h"
#include "train/tensorboard_events.h"

namespace syncbn::train {
namespace {

using data::testing::TempDir;

protocol::RunStarted startedAt(double startTime) {
  protocol::RunStarted started;
  started.start_time = startTime;
  return started;
}

protocol::Step stepAt(long long iteration) {
  protocol::Step step;
  step.iteration = iteration;
  return step;
}

TEST(Crc32c, MatchesTheStandardCheckValue) {
  EXPECT_EQ(crc32c("123456789"), 0xE3069283u);  // RFC 3720's CRC-32C check value
  EXPECT_EQ(crc32c(""), 0u);
}

TEST(TensorBoardSink, EveryScalarReadsBackThroughTheProtobufRuntime) {
  TempDir dir;
  TensorBoardSink sink(dir / "tb");
  sink.publish(stepAt(1));  // before run_started: nothing to write yet
  constexpr double kStart = 1.7e9 + 0.25;
  sink.publish(startedAt(kStart));
  protocol::Step step;
  step.epoch = 0;
  step.iteration = 7;
  step.time = 12.5;
  step.losses = {{"box", 1.5}, {"cls", 2.25}, {"dfl", 0.75}};
  step.lr = 0.01;
  step.images_per_second = 42;
  step.ranks = {{.data_ms = 1, .compute_ms = 20, .comm_ms = 3},
                {.data_ms = 2, .compute_ms = 21, .comm_ms = 4}};
  sink.publish(step);
  protocol::Val val;
  val.epoch = 3;
  val.time = 30;
  val.precision = 0.5;
  val.recall = 0.25;
  val.map50 = 0.625;
  val.map50_95 = 0.375;
  val.fitness = 0.4;
  val.box_loss = 1;
  val.cls_loss = 2;
  val.dfl_loss = 3;
  sink.publish(val);
  protocol::BnStats bn;
  bn.iteration = 8;
  bn.noise_max = 0.875;
  bn.noise_median = 0.125;
  bn.disagreement_max = 0.5;
  bn.disagreement_median = 0.0625;
  sink.publish(bn);
  sink.publish(protocol::Log{.level = "info", .rank = 0, .text = "not a scalar"});
  ASSERT_TRUE(sink.error().empty()) << sink.error();
  ASSERT_TRUE(std::filesystem::exists(sink.path()));
  EXPECT_EQ(sink.path().parent_path(), dir / "tb");
  EXPECT_EQ(sink.path().filename().string().rfind("events.out.tfevents.1700000000.", 0), 0u)
      << sink.path();

  const nlohmann::json read = test_support::readTensorBoardEvents(sink.path());
  ASSERT_FALSE(read.is_null());
  EXPECT_EQ(read["file_version"], "brain.Event:2");
  // tag -> (step, value, seconds after the start)
  const std::vector<std::tuple<std::string, long long, double, double>> expected = {
      {"train/box_loss", 7, 1.5, 12.5},
      {"train/cls_loss", 7, 2.25, 12.5},
      {"train/dfl_loss", 7, 0.75, 12.5},
      {"lr/pg0", 7, 0.01, 12.5},
      {"speed/images_per_second", 7, 42, 12.5},
      {"rank0/data_ms", 7, 1, 12.5},
      {"rank0/compute_ms", 7, 20, 12.5},
      {"rank0/comm_ms", 7, 3, 12.5},
      {"rank1/data_ms", 7, 2, 12.5},
      {"rank1/compute_ms", 7, 21, 12.5},
      {"rank1/comm_ms", 7, 4, 12.5},
      {"metrics/precision(B)", 3, 0.5, 30},
      {"metrics/recall(B)", 3, 0.25, 30},
      {"metrics/mAP50(B)", 3, 0.625, 30},
      {"metrics/mAP50-95(B)", 3, 0.375, 30},
      {"metrics/fitness", 3, 0.4, 30},
      {"val/box_loss", 3, 1, 30},
      {"val/cls_loss", 3, 2, 30},
      {"val/dfl_loss", 3, 3, 30},
      {"bn/noise_max", 8, 0.875, -1},
      {"bn/noise_median", 8, 0.125, -1},
      {"bn/disagreement_max", 8, 0.5, -1},
      {"bn/disagreement_median", 8, 0.0625, -1},
  };
  const auto& scalars = read["scalars"];
  ASSERT_EQ(scalars.size(), expected.size()) << scalars.dump();
  EXPECT_EQ(read["records"], expected.size() + 1);  // and the file_version record
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const auto& [tag, x, value, seconds] = expected[i];
    EXPECT_EQ(scalars[i][0], tag);
    EXPECT_EQ(scalars[i][1], x) << tag;
    EXPECT_EQ(scalars[i][2].get<double>(), static_cast<double>(static_cast<float>(value))) << tag;
    if (seconds >= 0) {
      EXPECT_DOUBLE_EQ(scalars[i][3].get<double>(), kStart + seconds) << tag;
    } else {  // bn_stats: stamped when written
      EXPECT_GT(scalars[i][3].get<double>(), kStart) << tag;
    }
  }
}

TEST(TensorBoardSink, AFolderThatCannotBeWrittenStopsTheLogNotTheRun) {
  TempDir dir;
  std::ofstream(dir / "tb") << "a file where the folder should be";
  TensorBoardSink sink(dir / "tb");
  EXPECT_NO_THROW(sink.publish(startedAt(1.7e9)));
  EXPECT_NE(sink.error().find((dir / "tb").string()), std::string::npos) << sink.error();
  EXPECT_NO_THROW(sink.publish(stepAt(1)));
}

}  // namespace
}  // namespace syncbn::train
