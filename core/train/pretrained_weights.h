// Starting weights for a run: an Ultralytics checkpoint (`yolov8n.pt`, a run's `best.pt`) read
// without Python, or one of this engine's own checkpoints, as what fine-tuning needs: the model
// definition, the class names and every state-dict tensor under Ultralytics' names. Then the
// transfer onto a built model, as Ultralytics' `intersect_dicts` does it: every tensor whose name
// and shape match is copied, and the report says which did not and why. docs/pretrained.md has
// the name mapping and the refusals.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace torch::nn {
class Module;
}
namespace syncbn::model {
class DetectionModelImpl;
struct ModelDefinition;
}  // namespace syncbn::model

namespace syncbn::train {

enum class WeightsFormat { Ultralytics, SyncBN };

struct PretrainedWeights {
  std::filesystem::path path;
  WeightsFormat format = WeightsFormat::Ultralytics;
  std::string producer;   // "Ultralytics 8.3.186", "SyncBN Studio 0.9.0"
  std::string taken;      // which weights were taken: "ema", "model" (Ultralytics' keys), "EMA"
  std::string modelYaml;  // the model definition as YAML (Ultralytics: its `yaml` attribute)
  std::string modelName;  // "YOLOv8n"
  std::string scale;      // "n"; empty when the definition has no scales
  std::vector<std::string> names;  // class names, index = class id
  int imgsz = 0;                   // the image size it was trained at, 0 when unknown
  // The state dict in Ultralytics' names ("model.0.bn.weight"), in the file's dtypes and order.
  std::vector<std::pair<std::string, at::Tensor>> tensors;

  // "yolov8n.pt (Ultralytics 8.3.186, ema)"
  std::string describe() const;
};

// Reads starting weights by their contents (not their name): an Ultralytics checkpoint (a
// torch.save zip archive whose pickle holds a DetectionModel under "ema" or "model") or this
// engine's checkpoint container. Throws CheckpointError naming the file and the reason: not a
// regular file, not a checkpoint, PyTorch's legacy format, a TorchScript file, no model in it, a
// model family or task this engine does not build (YOLOv5, YOLOv9, YOLO11, segmentation, pose,
// ...), or tensors that are truncated or lie outside their storage. Without `withTensors`, only
// what describes the model is read (for checks and summaries); `tensors` stays empty.
PretrainedWeights readPretrainedWeights(const std::filesystem::path& path, bool withTensors = true);

// The definition the weights were trained with, built for `nc` classes (the file's own when
// nullopt), as Ultralytics builds a fine-tuned model from the checkpoint's yaml and the dataset's
// class count. `scale` (model.scale), when set, must be the weights'. Throws CheckpointError
// naming the file.
model::ModelDefinition pretrainedDefinition(const PretrainedWeights& weights,
                                            std::optional<int64_t> nc = std::nullopt,
                                            const std::string& scale = "");

// The definition the configuration's `model` names, as `train` builds it: a weights file's own
// (isWeightsFile; `scale`, when set, must be the weights'), else loadModelDefinition's. Reads no
// tensors. Throws model::ModelDefinitionError, or CheckpointError naming a weights file.
model::ModelDefinition modelDefinitionFor(const std::string& model, const std::string& scale,
                                          std::optional<int64_t> nc);

// A module's parameters and buffers under Ultralytics' names: this engine's norm slots hold their
// layer as a child named "layer" ("model.0.bn.layer.weight"), which Ultralytics' BatchNorm2d
// does not have ("model.0.bn.weight"); every other name is the same. In state-dict order.
std::vector<std::pair<std::string, at::Tensor>> ultralyticsStateDict(
    const torch::nn::Module& model);

struct TransferReport {
  int transferred = 0;  // tensors copied
  int total = 0;        // the model's state-dict tensors (Ultralytics' M in "N/M items")
  // The model's tensors left as they were, each with its reason:
  // "model.22.cv3.0.2.weight: [80, 64, 1, 1] in the file, [3, 64, 1, 1] here".
  std::vector<std::string> notTransferred;
  std::vector<std::string> unused;  // names in the file that this model has not
  std::string source;               // PretrainedWeights::describe()

  // "Transferred 349/355 items from yolov8n.pt (Ultralytics 8.3.186, ema)"
  std::string summary() const;
  // What was left out, by block: "model.22.cv3 (36 items: other shapes)"; "" when nothing was.
  std::string leftOut() const;
};

// Copies every tensor of `weights` whose Ultralytics name and shape match one of `model`'s,
// converted to the model's dtype (float16 values are exact in float32), without recording
// gradients. The rest of the model keeps its initialisation.
TransferReport transferWeights(torch::nn::Module& model, const PretrainedWeights& weights);

// Ultralytics' `freeze=N`: the parameters of layers model.0 .. model.N-1 stop training
// (requires_grad false), as do the DFL's always. Returns the number of parameters frozen by
// `layers` (the DFL's not counted). `layers` beyond the model's count freezes every layer.
int freezeLayers(model::DetectionModelImpl& model, int layers);

}  // namespace syncbn::train
