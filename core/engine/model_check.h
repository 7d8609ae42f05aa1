// The model a configuration names, checked the way `train` builds it, without building it: the
// model YAML parsed with its limits (model_definition.h), then its size from the layer shapes
// against this machine's memory. `check-config`, `plan`, `model-info` and `train` all run it, so
// they agree on what they refuse.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/config.h"
#include "common/diagnostics.h"
#include "common/topology.h"
#include "model/model_definition.h"

namespace syncbn::engine {

// This machine's physical memory in bytes (0 when it cannot be read: nothing is then refused).
std::uint64_t physicalMemoryBytes();

struct ModelCheckInputs {
  std::string model;          // model.model, or a model file given to model-info
  std::string scale;          // model.scale
  std::optional<int64_t> nc;  // the dataset's class count, when known
  int imgsz = 640;
  std::uint64_t memoryBytes = 0;  // physical memory; 0: no memory check
  // Training: the per-rank batch, the ranks sharing this machine and the optimizer size the
  // estimate. Without training (model-info) only building the model is checked.
  bool training = true;
  bool cpu = true;
  int perRankBatch = 1;
  int ranksOnThisMachine = 1;
  int worldSize = 1;
  std::string optimizer = "auto";
  int freeze = 0;  // train.freeze: must leave a layer to train
};

// Errors under field "model.model": the model file's own error (its file, line and field), or
// that the model cannot fit in memory; a warning when the whole training estimate may not.
Diagnostics checkModel(const ModelCheckInputs& inputs);

// The memory part of checkModel, for a definition already parsed.
Diagnostics checkModelMemory(const model::ModelDefinition& definition,
                             const ModelCheckInputs& inputs);

// The inputs for a configuration's training run on this machine.
ModelCheckInputs modelCheckInputs(const Config& config, const HostFacts& host,
                                  std::optional<int64_t> nc);

}  // namespace syncbn::engine
