// A detector described in Ultralytics' model YAML (nc, scales, backbone, head), parsed and scaled
// the way Ultralytics' parse_model does, into layers whose channels and arguments are resolved.
// Torch-free: the engine's summary and the GUI-side checks can read it without LibTorch.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace syncbn::model {

// What the YAML says is wrong and where: "file:line:column: field: message".
class ModelDefinitionError : public std::runtime_error {
 public:
  ModelDefinitionError(const std::string& source, int line, int column, const std::string& field,
                       const std::string& message);
  const std::string& source() const { return source_; }
  int line() const { return line_; }  // 1-based; 0 when unknown
  const std::string& field() const { return field_; }

 private:
  std::string source_;
  int line_;
  std::string field_;
};

// What a model YAML may ask for, checked while it is parsed, before anything is allocated. Far
// above any YOLOv8 scale (x: 640 channels, 6 repeats, kernels of 3 and 5, stride 2, 80 classes),
// yet low enough that one layer cannot ask for terabytes; estimateFootprint then checks the whole.
struct ModelLimits {
  int layers = 512;
  int repeats = 64;             // as written, and after the depth gain
  double gain = 4.0;            // depth and width gains
  int64_t channels = 8192;      // any layer's output, after the width gain
  int64_t kernel = 15;          // Conv and SPPF
  int64_t stride = 16;          // one Conv's stride, one Upsample's factor
  int64_t outputStride = 1024;  // the input pixels one output pixel spans, over all layers
  int64_t classes = 10000;
};

enum class LayerType { Conv, C2f, SPPF, Bottleneck, Upsample, Concat, Detect };

std::string_view toString(LayerType type);

// One [from, repeats, module, args] row after scaling. Arguments not used by a type keep their
// defaults.
struct LayerSpec {
  int index = 0;
  std::vector<int> from;    // as written: -1 the previous layer, or layer indices
  std::vector<int> inputs;  // absolute layer indices; -1 is the input image
  int repeats = 1;          // after depth scaling; C2f takes it as its bottleneck count
  LayerType type = LayerType::Conv;
  std::string module;               // as written, e.g. "nn.Upsample"
  std::vector<int64_t> inChannels;  // one per input
  int64_t outChannels = 0;          // after width scaling
  int64_t kernel = 1;               // Conv, SPPF
  int64_t stride = 1;               // Conv
  bool shortcut = false;            // C2f (default false), Bottleneck (default true)
  int64_t scaleFactor = 2;          // Upsample
  int64_t nc = 0;                   // Detect
  int64_t outputStride = 1;         // input pixels per output pixel (8 for P3)
  int line = 0;                     // 1-based line of the row in the source
};

struct ModelDefinition {
  std::string source;  // the file, or "yolov8.yaml (built-in)"
  std::string name;    // for summaries: "YOLOv8n", or the file's stem
  std::string scale;   // the scale used; empty when the file has no `scales`
  double depth = 1.0;
  double width = 1.0;
  int64_t maxChannels = 0;  // 0: no limit
  int64_t nc = 80;
  int64_t inputChannels = 3;
  std::vector<LayerSpec> layers;  // the last one is Detect
  // The YAML it was parsed from, so a checkpoint can carry its own model (and `export` or `val`
  // build it without the file, which may have moved).
  std::string yamlText;
};

// Parses a model YAML. `scale` picks a row of `scales` (empty: the first row, as Ultralytics
// does); `nc`, when given, replaces the file's class count. Throws ModelDefinitionError.
ModelDefinition parseModelDefinition(const std::string& yamlText, const std::string& source,
                                     const std::string& name, const std::string& scale = "",
                                     std::optional<int64_t> nc = std::nullopt);

// The size of the model a definition builds, computed from the layer shapes alone (nothing is
// allocated), so that a definition can be checked against the machine before it is built.
struct ModelFootprint {
  int64_t parameters = 0;  // with BatchNorm (weight and bias per channel), the DFL's 16 included
  // Elements every convolution outputs for one imgsz x imgsz image: ModelSummary's
  // convOutputElements, without building the model.
  int64_t convOutputElements = 0;
};

ModelFootprint estimateFootprint(const ModelDefinition& definition, int64_t imgsz);

// `model` as users write it: "n".."x", "yolov8n.yaml".."yolov8x.yaml", or "yolov8.yaml" with a
// scale name the compiled-in definition; anything else is a path to a model YAML, whose scale is
// `scale`, else guessed from a "yolov8<scale>" file stem. Throws ModelDefinitionError.
ModelDefinition loadModelDefinition(const std::string& model, const std::string& scale = "",
                                    std::optional<int64_t> nc = std::nullopt);

// Whether `argument` names a model rather than a training configuration: a built-in name, or a
// YAML file with a `backbone` (the engine's commands take either).
bool isModelArgument(const std::string& argument);

// The compiled-in resources/models/yolov8.yaml.
std::string_view builtinYolov8Yaml();

}  // namespace syncbn::model
