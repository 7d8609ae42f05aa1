#include "engine/model_check.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "common/memory_estimate.h"
#include "model/model_summary.h"
#include "train/checkpoint_file.h"
#include "train/pretrained_weights.h"

namespace syncbn::engine {
namespace {

Diagnostic modelError(std::string message) {
  return Diagnostic{Severity::Error, "model.model", std::move(message), {}, {}, 0, {}};
}

// "3.2 M", "295.1 G", "5120".
std::string count(int64_t n) {
  char text[32];
  if (n >= 1'000'000'000)
    std::snprintf(text, sizeof text, "%.1f G", static_cast<double>(n) / 1e9);
  else if (n >= 1'000'000)
    std::snprintf(text, sizeof text, "%.1f M", static_cast<double>(n) / 1e6);
  else
    std::snprintf(text, sizeof text, "%lld", static_cast<long long>(n));
  return text;
}

}  // namespace

std::uint64_t physicalMemoryBytes() {
  const long pages = ::sysconf(_SC_PHYS_PAGES);
  const long pageSize = ::sysconf(_SC_PAGESIZE);
  if (pages <= 0 || pageSize <= 0) return 0;
  return static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(pageSize);
}

ModelCheckInputs modelCheckInputs(const Config& config, const HostFacts& host,
                                  std::optional<int64_t> nc) {
  const Topology topology = resolveTopology(config, host);
  ModelCheckInputs inputs;
  inputs.model = config.model.model;
  inputs.scale = config.model.scale;
  inputs.nc = nc;
  inputs.imgsz = config.data.imgsz;
  inputs.memoryBytes = physicalMemoryBytes();
  inputs.cpu = !topology.cuda;
  inputs.perRankBatch = std::max(topology.perRankBatch, 1);
  inputs.ranksOnThisMachine = std::max(topology.ranksPerNode, 1);
  inputs.worldSize = std::max(topology.worldSize, 1);
  inputs.optimizer = config.train.optimizer;
  inputs.freeze = config.train.freeze;
  return inputs;
}

Diagnostics checkModel(const ModelCheckInputs& inputs) {
  model::ModelDefinition definition;
  try {
    definition = train::modelDefinitionFor(inputs.model, inputs.scale, inputs.nc);
  } catch (const model::ModelDefinitionError& e) {
    return {modelError(e.what())};
  } catch (const train::CheckpointError& e) {
    return {modelError(e.what())};
  }
  if (inputs.training && inputs.freeze >= static_cast<int>(definition.layers.size()))
    return {Diagnostic{Severity::Error,
                       "train.freeze",
                       "freeze=" + std::to_string(inputs.freeze) + " freezes every layer of " +
                           definition.name + " (" + std::to_string(definition.layers.size()) +
                           " layers): nothing would train. Freeze at most " +
                           std::to_string(definition.layers.size() - 1) + " (10 is the backbone)",
                       {},
                       {},
                       0,
                       {}}};
  return checkModelMemory(definition, inputs);
}

Diagnostics checkModelMemory(const model::ModelDefinition& definition,
                             const ModelCheckInputs& inputs) {
  if (inputs.memoryBytes == 0) return {};

  const model::ModelFootprint footprint = model::estimateFootprint(definition, inputs.imgsz);
  const std::string sized = definition.name + " (" + count(footprint.parameters) + " parameters";
  const std::string machine = formatBytes(inputs.memoryBytes) + " of memory on this machine";
  const auto weights = static_cast<std::uint64_t>(footprint.parameters) * 4;
  if (!inputs.training) {
    if (weights > inputs.memoryBytes)
      return {modelError(sized + ") needs " + formatBytes(weights) +
                         " for its float32 weights alone, more than the " + machine)};
    return {};
  }

  MemoryInputs memory;
  memory.parameters = footprint.parameters;
  memory.activationElementsPerImage =
      model::kSavedTensorsPerConvolution * footprint.convOutputElements;
  memory.perRankBatch = inputs.perRankBatch;
  memory.optimizer = inputs.optimizer;
  memory.worldSize = inputs.worldSize;
  MemoryEstimate estimate;
  try {
    estimate = estimateTrainingMemory(memory);
  } catch (const std::invalid_argument&) {
    return {};  // an unknown optimizer: validation reports it under train.optimizer
  }
  const auto ranks = static_cast<std::uint64_t>(inputs.ranksOnThisMachine);
  const std::uint64_t state =
      estimate.weights + estimate.gradients + estimate.optimizerState + estimate.ema;
  // On a GPU the training state lives on the device; the host still builds every rank's model.
  const std::uint64_t hostState = inputs.cpu ? state : weights;
  const std::string perRanks = ranks > 1 ? " x " + std::to_string(ranks) + " ranks" : "";
  if (hostState * ranks > inputs.memoryBytes)
    return {modelError(
        sized + ") needs " + formatBytes(hostState) + perRanks + " for " +
        (inputs.cpu ? "its weights, gradients, optimizer state and EMA" : "its float32 weights") +
        ", more than the " + machine + ": choose a smaller scale or width")};
  if (!inputs.cpu) return {};
  const std::uint64_t perImage =
      estimate.activations / static_cast<std::uint64_t>(memory.perRankBatch);
  if ((state + perImage) * ranks > inputs.memoryBytes)
    return {modelError(sized + ", " + formatBytes(perImage) + " of activations per " +
                       std::to_string(inputs.imgsz) + " px image) cannot train even one image" +
                       perRanks + " in the " + machine + ": lower data.imgsz or the model's size")};
  const std::uint64_t total = (state + estimate.activations) * ranks;
  if (total > inputs.memoryBytes)
    return {Diagnostic{Severity::Warning,
                       "train.batch",
                       "training " + definition.name + " at " + std::to_string(inputs.imgsz) +
                           " px with " + std::to_string(inputs.perRankBatch) +
                           " image(s) per rank" + perRanks + " needs an estimated " +
                           formatBytes(total) + ", more than the " + machine +
                           ": lower train.batch or data.imgsz",
                       {},
                       {},
                       0,
                       {}}};
  return {};
}

}  // namespace syncbn::engine
