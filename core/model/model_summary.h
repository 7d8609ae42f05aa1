// A model's size at a glance, as Ultralytics prints it: one row per layer (index, from, repeats,
// parameters, module, arguments) and "YOLOv8n summary: L layers, P parameters, G gradients,
// F GFLOPs".
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

namespace syncbn::model {

class DetectionModelImpl;

struct LayerSummary {
  int index = 0;
  std::string from;  // "-1" or "[-1, 6]", as written
  int repeats = 1;   // after depth scaling
  int64_t parameters = 0;
  std::string module;     // "Conv", "C2f", ...
  std::string arguments;  // resolved, Ultralytics style: Conv [c1, c2, k, s]
  int64_t multiplyAdds = 0;
};

struct ModelSummary {
  std::string name;
  std::vector<LayerSummary> layers;
  // Modules in the tree, the root included and a norm slot (Norm2d) counted once. Ultralytics
  // counts one more for YOLOv8 (225 for n): the single SiLU module its Conv blocks share, which
  // here is a function call.
  int64_t modules = 0;
  int64_t parameters = 0;
  int64_t gradients = 0;  // parameters that require a gradient
  int64_t imgsz = 640;
  double gflops = 0;  // 2 x multiply-adds of every convolution, one imgsz x imgsz image
  // Elements every convolution outputs for one imgsz x imgsz image, and an estimate of what
  // autograd keeps of one image for the backward pass: see kSavedTensorsPerConvolution.
  int64_t convOutputElements = 0;
  int64_t activationElements = 0;
};

// A Conv block keeps three tensors of its output's size for backward: the convolution's output
// (BatchNorm's input), BatchNorm's output (SiLU's input) and SiLU's output (the next
// convolution's input). Concatenation, upsampling and additions keep none; the Detect head's
// last 1x1 convolutions are counted the same way, which slightly overstates them.
inline constexpr int64_t kSavedTensorsPerConvolution = 3;

// Multiply-adds of all convolutions for one height x width image, from the layer shapes (no
// forward pass). Norms, activations, pooling and additions are not counted, as in Ultralytics'
// GFLOPs figures.
int64_t multiplyAdds(const DetectionModelImpl& model, int64_t height, int64_t width);

ModelSummary summarize(const DetectionModelImpl& model, int64_t imgsz = 640);

// The per-layer table, then the summary line.
void printSummary(std::ostream& out, const ModelSummary& summary);

// "YOLOv8n summary: 224 layers, 3157200 parameters, 3157184 gradients, 8.7 GFLOPs"
std::string summaryLine(const ModelSummary& summary);

}  // namespace syncbn::model
