// Augmentation: boxes stay on their objects through mosaic, rotation, shear, zoom, translation and
// flips; examples are functions of (seed, epoch, index) alone; validation letterboxing maps back
// to the original pixels; with augmentation off, training examples are validation examples.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "common/config.h"
#include "data/augment.h"
#include "data/decoded_image_cache.h"
#include "temp_dir.h"

namespace syncbn::data {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

constexpr int kBackground = 128;  // grey of the test images; padding is 114

// Colours with components in {0, 128, 255} except grey itself: any two differ by at least 127 in
// one component, and each is at least 116 away from both greys. RGB.
const std::vector<cv::Vec3b>& palette() {
  static const std::vector<cv::Vec3b> colours = [] {
    std::vector<cv::Vec3b> out;
    const std::array<std::uint8_t, 3> levels{0, 128, 255};
    for (std::uint8_t r : levels)
      for (std::uint8_t g : levels)
        for (std::uint8_t b : levels)
          if (!(r == 128 && g == 128 && b == 128)) out.emplace_back(r, g, b);
    return out;
  }();
  return colours;
}

double distance(const cv::Vec3b& a, const cv::Vec3b& b) {
  return std::sqrt(std::pow(a[0] - b[0], 2) + std::pow(a[1] - b[1], 2) + std::pow(a[2] - b[2], 2));
}

// A pixel rectangle [x0, x1) x [y0, y1) of one palette colour (its index is the class).
struct Rect {
  int cls = 0;
  int x0 = 0, y0 = 0, x1 = 0, y1 = 0;
};

// Writes a lossless PNG of filled rectangles on grey and returns its sample, labels the exact
// normalised rectangles.
Sample writeImage(const fs::path& file, int width, int height, const std::vector<Rect>& rects,
                  int background = kBackground) {
  cv::Mat3b bgr(height, width, cv::Vec3b(background, background, background));
  Sample sample{file, file.parent_path() / (file.stem().string() + ".txt"), width, height, {}};
  for (const Rect& r : rects) {
    const cv::Vec3b& rgb = palette()[static_cast<std::size_t>(r.cls)];
    bgr(cv::Rect(r.x0, r.y0, r.x1 - r.x0, r.y1 - r.y0)) = cv::Vec3b(rgb[2], rgb[1], rgb[0]);
    sample.rows.push_back({r.cls, static_cast<float>((r.x0 + r.x1) / 2.0 / width),
                           static_cast<float>((r.y0 + r.y1) / 2.0 / height),
                           static_cast<float>(static_cast<double>(r.x1 - r.x0) / width),
                           static_cast<float>(static_cast<double>(r.y1 - r.y0) / height)});
  }
  if (!cv::imwrite(file.string(), bgr)) throw std::runtime_error("cannot write " + file.string());
  return sample;
}

// Eight images of varied sizes and aspects (some enlarged, some shrunk to imgsz), three objects
// each in three of the four quadrants, 50-85% of a quadrant in each direction, away from its
// edges. Image i holds classes 3i, 3i+1, 3i+2: every object in the dataset has its own colour.
std::vector<Sample> colourDataset(const TempDir& dir) {
  const std::array<cv::Size, 8> sizes{cv::Size(160, 120), cv::Size(120, 200), cv::Size(300, 180),
                                      cv::Size(128, 128), cv::Size(100, 150), cv::Size(250, 250),
                                      cv::Size(220, 140), cv::Size(180, 240)};
  std::uint32_t state = 12345;  // a small LCG: the layout only needs to vary
  const auto next = [&state] {
    state = state * 1664525u + 1013904223u;
    return (state >> 8) / 16777216.0;  // [0, 1)
  };
  std::vector<Sample> samples;
  for (int i = 0; i < static_cast<int>(sizes.size()); ++i) {
    const int w = sizes[static_cast<std::size_t>(i)].width;
    const int h = sizes[static_cast<std::size_t>(i)].height;
    std::vector<Rect> rects;
    int quadrant = 0;
    for (int k = 0; k < 3; ++k, ++quadrant) {
      if (quadrant == i % 4) ++quadrant;
      const int cellX = (quadrant % 2) * w / 2, cellY = (quadrant / 2) * h / 2;
      const int cellW = w / 2, cellH = h / 2;
      const int rw = static_cast<int>(cellW * (0.5 + 0.35 * next()));
      const int rh = static_cast<int>(cellH * (0.5 + 0.35 * next()));
      const int marginX = cellW / 14, marginY = cellH / 14;
      const int x0 = cellX + marginX + static_cast<int>((cellW - 2 * marginX - rw) * next());
      const int y0 = cellY + marginY + static_cast<int>((cellH - 2 * marginY - rh) * next());
      rects.push_back({3 * i + k, x0, y0, x0 + rw, y0 + rh});
    }
    samples.push_back(writeImage(dir / ("image" + std::to_string(i) + ".png"), w, h, rects));
  }
  return samples;
}

struct PixelBox {
  double x0 = 0, y0 = 0, x1 = 0, y1 = 0;
};

PixelBox pixels(const LabelRow& row, int width, int height) {
  return {(row.cx - row.w / 2.0) * width, (row.cy - row.h / 2.0) * height,
          (row.cx + row.w / 2.0) * width, (row.cy + row.h / 2.0) * height};
}

double iou(const PixelBox& a, const PixelBox& b) {
  const double iw = std::max(0.0, std::min(a.x1, b.x1) - std::max(a.x0, b.x0));
  const double ih = std::max(0.0, std::min(a.y1, b.y1) - std::max(a.y0, b.y0));
  const double inter = iw * ih;
  const double areas = (a.x1 - a.x0) * (a.y1 - a.y0) + (b.x1 - b.x0) * (b.y1 - b.y0);
  return inter / (areas - inter);
}

struct Match {
  PixelBox region;  // the bounding box of the matched pixels
  double iou = 0;   // 0: no pixels of the colour overlap the label
};

// The connected region of the label's colour whose bounding box overlaps the label best (regions,
// because a mosaic may show one image twice). A pixel has the colour when it is nearer to it than
// half its distance to either grey: an edge pixel counts when the object covers more than half of
// it, so blurred edges do not bias the measured box.
Match match(const TrainingExample& example, const LabelRow& row) {
  const cv::Vec3b colour = palette()[static_cast<std::size_t>(row.cls)];
  const double tolerance = 0.5 * std::min(distance(colour, cv::Vec3b(128, 128, 128)),
                                          distance(colour, cv::Vec3b(114, 114, 114)));
  cv::Mat1b mask(example.height, example.width, std::uint8_t{0});
  for (int y = 0; y < example.height; ++y)
    for (int x = 0; x < example.width; ++x) {
      const std::uint8_t* p = &example.rgb[(static_cast<std::size_t>(y) * example.width + x) * 3];
      if (distance(cv::Vec3b(p[0], p[1], p[2]), colour) < tolerance) mask(y, x) = 255;
    }
  cv::Mat regions, stats, centroids;
  const int count = cv::connectedComponentsWithStats(mask, regions, stats, centroids, 8);
  const PixelBox label = pixels(row, example.width, example.height);
  Match best;
  for (int k = 1; k < count; ++k) {
    const double x0 = stats.at<int>(k, cv::CC_STAT_LEFT), y0 = stats.at<int>(k, cv::CC_STAT_TOP);
    const PixelBox region{x0, y0, x0 + stats.at<int>(k, cv::CC_STAT_WIDTH),
                          y0 + stats.at<int>(k, cv::CC_STAT_HEIGHT)};
    if (const double overlap = iou(label, region); overlap > best.iou) best = {region, overlap};
  }
  return best;
}

double largestEdgeError(const PixelBox& a, const PixelBox& b) {
  return std::max(
      {std::abs(a.x0 - b.x0), std::abs(a.y0 - b.y0), std::abs(a.x1 - b.x1), std::abs(a.y1 - b.y1)});
}

bool touchesBorder(const PixelBox& box, int size) {
  constexpr double kFloatSlack = 0.01;  // pixels: normalised floats do not land exactly on 0
  return box.x0 < kFloatSlack || box.y0 < kFloatSlack || box.x1 > size - kFloatSlack ||
         box.y1 > size - kFloatSlack;
}

// Checks every label of an example against the pixels of its colour and returns how many were
// checked with the tight criteria. A box inside the image must fit its object: IoU >= 0.9, every
// edge within 1.5 px (interpolation blurs edges). A box the image border cuts is, as in
// Ultralytics, the transformed corners' box clipped to the image: exact when the warp keeps boxes
// axis-aligned (`exactAtBorder`), else only sure to contain what is visible of its object.
std::size_t expectBoxesOnObjects(const TrainingExample& example, bool exactAtBorder,
                                 double& worstIoU) {
  std::size_t tight = 0;
  for (const LabelRow& row : example.labels) {
    SCOPED_TRACE("class " + std::to_string(row.cls));
    const PixelBox label = pixels(row, example.width, example.height);
    EXPECT_GE(label.x0, -1e-3);
    EXPECT_GE(label.y0, -1e-3);
    EXPECT_LE(label.x1, example.width + 1e-3);
    EXPECT_LE(label.y1, example.height + 1e-3);
    EXPECT_GT(label.x1 - label.x0, 2.0) << "tiny boxes are dropped";
    EXPECT_GT(label.y1 - label.y0, 2.0) << "tiny boxes are dropped";
    const Match found = match(example, row);
    EXPECT_GT(found.iou, 0) << "no pixels of the object's colour under its box";
    if (found.iou == 0) continue;
    if (exactAtBorder || !touchesBorder(label, example.width)) {
      EXPECT_LE(largestEdgeError(label, found.region), 1.5);
      EXPECT_GE(found.iou, 0.9);
      worstIoU = std::min(worstIoU, found.iou);
      ++tight;
    } else {
      EXPECT_LE(label.x0, found.region.x0 + 1);
      EXPECT_LE(label.y0, found.region.y0 + 1);
      EXPECT_GE(label.x1, found.region.x1 - 1);
      EXPECT_GE(label.y1, found.region.y1 - 1);
    }
  }
  return tight;
}

AugmentSettings strongAugmentation(int imgsz) {
  AugmentSettings settings;
  settings.imgsz = imgsz;
  settings.seed = 7;
  settings.mosaic = 1.0;
  settings.degrees = 10;
  settings.shear = 5;
  settings.hsv_h = settings.hsv_s = settings.hsv_v = 0;  // colours identify the objects
  return settings;
}

// No geometry, no colour change, no flip, no mosaic: training is letterboxing only.
AugmentSettings plainAugmentation(int imgsz) {
  AugmentSettings settings;
  settings.imgsz = imgsz;
  settings.mosaic = 0;
  settings.translate = settings.scale = settings.degrees = settings.shear = 0;
  settings.hsv_h = settings.hsv_s = settings.hsv_v = 0;
  settings.fliplr = 0;
  return settings;
}

// Mosaic, rotation 10, shear 5, Ultralytics' default translate, scale and flip probability.
TEST(Augment, BoxesStayOnTheirObjects) {
  TempDir dir;
  const ExampleFactory factory(colourDataset(dir), strongAugmentation(256));
  std::size_t checked = 0, tight = 0, withPartners = 0;
  double worst = 1;
  for (int k = 0; k < 50; ++k) {
    const std::size_t index = static_cast<std::size_t>(k) % factory.size();
    const int epoch = k / static_cast<int>(factory.size());
    SCOPED_TRACE("index " + std::to_string(index) + " epoch " + std::to_string(epoch));
    const TrainingExample example = factory.training(index, epoch);
    ASSERT_EQ(example.width, 256);
    ASSERT_EQ(example.height, 256);
    ASSERT_EQ(example.rgb.size(), 256u * 256u * 3u);
    EXPECT_EQ(example.index, index);
    tight += expectBoxesOnObjects(example, false, worst);
    checked += example.labels.size();
    withPartners += std::ranges::any_of(example.labels, [&](const LabelRow& row) {
      return static_cast<std::size_t>(row.cls / 3) != index;
    });
  }
  EXPECT_GT(tight, 100u) << "too few boxes inside the image to test anything";
  EXPECT_GT(checked, tight) << "some boxes should cross the border";
  EXPECT_GT(withPartners, 25u) << "mosaic partners' objects should show";
  RecordProperty("worst_iou", std::to_string(worst));
}

// Without rotation and shear, boxes stay axis-aligned: even those the border cuts are exact.
TEST(Augment, AxisAlignedBoxesAreExactAtTheBorderToo) {
  TempDir dir;
  AugmentSettings settings = strongAugmentation(256);
  settings.degrees = settings.shear = 0;
  const ExampleFactory factory(colourDataset(dir), settings);
  std::size_t tight = 0;
  double worst = 1;
  for (int k = 0; k < 24; ++k) {
    const std::size_t index = static_cast<std::size_t>(k) % factory.size();
    SCOPED_TRACE("index " + std::to_string(index) + " epoch " + std::to_string(k));
    tight += expectBoxesOnObjects(factory.training(index, k), true, worst);
  }
  EXPECT_GT(tight, 60u);
}

TEST(Augment, LetterboxedTrainingBoxesStayOnTheirObjects) {
  TempDir dir;
  AugmentSettings settings = strongAugmentation(256);
  settings.mosaic = 0;
  const ExampleFactory factory(colourDataset(dir), settings);
  std::size_t tight = 0;
  double worst = 1;
  for (int epoch = 0; epoch < 3; ++epoch)
    for (std::size_t index = 0; index < factory.size(); ++index) {
      SCOPED_TRACE("index " + std::to_string(index) + " epoch " + std::to_string(epoch));
      const TrainingExample example = factory.training(index, epoch);
      for (const LabelRow& row : example.labels)
        EXPECT_EQ(static_cast<std::size_t>(row.cls / 3), index) << "no mosaic: own objects only";
      tight += expectBoxesOnObjects(example, false, worst);
    }
  EXPECT_GT(tight, 40u);
}

std::vector<TrainingExample> computeAll(const ExampleFactory& factory, int epochs, int threads,
                                        bool reversed) {
  const std::size_t n = factory.size() * static_cast<std::size_t>(epochs);
  std::vector<TrainingExample> out(n);
  const auto work = [&](int worker) {
    for (std::size_t k = static_cast<std::size_t>(worker); k < n;
         k += static_cast<std::size_t>(threads)) {
      const std::size_t slot = reversed ? n - 1 - k : k;
      out[slot] = factory.training(slot % factory.size(), static_cast<int>(slot / factory.size()));
    }
  };
  std::vector<std::jthread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back(work, t);
  pool.clear();  // joins
  return out;
}

TEST(Augment, ExamplesDependOnSeedEpochAndIndexOnly) {
  TempDir dir;
  AugmentSettings settings;  // Ultralytics' defaults, HSV and all
  settings.imgsz = 128;
  settings.degrees = 5;
  settings.shear = 2;
  settings.seed = 3;
  const ExampleFactory factory(colourDataset(dir), settings);
  const std::vector<TrainingExample> inOrder = computeAll(factory, 3, 1, false);
  const std::vector<TrainingExample> threaded = computeAll(factory, 3, 4, true);
  for (std::size_t i = 0; i < inOrder.size(); ++i)
    EXPECT_TRUE(threaded[i] == inOrder[i]) << "4 threads, reversed order: slot " << i;

  // OpenCV's own threads split rows between them; each pixel is still computed the same way.
  const int openCvThreads = cv::getNumThreads();
  cv::setNumThreads(1);
  const std::vector<TrainingExample> oneOpenCvThread = computeAll(factory, 1, 1, false);
  cv::setNumThreads(openCvThreads);
  for (std::size_t i = 0; i < oneOpenCvThread.size(); ++i)
    EXPECT_TRUE(oneOpenCvThread[i] == inOrder[i]) << "index " << i;

  const ExampleFactory copy(colourDataset(dir), settings);
  EXPECT_TRUE(copy.training(5, 2) == inOrder[2 * factory.size() + 5]) << "a second factory";

  settings.seed = 4;
  const ExampleFactory otherSeed(colourDataset(dir), settings);
  for (std::size_t i = 0; i < factory.size(); ++i) {
    SCOPED_TRACE("index " + std::to_string(i));
    EXPECT_TRUE(inOrder[i].rgb != inOrder[factory.size() + i].rgb) << "epoch 0 vs 1";
    EXPECT_TRUE(inOrder[i].rgb != otherSeed.training(i, 0).rgb) << "seed 3 vs 4";
  }
}

TEST(Augment, MosaicStopsForTheLastCloseMosaicEpochs) {
  AugmentSettings settings;
  settings.epochs = 100;
  settings.close_mosaic = 10;
  EXPECT_TRUE(settings.mosaicInEpoch(0));
  EXPECT_TRUE(settings.mosaicInEpoch(89));
  EXPECT_FALSE(settings.mosaicInEpoch(90));
  EXPECT_FALSE(settings.mosaicInEpoch(99));
  settings.close_mosaic = 0;
  EXPECT_TRUE(settings.mosaicInEpoch(99));
  // As Ultralytics: the switch comes at epoch epochs - close_mosaic; at 0 there is no mosaic at
  // all, and a run shorter than close_mosaic never reaches it (measured there: a 1-epoch
  // fine-tuning run with close_mosaic 10 trains with mosaic).
  settings.close_mosaic = 100;
  EXPECT_FALSE(settings.mosaicInEpoch(0)) << "closed from the first epoch";
  settings.close_mosaic = 200;
  EXPECT_TRUE(settings.mosaicInEpoch(0)) << "a run shorter than close_mosaic keeps mosaic";
  EXPECT_TRUE(settings.mosaicInEpoch(99));
  settings.close_mosaic = 10;
  settings.mosaic = 0;
  EXPECT_FALSE(settings.mosaicInEpoch(0));

  // And the factory honours it: after the switch, no example shows another image's objects.
  TempDir dir;
  AugmentSettings small = strongAugmentation(128);
  small.epochs = 6;
  small.close_mosaic = 2;
  const ExampleFactory factory(colourDataset(dir), small);
  for (int epoch = 0; epoch < small.epochs; ++epoch) {
    std::size_t foreign = 0;
    for (std::size_t index = 0; index < factory.size(); ++index)
      for (const LabelRow& row : factory.training(index, epoch).labels)
        foreign += static_cast<std::size_t>(row.cls / 3) != index;
    if (epoch < 4)
      EXPECT_GT(foreign, 0u) << "epoch " << epoch;
    else
      EXPECT_EQ(foreign, 0u) << "epoch " << epoch;
  }
}

TEST(Augment, ValidationLetterboxMapsBackToTheOriginalPixels) {
  TempDir dir;
  const std::vector<Rect> wideRects{{1, 20, 10, 90, 60}, {2, 120, 40, 190, 95}};
  const std::vector<Sample> samples{writeImage(dir / "wide.png", 200, 100, wideRects),
                                    writeImage(dir / "tall.png", 100, 200, {{3, 10, 20, 60, 90}}),
                                    writeImage(dir / "odd.png", 200, 95, {{4, 20, 10, 90, 60}}),
                                    writeImage(dir / "small.png", 40, 20, {{5, 4, 2, 20, 12}})};
  AugmentSettings settings;
  settings.imgsz = 64;
  const ExampleFactory factory(samples, settings);

  const TrainingExample wide = factory.validation(0);
  EXPECT_EQ(wide.width, 64);
  EXPECT_EQ(wide.height, 64);
  EXPECT_DOUBLE_EQ(wide.ratio, 0.32);
  EXPECT_EQ(wide.padX, 0);
  EXPECT_EQ(wide.padY, 16);
  EXPECT_EQ(wide.originalWidth, 200);
  EXPECT_EQ(wide.originalHeight, 100);
  for (int y = 0; y < 64; ++y)
    for (int x = 0; x < 64; ++x) {
      const std::uint8_t red = wide.rgb[(static_cast<std::size_t>(y) * 64 + x) * 3];
      if (y < 16 || y >= 48)
        EXPECT_EQ(red, 114) << "padding at " << x << "," << y;
      else
        EXPECT_NE(red, 114) << "image at " << x << "," << y;
    }
  ASSERT_EQ(wide.labels.size(), 2u);
  for (std::size_t k = 0; k < wideRects.size(); ++k) {
    const Rect& r = wideRects[k];
    const PixelBox here = pixels(wide.labels[k], wide.width, wide.height);
    EXPECT_EQ(wide.labels[k].cls, r.cls);
    EXPECT_NEAR((here.x0 - wide.padX) / wide.ratio, r.x0, 1e-3);
    EXPECT_NEAR((here.y0 - wide.padY) / wide.ratio, r.y0, 1e-3);
    EXPECT_NEAR((here.x1 - wide.padX) / wide.ratio, r.x1, 1e-3);
    EXPECT_NEAR((here.y1 - wide.padY) / wide.ratio, r.y1, 1e-3);
  }

  const TrainingExample tall = factory.validation(1);
  EXPECT_DOUBLE_EQ(tall.ratio, 0.32);
  EXPECT_EQ(tall.padX, 16);
  EXPECT_EQ(tall.padY, 0);
  const PixelBox tallBox = pixels(tall.labels.at(0), 64, 64);
  EXPECT_NEAR((tallBox.x0 - 16) / 0.32, 10, 1e-3);
  EXPECT_NEAR((tallBox.y1 - 0) / 0.32, 90, 1e-3);

  // 95 * 0.32 = 30.4 rows, rounded up to 31: odd padding, the extra row at the bottom, and the
  // mapping back good to a pixel of this image.
  const TrainingExample odd = factory.validation(2);
  EXPECT_EQ(odd.padY, 16);
  EXPECT_EQ(odd.rgb[(static_cast<std::size_t>(46) * 64 + 5) * 3], 128) << "last image row";
  EXPECT_EQ(odd.rgb[(static_cast<std::size_t>(47) * 64 + 5) * 3], 114) << "first bottom pad row";
  const PixelBox oddBox = pixels(odd.labels.at(0), 64, 64);
  EXPECT_NEAR((oddBox.y0 - odd.padY) / odd.ratio, 10, 1 / odd.ratio);
  EXPECT_NEAR((oddBox.y1 - odd.padY) / odd.ratio, 60, 1 / odd.ratio);

  // Smaller images are enlarged to fit, as Ultralytics' load_image does.
  const TrainingExample small = factory.validation(3);
  EXPECT_DOUBLE_EQ(small.ratio, 1.6);
  EXPECT_EQ(small.padY, 16);
  const PixelBox smallBox = pixels(small.labels.at(0), 64, 64);
  EXPECT_NEAR((smallBox.x1 - small.padX) / small.ratio, 20, 1e-3);
  EXPECT_NEAR((smallBox.y1 - small.padY) / small.ratio, 12, 1e-3);
}

TEST(Augment, WithoutAugmentationTrainingIsValidation) {
  TempDir dir;
  AugmentSettings settings = strongAugmentation(128);
  settings.hsv_h = 0.015;
  settings.hsv_s = 0.7;
  settings.hsv_v = 0.4;
  settings.augment = false;
  const ExampleFactory factory(colourDataset(dir), settings);
  for (std::size_t index = 0; index < factory.size(); ++index)
    for (int epoch : {0, 1, 57}) {
      const TrainingExample training = factory.training(index, epoch);
      EXPECT_TRUE(training == factory.validation(index)) << "index " << index << " epoch " << epoch;
      EXPECT_EQ(training.labels.size(), 3u);
    }
}

TEST(Augment, ZeroGainsAndNoGeometryLeaveTheImageAlone) {
  TempDir dir;
  // Long side = imgsz: loading does not resample, so only the augmentation could change pixels.
  const std::vector<Sample> samples{
      writeImage(dir / "a.png", 128, 96, {{0, 10, 10, 60, 50}, {7, 70, 30, 120, 90}}),
      writeImage(dir / "b.png", 80, 128, {{13, 5, 60, 70, 120}})};
  const ExampleFactory plain(samples, plainAugmentation(128));
  for (std::size_t index = 0; index < samples.size(); ++index) {
    const TrainingExample training = plain.training(index, 3);
    const TrainingExample validation = plain.validation(index);
    EXPECT_TRUE(training.rgb == validation.rgb) << "index " << index;
    EXPECT_EQ(training.labels, validation.labels) << "index " << index;
  }

  AugmentSettings hue = plainAugmentation(128);
  hue.hsv_h = 0.5;
  AugmentSettings value = plainAugmentation(128);
  value.hsv_v = 0.4;
  const ExampleFactory hueOnly(samples, hue), valueOnly(samples, value);
  const TrainingExample original = plain.training(0, 0);
  const TrainingExample hued = hueOnly.training(0, 0);
  const TrainingExample valued = valueOnly.training(0, 0);
  EXPECT_EQ(hued.labels, original.labels);
  EXPECT_TRUE(hued.rgb != original.rgb);
  EXPECT_TRUE(valued.rgb != original.rgb);
  // Hue leaves greys exactly grey; value scales a grey's channels alike, within the gain.
  const std::size_t greyPixel = (20 * 128 + 64) * 3;  // background: image row 4 below 16 of padding
  for (std::size_t c = 0; c < 3; ++c) {
    EXPECT_EQ(hued.rgb[greyPixel + c], original.rgb[greyPixel + c]);
    EXPECT_EQ(valued.rgb[greyPixel + c], valued.rgb[greyPixel]);
  }
  const int grey = original.rgb[greyPixel];
  EXPECT_GE(valued.rgb[greyPixel], std::floor(grey * 0.6));
  EXPECT_LE(valued.rgb[greyPixel], std::ceil(grey * 1.4));
}

TEST(Augment, CertainFlipMirrorsImageAndLabelsExactly) {
  TempDir dir;
  AugmentSettings settings = strongAugmentation(128);
  settings.hsv_h = 0.015;
  settings.hsv_s = 0.7;
  settings.hsv_v = 0.4;
  settings.fliplr = 0;
  const ExampleFactory unflipped(colourDataset(dir), settings);
  settings.fliplr = 1;
  const ExampleFactory flipped(colourDataset(dir), settings);
  std::size_t labels = 0;
  for (std::size_t index = 0; index < unflipped.size(); ++index) {
    SCOPED_TRACE("index " + std::to_string(index));
    const TrainingExample a = unflipped.training(index, 1);
    const TrainingExample b = flipped.training(index, 1);
    ASSERT_EQ(a.labels.size(), b.labels.size());
    for (std::size_t k = 0; k < a.labels.size(); ++k) {
      const LabelRow mirrored{a.labels[k].cls, 1.0f - a.labels[k].cx, a.labels[k].cy, a.labels[k].w,
                              a.labels[k].h};
      EXPECT_EQ(b.labels[k], mirrored);
    }
    labels += a.labels.size();
    for (int y = 0; y < a.height; ++y)
      for (int x = 0; x < a.width; ++x)
        for (int c = 0; c < 3; ++c) {
          const auto at = [&](int column) {
            return (static_cast<std::size_t>(y) * a.width + static_cast<std::size_t>(column)) * 3 +
                   static_cast<std::size_t>(c);
          };
          ASSERT_EQ(b.rgb[at(x)], a.rgb[at(a.width - 1 - x)]) << x << "," << y;
        }
  }
  EXPECT_GT(labels, 10u);
}

TEST(Augment, BoxesTheWarpLeavesTooSmallAreDropped) {
  TempDir dir;
  // A 2-pixel-wide object survives validation but not training (box_candidates: w > 2 px).
  const std::vector<Sample> samples{
      writeImage(dir / "thin.png", 128, 128, {{0, 10, 10, 12, 60}, {1, 40, 40, 90, 100}})};
  const ExampleFactory factory(samples, plainAugmentation(128));
  EXPECT_EQ(factory.validation(0).labels.size(), 2u);
  const TrainingExample training = factory.training(0, 0);
  ASSERT_EQ(training.labels.size(), 1u);
  EXPECT_EQ(training.labels[0].cls, 1);
}

TEST(Augment, VanishedImageIsNamed) {
  TempDir dir;
  std::vector<Sample> samples = colourDataset(dir);
  fs::remove(samples[2].image);
  AugmentSettings settings = strongAugmentation(64);
  settings.mosaic = 0;
  const ExampleFactory factory(samples, settings);
  for (const bool training : {true, false}) {
    try {
      training ? factory.training(2, 0) : factory.validation(2);
      ADD_FAILURE() << "no exception";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find(samples[2].image.string()), std::string::npos)
          << e.what();
    }
  }
  EXPECT_NO_THROW(factory.training(1, 0));
  EXPECT_THROW(factory.training(8, 0), std::out_of_range);
  EXPECT_THROW(factory.validation(8), std::out_of_range);
}

