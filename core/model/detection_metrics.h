// Detection metrics as Ultralytics' validator computes them: per-image matching of detections to
// labels at IoU 0.50:0.05:0.95, then per-class AP (101-point interpolation), precision and recall
// at the confidence of maximum mean F1, mAP50, mAP50-95 and fitness.
#pragma once

#include <ATen/core/Tensor.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace syncbn::model {

inline constexpr int kIouThresholdCount = 10;

// 0.50, 0.55, ..., 0.95.
std::array<double, kIouThresholdCount> iouThresholds();

// detections [K, 6] (x1, y1, x2, y2, conf, cls) in NMS order (conf descending), labelBoxes [M, 4]
// xyxy, labelClasses [M] -> correct [K, 10] bool (CPU): detection k is a true positive at
// threshold t. Per threshold, as Ultralytics' match_predictions: each detection picks the
// same-class label of highest IoU >= t; each label then goes to the earliest (highest-confidence)
// detection that picked it. Other detections that picked it stay false, even when a second label
// would qualify.
at::Tensor matchPredictions(const at::Tensor& detections, const at::Tensor& labelBoxes,
                            const at::Tensor& labelClasses);

// How a precision/recall curve becomes one AP number. Both use the monotone precision envelope
// and 101 recall points 0, 0.01, ..., 1:
// - Ultralytics (default, what Ultralytics' validator prints): the trapezoid integral of the
//   envelope interpolated at the points, with a (recall 1, precision 0) sentinel, so perfect
//   detections score 0.995;
// - Coco (pycocotools): the mean over the points of the envelope's precision at the first
//   recall >= the point (0 beyond the highest recall), so perfect detections score 1.0.
enum class ApMethod { Ultralytics, Coco };

struct ClassMetrics {
  int64_t classId = 0;
  int64_t images = 0;     // images with at least one label of this class
  int64_t instances = 0;  // labels of this class
  double precision = 0;   // at the confidence of maximum (smoothed) mean F1
  double recall = 0;
  std::array<double, kIouThresholdCount> ap{};  // AP per IoU threshold
  double ap50() const { return ap[0]; }
  double ap50to95() const;
};

struct DetectionSummary {
  std::vector<ClassMetrics> classes;  // classes that have labels, ascending id
  int64_t images = 0;
  int64_t instances = 0;
  double precision = 0;  // means over `classes`
  double recall = 0;
  double map50 = 0;
  double map50to95 = 0;
  double fitness = 0;  // 0.1 * map50 + 0.9 * map50to95

  // Ultralytics' validation printout: a header, an "all" row, then one row per class.
  // names[c] names class c; a missing name prints the id.
  std::string table(const std::vector<std::string>& names = {}) const;
};

// Everything the metrics need, in plain vectors, so ranks can all-gather and merge it.
struct DetectionMetricsState {
  int64_t numClasses = 0;
  int64_t images = 0;
  std::vector<uint8_t> correct;         // [K * 10], row-major: detection k, threshold t
  std::vector<double> confidence;       // [K]
  std::vector<int64_t> predicted;       // [K] detection classes
  std::vector<int64_t> targets;         // [L] label classes
  std::vector<int64_t> imagesPerClass;  // [numClasses]
};

class DetectionMetrics {
 public:
  explicit DetectionMetrics(int64_t numClasses);
  // Checks the state's sizes; throws std::invalid_argument when they disagree.
  explicit DetectionMetrics(DetectionMetricsState state);

  // One image: detections [K, 6] from NMS, labels in the same pixel space ([M, 4] xyxy and [M]
  // classes). Any device; only the matching results are kept, on the CPU.
  void addImage(const at::Tensor& detections, const at::Tensor& labelBoxes,
                const at::Tensor& labelClasses);
  void merge(const DetectionMetrics& other);

  DetectionSummary compute(ApMethod method = ApMethod::Ultralytics) const;
  const DetectionMetricsState& state() const { return state_; }

 private:
  DetectionMetricsState state_;
};

}  // namespace syncbn::model
