// A thin wrapper over a c10d process group: the few collectives the engine needs, on Gloo (CPU
// tensors) or NCCL (CUDA tensors). Differences between LibTorch 1.13 and 2.x stay in the .cpp.
#pragma once

#include <ATen/core/Tensor.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/config.h"
#include "dist/shared_memory_sum.h"

namespace syncbn::dist {

// Where and how ranks meet; as torchrun (or Slurm) describes it in the environment.
struct Rendezvous {
  int rank = 0;
  int worldSize = 1;
  int localRank = 0;
  std::string masterAddr = "127.0.0.1";
  int masterPort = 29500;
  std::chrono::milliseconds timeout = std::chrono::minutes(30);

  // RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT; else SLURM_PROCID, SLURM_NTASKS,
  // SLURM_LOCALID. Throws std::runtime_error naming the variable when one is malformed.
  static Rendezvous fromEnvironment();
};

// A collective in flight. wait() blocks until it has completed and throws, naming the operation
// and the group, when it failed; once it has returned, later calls return at once. A handle
// dropped unwaited leaves its collective running (c10d keeps the tensors alive).
class CollectiveWork {
 public:
  virtual ~CollectiveWork() = default;
  virtual void wait() = 0;
};

// The collective library behind a group; one implementation per c10d backend.
class Collectives {
 public:
  virtual ~Collectives() = default;
  virtual void allReduceSum(std::vector<at::Tensor>& tensors) = 0;
  virtual std::unique_ptr<CollectiveWork> allReduceSumAsync(std::vector<at::Tensor>& tensors) = 0;
  virtual void broadcast(std::vector<at::Tensor>& tensors, int root) = 0;
  virtual void allGather(std::vector<std::vector<at::Tensor>>& out,
                         std::vector<at::Tensor>& in) = 0;
  virtual void barrier() = 0;
};

// The key-value store ranks meet through. Copies share one store.
class Store {
 public:
  // A TCPStore at rendezvous.masterAddr:masterPort; rank 0 hosts it, the others connect and
  // wait up to rendezvous.timeout.
  static Store tcp(const Rendezvous& rendezvous);
  // A store inside this process, for ranks that are threads (tests, benchmarks).
  static Store inProcess();

  // The same store with every key under `prefix` (c10d's PrefixStore): lets several groups meet
  // through one store without their keys colliding.
  Store withPrefix(const std::string& prefix) const;

  struct Impl;
  std::shared_ptr<Impl> impl;
};

class ProcessGroup {
 public:
  // Backend Auto picks NCCL when `cuda`, else Gloo. A collective that waits longer than
  // `timeout` fails with an exception naming the operation and the timeout.
  static std::shared_ptr<ProcessGroup> create(const Store& store, int rank, int worldSize,
                                              Backend backend, bool cuda,
                                              std::chrono::milliseconds timeout);

  int rank() const { return rank_; }
  int worldSize() const { return worldSize_; }
  Backend backend() const { return backend_; }

  // In place, blocking. Tensors must be contiguous and live on this group's device type.
  void allReduceSum(at::Tensor& tensor);
  void allReduceAverage(at::Tensor& tensor);
  // In place, blocking: the sum of a small tensor (a few kilobytes, such as SyncBN's per-channel
  // sums), whose collective costs hops, not bytes. Up to kGatherSumMaxRanks ranks it is an
  // all-gather and a sum in rank order on every rank: W-1 hops of Gloo's ring where its ring
  // all-reduce takes 2(W-1), and every rank adds the same numbers in the same order, so all agree
  // bitwise. At 4 ranks on the 2-core machine that made the SyncBN step 14% faster; at 2 it was
  // the same (docs/benchmarks.md, "SyncBN's cost in the step"). Beyond, the W copies an all-gather
  // delivers to every rank outweigh the hops it saves, and it is an all-reduce.
  // A float64 CPU tensor of up to SharedMemorySum::kCapacity values on a Gloo group whose ranks
  // all run on this machine goes through shared memory instead, with the same result to the bit
  // (SharedMemorySum; SYNCBN_SHARED_MEMORY_SUM=0 turns that off). The first call decides, on
  // every rank alike.
  void allReduceSumSmall(at::Tensor& tensor);
  // Whether small sums go through shared memory; false until the first allReduceSumSmall.
  bool smallSumsShareMemory() const { return sharedSum_ != nullptr; }
  static constexpr int kGatherSumMaxRanks = 8;
  // Starts an in-place sum and returns at once; `tensor` must not be touched until wait().
  // Collectives on one group complete in the order every rank issued them.
  std::unique_ptr<CollectiveWork> allReduceSumAsync(at::Tensor& tensor);
  void broadcast(at::Tensor& tensor, int root = 0);
  std::vector<at::Tensor> allGather(const at::Tensor& tensor);  // same shape on every rank
  void barrier();

  // Collectives issued since construction: lets tests prove a path is communication-free.
  long long collectiveCount() const { return collectiveCount_.load(); }

  // A second group over the same ranks, store and backend, its store keys under
  // "<purpose>/<n>/". Its collectives never wait behind, or interleave with, this group's: code
  // that communicates while another component does (gradient buckets during a backward pass in
  // which SyncBN all-reduces) needs its own group, or ranks could issue the two streams of
  // collectives in different orders and deadlock. Collective: every rank calls it, in the same
  // order. Throws std::logic_error for a group not made by create().
  std::shared_ptr<ProcessGroup> createSiblingGroup(const std::string& purpose);

  ProcessGroup(std::unique_ptr<Collectives> collectives, int rank, int worldSize, Backend backend);

 private:
  // How create() made this group, so siblings can be made alike.
  struct Origin {
    Store store;
    bool cuda = false;
    std::chrono::milliseconds timeout{0};
  };

  SharedMemorySum* sharedSum();

  std::unique_ptr<Collectives> collectives_;
  std::optional<Origin> origin_;
  bool sharedSumDecided_ = false;
  std::unique_ptr<SharedMemorySum> sharedSum_;
  int siblingsCreated_ = 0;
  int rank_;
  int worldSize_;
  Backend backend_;
  std::atomic<long long> collectiveCount_{0};
};

}  // namespace syncbn::dist
