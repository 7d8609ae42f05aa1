#include "model/detection_metrics.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <numeric>
#include <set>
#include <sstream>
#include <stdexcept>

#include "model/boxes.h"

namespace syncbn::model {
namespace {

using torch::Tensor;

constexpr int kCurvePoints = 1000;  // confidence grid for the P, R and F1 curves
constexpr int kApPoints = 101;      // recall grid of the interpolated AP (COCO's 101 points)
constexpr double kEps = 1e-16;      // Ultralytics' eps in recall and F1

std::string shapeOf(const Tensor& t) {
  std::ostringstream out;
  out << t.sizes();
  return out.str();
}

void checkInputs(const Tensor& detections, const Tensor& labelBoxes, const Tensor& labelClasses,
                 const char* what) {
  if (detections.dim() != 2 || detections.size(1) != 6)
    throw std::invalid_argument(std::string(what) + ": detections must be [K, 6], got " +
                                shapeOf(detections));
  if (labelBoxes.dim() != 2 || labelBoxes.size(1) != 4)
    throw std::invalid_argument(std::string(what) + ": label boxes must be [M, 4], got " +
                                shapeOf(labelBoxes));
  if (labelClasses.dim() != 1 || labelClasses.size(0) != labelBoxes.size(0))
    throw std::invalid_argument(std::string(what) + ": label classes must be [" +
                                std::to_string(labelBoxes.size(0)) + "], got " +
                                shapeOf(labelClasses));
}

// Class ids as integers; they arrive as float columns of the detections.
std::vector<int64_t> classIds(const Tensor& values, const char* what) {
  const Tensor cpu = values.detach().to(torch::kCPU, torch::kDouble).contiguous();
  std::vector<int64_t> ids(static_cast<size_t>(cpu.numel()));
  const double* data = cpu.data_ptr<double>();
  for (size_t i = 0; i < ids.size(); ++i) {
    if (!std::isfinite(data[i]) || data[i] != std::nearbyint(data[i]))
      throw std::invalid_argument(std::string(what) + ": class " + std::to_string(data[i]) +
                                  " is not an integer");
    ids[i] = static_cast<int64_t>(data[i]);
  }
  return ids;
}

std::vector<double> toDoubles(const Tensor& values) {
  const Tensor cpu = values.detach().to(torch::kCPU, torch::kDouble).contiguous();
  return {cpu.data_ptr<double>(), cpu.data_ptr<double>() + cpu.numel()};
}

// numpy.interp: the piecewise-linear curve through (xs, ys), xs non-decreasing, evaluated at x;
// left/right outside [xs.front(), xs.back()]; where xs repeats a value, the last of its ys.
double interpolate(double x, const std::vector<double>& xs, const std::vector<double>& ys,
                   double left, double right) {
  if (x < xs.front()) return left;
  if (x > xs.back()) return right;
  const size_t j = static_cast<size_t>(std::upper_bound(xs.begin(), xs.end(), x) - xs.begin()) - 1;
  if (j + 1 == xs.size() || xs[j] == x) return ys[j];
  const double slope = (ys[j + 1] - ys[j]) / (xs[j + 1] - xs[j]);
  return slope * (x - xs[j]) + ys[j];
}

// numpy.linspace(0, 1, n): i * step, the last point exactly 1.
std::vector<double> unitGrid(int n) {
  const double step = 1.0 / (n - 1);
  std::vector<double> grid(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i)
    grid[static_cast<size_t>(i)] = i * step;
  grid.back() = 1.0;
  return grid;
}

// AP of one precision/recall curve (detections by confidence descending): sentinels
// (recall 0, precision 1) first and (recall 1, precision 0) last, the precision envelope
// p_env(i) = max_{j >= i} p(j), then the trapezoid integral of p_env interpolated at
// recall 0, 0.01, ..., 1.
double ultralyticsAveragePrecision(const std::vector<double>& recall,
                                   const std::vector<double>& precision) {
  std::vector<double> r{0.0}, p{1.0};
  r.insert(r.end(), recall.begin(), recall.end());
  p.insert(p.end(), precision.begin(), precision.end());
  r.push_back(1.0);
  p.push_back(0.0);
  for (size_t i = p.size() - 1; i-- > 0;)
    p[i] = std::max(p[i], p[i + 1]);
  static const std::vector<double> grid = unitGrid(kApPoints);
  double area = 0;
  double previous = interpolate(grid[0], r, p, p.front(), p.back());
  for (size_t i = 1; i < grid.size(); ++i) {
    const double current = interpolate(grid[i], r, p, p.front(), p.back());
    area += (grid[i] - grid[i - 1]) * (previous + current) / 2;
    previous = current;
  }
  return area;
}

// pycocotools: the envelope over the curve alone (no sentinels); at each recall point r the
// envelope's value at the first detection whose recall >= r, 0 where recall never reaches r.
double cocoAveragePrecision(const std::vector<double>& recall,
                            const std::vector<double>& precision) {
  std::vector<double> envelope = precision;
  for (size_t i = envelope.size(); i-- > 1;)
    envelope[i - 1] = std::max(envelope[i - 1], envelope[i]);
  static const std::vector<double> grid = unitGrid(kApPoints);
  double sum = 0;
  for (const double point : grid) {
    const auto first = std::lower_bound(recall.begin(), recall.end(), point);
    if (first != recall.end()) sum += envelope[static_cast<size_t>(first - recall.begin())];
  }
  return sum / static_cast<double>(grid.size());
}

double averagePrecision(const std::vector<double>& recall, const std::vector<double>& precision,
                        ApMethod method) {
  return method == ApMethod::Coco ? cocoAveragePrecision(recall, precision)
                                  : ultralyticsAveragePrecision(recall, precision);
}

// Ultralytics' smooth(): a centred box filter of nf = round(2 f n) / 2 * 2 + 1 points, the ends
// padded with the first and last values.
std::vector<double> boxFilter(const std::vector<double>& y, double fraction) {
  const auto n = static_cast<int64_t>(y.size());
  const int64_t width = static_cast<int64_t>(std::nearbyint(n * fraction * 2)) / 2 + 1;
  const int64_t half = width / 2;
  const double weight = 1.0 / static_cast<double>(width);
  std::vector<double> out(y.size());
  for (int64_t k = 0; k < n; ++k) {
    double sum = 0;
    for (int64_t m = k - half; m <= k + half; ++m)
      sum += y[static_cast<size_t>(std::clamp<int64_t>(m, 0, n - 1))] * weight;
    out[static_cast<size_t>(k)] = sum;
  }
  return out;
}

void checkState(const DetectionMetricsState& s) {
  const size_t k = s.confidence.size();
  if (s.numClasses <= 0)
    throw std::invalid_argument("DetectionMetrics: numClasses must be > 0, got " +
                                std::to_string(s.numClasses));
  if (s.correct.size() != k * kIouThresholdCount || s.predicted.size() != k)
    throw std::invalid_argument("DetectionMetrics state: " + std::to_string(k) +
                                " confidences but " + std::to_string(s.correct.size()) +
                                " correct flags (need " + std::to_string(k * kIouThresholdCount) +
                                ") and " + std::to_string(s.predicted.size()) +
                                " predicted classes");
  if (s.imagesPerClass.size() != static_cast<size_t>(s.numClasses))
    throw std::invalid_argument("DetectionMetrics state: imagesPerClass has " +
                                std::to_string(s.imagesPerClass.size()) + " entries, need " +
                                std::to_string(s.numClasses));
  for (const auto* ids : {&s.predicted, &s.targets})
    for (const int64_t c : *ids)
      if (c < 0 || c >= s.numClasses)
        throw std::invalid_argument("DetectionMetrics: class " + std::to_string(c) +
                                    " outside [0, " + std::to_string(s.numClasses) + ")");
}

}  // namespace

std::array<double, kIouThresholdCount> iouThresholds() {
  std::array<double, kIouThresholdCount> t{};
  for (int i = 0; i < kIouThresholdCount; ++i)
    t[static_cast<size_t>(i)] = (50.0 + 5.0 * i) / 100;
  return t;
}

double ClassMetrics::ap50to95() const {
  return std::accumulate(ap.begin(), ap.end(), 0.0) / kIouThresholdCount;
}

Tensor matchPredictions(const Tensor& detections, const Tensor& labelBoxes,
                        const Tensor& labelClasses) {
  checkInputs(detections, labelBoxes, labelClasses, "matchPredictions");
  const int64_t k = detections.size(0), m = labelBoxes.size(0);
  Tensor correct = torch::zeros({k, kIouThresholdCount}, torch::kBool);
  if (k == 0 || m == 0) return correct;

  const auto cpuDouble = [](const Tensor& t) {
    return t.detach().to(torch::kCPU, torch::kDouble).contiguous();
  };
  const Tensor iou = boxIou(cpuDouble(labelBoxes), cpuDouble(detections.narrow(1, 0, 4)));
  const auto iouAt = iou.accessor<double, 2>();  // [label, detection]
  const std::vector<int64_t> predicted = classIds(detections.select(1, 5), "matchPredictions");
  const std::vector<int64_t> target = classIds(labelClasses, "matchPredictions");
  auto correctAt = correct.accessor<bool, 2>();

  const auto thresholds = iouThresholds();
  std::vector<int64_t> choice(static_cast<size_t>(k));
  std::vector<bool> taken(static_cast<size_t>(m));
  for (int t = 0; t < kIouThresholdCount; ++t) {
    // Each detection's best label (ties: the higher label index, as numpy's reversed argsort).
    for (int64_t d = 0; d < k; ++d) {
      int64_t best = -1;
      for (int64_t l = 0; l < m; ++l) {
        const double value = iouAt[l][d];
        if (target[static_cast<size_t>(l)] != predicted[static_cast<size_t>(d)] ||
            value < thresholds[static_cast<size_t>(t)])
          continue;
        if (best < 0 || value >= iouAt[best][d]) best = l;
      }
      choice[static_cast<size_t>(d)] = best;
    }
    // Each label goes to the first detection (in NMS order) that chose it.
    std::fill(taken.begin(), taken.end(), false);
    for (int64_t d = 0; d < k; ++d) {
      const int64_t l = choice[static_cast<size_t>(d)];
      if (l < 0 || taken[static_cast<size_t>(l)]) continue;
      taken[static_cast<size_t>(l)] = true;
      correctAt[d][t] = true;
    }
  }
  return correct;
}

DetectionMetrics::DetectionMetrics(int64_t numClasses) {
  state_.numClasses = numClasses;
  state_.imagesPerClass.assign(static_cast<size_t>(std::max<int64_t>(numClasses, 0)), 0);
  checkState(state_);
}

DetectionMetrics::DetectionMetrics(DetectionMetricsState state) : state_(std::move(state)) {
  checkState(state_);
}

void DetectionMetrics::addImage(const Tensor& detections, const Tensor& labelBoxes,
                                const Tensor& labelClasses) {
  checkInputs(detections, labelBoxes, labelClasses, "DetectionMetrics::addImage");
  const Tensor correct = matchPredictions(detections, labelBoxes, labelClasses);
  const std::vector<int64_t> predicted =
      classIds(detections.select(1, 5), "DetectionMetrics::addImage");
  const std::vector<int64_t> target = classIds(labelClasses, "DetectionMetrics::addImage");
  for (const auto* ids : {&predicted, &target})
    for (const int64_t c : *ids)
      if (c < 0 || c >= state_.numClasses)
        throw std::invalid_argument("DetectionMetrics::addImage: class " + std::to_string(c) +
                                    " outside [0, " + std::to_string(state_.numClasses) + ")");

  const std::vector<double> confidence = toDoubles(detections.select(1, 4));
  const auto flags = correct.accessor<bool, 2>();
  for (int64_t d = 0; d < correct.size(0); ++d)
    for (int t = 0; t < kIouThresholdCount; ++t)
      state_.correct.push_back(flags[d][t] ? 1 : 0);
  state_.confidence.insert(state_.confidence.end(), confidence.begin(), confidence.end());
  state_.predicted.insert(state_.predicted.end(), predicted.begin(), predicted.end());
  state_.targets.insert(state_.targets.end(), target.begin(), target.end());
  for (const int64_t c : std::set<int64_t>(target.begin(), target.end()))
    ++state_.imagesPerClass[static_cast<size_t>(c)];
  ++state_.images;
}

void DetectionMetrics::merge(const DetectionMetrics& other) {
  const DetectionMetricsState& o = other.state_;
  if (o.numClasses != state_.numClasses)
    throw std::invalid_argument("DetectionMetrics::merge: " + std::to_string(o.numClasses) +
                                " classes into " + std::to_string(state_.numClasses));
  state_.images += o.images;
  state_.correct.insert(state_.correct.end(), o.correct.begin(), o.correct.end());
  state_.confidence.insert(state_.confidence.end(), o.confidence.begin(), o.confidence.end());
  state_.predicted.insert(state_.predicted.end(), o.predicted.begin(), o.predicted.end());
  state_.targets.insert(state_.targets.end(), o.targets.begin(), o.targets.end());
  for (size_t c = 0; c < state_.imagesPerClass.size(); ++c)
    state_.imagesPerClass[c] += o.imagesPerClass[c];
}

DetectionSummary DetectionMetrics::compute(ApMethod method) const {
  const DetectionMetricsState& s = state_;
  DetectionSummary summary;
  summary.images = s.images;
  summary.instances = static_cast<int64_t>(s.targets.size());
  std::map<int64_t, int64_t> labelsPerClass;  // only classes with labels count
  for (const int64_t c : s.targets)
    ++labelsPerClass[c];
  if (labelsPerClass.empty()) return summary;

  // Detections by confidence descending; stable, so ties keep their order of arrival.
  std::vector<size_t> order(s.confidence.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return s.confidence[a] > s.confidence[b]; });