TEST(Augment, SettingsComeFromTheConfigAndAreChecked) {
  Config config;
  config.data.imgsz = 320;
  config.train.seed = 42;
  config.train.hsv_h = 0.1;
  config.train.hsv_s = 0.2;
  config.train.hsv_v = 0.3;
  config.train.degrees = 4;
  config.train.translate = 0.2;
  config.train.scale = 0.25;
  config.train.shear = 3;
  config.train.fliplr = 0.7;
  config.train.mosaic = 0.6;
  config.train.epochs = 50;
  config.train.close_mosaic = 5;
  const AugmentSettings s = AugmentSettings::fromConfig(config);
  EXPECT_EQ(s.imgsz, 320);
  EXPECT_TRUE(s.augment);
  EXPECT_EQ(s.seed, 42u);
  EXPECT_EQ(s.hsv_h, 0.1);
  EXPECT_EQ(s.hsv_s, 0.2);
  EXPECT_EQ(s.hsv_v, 0.3);
  EXPECT_EQ(s.degrees, 4);
  EXPECT_EQ(s.translate, 0.2);
  EXPECT_EQ(s.scale, 0.25);
  EXPECT_EQ(s.shear, 3);
  EXPECT_EQ(s.fliplr, 0.7);
  EXPECT_EQ(s.mosaic, 0.6);
  EXPECT_EQ(s.epochs, 50);
  EXPECT_EQ(s.close_mosaic, 5);

  const AugmentSettings defaults = AugmentSettings::fromConfig(Config{});
  EXPECT_EQ(defaults.imgsz, 640);
  EXPECT_EQ(defaults.hsv_s, 0.7);
  EXPECT_EQ(defaults.close_mosaic, 10);

  AugmentSettings bad;
  bad.fliplr = 1.5;
  EXPECT_THROW(ExampleFactory({}, bad), std::invalid_argument);
  bad = {};
  bad.scale = 1.0;
  EXPECT_THROW(ExampleFactory({}, bad), std::invalid_argument);
  bad = {};
  bad.imgsz = 0;
  EXPECT_THROW(ExampleFactory({}, bad), std::invalid_argument);
}

