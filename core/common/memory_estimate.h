// How much GPU memory one rank needs to train, from the model's size and the per-rank batch:
// a first-order sum of what lives on the device, to say "this will not fit" before a run starts.
#pragma once

#include <cstdint>
#include <string>

namespace syncbn {

struct MemoryInputs {
  std::int64_t parameters = 0;  // model parameters
  // Elements of the activations autograd keeps for backward, one image at imgsz (the engine's
  // model-info reports it: ModelSummary::activationElements).
  std::int64_t activationElementsPerImage = 0;
  int perRankBatch = 1;
  bool amp = false;       // activations in fp16 (AMP on CUDA)
  std::string optimizer;  // "SGD", "Adam", "AdamW", "auto" (and the schema's other names)
  // Ranks in the run: above 1 the gradient all-reduce keeps its own flat copy of every gradient
  // (train::GradientSynchronizer's buckets).
  int worldSize = 1;
};

struct MemoryEstimate {
  std::uint64_t weights = 0;
  std::uint64_t gradients = 0;  // .grad tensors, plus the all-reduce buckets with several ranks
  std::uint64_t optimizerState = 0;
  std::uint64_t ema = 0;
  std::uint64_t activations = 0;
  std::uint64_t workspace = 0;  // assumed: CUDA context and cuDNN workspace
  std::uint64_t total = 0;
  std::string method;  // how the estimate was made, in a sentence or two
};

// The fixed allowance for the CUDA context (a few hundred MiB on current drivers) and cuDNN's
// convolution workspace: an assumption, not a measurement.
inline constexpr std::uint64_t kAssumedWorkspaceBytes = 512ull << 20;

// Throws std::invalid_argument for negative counts, a batch below 1, or an optimizer it does not
// know.
MemoryEstimate estimateTrainingMemory(const MemoryInputs& inputs);

// Binary units, three significant figures at most: "512 B", "340 MiB", "1.2 GiB", "12 GiB".
std::string formatBytes(std::uint64_t bytes);

}  // namespace syncbn
