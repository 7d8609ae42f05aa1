// Training augmentation and validation letterboxing with Ultralytics v8's meanings and defaults:
// load (long side = imgsz), Mosaic of 4, RandomPerspective, RandomHSV, horizontal flip; and for
// validation a plain letterbox. Every random number derives from (seed, epoch, index) only, so an
// example is the same bytes whatever the worker count, thread schedule or rank that makes it.
// OpenCV stays in augment.cpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "data/training_example.h"
#include "data/verify.h"

namespace syncbn {
struct Config;
}

namespace syncbn::data {

class DecodedImageCache;

struct AugmentSettings {
  int imgsz = 640;
  bool augment = true;  // false: training examples are validation examples (letterbox only)
  uint64_t seed = 0;
  double hsv_h = 0.015, hsv_s = 0.7, hsv_v = 0.4;  // gains: factor drawn in [1 - g, 1 + g]
  double degrees = 0;                              // rotation drawn in [-degrees, degrees]
  double translate = 0.1;                          // shift drawn in [-translate, translate] * imgsz
  double scale = 0.5;                              // zoom drawn in [1 - scale, 1 + scale]
  double shear = 0;                     // shear angles (degrees) drawn in [-shear, shear], x and y
  double fliplr = 0.5;                  // probability of a horizontal flip
  double mosaic = 1.0;                  // probability of a 4-image mosaic
  int epochs = 100, close_mosaic = 10;  // mosaic off for the last close_mosaic epochs (see below)

  // data.imgsz, the train.* augmentation keys, train.epochs, train.close_mosaic, train.seed.
  static AugmentSettings fromConfig(const Config& config);
  // Whether mosaic may be drawn in `epoch` (0-based): mosaic > 0 and, when close_mosaic > 0,
  // epoch < epochs - close_mosaic, except that a run of fewer epochs than close_mosaic keeps
  // mosaic throughout, as Ultralytics' switch (at epoch epochs - close_mosaic) never comes.
  bool mosaicInEpoch(int epoch) const;
};

// Makes examples from verified samples. Thread-safe: every method is const, and the only shared
// mutable state is the optional image cache, which is thread-safe itself. Deterministic: the
// result depends only on the samples, the settings and the arguments, never on what is cached.
// Throws std::runtime_error naming the file when an image cannot be read (it may have vanished
// since verification) and std::out_of_range for an index beyond size().
class ExampleFactory {
 public:
  // Throws std::invalid_argument for settings out of range: imgsz < 1, a probability or HSV gain
  // outside [0, 1], a negative range, scale >= 1 (a zoom of 0 or below), shear >= 90.
  // `cache` (optional, may be shared with other factories): decoded images are taken from it and
  // put into it, so that each image is decoded once while it fits.
  ExampleFactory(std::vector<Sample> samples, AugmentSettings settings,
                 std::shared_ptr<DecodedImageCache> cache = nullptr);

  std::size_t size() const { return samples_.size(); }
  const AugmentSettings& settings() const { return settings_; }

  // imgsz x imgsz. With settings.augment: mosaic (probability mosaic, when mosaicInEpoch(epoch))
  // or letterbox, then random perspective, HSV and flip; boxes that the warp shrinks below
  // 2 px, to under 10% of their scaled area, or to an aspect ratio over 100 are dropped.
  // Without: exactly validation(index).
  TrainingExample training(std::size_t index, int epoch) const;

  // Letterbox to imgsz x imgsz, grey 114 padding centred, no randomness; every label kept.
  TrainingExample validation(std::size_t index) const;

 private:
  std::vector<Sample> samples_;
  AugmentSettings settings_;
  std::shared_ptr<DecodedImageCache> cache_;
};

}  // namespace syncbn::data
