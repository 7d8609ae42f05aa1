// The sum of a few kilobytes of float64 across ranks that share one machine, through a
// shared-memory segment instead of Gloo's TCP loopback.
//
// Why it is written here: SyncBN sums each layer's per-channel statistics, a few kilobytes, about
// 90 times a step, and on one machine each of Gloo's collectives costs about 0.35 ms of thread
// hand-offs (the caller, c10d's worker thread, Gloo's I/O thread, the loopback socket) whatever
// the payload (docs/benchmarks.md, "SyncBN's cost in the step"). c10d's Gloo has no
// shared-memory transport, and no Debian package offers a cross-process sum that LibTorch ranks
// could use without a launcher of its own (MPI needs mpirun). POSIX shared memory and a futex
// are all it takes: each rank writes its values, publishes a sequence number, and adds every
// rank's values in rank order once all have published.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace syncbn::dist {

// The few operations of a key-value store the connection needs (c10d's stores have them).
class KeyValueStore {
 public:
  virtual ~KeyValueStore() = default;
  virtual void set(const std::string& key, const std::string& value) = 0;
  // Blocks until the key exists (up to the store's own timeout, then throws).
  virtual std::string get(const std::string& key) = 0;
  // Adds to a counter, creating it at 0, and returns the new value.
  virtual std::int64_t add(const std::string& key, std::int64_t amount) = 0;
};

class SharedMemorySum {
 public:
  // Values per rank and sum; a larger sum must take another path (every rank sees the same
  // size, so every rank decides alike).
  static constexpr std::size_t kCapacity = 8192;

  // Collective: every rank of the group calls it, in the same order as its other collectives.
  // Returns nullptr on every rank when the ranks cannot share memory: not all on this machine
  // (host name, boot and PID namespace differ), `enabled` false on some rank, fewer than 2 ranks,
  // or the segment could not be created or opened on some rank. The segment's name is unlinked
  // as soon as every rank has it mapped, so nothing outlives the ranks. A sum that waits longer
  // than `timeout` for a rank throws.
  static std::unique_ptr<SharedMemorySum> connect(KeyValueStore& store, int rank, int worldSize,
                                                  bool enabled, std::chrono::milliseconds timeout);

  ~SharedMemorySum();
  SharedMemorySum(const SharedMemorySum&) = delete;
  SharedMemorySum& operator=(const SharedMemorySum&) = delete;

  // Collective and blocking: replaces values[0..count) on every rank with the sum over ranks,
  // added in rank order ((v0 + v1) + v2) + ..., so every rank ends with the same bits, and the
  // same bits as an all-gather summed in rank order. count <= kCapacity and the same on every
  // rank. Throws std::runtime_error, naming the rank it waited for, when that rank's process
  // has ended or the wait exceeds the timeout.
  void sum(double* values, std::size_t count);

  int rank() const { return rank_; }
  int worldSize() const { return worldSize_; }

 private:
  struct Segment;
  SharedMemorySum(int rank, int worldSize, std::chrono::milliseconds timeout, void* mapping,
                  std::size_t bytes);
  void waitFor(int peer, std::uint32_t sequence) const;
  double* buffer(int rank, std::uint32_t sequence) const;

  int rank_;
  int worldSize_;
  std::chrono::milliseconds timeout_;
  std::chrono::nanoseconds spin_;
  void* mapping_;
  std::size_t bytes_;
  std::uint32_t sequence_ = 0;
};

}  // namespace syncbn::dist
