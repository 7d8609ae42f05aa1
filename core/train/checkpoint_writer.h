// Writes checkpoints on a background thread, so that the training thread pays only for copying
// the tensors (CheckpointSnapshot) and not for serialising, checksumming, writing and syncing
// them. Each file is still written atomically: the rename comes only after the fsync, so a
// crash, a kill or a full disk leaves the previous file as it was.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "train/checkpoint_file.h"

namespace syncbn::train {

class CheckpointWriter {
 public:
  // What a finished write reports back (the checkpoint event is published from it, on the
  // training thread, once the file is in place).
  struct Written {
    std::filesystem::path path;
    std::string kind;  // "last", "best", "interval"
    int epoch = 0;
    long long iteration = 0;
    std::uintmax_t bytes = 0;
    double seconds = 0;  // spent writing it: serialising, checksum, write, fsync, rename
  };

  CheckpointWriter();
  // Finishes every queued write first: a checkpoint taken is never dropped by a clean exit or
  // by an exception unwinding the trainer.
  ~CheckpointWriter();
  CheckpointWriter(const CheckpointWriter&) = delete;
  CheckpointWriter& operator=(const CheckpointWriter&) = delete;

  // Queues `snapshot` for `what.path`. While a write of the same path waits in the queue, it
  // first waits for that one to start: every checkpoint is written and reported, in order, and
  // a disk slower than the checkpoints keeps at most two snapshots of a file in memory.
  void submit(CheckpointSnapshot snapshot, Written what);

  // The writes finished since the last call, in order. Throws the CheckpointError of a write
  // that failed (once), after which later writes go on.
  std::vector<Written> takeWritten();

  // Blocks until every queued write has finished or failed.
  void waitIdle();

 private:
  struct Job {
    CheckpointSnapshot snapshot;
    Written what;
  };
  void run();

  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Job> queue_;
  bool busy_ = false;
  bool stopping_ = false;
  std::vector<Written> written_;
  std::exception_ptr failure_;
  std::thread thread_;  // last: started once everything above exists
};

}  // namespace syncbn::train
