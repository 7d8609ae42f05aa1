// One plotted quantity of a run (a loss term, the learning rate, a rank's compute time) against
// the iteration, in bounded memory whatever the run's length: the newest points are kept at full
// resolution, older ones in buckets that keep each stretch's minimum and maximum (so spikes stay
// visible when zoomed out) and its mean and count (so smoothing can be recomputed from them).
//
// Memory: at most fullResolution + chunk points plus maxBuckets buckets; when the buckets run
// out, neighbours merge pairwise and every bucket then covers twice as many points.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <vector>

namespace studio {

struct SeriesPoint {
  double key = 0;  // the iteration
  double value = 0;
  bool operator==(const SeriesPoint&) const = default;
};

// A stretch of points summarised: what drawing and smoothing need of it.
struct SeriesBucket {
  double firstKey = 0, lastKey = 0;
  double minKey = 0, minValue = 0;  // where the smallest finite value is (NaN when none)
  double maxKey = 0, maxValue = 0;
  double sum = 0;          // of the finite values
  std::int64_t count = 0;  // points, finite or not
  std::int64_t finite = 0;
};

class SeriesBuffer {
 public:
  struct Limits {
    std::size_t fullResolution = 10000;  // newest points kept as they are
    std::size_t maxBuckets = 2000;       // older points summarised in at most this many buckets
  };

  SeriesBuffer() : SeriesBuffer(Limits{}) {}
  explicit SeriesBuffer(Limits limits);

  // Keys must not decrease; a point with a smaller key than the last is ignored (false).
  // NaN values are kept: they draw as a gap, and smoothing skips them.
  bool append(double key, double value);
  // Drops every point with key >= `key` (a resumed run repeating iterations). Buckets reaching
  // past `key` are dropped whole.
  void truncateFrom(double key);
  void clear();

  bool empty() const { return full_.empty() && buckets_.empty(); }
  std::int64_t count() const;  // points represented, bucketed ones included
  const SeriesPoint* last() const { return full_.empty() ? nullptr : &full_.back(); }
  const std::deque<SeriesPoint>& fullResolution() const { return full_; }
  const std::vector<SeriesBucket>& buckets() const { return buckets_; }
  // Changes whenever points already handed out change place: compaction into buckets, a
  // truncation, a clear. A view that appends new points as they come rebuilds its copy then.
  std::uint64_t generation() const { return generation_; }

  // What a plot draws: each bucket as its minimum and maximum in key order (one point when they
  // coincide), then the full-resolution points. Increasing keys.
  std::vector<SeriesPoint> drawPoints() const;
  // Calls f(key, mean, count) for each bucket (mean over its finite values, NaN when none), then
  // f(key, value, 1) for each full-resolution point: the input of syncbn::DebiasedEma::addRun.
  template <class F>
  void forEachRun(F&& f) const {
    for (const SeriesBucket& b : buckets_)
      f(b.lastKey, b.finite > 0 ? b.sum / static_cast<double>(b.finite) : kNaN, b.count);
    for (const SeriesPoint& p : full_)
      f(p.key, p.value, std::int64_t{1});
  }

  std::size_t memoryBytes() const;

 private:
  static constexpr double kNaN = __builtin_nan("");
  void compact();
  void mergeBucketPairs();

  Limits limits_;
  std::deque<SeriesPoint> full_;
  std::vector<SeriesBucket> buckets_;
  std::int64_t pointsPerBucket_ = 4;
  std::int64_t bucketedPoints_ = 0;
  std::uint64_t generation_ = 0;
};

}  // namespace studio
