// The export's own check: the exported file run in its own runtime (OpenCV DNN for ONNX,
// torch::jit::load for TorchScript) on a real image, letterboxed, against the engine's eval-mode
// output of the checkpoint it came from: the largest absolute difference on output0 and, after
// NMS, whether both keep the same boxes and classes. Uses OpenCV (image decoding, DNN).
#pragma once

#include <ATen/core/Tensor.h>

#include <filesystem>
#include <string>
#include <vector>

#include "export/exporter.h"

namespace syncbn::exporter {

struct ExportCheck {
  std::string runtime;  // "OpenCV 4.6.0 DNN", "LibTorch 1.13.0 torch::jit::load"
  std::filesystem::path image;
  double maxAbsDifference = 0;        // on output0, over every element
  double maxBoxOutputDifference = 0;  // of those, the box rows' (pixels)
  double maxScoreDifference = 0;      // and the class scores'
  double maxRelativeDifference = 0;   // |difference| / max(|engine|, 1)
  // The engine's float32 boxes against its float64 ones: how much float32 rounding alone moves
  // pixel coordinates, the yardstick for the box difference.
  double engineFloat32Difference = 0;
  // On the scores absolute, on the boxes relative to max(|box|, 1): box coordinates are pixels, in
  // which float32 rounding alone exceeds 1e-4 absolute on large images. float32: 1e-4; float16
  // weights: 5e-2 (stated in the report).
  double tolerance = 1e-4;
  int engineDetections = 0, exportDetections = 0;
  bool sameDetections = false;  // same count, same classes in the same order
  double maxBoxDifference = 0;  // pixels, over the matched detections' corners
  int nmsTies = 0;              // equal-score pairs NMS kept the other way (compareDetections)
  bool passed = false;  // scores and relative box difference within tolerance, same detections
  std::string error;    // the runtime refused the file (then passed is false)
  // Why the file was not run (then passed is false and error empty): OpenCV 4.6 DNN reads
  // neither float16 initializers nor a graph that computes shapes (--half, --dynamic ONNX).
  std::string skipped;
};

// Whether two NMS results keep the same detections: as many, each of one matched to one of the
// other with the same class and corners within `pixels` (order aside: near-equal confidences may
// swap places). maxDifference: the largest corner difference over the matches.
//
// A tie also matches: two boxes of the same class whose confidences agree within
// `scoreTolerance` and that overlap beyond `nmsIou`. NMS keeps one of such a pair and suppresses
// the other, and which one depends on the last bit of two equal scores (an untrained or barely
// trained model has many), so the two runtimes may keep either.
struct DetectionAgreement {
  bool same = false;
  double maxDifference = 0;
  int ties = 0;  // matches that are such ties
};
DetectionAgreement compareDetections(const at::Tensor& a, const at::Tensor& b, double pixels = 0.5,
                                     double scoreTolerance = 1e-4, double nmsIou = 0.7);

// Runs `result`'s file. `image` empty: the first val image of the checkpoint's dataset (the
// training images' when it has no val split). Throws ExportError when no image can be found.
ExportCheck checkExport(const ExportRequest& request, const ExportResult& result,
                        std::filesystem::path image = {});

// The report printed after an export: file, size, time, then the check.
std::string formatReport(const ExportResult& result, const ExportCheck& check);

}  // namespace syncbn::exporter