  static const std::vector<double> grid = unitGrid(kCurvePoints);
  std::vector<std::vector<double>> precisionCurves, recallCurves;
  std::vector<double> meanF1(grid.size(), 0.0);
  for (const auto& [classId, labels] : labelsPerClass) {
    ClassMetrics metrics;
    metrics.classId = classId;
    metrics.instances = labels;
    metrics.images = s.imagesPerClass[static_cast<size_t>(classId)];
    std::vector<double> pCurve(grid.size(), 0.0), rCurve(grid.size(), 0.0);

    std::vector<size_t> mine;
    for (const size_t i : order)
      if (s.predicted[i] == classId) mine.push_back(i);
    if (!mine.empty()) {
      // negConf ascending, so the grid's -x can be looked up on it (numpy.interp needs that).
      std::vector<double> negConf;
      for (const size_t i : mine)
        negConf.push_back(-s.confidence[i]);
      for (int t = 0; t < kIouThresholdCount; ++t) {
        // recall_i = TP_i / (labels + eps), precision_i = TP_i / i over the first i detections.
        std::vector<double> recall, precision;
        double truePositives = 0;
        for (size_t n = 0; n < mine.size(); ++n) {
          truePositives += s.correct[mine[n] * kIouThresholdCount + static_cast<size_t>(t)];
          recall.push_back(truePositives / (static_cast<double>(labels) + kEps));
          precision.push_back(truePositives / static_cast<double>(n + 1));
        }
        metrics.ap[static_cast<size_t>(t)] = averagePrecision(recall, precision, method);
        if (t == 0) {
          // Curves over confidence at IoU 0.5: above the highest confidence nothing is
          // detected (recall 0, precision 1); below the lowest, the final values hold.
          for (size_t g = 0; g < grid.size(); ++g) {
            rCurve[g] = interpolate(-grid[g], negConf, recall, 0.0, recall.back());
            pCurve[g] = interpolate(-grid[g], negConf, precision, 1.0, precision.back());
          }
        }
      }
    }
    for (size_t g = 0; g < grid.size(); ++g)
      meanF1[g] += 2 * pCurve[g] * rCurve[g] / (pCurve[g] + rCurve[g] + kEps);
    precisionCurves.push_back(std::move(pCurve));
    recallCurves.push_back(std::move(rCurve));
    summary.classes.push_back(metrics);
  }

