#include "common/memory_estimate.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace syncbn {
namespace {

constexpr std::uint64_t kFp32Bytes = 4;
constexpr std::uint64_t kFp16Bytes = 2;

std::string lowercase(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

struct OptimizerState {
  std::string name;  // as the method sentence names it
  int buffers = 0;   // fp32 tensors of the parameters' size
};

// SGD keeps a momentum buffer (the engine's SGD always has momentum > 0); Adam-family optimizers
// keep the first and second moments; RMSProp its squared average and, with Ultralytics' momentum,
// a momentum buffer. optimizer=auto picks SGD above 10000 iterations and AdamW otherwise
// (train::chooseOptimizer, as Ultralytics); the estimate takes AdamW, the larger, so that it
// never understates. An empty name is the configuration's default, auto.
OptimizerState optimizerState(const std::string& optimizer) {
  const std::string name = lowercase(optimizer);
  if (name == "sgd") return {"SGD momentum buffer", 1};
  if (name == "auto" || name.empty()) return {"AdamW moment buffers (optimizer=auto as AdamW)", 2};
  if (name == "adam" || name == "adamw" || name == "adamax" || name == "nadam" || name == "radam")
    return {optimizer + " moment buffers", 2};
  if (name == "rmsprop") return {"RMSProp buffers", 2};
  throw std::invalid_argument("estimateTrainingMemory: unknown optimizer '" + optimizer +
                              "' (auto, SGD, Adam, AdamW, Adamax, NAdam, RAdam, RMSProp)");
}

std::string formatted(const char* format, double value, const char* unit) {
  char text[32];
  std::snprintf(text, sizeof text, format, value);
  return std::string(text) + " " + unit;
}

}  // namespace

MemoryEstimate estimateTrainingMemory(const MemoryInputs& inputs) {
  if (inputs.parameters < 0 || inputs.activationElementsPerImage < 0)
    throw std::invalid_argument("estimateTrainingMemory: negative parameter or activation count");
  if (inputs.perRankBatch < 1)
    throw std::invalid_argument("estimateTrainingMemory: perRankBatch must be at least 1, got " +
                                std::to_string(inputs.perRankBatch));
  if (inputs.worldSize < 1)
    throw std::invalid_argument("estimateTrainingMemory: worldSize must be at least 1, got " +
                                std::to_string(inputs.worldSize));
  const OptimizerState state = optimizerState(inputs.optimizer);
  const auto parameters = static_cast<std::uint64_t>(inputs.parameters);
  const bool buckets = inputs.worldSize > 1;

  MemoryEstimate e;
  // The master weights stay fp32 under AMP (autocast casts per operation).
  e.weights = parameters * kFp32Bytes;
  e.gradients = parameters * kFp32Bytes * (buckets ? 2 : 1);
  e.optimizerState = parameters * kFp32Bytes * static_cast<std::uint64_t>(state.buffers);
  e.ema = parameters * kFp32Bytes;
  e.activations = static_cast<std::uint64_t>(inputs.activationElementsPerImage) *
                  static_cast<std::uint64_t>(inputs.perRankBatch) *
                  (inputs.amp ? kFp16Bytes : kFp32Bytes);
  e.workspace = kAssumedWorkspaceBytes;
  e.total = e.weights + e.gradients + e.optimizerState + e.ema + e.activations + e.workspace;
  e.method = "fp32 weights, gradients" +
             std::string(buckets ? " (twice: the all-reduce keeps a copy)" : "") +
             ", EMA weights and " + std::to_string(state.buffers) + " " + state.name +
             " per parameter, the activations autograd keeps for " +
             std::to_string(inputs.perRankBatch) + " image(s) in " +
             (inputs.amp ? "fp16" : "fp32") + ", plus an assumed " +
             formatBytes(kAssumedWorkspaceBytes) +
             " for the CUDA context and cuDNN workspace. Not counted: autocast's fp16 weight "
             "copies, allocator fragmentation and short-lived buffers, so leave headroom.";
  return e;
}

std::string formatBytes(std::uint64_t bytes) {
  static constexpr std::array<const char*, 7> kUnits = {"B",   "KiB", "MiB", "GiB",
                                                        "TiB", "PiB", "EiB"};
  if (bytes < 1024) return std::to_string(bytes) + " B";
  double value = static_cast<double>(bytes);
  std::size_t unit = 0;
  while (value >= 1024 && unit + 1 < kUnits.size()) {
    value /= 1024;
    ++unit;
  }
  // One decimal below 10, none above: at most three significant figures.
  if (std::round(value * 10) / 10 < 10) return formatted("%.1f", value, kUnits[unit]);
  if (std::round(value) >= 1024 && unit + 1 < kUnits.size())
    return formatted("%.1f", 1.0, kUnits[unit + 1]);
  return formatted("%.0f", value, kUnits[unit]);
}

}  // namespace syncbn
