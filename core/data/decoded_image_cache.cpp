#include "data/decoded_image_cache.h"

#include <algorithm>
#include <fstream>
#include <string>
#include <utility>

namespace syncbn::data {

DecodedImageCache::DecodedImageCache(std::size_t capacityBytes) : capacityBytes_(capacityBytes) {}

DecodedImageCache::Stats DecodedImageCache::stats() const {
  const std::lock_guard lock(mutex_);
  Stats stats = stats_;
  stats.images = entries_.size();
  return stats;
}

std::shared_ptr<const DecodedImageCache::Entry> DecodedImageCache::find(
    const std::string& key) const {
  const std::lock_guard lock(mutex_);
  const auto found = entries_.find(key);
  if (found == entries_.end()) {
    ++stats_.misses;
    return nullptr;
  }
  ++stats_.hits;
  return found->second;
}

bool DecodedImageCache::insert(const std::string& key, std::shared_ptr<const Entry> entry,
                               std::size_t bytes) {
  const std::lock_guard lock(mutex_);
  if (entries_.count(key) != 0) return false;
  if (bytes > capacityBytes_ - stats_.bytes) {  // stats_.bytes <= capacityBytes_ always
    ++stats_.refused;
    return false;
  }
  entries_.emplace(key, std::move(entry));
  stats_.bytes += bytes;
  return true;
}

std::size_t imageCacheBudget(std::size_t requestedBytes, int ranksOnThisNode,
                             std::optional<std::size_t> availableBytes) {
  if (!availableBytes) return requestedBytes;
  const std::size_t ranks = static_cast<std::size_t>(std::max(ranksOnThisNode, 1));
  return std::min(requestedBytes, *availableBytes / 4 / ranks);
}

std::optional<std::size_t> availableMemoryBytes() {
  std::ifstream meminfo("/proc/meminfo");
  std::string name, unit;
  std::size_t kib = 0;
  while (meminfo >> name >> kib) {
    std::getline(meminfo, unit);  // " kB"
    if (name == "MemAvailable:") return kib * 1024;
  }
  return std::nullopt;
}

}  // namespace syncbn::data
