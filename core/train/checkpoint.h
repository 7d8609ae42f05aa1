// Training checkpoints ("last", "best", "interval"): model, EMA, optimizer and RNG states plus
// the counters a resumed run needs, in one file written atomically (temporary file, fsync,
// rename). A file that is truncated, corrupted, foreign, of another format version or made for
// another model is refused before anything is changed. docs/checkpoints.md describes the format.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>

#include "common/config.h"

namespace torch::nn {
class Module;
}
namespace torch::optim {
class Optimizer;
}
namespace syncbn::model {
class DetectionModelImpl;
struct ModelDefinition;
}  // namespace syncbn::model

namespace syncbn::train {

// The container's format version this build writes and reads.
inline constexpr std::uint32_t kCheckpointFormatVersion = 1;

struct CheckpointMeta {
  std::string kind;            // "last", "best", "interval"
  int epoch = 0;               // the epoch in progress (0-based) when saved
  int stepInEpoch = 0;         // iterations of that epoch already done (== per epoch when complete)
  bool epochComplete = false;  // the epoch (incl. validation) finished
  long long iteration = 0;     // iterations done since the start of training
  long long optimizerSteps = 0;
  long long lastOptimizerIteration = -1;  // index of the iteration that last stepped
  std::array<double, 3> epochLossSums{};  // box, cls, dfl summed over the epoch's iterations
  std::int64_t emaUpdates = 0;
  double bestFitness = -1.0;
  int bestEpoch = -1;
  int epochsWithoutImprovement = 0;
  double scalerScale = 65536.0;
  int scalerGrowthTracker = 0;
  int worldSize = 1;
  // Unix time (UTC seconds) at which the run first started, kept across resumes; 0: unknown
  // (checkpoints written before it was recorded lack it, and read back as 0).
  double startTime = 0;
  std::string configYaml;        // the effective configuration
  std::string datasetHash;       // identifies the training data (computed by the trainer)
  std::string modelFingerprint;  // modelFingerprint(): architecture + class count + norm kind
  std::string engineVersion;     // syncbn::kVersion of the engine that wrote it
};

// What is saved, and restored in place. The pointers are not owned.
struct CheckpointParts {
  torch::nn::Module* model = nullptr;            // required
  torch::nn::Module* ema = nullptr;              // optional
  torch::optim::Optimizer* optimizer = nullptr;  // optional
  // The model's gradients accumulated since the last optimizer step (nbs accumulation): saved
  // when defined, restored when present, so a resumed run continues the same accumulation.
  bool gradients = false;
};

// what(): "<path>: <reason>".
class CheckpointError : public std::runtime_error {
 public:
  CheckpointError(std::filesystem::path path, const std::string& reason);
  const std::filesystem::path& path() const { return path_; }
  const std::string& reason() const { return reason_; }

 private:
  std::filesystem::path path_;
  std::string reason_;
};

// Writes parts and meta to `path` atomically: an existing file there is replaced only once the
// new one is complete on disk. Tensors are stored on the CPU with their dtype; RNG states are the
// default CPU generator's and, where CUDA is available, every CUDA device's. Throws
// std::invalid_argument when parts.model is null, CheckpointError when writing fails.
void saveCheckpoint(const std::filesystem::path& path, const CheckpointParts& parts,
                    const CheckpointMeta& meta);

// Reads and validates the container (header, length, checksum, payload) and returns the meta;
// loads no tensors into anything. Throws CheckpointError.
CheckpointMeta readCheckpointMeta(const std::filesystem::path& path);

// Validates everything first: the container, the fingerprint (skipped when expectedFingerprint
// is empty), the names, shapes and dtypes of the model's and EMA's parameters and buffers, the
// presence of EMA and optimizer state when parts asks for them, the optimizer's type and the RNG
// states' sizes. Then loads the optimizer state (onto the device of its parameters; rolled back
// if LibTorch rejects it), copies the model and EMA tensors (across devices as needed) and
// restores the RNG states. Throws CheckpointError and leaves the model, EMA and optimizer
// unchanged when the file is missing, truncated, corrupted, not a SyncBN Studio checkpoint, of
// an unsupported format version, made for another model, or does not fit the parts.
CheckpointMeta restoreCheckpoint(const std::filesystem::path& path, const CheckpointParts& parts,
                                 const std::string& expectedFingerprint);

// Writes `target` (atomically) as a copy of the checkpoint `source` whose EMA weights and buffers
// are `ema`'s; everything else (meta, model, gradients, optimizer, RNG) is carried over as it was.
// `target` may be `source`. Throws CheckpointError naming `source` when it is unreadable, holds
// no EMA or its EMA tensors do not fit `ema` (names, shapes, dtypes), and naming `target` when it
// cannot be written; no file is left behind then.
void saveCheckpointWithEma(const std::filesystem::path& source, const std::filesystem::path& target,
                           const torch::nn::Module& ema);

// Identifies what a checkpoint's tensors fit: the resolved layers of the definition (types,
// inputs, repeats, channels, kernels, strides, ...), the input channels, the class count and the
// norm kind; not the definition's file name or formatting. Stable across runs, processes and
// builds. Readable prefix, then the hash: "nc=80 norm=syncbn layers=23 #0123456789abcdef".
std::string modelFingerprint(const model::ModelDefinition& definition, NormKind norm);
std::string modelFingerprint(const model::DetectionModelImpl& model, NormKind norm);

// FNV-1a 64 of the bytes as 16 lowercase hex digits (the trainer's dataset hash).
std::string hashBytes(std::string_view bytes);

}  // namespace syncbn::train
