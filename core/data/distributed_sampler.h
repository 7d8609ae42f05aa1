// Which dataset indices each rank loads in an epoch, with the semantics of PyTorch's
// torch.utils.data.distributed.DistributedSampler:
// - one permutation of [0, n) per epoch, shuffled by (seed + epoch) and identical on every rank
//   and for every world size (it depends only on n, seed and epoch);
// - padded by repeating its start until the length is a multiple of the world size W, or, with
//   dropLast, truncated to the largest multiple of W;
// - rank r takes positions r, r + W, r + 2W, ... of that list, so every rank has numSamples().
// The shuffle is our own Fisher-Yates over splitmix64 draws, so the order is the same with any
// standard library (std::shuffle's is not); it is not the same order as PyTorch's.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace syncbn::data {

class DistributedSampler {
 public:
  // Throws std::invalid_argument when worldSize < 1 or rank is outside [0, worldSize).
  DistributedSampler(std::size_t datasetSize, int worldSize, int rank, bool shuffle, uint64_t seed,
                     bool dropLast = false);

  // This rank's dataset indices for `epoch`, numSamples() of them.
  std::vector<std::size_t> indices(int epoch) const;

  // The padded (or truncated) list that all ranks share, totalSize() long; rank r's indices are
  // its positions r, r + W, ... Exposed so tests and tools can reason about the whole epoch.
  std::vector<std::size_t> epochOrder(int epoch) const;

  std::size_t numSamples() const { return numSamples_; }
  std::size_t totalSize() const { return numSamples_ * static_cast<std::size_t>(worldSize_); }
  std::size_t datasetSize() const { return datasetSize_; }
  int worldSize() const { return worldSize_; }
  int rank() const { return rank_; }
  bool shuffle() const { return shuffle_; }
  uint64_t seed() const { return seed_; }
  bool dropLast() const { return dropLast_; }

 private:
  std::size_t datasetSize_;
  int worldSize_;
  int rank_;
  bool shuffle_;
  uint64_t seed_;
  bool dropLast_;
  std::size_t numSamples_;
};

// [0, n) in the order (seed) gives: Fisher-Yates, each swap partner drawn without modulo bias from
// splitmix64(seed). Deterministic across platforms and standard libraries.
std::vector<std::size_t> shuffledRange(std::size_t n, uint64_t seed);

}  // namespace syncbn::data
