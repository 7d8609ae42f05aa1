// Decoded, resized images kept in RAM so that an image is decoded once per run, not once per use.
// A mosaic uses four images per example, and every epoch uses each image again: without a cache
// the loader spent about 55% of its time in the JPEG decoder (docs/benchmarks.md), on cores that
// the training step needs. Ultralytics keeps its last batch x 8 decoded images for the same reason
// (its mosaic draws partners from them); this cache keeps any image that fits in its budget, so
// what an example looks like never depends on which images happen to be cached.
//
// Thread-safe (the loader's workers share it) and bounded: it holds images until their bytes
// reach the capacity, then stops taking new ones. It never evicts, because the loader reads the
// dataset in a uniformly shuffled order, for which every eviction policy has the same hit rate
// (capacity / dataset size) and eviction would only add churn. The entries are opaque here so
// that the header stays free of OpenCV: augment.cpp defines what an entry holds.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace syncbn::data {

class DecodedImageCache {
 public:
  struct Entry;  // defined where images are decoded (augment.cpp)

  struct Stats {
    std::size_t images = 0;   // entries held
    std::size_t bytes = 0;    // their pixel bytes
    std::size_t hits = 0;     // find() calls answered
    std::size_t misses = 0;   // find() calls that were not
    std::size_t refused = 0;  // insert() calls turned away because the capacity was reached
  };

  // capacityBytes = 0: the cache holds nothing (every find() misses).
  explicit DecodedImageCache(std::size_t capacityBytes);

  std::size_t capacityBytes() const { return capacityBytes_; }
  Stats stats() const;

  // The entry stored under `key`, or null. Entries are immutable once inserted.
  std::shared_ptr<const Entry> find(const std::string& key) const;

  // Stores `entry` (of `bytes` bytes) under `key` when it fits; a key already present keeps its
  // first entry (two workers may decode the same image at once). Returns whether it is stored.
  bool insert(const std::string& key, std::shared_ptr<const Entry> entry, std::size_t bytes);

 private:
  const std::size_t capacityBytes_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<const Entry>> entries_;
  mutable Stats stats_;
};

// The capacity for one rank: `requestedBytes` (data.cache_mb), but at most a quarter of
// `availableBytes` shared among `ranksOnThisNode` ranks (each keeps its own cache), so that the
// caches never crowd out the training itself. No cap when the available memory is unknown.
std::size_t imageCacheBudget(std::size_t requestedBytes, int ranksOnThisNode,
                             std::optional<std::size_t> availableBytes);

// MemAvailable from /proc/meminfo, or nothing where it cannot be read.
std::optional<std::size_t> availableMemoryBytes();

}  // namespace syncbn::data