// ----- the decoded-image cache
// --------------------------------------------------------------------

// The oracle is a factory without a cache: a cache may change how often an image is decoded,
// never a byte of an example. One cache serves training and validation (the engine shares one),
// and images that shrink to imgsz are resampled differently by each (linear and area).
TEST(DecodedImageCache, CachedExamplesAreTheUncachedExamplesAndEachImageIsDecodedOnce) {
  TempDir dir;
  std::vector<Sample> samples = colourDataset(dir);
  AugmentSettings settings;  // Ultralytics' defaults: mosaic, HSV and flips
  settings.imgsz = 128;
  settings.degrees = 5;
  const ExampleFactory uncached(samples, settings);
  const auto cache = std::make_shared<DecodedImageCache>(std::size_t{1} << 30);
  const ExampleFactory cachedTraining(samples, settings, cache);
  AugmentSettings letterbox = settings;
  letterbox.augment = false;
  const ExampleFactory uncachedValidation(samples, letterbox);
  const ExampleFactory cachedValidation(samples, letterbox, cache);

  const std::vector<TrainingExample> expected = computeAll(uncached, 3, 1, false);
  const std::vector<TrainingExample> first = computeAll(cachedTraining, 3, 1, false);
  for (std::size_t i = 0; i < expected.size(); ++i)
    EXPECT_TRUE(first[i] == expected[i]) << "slot " << i;
  DecodedImageCache::Stats stats = cache->stats();
  EXPECT_EQ(stats.images, samples.size()) << "one entry per training image";
  EXPECT_EQ(stats.misses, samples.size()) << "one thread: each image decoded exactly once";
  EXPECT_GT(stats.hits, 2 * samples.size()) << "mosaic partners and later epochs";
  EXPECT_EQ(stats.refused, 0u);

  for (std::size_t i = 0; i < samples.size(); ++i)
    EXPECT_TRUE(cachedValidation.validation(i) == uncachedValidation.validation(i)) << i;
  stats = cache->stats();
  EXPECT_EQ(stats.images, 2 * samples.size()) << "validation's resampling is kept apart";

  // Reading from 4 threads in reverse order: the same bytes.
  const std::vector<TrainingExample> threaded = computeAll(cachedTraining, 3, 4, true);
  for (std::size_t i = 0; i < expected.size(); ++i)
    EXPECT_TRUE(threaded[i] == expected[i]) << "threaded slot " << i;

  // With every file gone, the cache alone still makes them: nothing is decoded any more.
  const std::vector<TrainingExample> epoch3 = [&] {
    std::vector<TrainingExample> out;
    for (std::size_t i = 0; i < samples.size(); ++i)
      out.push_back(uncached.training(i, 3));
    return out;
  }();
  std::vector<TrainingExample> validation;
  for (std::size_t i = 0; i < samples.size(); ++i)
    validation.push_back(uncachedValidation.validation(i));
  for (const Sample& sample : samples)
    fs::remove(sample.image);
  for (std::size_t i = 0; i < samples.size(); ++i) {
    EXPECT_TRUE(cachedTraining.training(i, 3) == epoch3[i]) << "index " << i;
    EXPECT_TRUE(cachedValidation.validation(i) == validation[i]) << "index " << i;
    EXPECT_THROW(uncached.training(i, 3), std::runtime_error) << "the files are gone";
  }
  EXPECT_EQ(cache->stats().misses, stats.misses) << "no miss once everything was cached";
}

