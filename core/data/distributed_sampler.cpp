#include "data/distributed_sampler.h"

#include <numeric>
#include <stdexcept>
#include <string>

#include "data/portable_random.h"

namespace syncbn::data {
namespace {

// Uniform in [0, bound], bound < 2^64 - 1: rejection of the incomplete last block keeps it
// unbiased.
uint64_t uniformUpTo(SplitMix64& random, uint64_t bound) {
  const uint64_t range = bound + 1;
  const uint64_t limit = UINT64_MAX - UINT64_MAX % range;  // draws >= limit would favour low values
  uint64_t draw = random();
  while (draw >= limit)
    draw = random();
  return draw % range;
}

}  // namespace

std::vector<std::size_t> shuffledRange(std::size_t n, uint64_t seed) {
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  SplitMix64 random(seed);
  for (std::size_t i = n; i > 1; --i) {
    const auto j = static_cast<std::size_t>(uniformUpTo(random, i - 1));
    std::swap(order[i - 1], order[j]);
  }
  return order;
}

DistributedSampler::DistributedSampler(std::size_t datasetSize, int worldSize, int rank,
                                       bool shuffle, uint64_t seed, bool dropLast)
    : datasetSize_(datasetSize),
      worldSize_(worldSize),
      rank_(rank),
      shuffle_(shuffle),
      seed_(seed),
      dropLast_(dropLast) {
  if (worldSize < 1)
    throw std::invalid_argument("DistributedSampler: world size must be at least 1, got " +
                                std::to_string(worldSize));
  if (rank < 0 || rank >= worldSize)
    throw std::invalid_argument("DistributedSampler: rank " + std::to_string(rank) +
                                " is outside [0, " + std::to_string(worldSize) + ")");
  const auto w = static_cast<std::size_t>(worldSize);
  // As torch: drop the ragged tail, or round up and pad.
  numSamples_ = dropLast ? datasetSize / w : (datasetSize + w - 1) / w;
}

std::vector<std::size_t> DistributedSampler::epochOrder(int epoch) const {
  std::vector<std::size_t> order;
  if (shuffle_) {
    // seed + epoch, as torch seeds its generator; a negative epoch wraps, which is still fixed.
    order = shuffledRange(datasetSize_, seed_ + static_cast<uint64_t>(static_cast<int64_t>(epoch)));
  } else {
    order.resize(datasetSize_);
    std::iota(order.begin(), order.end(), std::size_t{0});
  }
  const std::size_t total = totalSize();
  if (total <= order.size()) {
    order.resize(total);
  } else if (!order.empty()) {
    // Padding repeats the list from its start, wrapping when more than n entries are missing
    // (torch's `indices * ceil(padding / len(indices))`).
    const std::size_t n = order.size();
    order.reserve(total);
    for (std::size_t i = n; i < total; ++i)
      order.push_back(order[i - n]);
  }
  return order;
}

std::vector<std::size_t> DistributedSampler::indices(int epoch) const {
  const std::vector<std::size_t> order = epochOrder(epoch);
  std::vector<std::size_t> mine;
  mine.reserve(numSamples_);
  for (std::size_t p = static_cast<std::size_t>(rank_); p < order.size();
       p += static_cast<std::size_t>(worldSize_))
    mine.push_back(order[p]);
  return mine;
}

}  // namespace syncbn::data
