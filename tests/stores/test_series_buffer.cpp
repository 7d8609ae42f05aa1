// SeriesBuffer and the smoothing curves, against straightforward recomputations of what they
// promise: every point kept while there is room, spikes and means kept once bucketed, bounded
// memory, TensorBoard's debiased EMA and the documented oscillation index.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <vector>

#include "stores/series_buffer.h"
#include "common/smoothing.h"

namespace studio {
namespace {

std::vector<double> noisyLoss(int n, unsigned seed) {
  std::mt19937 random(seed);
  std::normal_distribution<double> noise(0.0, 0.05);
  std::vector<double> values;
  for (int i = 0; i < n; ++i)
    values.push_back(3.0 * std::exp(-i / 2000.0) + 1.0 + noise(random));
  return values;
}

TEST(SeriesBuffer, KeepsEveryPointWhileThereIsRoom) {
  SeriesBuffer buffer(SeriesBuffer::Limits{100, 10});
  for (int i = 0; i < 100; ++i)
    ASSERT_TRUE(buffer.append(i, i * 0.5));
  EXPECT_TRUE(buffer.buckets().empty());
  const std::vector<SeriesPoint> points = buffer.drawPoints();
  ASSERT_EQ(points.size(), 100u);
  for (int i = 0; i < 100; ++i)
    EXPECT_EQ(points[static_cast<std::size_t>(i)], (SeriesPoint{double(i), i * 0.5}));
  EXPECT_EQ(buffer.count(), 100);
}

TEST(SeriesBuffer, StaysBoundedAndKeepsSpikesAndMeansOfOldPoints) {
  const SeriesBuffer::Limits limits{1000, 200};
  SeriesBuffer buffer(limits);
  std::vector<double> values = noisyLoss(200000, 1);
  values[1234] = 50;    // a spike long since bucketed
  values[77777] = -20;  // and a dip
  for (std::size_t i = 0; i < values.size(); ++i)
    ASSERT_TRUE(buffer.append(static_cast<double>(i), values[i]));

  EXPECT_EQ(buffer.count(), 200000);
  EXPECT_LE(buffer.fullResolution().size(), limits.fullResolution + limits.fullResolution / 4);
  EXPECT_LE(buffer.buckets().size(), limits.maxBuckets);
  EXPECT_LT(buffer.memoryBytes(), 200000 * sizeof(SeriesPoint) / 10);

  // The newest points are exactly as appended.
  const auto& full = buffer.fullResolution();
  for (std::size_t i = 0; i < full.size(); ++i) {
    const std::size_t original = values.size() - full.size() + i;
    EXPECT_EQ(full[i].key, static_cast<double>(original));
    EXPECT_EQ(full[i].value, values[original]);
  }
  // Extremes survive decimation, at their own keys; keys only grow.
  const std::vector<SeriesPoint> drawn = buffer.drawPoints();
  const auto [lowest, highest] = std::minmax_element(
      drawn.begin(), drawn.end(), [](const auto& a, const auto& b) { return a.value < b.value; });
  EXPECT_EQ(*highest, (SeriesPoint{1234, 50}));
  EXPECT_EQ(*lowest, (SeriesPoint{77777, -20}));
  EXPECT_TRUE(std::is_sorted(drawn.begin(), drawn.end(),
                             [](const auto& a, const auto& b) { return a.key < b.key; }));
  // Means times counts add up to the sum of everything appended.
  double sum = 0;
  std::int64_t count = 0;
  buffer.forEachRun([&](double, double mean, std::int64_t n) {
    sum += mean * static_cast<double>(n);
    count += n;
  });
  EXPECT_EQ(count, 200000);
  EXPECT_NEAR(sum, std::accumulate(values.begin(), values.end(), 0.0), 1e-6 * sum);
}

TEST(SeriesBuffer, RefusesKeysGoingBackAndTruncatesForAResumedRun) {
  SeriesBuffer buffer(SeriesBuffer::Limits{50, 10});
  for (int i = 0; i < 40; ++i)
    buffer.append(i, i);
  EXPECT_FALSE(buffer.append(10, 0));
  const auto generation = buffer.generation();
  buffer.truncateFrom(30);
  EXPECT_NE(buffer.generation(), generation);
  ASSERT_EQ(buffer.count(), 30);
  EXPECT_EQ(buffer.last()->key, 29);
  EXPECT_TRUE(buffer.append(30, -1));
  EXPECT_EQ(buffer.last()->value, -1);
}

TEST(SeriesBuffer, NaNDrawsAsAGapAndDoesNotPoisonBuckets) {
  SeriesBuffer buffer(SeriesBuffer::Limits{4, 10});
  for (int i = 0; i < 20; ++i)
    buffer.append(i, i == 2 ? std::nan("") : 1.0);
  ASSERT_FALSE(buffer.buckets().empty());
  for (const SeriesBucket& b : buffer.buckets()) {
    EXPECT_EQ(b.minValue, 1.0);
    EXPECT_EQ(b.maxValue, 1.0);
  }
  EXPECT_EQ(buffer.buckets().front().count - buffer.buckets().front().finite, 1);
}

// TensorBoard's smoothing, written out as its frontend does it.
std::vector<double> tensorBoardSmoothing(const std::vector<double>& ys, double w) {
  std::vector<double> out;
  double last = 0;
  int n = 0;
  for (const double y : ys) {
    last = last * w + (1 - w) * y;
    ++n;
    out.push_back(last / (1 - std::pow(w, n)));
  }
  return out;
}

TEST(DebiasedEma, IsTensorBoardsSmoothing) {
  const std::vector<double> ys = noisyLoss(500, 2);
  for (const double w : {0.0, 0.6, 0.9, 0.99}) {
    syncbn::DebiasedEma ema(w);
    const std::vector<double> expected = tensorBoardSmoothing(ys, w);
    for (std::size_t i = 0; i < ys.size(); ++i)
      ASSERT_NEAR(ema.add(ys[i]), expected[i], 1e-12) << "w=" << w << " i=" << i;
  }
}

TEST(DebiasedEma, ARunOfEqualValuesIsExactAndNaNIsSkipped) {
  syncbn::DebiasedEma one(0.9), runs(0.9);
  for (int i = 0; i < 7; ++i)
    one.add(2.5);
  one.add(std::nan(""));
  for (int i = 0; i < 3; ++i)
    one.add(4.0);
  runs.addRun(2.5, 7);
  runs.addRun(4.0, 3);
  EXPECT_NEAR(one.value(), runs.value(), 1e-12);
  EXPECT_TRUE(std::isnan(syncbn::DebiasedEma(0.5).value()));
}

// The index as docs/monitor.md defines it, computed in one pass over the whole sequence.
std::vector<double> oscillationByDefinition(const std::vector<double>& ys, int window) {
  const std::vector<double> trend = tensorBoardSmoothing(ys, syncbn::OscillationIndex::kDefaultTrendWeight);
  std::vector<double> out;
  for (std::size_t t = 0; t < ys.size(); ++t) {
    const std::size_t from = t + 1 >= static_cast<std::size_t>(window) ? t + 1 - window : 0;
    const auto n = static_cast<double>(t + 1 - from);
    if (n < syncbn::OscillationIndex::kMinimumPoints) {
      out.push_back(std::nan(""));
      continue;
    }
    double meanResidual = 0, meanTrend = 0;
    for (std::size_t i = from; i <= t; ++i) {
      meanResidual += (ys[i] - trend[i]) / n;
      meanTrend += trend[i] / n;
    }
    double squares = 0;
    for (std::size_t i = from; i <= t; ++i)
      squares += std::pow(ys[i] - trend[i] - meanResidual, 2);
    out.push_back(std::sqrt(squares / (n - 1)) / meanTrend);
  }
  return out;
}

TEST(OscillationIndex, FollowsItsDefinition) {
  const std::vector<double> ys = noisyLoss(400, 3);
  syncbn::OscillationIndex index;
  const std::vector<double> expected =
      oscillationByDefinition(ys, syncbn::OscillationIndex::kDefaultWindow);
  for (std::size_t i = 0; i < ys.size(); ++i) {
    const std::optional<double> got = index.add(ys[i]);
    if (std::isnan(expected[i])) {
      EXPECT_FALSE(got) << i;
    } else {
      ASSERT_TRUE(got) << i;
      EXPECT_NEAR(*got, expected[i], 1e-12) << i;
    }
  }
}

TEST(OscillationIndex, TellsASteadyLossFromAnOscillatingOne) {
  syncbn::OscillationIndex steady, swinging;
  std::optional<double> s, o;
  for (int i = 0; i < 200; ++i) {
    s = steady.add(2.0 - i * 0.001);                   // falling smoothly
    o = swinging.add(2.0 * (i % 2 == 0 ? 1.3 : 0.7));  // +-30% every other iteration
  }
  ASSERT_TRUE(s && o);
  EXPECT_LT(*s, 0.01);
  EXPECT_GT(*o, syncbn::OscillationIndex::kDefaultThreshold);
  EXPECT_NEAR(*o, 0.28, 0.02);  // the residual swings by about +-0.56 on a level of 2
}

}  // namespace
}  // namespace studio
