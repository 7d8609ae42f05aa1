#include "stores/series_buffer.h"

#include <algorithm>
#include <cmath>

namespace studio {
namespace {

void include(SeriesBucket& bucket, const SeriesPoint& point) {
  if (bucket.count == 0) bucket.firstKey = point.key;
  bucket.lastKey = point.key;
  ++bucket.count;
  if (!std::isfinite(point.value)) return;
  if (bucket.finite == 0 || point.value < bucket.minValue) {
    bucket.minKey = point.key;
    bucket.minValue = point.value;
  }
  if (bucket.finite == 0 || point.value > bucket.maxValue) {
    bucket.maxKey = point.key;
    bucket.maxValue = point.value;
  }
  bucket.sum += point.value;
  ++bucket.finite;
}

SeriesBucket merged(const SeriesBucket& a, const SeriesBucket& b) {
  SeriesBucket m = a;
  m.lastKey = b.lastKey;
  m.count += b.count;
  m.sum += b.sum;
  m.finite += b.finite;
  if (b.finite > 0) {
    if (a.finite == 0 || b.minValue < a.minValue) {
      m.minKey = b.minKey;
      m.minValue = b.minValue;
    }
    if (a.finite == 0 || b.maxValue > a.maxValue) {
      m.maxKey = b.maxKey;
      m.maxValue = b.maxValue;
    }
  }
  return m;
}

}  // namespace

SeriesBuffer::SeriesBuffer(Limits limits) : limits_(limits) {
  limits_.fullResolution = std::max<std::size_t>(limits_.fullResolution, 1);
  limits_.maxBuckets = std::max<std::size_t>(limits_.maxBuckets, 2);
}

bool SeriesBuffer::append(double key, double value) {
  if (!full_.empty() && key < full_.back().key) return false;
  if (full_.empty() && !buckets_.empty() && key < buckets_.back().lastKey) return false;
  full_.push_back({key, value});
  // Compacting a quarter at a time keeps the work per point constant and the number of times a
  // view must rebuild its copy low.
  const std::size_t chunk = std::max<std::size_t>(1, limits_.fullResolution / 4);
  if (full_.size() >= limits_.fullResolution + chunk) compact();
  return true;
}

void SeriesBuffer::compact() {
  const std::size_t chunk = full_.size() - limits_.fullResolution;
  for (std::size_t i = 0; i < chunk; ++i) {
    if (buckets_.empty() || buckets_.back().count >= pointsPerBucket_) buckets_.emplace_back();
    include(buckets_.back(), full_.front());
    full_.pop_front();
    ++bucketedPoints_;
  }
  while (buckets_.size() > limits_.maxBuckets)
    mergeBucketPairs();
  ++generation_;
}

void SeriesBuffer::mergeBucketPairs() {
  std::vector<SeriesBucket> halved;
  halved.reserve(buckets_.size() / 2 + 1);
  for (std::size_t i = 0; i + 1 < buckets_.size(); i += 2)
    halved.push_back(merged(buckets_[i], buckets_[i + 1]));
  if (buckets_.size() % 2 == 1) halved.push_back(buckets_.back());
  buckets_ = std::move(halved);
  pointsPerBucket_ *= 2;
}

void SeriesBuffer::truncateFrom(double key) {
  bool removed = false;
  while (!full_.empty() && full_.back().key >= key) {
    full_.pop_back();
    removed = true;
  }
  if (full_.empty()) {
    while (!buckets_.empty() && buckets_.back().lastKey >= key) {
      bucketedPoints_ -= buckets_.back().count;
      buckets_.pop_back();
      removed = true;
    }
  }
  if (removed) ++generation_;
}

void SeriesBuffer::clear() {
  full_.clear();
  buckets_.clear();
  pointsPerBucket_ = 4;
  bucketedPoints_ = 0;
  ++generation_;
}

std::int64_t SeriesBuffer::count() const {
  return bucketedPoints_ + static_cast<std::int64_t>(full_.size());
}

std::vector<SeriesPoint> SeriesBuffer::drawPoints() const {
  std::vector<SeriesPoint> points;
  points.reserve(2 * buckets_.size() + full_.size());
  for (const SeriesBucket& b : buckets_) {
    if (b.finite == 0) {
      points.push_back({b.firstKey, kNaN});
    } else if (b.minKey == b.maxKey) {
      points.push_back({b.minKey, b.minValue});
    } else if (b.minKey < b.maxKey) {
      points.push_back({b.minKey, b.minValue});
      points.push_back({b.maxKey, b.maxValue});
    } else {
      points.push_back({b.maxKey, b.maxValue});
      points.push_back({b.minKey, b.minValue});
    }
  }
  points.insert(points.end(), full_.begin(), full_.end());
  return points;
}

std::size_t SeriesBuffer::memoryBytes() const {
  return sizeof(*this) + full_.size() * sizeof(SeriesPoint) +
         buckets_.capacity() * sizeof(SeriesBucket);
}

}  // namespace studio
