// `syncbn-engine verify-syncbn`: checks on real processes and the real backend that SyncBN over
// the ranks equals BatchNorm over the concatenated global batch. Users run it to validate a
// machine or cluster before a long training run; the tests run it across processes and nodes.
#pragma once

#include <chrono>
#include <iosfwd>

namespace syncbn::engine {

struct VerifySyncBnOptions {
  int perRankBatch = 2;
  int channels = 16;
  int steps = 3;
  bool cuda = false;  // run on CUDA device LOCAL_RANK with NCCL
  std::chrono::milliseconds timeout = std::chrono::seconds(60);  // per collective
};

// One rank's part, with the rendezvous taken from the environment (RANK, WORLD_SIZE, ...).
// Every rank checks its own slice; rank 0 prints the summary. Returns the process exit code:
// 0 when every rank is within tolerance, 1 otherwise.
int verifySyncBnWorker(const VerifySyncBnOptions& options, std::ostream& out);

}  // namespace syncbn::engine
