// Detection metrics against values worked out by hand and against an independent NumPy
// reference (tests/model/reference/map_reference.py) on a fixed prediction set.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <array>
#include <stdexcept>
#include <string>
#include <vector>

#include "model/detection_metrics.h"

namespace syncbn::model {
namespace {

using torch::Tensor;

// Ultralytics' AP when recall reaches 1 with precision p throughout: the sentinel (recall 1,
// precision 0) is what numpy.interp returns at recall exactly 1, so the last of the 100
// trapezoids is halved: 0.99 p + 0.005 p = 0.995 p. Hence the familiar 0.995 "perfect" mAP50.
constexpr double kPerfectAp = 0.995;

struct Detection {
  double x1, y1, x2, y2, conf, cls;
};
struct Label {
  double cls, x1, y1, x2, y2;
};

Tensor detectionTensor(const std::vector<Detection>& rows) {
  std::vector<double> flat;
  for (const Detection& d : rows)
    flat.insert(flat.end(), {d.x1, d.y1, d.x2, d.y2, d.conf, d.cls});
  return torch::tensor(flat, torch::kFloat64).reshape({static_cast<int64_t>(rows.size()), 6});
}

Tensor labelBoxes(const std::vector<Label>& rows) {
  std::vector<double> flat;
  for (const Label& l : rows)
    flat.insert(flat.end(), {l.x1, l.y1, l.x2, l.y2});
  return torch::tensor(flat, torch::kFloat64).reshape({static_cast<int64_t>(rows.size()), 4});
}

Tensor labelClasses(const std::vector<Label>& rows) {
  std::vector<int64_t> classes;
  for (const Label& l : rows)
    classes.push_back(static_cast<int64_t>(l.cls));
  return torch::tensor(classes, torch::kLong);
}

void addImage(DetectionMetrics& metrics, const std::vector<Detection>& detections,
              const std::vector<Label>& labels) {
  metrics.addImage(detectionTensor(detections), labelBoxes(labels), labelClasses(labels));
}

std::vector<bool> column(const Tensor& correct, int64_t detection) {
  std::vector<bool> out;
  for (int t = 0; t < kIouThresholdCount; ++t)
    out.push_back(correct[detection][t].item<bool>());
  return out;
}

std::vector<bool> firstThresholds(int n) {
  std::vector<bool> out(kIouThresholdCount, false);
  for (int t = 0; t < n; ++t)
    out[static_cast<size_t>(t)] = true;
  return out;
}

TEST(MatchPredictions, ThresholdsRunFromHalfToNinetyFivePercent) {
  const auto t = iouThresholds();
  EXPECT_DOUBLE_EQ(t.front(), 0.5);
  EXPECT_DOUBLE_EQ(t[5], 0.75);
  EXPECT_DOUBLE_EQ(t.back(), 0.95);
}

TEST(MatchPredictions, IouBetweenThresholdsCountsOnlyAtLowerOnes) {
  // Label 100 x 100, detection 100 x 72 inside it: IoU 7200 / 10000 = 0.72, so correct at
  // 0.50, 0.55, 0.60, 0.65, 0.70 and not at 0.75 ... 0.95.
  const std::vector<Label> labels{{0, 0, 0, 100, 100}};
  const Tensor correct = matchPredictions(detectionTensor({{0, 0, 100, 72, 0.9, 0}}),
                                          labelBoxes(labels), labelClasses(labels));
  ASSERT_EQ(correct.sizes(), (std::vector<int64_t>{1, kIouThresholdCount}));
  EXPECT_EQ(column(correct, 0), firstThresholds(5));
}

TEST(MatchPredictions, WrongClassNeverMatches) {
  const std::vector<Label> labels{{1, 0, 0, 100, 100}};
  const Tensor correct = matchPredictions(detectionTensor({{0, 0, 100, 100, 0.9, 0}}),
                                          labelBoxes(labels), labelClasses(labels));
  EXPECT_FALSE(correct.any().item<bool>());
}

TEST(MatchPredictions, EachLabelGoesToTheEarliestDetectionThatChoseIt) {
  // d0 (first, higher confidence) IoU 0.62, d1 IoU 0.90 with the one label. Up to 0.60 both
  // qualify and d0, first in NMS order, takes the label; from 0.65 to 0.90 only d1 qualifies.
  const std::vector<Label> labels{{0, 0, 0, 100, 100}};
  const Tensor correct =
      matchPredictions(detectionTensor({{0, 0, 100, 62, 0.9, 0}, {0, 0, 100, 90, 0.8, 0}}),
                       labelBoxes(labels), labelClasses(labels));
  EXPECT_EQ(column(correct, 0), firstThresholds(3));
  std::vector<bool> d1(kIouThresholdCount, false);
  for (int t = 3; t < 9; ++t)
    d1[static_cast<size_t>(t)] = true;
  EXPECT_EQ(column(correct, 1), d1);
}

TEST(MatchPredictions, DetectionWhoseBestLabelIsTakenStaysFalse) {
  // Labels A = [0, 100], B = [20, 120] (x; height 100). d0 = A: IoU 1 with A. d1 = [8, 108]:
  // IoU 92/108 = 0.852 with A, 88/112 = 0.786 with B. Both choose A, d0 gets it; as in
  // Ultralytics, d1 does not fall back to B (a one-to-one greedy matching would give it B).
  const std::vector<Label> labels{{0, 0, 0, 100, 100}, {0, 20, 0, 120, 100}};
  const Tensor correct =
      matchPredictions(detectionTensor({{0, 0, 100, 100, 0.9, 0}, {8, 0, 108, 100, 0.8, 0}}),
                       labelBoxes(labels), labelClasses(labels));
  EXPECT_EQ(column(correct, 0), firstThresholds(kIouThresholdCount));
  EXPECT_EQ(column(correct, 1), firstThresholds(0));
}

TEST(MatchPredictions, EmptyInputsAndMalformedShapes) {
  const Tensor noDetections = torch::zeros({0, 6});
  const std::vector<Label> labels{{0, 0, 0, 10, 10}};
  EXPECT_EQ(matchPredictions(noDetections, labelBoxes(labels), labelClasses(labels)).size(0), 0);
  const Tensor noLabels = matchPredictions(detectionTensor({{0, 0, 10, 10, 0.5, 0}}),
                                           torch::zeros({0, 4}), torch::zeros({0}, torch::kLong));
  EXPECT_FALSE(noLabels.any().item<bool>());
  EXPECT_THROW(matchPredictions(torch::zeros({2, 5}), labelBoxes(labels), labelClasses(labels)),
               std::invalid_argument);
  EXPECT_THROW(matchPredictions(noDetections, torch::zeros({1, 3}), labelClasses(labels)),
               std::invalid_argument);
  EXPECT_THROW(matchPredictions(noDetections, labelBoxes(labels), torch::zeros({2})),
               std::invalid_argument);
}

TEST(DetectionMetrics, PerfectDetectionsScoreTheInterpolatedMaximum) {
  DetectionMetrics metrics(1);
  addImage(metrics, {{0, 0, 50, 50, 0.9, 0}, {60, 60, 90, 90, 0.8, 0}},
           {{0, 0, 0, 50, 50}, {0, 60, 60, 90, 90}});
  addImage(metrics, {{10, 10, 40, 40, 0.7, 0}}, {{0, 10, 10, 40, 40}});
  const DetectionSummary s = metrics.compute();
  ASSERT_EQ(s.classes.size(), 1u);
  for (const double ap : s.classes[0].ap)
    EXPECT_NEAR(ap, kPerfectAp, 1e-12);
  // Precision 1 at every confidence; recall 1 below the lowest confidence, where max F1 is.
  EXPECT_DOUBLE_EQ(s.precision, 1.0);
  EXPECT_DOUBLE_EQ(s.recall, 1.0);
  EXPECT_NEAR(s.map50, kPerfectAp, 1e-12);
  EXPECT_NEAR(s.map50to95, kPerfectAp, 1e-12);
  EXPECT_NEAR(s.fitness, kPerfectAp, 1e-12);
  EXPECT_EQ(s.images, 2);
  EXPECT_EQ(s.instances, 3);
  EXPECT_EQ(s.classes[0].images, 2);
  EXPECT_EQ(s.classes[0].instances, 3);
}

// COCO's 101-point AP (pycocotools) on the same hand cases: perfect detections score exactly 1.
TEST(DetectionMetrics, CocoMethodScoresPerfectDetectionsOne) {
  DetectionMetrics metrics(1);
  addImage(metrics, {{0, 0, 50, 50, 0.9, 0}, {60, 60, 90, 90, 0.8, 0}},
           {{0, 0, 0, 50, 50}, {0, 60, 60, 90, 90}});
  const DetectionSummary s = metrics.compute(ApMethod::Coco);
  EXPECT_DOUBLE_EQ(s.map50, 1.0);
  EXPECT_DOUBLE_EQ(s.map50to95, 1.0);
}

TEST(DetectionMetrics, CocoMethodOnFalsePositiveFirstAndMissedObjects) {
  // FP (0.9), TP (0.8), TP (0.7) for two labels: recall 0, 1/2, 1; precision 0, 1/2, 2/3; the
  // envelope is 2/3 everywhere, and every recall point finds a detection: AP 2/3.
  DetectionMetrics falsePositiveFirst(1);
  addImage(falsePositiveFirst,
           {{200, 200, 250, 250, 0.9, 0}, {0, 0, 50, 50, 0.8, 0}, {60, 60, 90, 90, 0.7, 0}},
           {{0, 0, 0, 50, 50}, {0, 60, 60, 90, 90}});
  EXPECT_NEAR(falsePositiveFirst.compute(ApMethod::Coco).map50, 2.0 / 3.0, 1e-12);
  // Two of four labels found at precision 1: recall points 0 .. 0.50 (51 of 101) score 1.
  DetectionMetrics missed(1);
  addImage(missed, {{0, 0, 50, 50, 0.9, 0}, {60, 60, 90, 90, 0.8, 0}},
           {{0, 0, 0, 50, 50}, {0, 60, 60, 90, 90}, {0, 100, 0, 150, 50}, {0, 0, 100, 50, 150}});
  EXPECT_NEAR(missed.compute(ApMethod::Coco).map50, 51.0 / 101.0, 1e-12);
}

TEST(DetectionMetrics, FalsePositiveRankedFirst) {
  // Two labels; detections by confidence: FP (0.9), TP (0.8), TP (0.7).
  //   recall    0,   0.5, 1       precision 0, 1/2, 2/3
  //   with sentinels: recall 0, 0, 0.5, 1, 1; precision 1, 0, 1/2, 2/3, 0
  //   envelope (max to the right): 1, 2/3, 2/3, 2/3, 0
  // numpy.interp at recall 0 takes the last point with recall 0 (2/3), at 0.01 ... 0.99 the
  // envelope is 2/3, at recall 1 the sentinel 0. Trapezoids: 0.99 * 2/3 + 0.01 * (2/3 + 0) / 2
  // = 0.995 * 2/3 = 0.66333...
  DetectionMetrics metrics(1);
  addImage(metrics,
           {{200, 200, 250, 250, 0.9, 0}, {0, 0, 50, 50, 0.8, 0}, {60, 60, 90, 90, 0.7, 0}},
           {{0, 0, 0, 50, 50}, {0, 60, 60, 90, 90}});
  const DetectionSummary s = metrics.compute();
  ASSERT_EQ(s.classes.size(), 1u);
  EXPECT_NEAR(s.classes[0].ap50(), 0.995 * 2.0 / 3.0, 1e-12);
  EXPECT_NEAR(s.map50to95, 0.995 * 2.0 / 3.0, 1e-12);
}

TEST(DetectionMetrics, MissedObjectsLimitRecall) {
  // Four labels, two found (confidence 0.9, 0.8), nothing else: recall 0.25, 0.5, precision 1.
  // With sentinels: recall 0, 0.25, 0.5, 1; envelope 1, 1, 1, 0. Interpolated: 1 up to recall
  // 0.5, then the straight line to (1, 0), i.e. 2 (1 - r). Area 0.5 + 0.25 = 0.75 (the 101
  // points hit the kink at 0.5, so the trapezoids are exact).
  DetectionMetrics metrics(1);
  addImage(metrics, {{0, 0, 50, 50, 0.9, 0}, {60, 60, 90, 90, 0.8, 0}},
           {{0, 0, 0, 50, 50}, {0, 60, 60, 90, 90}, {0, 100, 0, 150, 50}, {0, 0, 100, 50, 150}});
  const DetectionSummary s = metrics.compute();
  EXPECT_NEAR(s.classes[0].ap50(), 0.75, 1e-12);
  EXPECT_DOUBLE_EQ(s.recall, 0.5);  // at the best F1 every detection is in
  EXPECT_DOUBLE_EQ(s.precision, 1.0);
}

TEST(DetectionMetrics, IouBetweenThresholdsHalvesMap50To95) {
  // IoU 0.72: perfect AP at the five thresholds up to 0.70, 0 (no true positive) above.
  DetectionMetrics metrics(1);
  addImage(metrics, {{0, 0, 100, 72, 0.9, 0}}, {{0, 0, 0, 100, 100}});
  const DetectionSummary s = metrics.compute();
  for (int t = 0; t < kIouThresholdCount; ++t)
    EXPECT_NEAR(s.classes[0].ap[static_cast<size_t>(t)], t < 5 ? kPerfectAp : 0.0, 1e-12) << t;
  EXPECT_NEAR(s.map50, kPerfectAp, 1e-12);
  EXPECT_NEAR(s.map50to95, kPerfectAp / 2, 1e-12);
  EXPECT_NEAR(s.fitness, 0.1 * kPerfectAp + 0.9 * kPerfectAp / 2, 1e-12);
}

TEST(DetectionMetrics, MeanOverClassesThatHaveLabels) {
  // Class 0 perfect (0.995); class 1 the false-positive-first case (0.995 * 2/3); class 2 has
  // labels and no detection (0); class 3 has detections and no label: not in the mean.
  DetectionMetrics metrics(4);
  addImage(metrics,
           {{0, 0, 50, 50, 0.95, 0},
            {300, 300, 350, 350, 0.9, 1},
            {100, 0, 150, 50, 0.8, 1},
            {100, 100, 150, 150, 0.7, 1},
            {400, 400, 450, 450, 0.6, 3}},
           {{0, 0, 0, 50, 50}, {1, 100, 0, 150, 50}, {1, 100, 100, 150, 150}});
  addImage(metrics, {}, {{2, 0, 0, 30, 30}, {2, 40, 40, 80, 80}});
  const DetectionSummary s = metrics.compute();
  ASSERT_EQ(s.classes.size(), 3u);
  EXPECT_EQ(s.classes[0].classId, 0);
  EXPECT_EQ(s.classes[2].classId, 2);
  EXPECT_EQ(s.classes[2].instances, 2);
  EXPECT_EQ(s.classes[2].ap50(), 0.0);
  const double expected = (kPerfectAp + kPerfectAp * 2.0 / 3.0 + 0.0) / 3;
  EXPECT_NEAR(s.map50, expected, 1e-12);
  EXPECT_NEAR(s.map50to95, expected, 1e-12);
  EXPECT_EQ(s.instances, 5);
  EXPECT_EQ(s.images, 2);
}

TEST(DetectionMetrics, NoLabelsGiveZeros) {
  DetectionMetrics metrics(2);
  addImage(metrics, {{0, 0, 10, 10, 0.9, 1}}, {});
  const DetectionSummary s = metrics.compute();
  EXPECT_TRUE(s.classes.empty());
  EXPECT_EQ(s.map50, 0.0);
  EXPECT_EQ(s.fitness, 0.0);
  EXPECT_EQ(s.images, 1);
}

TEST(DetectionMetrics, RejectsClassesOutOfRangeAndBadState) {
  DetectionMetrics metrics(2);
  EXPECT_THROW(addImage(metrics, {{0, 0, 10, 10, 0.9, 2}}, {}), std::invalid_argument);
  EXPECT_THROW(addImage(metrics, {}, {{-1, 0, 0, 10, 10}}), std::invalid_argument);
  EXPECT_THROW(addImage(metrics, {{0, 0, 10, 10, 0.9, 0.5}}, {}), std::invalid_argument);
  EXPECT_THROW(DetectionMetrics(0), std::invalid_argument);
  DetectionMetricsState bad;
  bad.numClasses = 2;
  bad.imagesPerClass = {0, 0};
  bad.confidence = {0.5};
  bad.predicted = {0};
  bad.correct = {1, 0};  // needs 10 flags per detection
  EXPECT_THROW(DetectionMetrics{bad}, std::invalid_argument);
  EXPECT_THROW(metrics.merge(DetectionMetrics(3)), std::invalid_argument);
}

TEST(DetectionMetrics, TableLooksLikeUltralyticsValidation) {
  DetectionMetrics metrics(2);
  addImage(metrics, {{0, 0, 50, 50, 0.9, 0}}, {{0, 0, 0, 50, 50}});
  const std::string table = metrics.compute().table({"person", "bicycle"});
  const std::string expected =
      "                 Class     Images  Instances      Box(P          R      mAP50  mAP50-95)\n"
      "                   all          1          1          1          1      0.995      0.995\n"
      "                person          1          1          1          1      0.995      0.995\n";
  EXPECT_EQ(table, expected);
}

// The fixed prediction set: 3 classes, 10 images, generated by
// tests/model/reference/map_reference.py --cpp (seed 20240607; detections per image in NMS
// order, unique confidences).
// image, class, x1, y1, x2, y2
const std::vector<std::array<double, 6>> kLabels{
    {0, 2, 362.4, 336.0, 424.2, 381.5}, {0, 1, 114.7, 260.9, 161.9, 369.5},
    {0, 0, 162.5, 418.2, 223.7, 457.5}, {1, 2, 411.5, 65.5, 533.4, 95.3},
    {1, 1, 273.5, 277.5, 395.4, 368.9}, {2, 2, 266.3, 145.2, 306.5, 182.8},
    {2, 2, 392.1, 395.7, 465.0, 495.5}, {2, 2, 109.5, 91.7, 151.1, 124.4},
    {2, 2, 214.3, 53.0, 344.2, 168.1},  {2, 1, 418.6, 209.0, 544.7, 346.6},
    {3, 1, 344.6, 301.7, 396.8, 332.0}, {3, 1, 299.5, 130.0, 347.8, 183.2},
    {3, 0, 9.9, 304.7, 135.1, 370.5},   {3, 2, 93.6, 340.5, 205.7, 416.6},
    {4, 0, 454.6, 389.1, 582.4, 447.5}, {4, 2, 380.5, 368.2, 416.4, 389.8},
    {4, 2, 327.7, 316.8, 362.3, 370.9}, {4, 2, 1.0, 100.2, 29.0, 233.2},
    {5, 1, 492.0, 414.8, 544.0, 533.5}, {5, 0, 186.2, 18.5, 306.3, 122.1},
    {5, 0, 318.7, 254.2, 356.9, 353.3}, {5, 0, 180.8, 135.5, 253.2, 274.7},
    {5, 0, 222.8, 284.3, 324.0, 402.4}, {6, 0, 205.8, 76.7, 295.0, 112.8},
    {6, 1, 105.0, 247.7, 209.1, 301.1}, {6, 0, 464.7, 430.7, 596.4, 474.7},
    {6, 0, 230.9, 334.8, 253.8, 368.3}, {6, 1, 469.6, 478.0, 531.1, 552.7},
    {7, 0, 71.8, 170.5, 173.9, 309.6},  {7, 0, 256.4, 179.7, 335.1, 285.0},
    {7, 1, 143.1, 56.9, 242.8, 92.8},   {7, 1, 240.5, 407.4, 368.4, 476.5},
    {8, 2, 238.6, 124.1, 273.0, 248.6}, {8, 2, 282.2, 267.4, 327.6, 396.4},
    {8, 1, 382.0, 392.1, 493.4, 467.0}, {8, 2, 389.1, 277.0, 492.0, 397.6},
    {8, 2, 282.3, 78.6, 322.9, 120.3},  {9, 2, 496.4, 174.9, 569.3, 285.7},
    {9, 1, 39.4, 235.5, 155.5, 271.0},  {9, 1, 311.3, 304.6, 414.6, 433.5},
    {9, 0, 318.4, 168.1, 408.6, 288.8},
};
// image, x1, y1, x2, y2, conf, class
const std::vector<std::array<double, 7>> kDetections{
    {0, 165.4, 420.0, 222.1, 454.5, 0.9655, 0}, {0, 363.0, 340.6, 435.3, 378.2, 0.6948, 2},
    {0, 108.2, 255.3, 162.1, 360.3, 0.6384, 1}, {0, 171.3, 419.8, 233.5, 456.2, 0.5482, 0},
    {0, 313.9, 377.5, 412.3, 439.7, 0.1741, 2}, {1, 401.6, 63.4, 531.1, 96.1, 0.7836, 2},
    {1, 279.4, 262.5, 391.2, 378.5, 0.6491, 1}, {1, 150.2, 485.9, 260.8, 616.8, 0.3980, 2},
    {1, 287.8, 280.1, 404.0, 355.8, 0.3584, 1}, {2, 219.2, 44.8, 350.7, 167.6, 0.9415, 2},
    {2, 399.3, 400.1, 464.9, 495.4, 0.5133, 2}, {2, 180.3, 437.5, 303.9, 529.5, 0.4855, 0},
    {2, 260.1, 146.1, 306.7, 182.0, 0.4446, 0}, {2, 423.2, 208.7, 544.7, 333.4, 0.3847, 1},
    {3, 302.0, 133.8, 349.5, 186.0, 0.9291, 1}, {3, 88.0, 342.2, 218.4, 414.3, 0.8242, 2},
    {3, 347.0, 302.3, 396.0, 332.9, 0.5758, 1}, {3, 23.9, 303.2, 148.8, 372.4, 0.5261, 0},
    {3, 163.5, 189.1, 247.8, 261.1, 0.3001, 2}, {3, 294.3, 125.9, 344.7, 181.0, 0.1516, 1},
    {4, -0.2, 94.8, 30.7, 236.1, 0.8337, 2},    {4, 461.0, 391.6, 590.5, 449.6, 0.6285, 1},
    {4, 429.1, 386.5, 583.5, 453.9, 0.6242, 1}, {4, 313.3, 450.3, 353.0, 562.5, 0.5365, 1},
    {4, 375.9, 368.7, 418.1, 391.7, 0.3245, 0}, {4, 324.5, 318.2, 357.9, 376.2, 0.3223, 2},
    {4, 251.2, 100.0, 352.6, 194.1, 0.2276, 2}, {5, 319.9, 267.9, 361.1, 358.2, 0.9539, 0},
    {5, 191.3, 17.7, 314.0, 127.5, 0.9009, 1},  {5, 482.6, 388.8, 537.7, 515.7, 0.8391, 1},
    {5, 222.7, 286.2, 320.9, 412.5, 0.8218, 0}, {5, 323.1, 270.5, 357.1, 325.8, 0.7796, 0},
    {5, 483.6, 404.6, 544.1, 532.5, 0.7770, 1}, {5, 273.4, 354.1, 342.7, 484.7, 0.4578, 1},
    {5, 430.5, 394.5, 458.9, 482.0, 0.3142, 0}, {5, 184.7, 12.8, 279.8, 150.3, 0.2358, 1},
    {6, 101.6, 245.5, 213.3, 306.4, 0.9239, 1}, {6, 466.1, 477.1, 522.2, 560.9, 0.8542, 1},
    {6, 230.2, 337.4, 251.4, 367.4, 0.8243, 0}, {6, 474.6, 427.9, 608.7, 468.4, 0.6024, 0},
    {7, 68.3, 176.3, 186.5, 317.1, 0.7887, 1},  {7, 254.8, 170.8, 331.3, 278.8, 0.7865, 0},
    {7, 232.7, 412.2, 368.0, 471.6, 0.7827, 1}, {7, 261.5, 167.4, 328.1, 279.8, 0.6628, 0},
    {7, 142.6, 56.4, 236.1, 95.8, 0.5530, 1},   {7, 290.3, 354.4, 316.7, 415.3, 0.3963, 1},
    {7, 450.6, 281.9, 578.5, 348.4, 0.2253, 2}, {8, 390.3, 281.2, 487.1, 401.2, 0.9036, 2},
    {8, 281.1, 273.1, 324.4, 396.7, 0.8270, 2}, {8, 362.4, 375.1, 488.7, 465.2, 0.7965, 1},
    {8, 282.4, 73.5, 321.1, 122.0, 0.4971, 2},  {8, 381.8, 389.9, 498.6, 467.5, 0.3678, 1},
    {8, 287.5, 263.7, 318.6, 408.0, 0.3293, 2}, {9, 494.2, 162.1, 567.5, 289.0, 0.8209, 2},
    {9, 31.4, 229.6, 156.5, 271.1, 0.5554, 1},  {9, 314.6, 315.0, 418.8, 432.9, 0.4377, 1},
    {9, 310.7, 300.1, 410.6, 430.7, 0.4249, 1}, {9, 423.3, 145.4, 557.9, 205.1, 0.4114, 2},
    {9, 336.3, 424.2, 395.2, 550.9, 0.3969, 0}, {9, 324.3, 159.0, 408.1, 289.6, 0.3647, 0},
    {9, 34.3, 223.4, 138.7, 269.6, 0.2503, 1},
};

// Printed by tests/model/reference/map_reference.py (NumPy, float64).
constexpr double kReferenceMap50 = 0.734084771208;
constexpr double kReferenceMap50to95 = 0.481098398536;
constexpr double kReferencePrecision = 0.745504502161;
constexpr double kReferenceRecall = 0.683760683761;
constexpr std::array<double, 3> kReferenceAp50{0.636044285714, 0.765772527911, 0.800437500000};
constexpr std::array<double, 3> kReferenceAp50to95{0.390871711851, 0.475703344869, 0.576720138889};
constexpr double kTolerance = 1e-6;

void addFixedImages(DetectionMetrics& metrics, int first, int last) {
  for (int image = first; image < last; ++image) {
    std::vector<Detection> detections;
    std::vector<Label> labels;
    for (const auto& d : kDetections)
      if (d[0] == image) detections.push_back({d[1], d[2], d[3], d[4], d[5], d[6]});
    for (const auto& l : kLabels)
      if (l[0] == image) labels.push_back({l[1], l[2], l[3], l[4], l[5]});
    addImage(metrics, detections, labels);
  }
}

void expectMatchesReference(const DetectionSummary& s) {
  ASSERT_EQ(s.classes.size(), 3u);
  EXPECT_NEAR(s.map50, kReferenceMap50, kTolerance);
  EXPECT_NEAR(s.map50to95, kReferenceMap50to95, kTolerance);
  EXPECT_NEAR(s.fitness, 0.1 * kReferenceMap50 + 0.9 * kReferenceMap50to95, kTolerance);
  EXPECT_NEAR(s.precision, kReferencePrecision, kTolerance);
  EXPECT_NEAR(s.recall, kReferenceRecall, kTolerance);
  for (size_t c = 0; c < 3; ++c) {
    EXPECT_NEAR(s.classes[c].ap50(), kReferenceAp50[c], kTolerance) << c;
    EXPECT_NEAR(s.classes[c].ap50to95(), kReferenceAp50to95[c], kTolerance) << c;
  }
  EXPECT_EQ(s.images, 10);
  EXPECT_EQ(s.instances, static_cast<int64_t>(kLabels.size()));
}

TEST(DetectionMetricsFixedSet, MatchesNumpyReference) {
  DetectionMetrics metrics(3);
  addFixedImages(metrics, 0, 10);
  expectMatchesReference(metrics.compute());
}

TEST(DetectionMetricsFixedSet, MergedRanksAndRestoredStateGiveTheSameResult) {
  // Two "ranks" with five images each, merged; then rebuilt from the plain-vector state.
  DetectionMetrics rank0(3), rank1(3);
  addFixedImages(rank0, 0, 5);
  addFixedImages(rank1, 5, 10);
  rank1.merge(rank0);  // order of arrival differs from the single accumulator's
  expectMatchesReference(rank1.compute());
  const DetectionMetrics restored(rank1.state());
  expectMatchesReference(restored.compute());
  int64_t imagesWithClass = 0;
  for (const ClassMetrics& c : restored.compute().classes)
    imagesWithClass += c.images;
  int64_t expected = 0;
  for (int image = 0; image < 10; ++image)
    for (int c = 0; c < 3; ++c) {
      bool present = false;
      for (const auto& l : kLabels)
        present = present || (l[0] == image && l[1] == c);
      expected += present ? 1 : 0;
    }
  EXPECT_EQ(imagesWithClass, expected);
}

}  // namespace
}  // namespace syncbn::model
