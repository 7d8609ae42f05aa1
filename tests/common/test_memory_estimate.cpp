// The training memory estimate against sums worked out by hand, and the byte formatting.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <stdexcept>

#include "common/memory_estimate.h"

namespace syncbn {
namespace {

// YOLOv8n's 3,157,200 parameters; 25 million saved activation elements per image.
MemoryInputs yolov8n(const std::string& optimizer) {
  MemoryInputs inputs;
  inputs.parameters = 3'157'200;
  inputs.activationElementsPerImage = 25'000'000;
  inputs.perRankBatch = 8;
  inputs.amp = true;
  inputs.optimizer = optimizer;
  return inputs;
}

TEST(EstimateTrainingMemory, AdamWWithAmpAddsUpByHand) {
  const MemoryEstimate e = estimateTrainingMemory(yolov8n("AdamW"));
  // 3,157,200 x 4 bytes = 12,628,800 for each fp32 copy.
  EXPECT_EQ(e.weights, 12'628'800u);
  EXPECT_EQ(e.gradients, 12'628'800u);
  EXPECT_EQ(e.optimizerState, 25'257'600u);  // exp_avg and exp_avg_sq
  EXPECT_EQ(e.ema, 12'628'800u);
  EXPECT_EQ(e.activations, 400'000'000u);  // 25e6 x 8 images x 2 bytes
  EXPECT_EQ(e.workspace, 536'870'912u);    // 0.5 GiB
  // 12,628,800 x 5 + 400,000,000 + 536,870,912
  EXPECT_EQ(e.total, 1'000'014'912u);
  EXPECT_NE(e.method.find("AdamW"), std::string::npos) << e.method;
  EXPECT_NE(e.method.find("512 MiB"), std::string::npos) << e.method;
}

TEST(EstimateTrainingMemory, AmpHalvesActivations) {
  MemoryInputs inputs = yolov8n("SGD");
  const MemoryEstimate half = estimateTrainingMemory(inputs);
  inputs.amp = false;
  const MemoryEstimate full = estimateTrainingMemory(inputs);
  EXPECT_EQ(full.activations, 800'000'000u);
  EXPECT_EQ(half.activations * 2, full.activations);
  EXPECT_EQ(full.total - half.total, 400'000'000u);
  EXPECT_EQ(half.weights, full.weights);  // master weights stay fp32
}

TEST(EstimateTrainingMemory, SgdKeepsOneBufferAdamTwo) {
  const MemoryEstimate sgd = estimateTrainingMemory(yolov8n("SGD"));
  const MemoryEstimate adam = estimateTrainingMemory(yolov8n("Adam"));
  const MemoryEstimate adamw = estimateTrainingMemory(yolov8n("AdamW"));
  EXPECT_EQ(sgd.optimizerState, sgd.weights);
  EXPECT_EQ(adam.optimizerState, 2 * adam.weights);
  EXPECT_EQ(adamw.optimizerState, adam.optimizerState);
  EXPECT_EQ(adam.total - sgd.total, 12'628'800u);
  EXPECT_EQ(estimateTrainingMemory(yolov8n("sgd")).optimizerState, sgd.optimizerState);
}

TEST(EstimateTrainingMemory, AutoCountsAsAdamW) {
  const MemoryEstimate automatic = estimateTrainingMemory(yolov8n("auto"));
  EXPECT_EQ(automatic.total, estimateTrainingMemory(yolov8n("AdamW")).total);
  EXPECT_EQ(estimateTrainingMemory(yolov8n("")).total, automatic.total);
  EXPECT_NE(automatic.method.find("optimizer=auto as AdamW"), std::string::npos)
      << automatic.method;
}

TEST(EstimateTrainingMemory, SeveralRanksAddTheAllReduceCopy) {
  MemoryInputs inputs = yolov8n("SGD");
  inputs.worldSize = 4;
  const MemoryEstimate e = estimateTrainingMemory(inputs);
  EXPECT_EQ(e.gradients, 2u * 12'628'800u);
  EXPECT_EQ(e.total, estimateTrainingMemory(yolov8n("SGD")).total + 12'628'800u);
}

TEST(EstimateTrainingMemory, RefusesWhatItCannotEstimate) {
  MemoryInputs inputs = yolov8n("LBFGS");
  EXPECT_THROW(estimateTrainingMemory(inputs), std::invalid_argument);
  inputs = yolov8n("SGD");
  inputs.perRankBatch = 0;
  EXPECT_THROW(estimateTrainingMemory(inputs), std::invalid_argument);
  inputs = yolov8n("SGD");
  inputs.parameters = -1;
  EXPECT_THROW(estimateTrainingMemory(inputs), std::invalid_argument);
  inputs = yolov8n("SGD");
  inputs.worldSize = 0;
  EXPECT_THROW(estimateTrainingMemory(inputs), std::invalid_argument);
}

TEST(FormatBytes, BinaryUnitsWithAtMostThreeFigures) {
  EXPECT_EQ(formatBytes(0), "0 B");
  EXPECT_EQ(formatBytes(1023), "1023 B");
  EXPECT_EQ(formatBytes(1024), "1.0 KiB");
  EXPECT_EQ(formatBytes(340ull << 20), "340 MiB");
  EXPECT_EQ(formatBytes(1'288'490'189), "1.2 GiB");  // 1.2 x 2^30
  EXPECT_EQ(formatBytes(12ull << 30), "12 GiB");
  EXPECT_EQ(formatBytes(1'000'014'912), "954 MiB");
  // Rounding that reaches the next figure or unit moves to it.
  EXPECT_EQ(formatBytes(10'443'000), "10 MiB");               // 9.959 MiB
  EXPECT_EQ(formatBytes((1024ull << 20) - 1000), "1.0 GiB");  // 1023.999 MiB
  EXPECT_EQ(formatBytes(std::numeric_limits<std::uint64_t>::max()), "16 EiB");
}

}  // namespace
}  // namespace syncbn
