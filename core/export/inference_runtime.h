// A detector from any file the engine writes, as one predict function: a checkpoint (its EMA, in
// the engine), an exported ONNX file (OpenCV DNN) or TorchScript file (torch::jit::load). `val`
// and `predict` take any of them, so an export is judged by the same metrics and boxes as the
// checkpoint it came from. Uses OpenCV (DNN, image files, drawing).
#pragma once

#include <ATen/core/Tensor.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace syncbn::model {
class DetectionModelImpl;
}

namespace syncbn::exporter {

struct LoadedDetector {
  std::string kind;  // "checkpoint", "ultralytics", "onnx", "torchscript"
  // float images [N, 3, H, W] in [0, 1] -> [N, 4 + nc, A] (any N; fixed-batch files are fed in
  // chunks of their batch).
  std::function<at::Tensor(const at::Tensor&)> predict;
  std::vector<std::string> names;
  int imgsz = 640;      // the size it was trained or exported at
  bool anySize = true;  // false: only imgsz x imgsz (a static ONNX graph)
  std::shared_ptr<model::DetectionModelImpl> model;  // a checkpoint's (val computes losses)
  std::string configYaml;                            // a checkpoint's saved configuration
};

// Throws std::runtime_error naming the file: unreadable, not one of the three kinds, refused by
// its runtime, or without the metadata (names, image size) the engine writes.
LoadedDetector loadDetector(const std::filesystem::path& weights);

// Ultralytics' "{0: 'bolt', 1: 'nut\'s'}" (Python's repr of a dict of names) -> the names in id
// order. Throws std::invalid_argument naming what it could not read.
std::vector<std::string> parseNamesRepr(const std::string& text);

// An image letterboxed as validation letterboxes it (scaled to fit, grey 114 padding, centred).
struct LetterboxedImage {
  at::Tensor pixels;                     // [1, 3, imgsz, imgsz] float in [0, 1], RGB
  double ratio = 1, padX = 0, padY = 0;  // input = original * ratio + pad
  int width = 0, height = 0;             // the original's
};
// Throws std::runtime_error naming the file when it cannot be read.
LetterboxedImage letterboxImage(const std::filesystem::path& image, int imgsz);

struct Detection {
  float x1 = 0, y1 = 0, x2 = 0, y2 = 0;  // original image pixels
  float confidence = 0;
  int cls = 0;
};

struct ImagePrediction {
  std::filesystem::path image;
  int width = 0, height = 0;
  std::vector<Detection> detections;
  double milliseconds = 0;  // letterbox, inference and NMS
};

struct PredictOptions {
  double conf = 0.25;
  double iou = 0.7;
  int maxDet = 300;
};

// One image, letterboxed to the detector's size, NMS, boxes mapped back to the original.
ImagePrediction predictImage(const LoadedDetector& detector, const std::filesystem::path& image,
                             const PredictOptions& options);

// Draws the detections (box, "name 0.87") over the image and writes it to `output` (its format
// from the extension), atomically.
void writeAnnotated(const ImagePrediction& prediction, const std::vector<std::string>& names,
                    const std::filesystem::path& output);

// Ultralytics' label format: "cls cx cy w h conf" per line, normalised to the original image.
std::string labelLines(const ImagePrediction& prediction);

}  // namespace syncbn::exporter
