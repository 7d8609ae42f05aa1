// The checkpoint file: a container (header, length, checksum, payload) holding the run's meta,
// the model's and the EMA's tensors, the class names and the model definition, plus the training
// state that train/training_state.h adds (optimizer, RNG, pending gradients). This part links
// without the trainer, the optimizer or the data code, so `export`, `val` and `predict` load
// weights with it alone. Written atomically (temporary file, fsync, rename). A file that is
// truncated, corrupted, foreign or of another format version is refused before anything is
// changed. docs/checkpoints.md describes the format.
#pragma once

#include <c10/core/Device.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "common/config.h"
#include "train/state_dict.h"

namespace torch::nn {
class Module;
}
namespace syncbn::model {
class DetectionModelImpl;
struct ModelDefinition;
}  // namespace syncbn::model

namespace syncbn::train {

// The container's format version this build writes. It reads this one and version 1 (the meta
// as flat counters, without names or model definition).
inline constexpr std::uint32_t kCheckpointFormatVersion = 2;

struct CheckpointMeta {
  std::string kind;  // "last", "best", "interval"
  int worldSize = 1;
  std::string configYaml;        // the effective configuration
  std::string datasetHash;       // identifies the training data (computed by the engine)
  std::string modelFingerprint;  // modelFingerprint(): architecture + class count + norm kind
  std::string engineVersion;     // syncbn::kVersion of the engine that wrote it
  // What inference needs without the run's files (empty or 0 in version-1 files, where
  // loadCheckpointModel falls back on the saved configuration).
  std::vector<std::string> names;  // class names, index = class id
  std::string modelYaml;           // the model definition's YAML text
  std::string modelSource;         // where it came from ("yolov8.yaml (built-in)", a path)
  std::string modelName;           // "YOLOv8n"
  std::string modelScale;          // "n"
  int imgsz = 0;                   // training image size
  // The validation figures of the epoch the weights are from (best.pt: map50, map50_95,
  // precision, recall, fitness, epoch); empty when none was run or in older files.
  StateDict metrics;
  // The training loop's counters (Trainer::loopState) and each stateful hook's, by its key.
  StateDict loop;
  std::map<std::string, StateDict> hooks;
};

// The precision of the weights an inference checkpoint (best.pt) stores. Float16 halves the
// file; loading casts back to the model's float32, so predictions differ by float16 rounding.
enum class WeightPrecision { Float32, Float16 };

// A checkpoint's contents, copied out of the live tensors. Taking it is what the training
// thread pays; writing it (serialising, checksum, write, fsync, rename) can happen later on
// another thread while training goes on (train/checkpoint_writer.h), as the copies are its own.
class CheckpointSnapshot {
 public:
  struct Contents;  // the payload's root dictionary (checkpoint_payload.h)
  explicit CheckpointSnapshot(std::unique_ptr<Contents> contents);
  ~CheckpointSnapshot();
  CheckpointSnapshot(CheckpointSnapshot&&) noexcept;
  CheckpointSnapshot& operator=(CheckpointSnapshot&&) noexcept;

  const Contents& contents() const { return *contents_; }

 private:
  std::unique_ptr<Contents> contents_;
};

// Writes a snapshot as a checkpoint file at `path`, atomically (temporary file, fsync, rename,
// fsync of the folder); throws CheckpointError naming `path`, and leaves no file behind then.
// Safe to call from any thread, one snapshot at a time.
void writeCheckpoint(const std::filesystem::path& path, const CheckpointSnapshot& snapshot);

// What inference and export need, and no more: the meta and `weights`' parameters and buffers
// (stored as "ema" when `isEma`, else as "model"), floating-point ones in `precision`. No
// optimizer, gradients or RNG: such a file loads with loadCheckpointModel and is refused by a
// resume, with the reason. `recalibrate` reads and rewrites it as it is.
CheckpointSnapshot snapshotInferenceCheckpoint(const torch::nn::Module& weights, bool isEma,
                                               const CheckpointMeta& meta,
                                               WeightPrecision precision);

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

// Reads and validates the container (header, length, checksum, payload) and returns the meta;
// loads no tensors into anything. Throws CheckpointError.
CheckpointMeta readCheckpointMeta(const std::filesystem::path& path);

// The detector a checkpoint holds, ready for inference: built from the definition saved in it,
// its EMA weights (the raw weights when it has no EMA, as a hand-made file might), eval mode,
// gradients off. SyncBN layers are built as BatchNorm: the same tensors, and in eval mode the
// same function, without a process group.
struct CheckpointModel {
  std::shared_ptr<model::DetectionModelImpl> model;
  CheckpointMeta meta;
  NormKind trainedNorm = NormKind::BatchNorm;  // the norm the run trained with
  std::vector<std::string> names;              // meta.names, or class0.. for old files
  int imgsz = 640;                             // meta.imgsz, or the saved configuration's
  bool fromEma = true;                         // false: the file held no EMA
};
// Throws CheckpointError naming the file: unreadable, foreign, version, no model tensors, a saved
// definition or configuration that does not parse, tensors that do not fit it.
CheckpointModel loadCheckpointModel(const std::filesystem::path& path,
                                    c10::Device device = c10::Device(c10::kCPU));

// Writes `target` (atomically) as a copy of the checkpoint `source` whose EMA weights and buffers
// are `ema`'s, in the dtypes `source` stored them in (float16 stays float16); everything else
// (meta, model, gradients, optimizer, RNG) is carried over as it was. `target` may be `source`.
// Throws CheckpointError naming `source` when it is unreadable, holds no EMA or its EMA tensors
// do not fit `ema` (names, shapes, dtypes), and naming `target` when it cannot be written; no
// file is left behind then.
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
