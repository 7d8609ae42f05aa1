// `syncbn-engine val` and `predict`: the validator and inference on any weights the engine writes
// (a checkpoint, an exported ONNX or TorchScript file), so an export is judged by the same
// metrics and boxes as its checkpoint.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "engine/commands.h"

namespace syncbn::engine {

struct ValOptions {
  std::filesystem::path weights;
  std::string data;           // a data.yaml or `demo`; empty: the checkpoint's data.data
  std::string split = "val";  // val or test
  int batch = 16;
  int workers = 2;
  bool json = false;
};

// Prints the validation table of training (per class and all) and exits 0; 1 when the weights,
// the dataset or the split cannot be used (the error names the file).
int valCommand(const CommandContext& ctx, const ValOptions& options);

struct PredictOptions {
  std::filesystem::path weights;
  std::vector<std::filesystem::path> sources;  // images or folders of images
  double conf = 0.25;
  double iou = 0.7;
  bool saveTxt = false;
  std::string project = "runs/predict";
  std::string name = "exp";
  bool json = false;
};

// Writes annotated images (and with --save-txt labels/<stem>.txt, Ultralytics' format with the
// confidence last) to a new numbered folder project/name, name2, ...; prints one line per image.
int predictCommand(const CommandContext& ctx, const PredictOptions& options);

}  // namespace syncbn::engine