  const auto classCount = static_cast<double>(summary.classes.size());
  for (double& f1 : meanF1)
    f1 /= classCount;
  const std::vector<double> smoothF1 = boxFilter(meanF1, 0.1);
  const auto best =
      static_cast<size_t>(std::max_element(smoothF1.begin(), smoothF1.end()) - smoothF1.begin());
  for (size_t c = 0; c < summary.classes.size(); ++c) {
    ClassMetrics& metrics = summary.classes[c];
    metrics.precision = precisionCurves[c][best];
    metrics.recall = recallCurves[c][best];
    summary.precision += metrics.precision / classCount;
    summary.recall += metrics.recall / classCount;
    summary.map50 += metrics.ap50() / classCount;
    summary.map50to95 += metrics.ap50to95() / classCount;
  }
  summary.fitness = 0.1 * summary.map50 + 0.9 * summary.map50to95;
  return summary;
}

std::string DetectionSummary::table(const std::vector<std::string>& names) const {
  std::string out;
  char line[256];
  std::snprintf(line, sizeof line, "%22s%11s%11s%11s%11s%11s%11s\n", "Class", "Images", "Instances",
                "Box(P", "R", "mAP50", "mAP50-95)");
  out += line;
  const auto row = [&](const std::string& name, int64_t imageCount, int64_t instanceCount, double p,
                       double r, double ap50, double ap) {
    std::snprintf(line, sizeof line, "%22s%11lld%11lld%11.3g%11.3g%11.3g%11.3g\n", name.c_str(),
                  static_cast<long long>(imageCount), static_cast<long long>(instanceCount), p, r,
                  ap50, ap);
    out += line;
  };
  row("all", images, instances, precision, recall, map50, map50to95);
  for (const ClassMetrics& c : classes) {
    const auto id = static_cast<size_t>(c.classId);
    row(id < names.size() ? names[id] : std::to_string(c.classId), c.images, c.instances,
        c.precision, c.recall, c.ap50(), c.ap50to95());
  }
  return out;
}

}  // namespace syncbn::model
