// Inference post-processing, as Ultralytics does it: non-maximum suppression of the model's eval
// output, and the letterbox geometry that maps boxes back to the original image.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

namespace syncbn::model {

struct NmsOptions {
  double confThreshold = 0.25;  // a score must be > this (validation uses 0.001)
  double iouThreshold = 0.7;    // a box is suppressed by a higher-scored one when IoU > this
  int64_t maxDet = 300;         // detections kept per image
  int64_t maxNms = 30000;       // highest-scored candidates that enter NMS
  bool multiLabel = false;      // one row per (box, class) above confThreshold, else best class
  bool agnostic = false;        // suppress across classes
  double maxWh = 7680;          // class offset for class-aware NMS; exceeds any box coordinate
};

// prediction: [N, 4 + nc, A], per anchor (cx, cy, w, h) in input pixels then nc scores in [0, 1]
// -> N tensors [K, 6] (x1, y1, x2, y2, conf, cls), conf descending, K <= maxDet. Float32 unless
// the prediction is float64. Throws std::invalid_argument on a malformed shape or option.
std::vector<at::Tensor> nonMaxSuppression(const at::Tensor& prediction,
                                          const NmsOptions& options = {});

// Greedy NMS: boxes [n, 4] xyxy, scores [n] -> indices [k] (int64) of the kept boxes, scores
// descending (ties keep input order). Visits boxes by score and drops every later box whose IoU
// with a kept one is > iouThreshold; stops after maxKeep. Same device as the boxes.
at::Tensor greedyNms(const at::Tensor& boxes, const at::Tensor& scores, double iouThreshold,
                     int64_t maxKeep);

struct ImageSize {
  int64_t height = 0;
  int64_t width = 0;
};

// Where an original image lies inside the network input after Ultralytics' LetterBox (centred,
// auto=False): input = original * ratio + pad.
struct Letterbox {
  double ratio = 1;  // min(input / original) over height and width, capped at 1 unless scaleUp
  double padX = 0;   // left border: round(dw - 0.1), dw = (inW - round(origW * ratio)) / 2
  double padY = 0;   // top border: round(dh - 0.1), Python's round (half to even)
  ImageSize original;
  ImageSize input;
};

Letterbox letterboxGeometry(ImageSize original, ImageSize input, bool scaleUp = true);

// xyxy boxes [..., 4] in input pixels -> original pixels, clipped to the original image.
at::Tensor boxesToOriginal(const at::Tensor& xyxy, const Letterbox& letterbox);

// xyxy boxes [..., 4] in original pixels -> input pixels (how labels follow the image).
at::Tensor boxesToInput(const at::Tensor& xyxy, const Letterbox& letterbox);

}  // namespace syncbn::model