// A cache smaller than the dataset keeps what fits and refuses the rest, which is decoded on every
// use: exactly stats().images images work without their files.
TEST(DecodedImageCache, AFullCacheKeepsWhatFitsAndDecodesTheRest) {
  TempDir dir;
  std::vector<Sample> samples = colourDataset(dir);
  AugmentSettings letterbox = plainAugmentation(128);
  letterbox.augment = false;
  const ExampleFactory uncached(samples, letterbox);
  const std::size_t oneImage = 128 * 128 * 3;  // the largest an image can be after loading
  const auto cache = std::make_shared<DecodedImageCache>(3 * oneImage);
  const ExampleFactory cached(samples, letterbox, cache);
  std::vector<TrainingExample> expected;
  for (std::size_t i = 0; i < samples.size(); ++i) {
    expected.push_back(uncached.validation(i));
    EXPECT_TRUE(cached.validation(i) == expected[i]) << "index " << i;
  }
  const DecodedImageCache::Stats stats = cache->stats();
  EXPECT_LE(stats.bytes, cache->capacityBytes());
  EXPECT_GE(stats.images, 3u) << "three images of at most 128 x 128 always fit";
  EXPECT_LT(stats.images, samples.size());
  EXPECT_EQ(stats.refused, samples.size() - stats.images);

  for (const Sample& sample : samples)
    fs::remove(sample.image);
  std::size_t stillMade = 0;
  for (std::size_t i = 0; i < samples.size(); ++i) {
    try {
      EXPECT_TRUE(cached.validation(i) == expected[i]) << "index " << i;
      ++stillMade;
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find(samples[i].image.string()), std::string::npos)
          << e.what();
    }
  }
  EXPECT_EQ(stillMade, stats.images);

  const auto none = std::make_shared<DecodedImageCache>(0);
  const ExampleFactory uncachable(samples, letterbox, none);
  EXPECT_THROW(uncachable.validation(0), std::runtime_error) << "capacity 0 holds nothing";
  EXPECT_EQ(none->stats().images, 0u);
}

