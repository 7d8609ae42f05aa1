// One image ready for the network, with its labels: what the augmentation pipeline produces and
// the loader batches. Plain types only (no OpenCV, no torch).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "data/label_file.h"

namespace syncbn::data {

struct TrainingExample {
  std::size_t index = 0;         // dataset index it was made for
  int height = 0, width = 0;     // pixels of `rgb`
  std::vector<uint8_t> rgb;      // HWC, RGB order, height*width*3 bytes
  std::vector<LabelRow> labels;  // normalised cx, cy, w, h in THIS image's frame
  // Validation only: how the original image maps into this one (letterbox), to map boxes back:
  // x_original = (x_here - padX) / ratio, y_original = (y_here - padY) / ratio, in pixels.
  // Training examples keep ratio 1 and pads 0, but do record the original size.
  double ratio = 1.0, padX = 0.0, padY = 0.0;
  int originalHeight = 0, originalWidth = 0;
  bool operator==(const TrainingExample&) const = default;
};

}  // namespace syncbn::data
