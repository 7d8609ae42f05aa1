// core/data/training_example.h  (plain types: no OpenCV, no torch)
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>
#include "data/label_file.h"
namespace syncbn::data {
struct TrainingExample {
  std::size_t index = 0;            // dataset index it was made for
  int height = 0, width = 0;        // pixels of `rgb`
  std::vector<uint8_t> rgb;         // HWC, RGB order, height*width*3 bytes
  std::vector<LabelRow> labels;     // normalised cx, cy, w, h in THIS image's frame
  // Validation only: how the original image maps into this one (letterbox), to map boxes back.
  double ratio = 1.0, padX = 0.0, padY = 0.0; int originalHeight = 0, originalWidth = 0;
};
}  // namespace syncbn::data
