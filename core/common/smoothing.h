// The loss's two derived curves, shared by the studio's plots and the engine's diagnosis:
// TensorBoard's smoothing and the oscillation index. Computed from the raw series as it arrives,
// not from a sample of it (which is what makes TensorBoard's smoothing change with its sampling).
// Plain C++: no Qt, no LibTorch.
#pragma once

#include <cmath>
#include <cstdint>
#include <deque>
#include <optional>

namespace syncbn {

// TensorBoard's smoothing: last = last * w + (1 - w) * y, reported debiased as
// last / (1 - w^n) over the n finite values so far, so the curve starts at the data and not at 0.
// Non-finite values are skipped (the smoothed curve carries on). w = 0 follows the data.
class DebiasedEma {
 public:
  explicit DebiasedEma(double weight = 0.6);

  double weight() const { return weight_; }
  // Adds one value; returns the smoothed value so far (NaN before the first finite value).
  double add(double value) { return addRun(value, 1); }
  // Adds `count` values summarised by their mean (a bucket of SeriesBuffer): exact when they are
  // equal, and otherwise the same as adding them one by one in any order to first order in
  // (1 - w^count).
  double addRun(double mean, std::int64_t count);
  double value() const;  // NaN before the first finite value
  void reset();

 private:
  double weight_;
  double last_ = 0;
  double weightPower_ = 1;  // w^n
};

// How much the loss oscillates, as a number per iteration (docs/monitor.md):
//   trend_t      = DebiasedEma(trendWeight) of the total loss up to t
//   residual_t   = loss_t - trend_t
//   index_t      = std(residual over the last `window` iterations)
//                  / mean(trend over the same iterations)
// 0 for a loss that follows its trend smoothly; 0.1 means the loss swings about 10% of its own
// level from one iteration to the next. Defined once `minimumPoints` finite values are in.
class OscillationIndex {
 public:
  static constexpr int kDefaultWindow = 50;
  static constexpr double kDefaultTrendWeight = 0.9;
  static constexpr int kMinimumPoints = 10;
  // At or above this, the badge says "oscillating". The demo run (configs/demo.yaml: 2 CPU
  // ranks x 8 images, SyncBN) stays between 0.018 and 0.066 over all of its 320 iterations.
  static constexpr double kDefaultThreshold = 0.10;

  explicit OscillationIndex(int window = kDefaultWindow, double trendWeight = kDefaultTrendWeight);

  // The index after `loss`; nullopt until defined, or for a non-finite loss.
  std::optional<double> add(double loss);
  void reset();
  int window() const { return window_; }

 private:
  int window_;
  DebiasedEma trend_;
  std::deque<double> residuals_;
  std::deque<double> trends_;
};

}  // namespace syncbn
