#include "common/smoothing.h"

#include <algorithm>
#include <limits>
#include <numeric>

namespace syncbn {

DebiasedEma::DebiasedEma(double weight) : weight_(std::clamp(weight, 0.0, 0.999)) {}

double DebiasedEma::addRun(double mean, std::int64_t count) {
  if (!std::isfinite(mean) || count <= 0) return value();
  // count values equal to `mean`: last <- last * w^count + (1 - w^count) * mean.
  const double decay = std::pow(weight_, static_cast<double>(count));
  last_ = last_ * decay + (1 - decay) * mean;
  weightPower_ *= decay;
  return value();
}

double DebiasedEma::value() const {
  if (weightPower_ == 1) return std::numeric_limits<double>::quiet_NaN();
  return last_ / (1 - weightPower_);
}

void DebiasedEma::reset() {
  last_ = 0;
  weightPower_ = 1;
}

OscillationIndex::OscillationIndex(int window, double trendWeight)
    : window_(std::max(2, window)), trend_(trendWeight) {}

std::optional<double> OscillationIndex::add(double loss) {
  if (!std::isfinite(loss)) return std::nullopt;
  const double trend = trend_.add(loss);
  residuals_.push_back(loss - trend);
  trends_.push_back(trend);
  if (static_cast<int>(residuals_.size()) > window_) {
    residuals_.pop_front();
    trends_.pop_front();
  }
  const auto n = static_cast<double>(residuals_.size());
  if (residuals_.size() < static_cast<std::size_t>(kMinimumPoints)) return std::nullopt;
  const double meanResidual = std::accumulate(residuals_.begin(), residuals_.end(), 0.0) / n;
  double squares = 0;
  for (const double r : residuals_)
    squares += (r - meanResidual) * (r - meanResidual);
  const double spread = std::sqrt(squares / (n - 1));
  const double level = std::accumulate(trends_.begin(), trends_.end(), 0.0) / n;
  if (!(std::abs(level) > 0)) return std::nullopt;
  return spread / std::abs(level);
}

void OscillationIndex::reset() {
  trend_.reset();
  residuals_.clear();
  trends_.clear();
}

}  // namespace syncbn
