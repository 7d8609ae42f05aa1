// The training half of a checkpoint: what a resumed run needs beyond the weights in
// train/checkpoint_file.h: the optimizer state, the RNG states and the gradients accumulated since
// the last optimizer step. Saving and restoring a whole training checkpoint goes through here.
#pragma once

#include <filesystem>
#include <string>

#include "train/checkpoint_file.h"

namespace torch::nn {
class Module;
}
namespace torch::optim {
class Optimizer;
}

namespace syncbn::train {

// What is saved, and restored in place. The pointers are not owned.
struct CheckpointParts {
  torch::nn::Module* model = nullptr;            // required
  torch::nn::Module* ema = nullptr;              // optional
  torch::optim::Optimizer* optimizer = nullptr;  // optional
  // The model's gradients accumulated since the last optimizer step (nbs accumulation): saved
  // when defined, restored when present, so a resumed run continues the same accumulation.
  bool gradients = false;
};

// Writes parts and meta to `path` atomically: an existing file there is replaced only once the
// new one is complete on disk. Tensors are stored on the CPU with their dtype; RNG states are the
// default CPU generator's and, where CUDA is available, every CUDA device's. Throws
// std::invalid_argument when parts.model is null, CheckpointError when writing fails.
void saveCheckpoint(const std::filesystem::path& path, const CheckpointParts& parts,
                    const CheckpointMeta& meta);
// The same contents, copied now and written later with writeCheckpoint (possibly on another
// thread while training goes on). Throws std::invalid_argument when parts.model is null.
CheckpointSnapshot snapshotTrainingCheckpoint(const CheckpointParts& parts,
                                              const CheckpointMeta& meta);

// Validates everything first: the container, the fingerprint (skipped when expectedFingerprint
// is empty), the names, shapes and dtypes of the model's and EMA's parameters and buffers, the
// presence of EMA and optimizer state when parts asks for them, the optimizer's type and the RNG
// states' sizes. Then loads the optimizer state (onto the device of its parameters; rolled back
// if LibTorch rejects it), copies the model and EMA tensors (across devices as needed) and
// restores the RNG states. Throws CheckpointError and leaves the model, EMA and optimizer
// unchanged when the file is missing, truncated, corrupted, not a SyncBN Studio checkpoint, of
// an unsupported format version, made for another model, does not fit the parts, or holds
// inference weights only (a best.pt: snapshotInferenceCheckpoint).
CheckpointMeta restoreCheckpoint(const std::filesystem::path& path, const CheckpointParts& parts,
                                 const std::string& expectedFingerprint);

}  // namespace syncbn::train
