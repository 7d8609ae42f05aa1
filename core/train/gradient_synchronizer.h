// Data-parallel gradient averaging with DistributedDataParallel's semantics: W ranks with local
// batches b each end every step with the same gradients, the average of their own.
//
// Loss scaling, for the trainer: Ultralytics multiplies each rank's loss by the world size and
// DDP averages the gradients, so W ranks with batch b step like one rank with batch W*b. This
// class is the averaging half; the trainer does the scaling. With norm=syncbn the equivalence
// is exact (tested to 1e-10 in float64): SyncBatchNorm2d makes every rank's input gradients those
// of the global batch, and averaging adds up the per-rank shares of everything else.
//
// Buckets. Trainable parameters (requires_grad) are assigned to buckets of at most
// `bucketBytes` in reverse registration order, as DDP does: backward produces the gradients of
// the last layers first, so the first buckets fill early. Each bucket is one contiguous tensor
// and one all-reduce per step. With `overlap`, per-parameter autograd hooks copy each gradient
// into its bucket as it is produced, and a full bucket's all-reduce starts at once, during
// backward; finish() waits for all, divides by W and writes the results into .grad. Buckets
// start in index order on every rank (bucket i only after buckets < i), so the ranks' collective
// sequences agree. A parameter that got no gradient this step (unused in the graph) contributes
// its current .grad, or zeros, when finish() starts the buckets still waiting for it: no rank
// hangs, and the average counts the zeros.
//
// Its own process group. SyncBatchNorm2d all-reduces on the group it was given, blocking, during
// backward. Bucket all-reduces issued on that same group from autograd hooks could interleave
// with SyncBN's in a different order on different ranks (a rank's hook may fire before or after
// a given SyncBN layer's backward), which deadlocks or mixes payloads. So the synchronizer
// makes a sibling group (same ranks and store, keys under "gradients/<n>/") at construction
// and sends everything on it.
//
// Unlike DDP, every trainable parameter ends finish() with a defined .grad (zeros where no rank
// used it), on one rank as on W, so optimizers treat unused parameters alike whatever the world
// size; DDP leaves globally unused gradients untouched, at the price of an extra all-reduce.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace torch::nn {
class Module;
}
namespace syncbn::dist {
class ProcessGroup;
}

namespace syncbn::train {

struct GradientSyncOptions {
  std::int64_t bucketBytes = 25 * 1024 * 1024;  // DDP's bucket_cap_mb default
  // true: all-reduce each bucket during backward, as soon as it is full. false: fully blocking,
  // no hooks; every bucket is all-reduced in finish() (the reference to compare against).
  bool overlap = true;
};

// Gradient communication of one step, for the GUI.
struct GradientSyncStats {
  long long collectives = 0;   // all-reduces issued (one per bucket)
  long long bytes = 0;         // bytes all-reduced (each rank's payload)
  long long startedEarly = 0;  // of those, started during backward (overlapped with compute)
  double waitMs = 0.0;         // time finish() spent blocked on communication
};

class GradientSynchronizer {
 public:
  // Collects `model`'s trainable parameters; construct it after the model's last norm
  // conversion (convertSyncBatchNorm replaces the norm layers' parameters). With no group, or a
  // group of one rank, it is a no-op that never communicates. Otherwise collective (every rank
  // constructs it, in the same order): creates the gradient group and checks that every rank has
  // the same trainable parameters, throwing std::runtime_error that names the disagreeing rank.
  GradientSynchronizer(const torch::nn::Module& model, std::shared_ptr<dist::ProcessGroup> group,
                       const GradientSyncOptions& options = {});
  ~GradientSynchronizer();
  GradientSynchronizer(GradientSynchronizer&&) noexcept;
  GradientSynchronizer& operator=(GradientSynchronizer&&) noexcept;
  GradientSynchronizer(const GradientSynchronizer&) = delete;
  GradientSynchronizer& operator=(const GradientSynchronizer&) = delete;

  // Copies every parameter (trainable or not) and buffer of `module` from rank 0, as DDP does at
  // construction, so all ranks start from identical weights and statistics. Collective.
  void broadcastFromRank0(torch::nn::Module& module);
  // Copies every buffer (BatchNorm running statistics, num_batches_tracked) from rank 0: DDP's
  // broadcast_buffers, once per step with norm=bn. Collective.
  void broadcastBuffers(torch::nn::Module& module);

  // After backward, before the optimizer step: every trainable parameter's .grad becomes the
  // average over the ranks. Collective. One backward per finish(): a second gradient for a
  // parameter before finish() throws (from inside backward).
  void finish();

  bool communicates() const;  // false: no group or a world of one
  std::size_t bucketCount() const;
  // Names of the parameters in bucket `index`, in the order they sit in it.
  std::vector<std::string> bucketParameters(std::size_t index) const;

  const GradientSyncStats& lastStep() const;
  double lastStepCommMs() const { return lastStep().waitMs; }

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace syncbn::train
