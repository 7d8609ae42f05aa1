// Per-rank batches for training: worker threads run the producer (decode + augment) ahead of the
// training loop into a bounded window, and batches come out in sampler order whatever the
// workers' finishing order. Images travel as uint8 ([N, 3, H, W]) and become float on the device
// (toFloatImages), which moves 4x fewer bytes.
//
// Union property (what makes W ranks with batch b equal one rank with batch W*b, given the same
// sampler seed and shuffle flag, and sampler dropLast off): rank r's batch at step i holds
// positions (i*b + j)*W + r, j = 0..b-1, of the sampler's epochOrder, so element j of rank r's
// batch is element j*W + r of the single-rank (W = 1) batch of W*b at step i. Rank batches
// interleave; concatenated rank 0..W-1 they are the same multiset in a different order. This is
// exact for every step whose positions lie below the dataset size n, and every rank takes the
// same number of steps as the single-rank loader. When n is not a multiple of W, the ranks' last
// step also holds the padding (epochOrder's repeats of its first entries, positions n and up)
// that the single-rank loader does not have. With LoaderOptions::dropLast the ranks may keep a
// last step made partly of padding where the single-rank loader drops its short last batch.
//
// Threads: start(), next() and stop() are meant for one consumer thread; stop() may also be
// called from another thread to make a blocked next() return std::nullopt.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "data/distributed_sampler.h"
#include "data/training_example.h"

namespace syncbn::data {

// Makes the training example for a dataset index in an epoch. Called from several worker threads
// at once: it must be thread-safe (ExampleFactory::training is).
using ExampleProducer = std::function<TrainingExample(std::size_t index, int epoch)>;

struct LoaderOptions {
  int workers = 2;          // producer threads; 0 runs the producer inside next()
  int prefetchBatches = 4;  // batches made ahead of the consumer: bounds memory
  bool pinMemory = false;   // page-locked batch tensors, when CUDA is available
  bool dropLast = false;    // drop the rank's last short batch
};

struct Batch {
  at::Tensor images;                 // [N, 3, H, W] uint8, RGB
  at::Tensor targets;                // [M, 6] float32: batch_idx, cls, cx, cy, w, h (normalised)
  std::vector<std::size_t> indices;  // dataset index of each image
  int epoch = 0;
  int step = 0;         // 0-based within the epoch
  double waitMs = 0.0;  // how long next() blocked for this batch: the data share of a step
};

// A batch that could not be made. what() names the dataset index (or indices) and the epoch.
class LoaderError : public std::runtime_error {
 public:
  LoaderError(const std::string& message, std::vector<std::size_t> indices);
  // The dataset indices at fault: the one whose producer threw, or those of a size mismatch.
  const std::vector<std::size_t>& indices() const { return indices_; }

 private:
  std::vector<std::size_t> indices_;
};

class BatchLoader {
 public:
  using Producer = ExampleProducer;

  // Throws std::invalid_argument for a null producer, batchPerRank < 1, workers < 0 or
  // prefetchBatches < 1.
  BatchLoader(Producer producer, DistributedSampler sampler, int batchPerRank,
              LoaderOptions options = {});
  ~BatchLoader();
  BatchLoader(const BatchLoader&) = delete;
  BatchLoader& operator=(const BatchLoader&) = delete;

  // Begins an epoch (stopping the current one first) and starts the workers. firstStep > 0
  // resumes the epoch there: next() returns step firstStep first, with the same contents as
  // without skipping (steps beyond the epoch's last leave nothing to return).
  void start(int epoch, int firstStep = 0);
  // The next batch in order, or std::nullopt at the end of the epoch or after stop(). Throws
  // LoaderError when the producer failed for an index of this batch, or the batch mixes image
  // sizes; batches before it are delivered first, and the error repeats until start().
  std::optional<Batch> next();
  // Aborts the epoch: workers finish the example they are making, then are joined.
  void stop();

  int stepsPerEpoch() const;
  const DistributedSampler& sampler() const { return sampler_; }
  int batchPerRank() const { return batchPerRank_; }
  const LoaderOptions& options() const { return options_; }

 private:
  struct PendingBatch {
    std::vector<std::optional<TrainingExample>> examples;
    int made = 0;
    std::optional<Batch> batch;  // set once all examples are made and collated
  };

  void workerLoop();
  void stopWorkers();     // with controlMutex_ held
  bool canClaim() const;  // with mutex_ held
  // With mutex_ held. position: the failed example's place in order_ (a collation failure uses
  // its step's first position); the earliest position wins, so the error does not depend on timing.
  void recordFailure(std::size_t position, std::exception_ptr failure);
  bool failedAtOrBefore(int step) const;                 // with mutex_ held
  std::vector<std::size_t> stepIndices(int step) const;  // with mutex_ held
  Batch produceInline(int step, std::vector<std::size_t> indices, int epoch) const;

  Producer producer_;
  DistributedSampler sampler_;
  int batchPerRank_;
  LoaderOptions options_;
  bool pin_;

  std::mutex controlMutex_;  // serialises start() and stop()
  std::mutex mutex_;         // guards everything below
  std::condition_variable workAvailable_;
  std::condition_variable batchReady_;
  bool started_ = false;  // start() has been called once
  bool running_ = false;
  bool stopping_ = false;
  int epoch_ = 0;
  int steps_ = 0;
  std::vector<std::size_t> order_;  // this rank's indices, cut to steps_ batches
  std::size_t nextClaim_ = 0;       // position in order_ of the next example to make
  int nextStep_ = 0;                // the step next() returns next
  std::map<int, PendingBatch> pending_;
  std::optional<std::size_t> errorPosition_;  // nothing is claimed after a failure
  std::set<std::size_t> inFlight_;            // positions claimed and still being made
  std::exception_ptr error_;
  std::vector<std::jthread> workers_;
};

// Collates examples of equal size into a batch (images, targets, indices; epoch and step left at
// 0). pinned: allocate page-locked tensors. Throws LoaderError naming the indices of mismatched
// sizes, or of an example whose rgb does not hold height*width*3 bytes.
Batch collateExamples(std::vector<TrainingExample> examples, bool pinned = false);

// uint8 images -> float in [0, 1] on `device`: the copy is non_blocking (overlaps from pinned
// memory), the division runs on the device.
at::Tensor toFloatImages(const at::Tensor& uint8Images, c10::Device device);

}  // namespace syncbn::data