TEST(DecodedImageCache, TheBudgetIsTheRequestCappedByAQuarterOfTheFreeMemoryPerRank) {
  constexpr std::size_t kGiB = std::size_t{1} << 30;
  EXPECT_EQ(imageCacheBudget(kGiB, 1, 64 * kGiB), kGiB);
  EXPECT_EQ(imageCacheBudget(kGiB, 1, 2 * kGiB), kGiB / 2);
  EXPECT_EQ(imageCacheBudget(kGiB, 4, 8 * kGiB), kGiB / 2);
  EXPECT_EQ(imageCacheBudget(kGiB, 0, 2 * kGiB), kGiB / 2) << "no ranks counts as one";
  EXPECT_EQ(imageCacheBudget(kGiB, 2, std::nullopt), kGiB) << "unknown memory: as requested";
  EXPECT_EQ(imageCacheBudget(0, 1, 64 * kGiB), 0u);

  // The kernel's own figures as the oracle: available memory is positive and below the total.
  const std::optional<std::size_t> available = availableMemoryBytes();
  ASSERT_TRUE(available.has_value()) << "Linux has MemAvailable in /proc/meminfo";
  const auto total = static_cast<std::size_t>(sysconf(_SC_PHYS_PAGES)) *
                     static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  EXPECT_GT(*available, 0u);
  EXPECT_LE(*available, total);
}

}  // namespace
}  // namespace syncbn::data
