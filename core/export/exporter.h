// `syncbn-engine export`: a checkpoint's EMA weights, norms folded, written as ONNX or TorchScript
// atomically (a temporary file beside the target, then a rename). Needs neither the trainer nor
// OpenCV; the checks that run the file in its own runtime are export/export_check.h.
#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>

#include "export/export_formats.h"

namespace syncbn::exporter {

enum class ExportFormat { Onnx, TorchScript };

// "onnx" / "torchscript"; fromString throws std::invalid_argument naming the choices.
std::string toString(ExportFormat format);
ExportFormat exportFormatFromString(const std::string& text);

struct ExportRequest {
  std::filesystem::path weights;  // a checkpoint: RUN/weights/best.pt
  ExportFormat format = ExportFormat::Onnx;
  int imgsz = 0;  // 0: the size the run trained at
  int batch = 1;
  bool dynamic = false;
  bool half = false;
  int opset = 12;
  std::filesystem::path output;  // empty: beside the weights, best.onnx / best.torchscript
};

struct ExportResult {
  std::filesystem::path output;
  std::uintmax_t bytes = 0;
  double seconds = 0;  // reading, folding and writing
  ExportMetadata metadata;
  bool dynamic = false;  // batch and image size chosen at run time
  int foldedNorms = 0;   // BatchNorm layers folded into their convolutions
  int groupNorms = 0;    // GroupNorm layers kept
};

// What export refuses, naming the file or option: a bad checkpoint, an image size that is not a
// multiple of the stride, an opset out of range, an output that cannot be written.
class ExportError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

std::filesystem::path defaultExportPath(const std::filesystem::path& weights, ExportFormat format);

ExportResult exportWeights(const ExportRequest& request);

}  // namespace syncbn::exporter
