// The progress protocol between syncbn-engine and the GUI: versioned JSON lines over a local
// socket, one message per line. docs/protocol.md describes the wire format with examples.
//
// Doubles that are NaN or infinite (a diverging loss) are sent as JSON null, and null in a double
// field is read back as NaN; the sign of an infinity is therefore not preserved.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace syncbn::protocol {

// The version the encoder writes (and `hello.protocol` announces), and the oldest one the decoder
// still reads. A field added in a later version is absent from older lines; decoding one leaves
// that field at its default (0).
inline constexpr int kProtocolVersion = 3;
inline constexpr int kOldestProtocolVersion = 1;
// Longest accepted line, not counting its "\n" or "\r\n" terminator.
inline constexpr std::size_t kMaxLineBytes = 1 << 20;

// ---- Engine to GUI ----

// First message on every connection. `token` is the session secret the GUI gave the engine; the
// GUI drops a connection whose token or protocol version does not match.
struct Hello {
  static constexpr std::string_view kType = "hello";
  int protocol = kProtocolVersion;
  std::string engine_version;
  std::string token;
  bool operator==(const Hello&) const = default;
};

struct RunStarted {
  static constexpr std::string_view kType = "run_started";
  std::string run_dir;
  // Unix time (UTC seconds, fractional) at which the run first started; a resumed run keeps the
  // original's. Since version 2.
  double start_time = 0;
  int world_size = 1;
  std::string device;  // "cpu" or "cuda"
  std::string norm;
  int epochs = 1;
  int iterations_per_epoch = 1;
  int global_batch = 1;
  int per_rank_batch = 1;
  std::string config_yaml;  // the effective configuration, as saved in the run directory
  bool operator==(const RunStarted&) const = default;
};

struct RankTiming {
  int rank = 0;
  double data_ms = 0;
  double compute_ms = 0;
  double comm_ms = 0;
  bool operator==(const RankTiming&) const = default;
};

struct Step {
  static constexpr std::string_view kType = "step";
  int epoch = 0;
  long long iteration = 0;
  double time = 0;  // wall-clock seconds since run_started.start_time; since version 2
  std::map<std::string, double> losses;  // "box", "cls", "dfl", averaged over ranks
  std::vector<std::map<std::string, double>> rank_losses;  // indexed by rank
  double lr = 0;
  double images_per_second = 0;
  std::vector<RankTiming> ranks;
  bool operator==(const Step&) const = default;
};

// One BatchNorm-kind layer in a bn_stats message (docs/syncbn.md defines the figures). Lists
// indexed by rank have one entry per rank, each the mean over the layer's channels.
struct BnLayerStats {
  std::string layer;
  // Mean over channels of (cross-rank std of the ranks' local batch means) / (global std): 0 when
  // every rank sees the same statistics. It differs whenever the ranks see different images,
  // under BN and SyncBN alike; `disagreement` is what tells them apart.
  double divergence = 0;
  std::vector<double> rank_mean;  // the rank's local batch mean
  std::vector<double> rank_var;   // the rank's local (biased) batch variance
  // Since version 3:
  // How far apart the statistics are that the ranks normalised with, in units of the global std:
  // 0 exactly under SyncBN and frozen BN.
  double disagreement = 0;
  // How far the statistics used in the step are from the running statistics inference uses, in
  // units of the running std, averaged over the ranks with images.
  double noise = 0;
  std::vector<double> rank_noise;         // the same per rank (0 for a rank without images)
  std::vector<double> rank_running_mean;  // running_mean before the step
  std::vector<double> rank_running_var;   // running_var before the step
  bool operator==(const BnLayerStats&) const = default;
};

struct BnStats {
  static constexpr std::string_view kType = "bn_stats";
  long long iteration = 0;
  // Every BatchNorm-kind layer when layers x ranks <= 4096, else the layers_total's noisiest
  // (in model order); GroupNorm layers are never listed.
  std::vector<BnLayerStats> layers;
  // Since version 3:
  std::vector<int> rank_images;  // images each rank normalised over in the probed forward pass
  int layers_total = 0;          // BatchNorm-kind layers in the model, listed or not
  // Over all layers_total layers:
  double disagreement_max = 0;
  double disagreement_median = 0;
  double noise_max = 0;
  double noise_median = 0;
  std::string worst_layer;  // the layer with the highest noise
  bool operator==(const BnStats&) const = default;
};

struct ClassMetrics {
  std::string name;
  int images = 0;
  int instances = 0;
  double precision = 0;
  double recall = 0;
  double map50 = 0;
  double map50_95 = 0;
  bool operator==(const ClassMetrics&) const = default;
};

struct Val {
  static constexpr std::string_view kType = "val";
  int epoch = 0;
  double time = 0;  // wall-clock seconds since run_started.start_time; since version 2
  double precision = 0;
  double recall = 0;
  double map50 = 0;
  double map50_95 = 0;
  double fitness = 0;
  std::vector<ClassMetrics> classes;
  // Ultralytics' val/box_loss, val/cls_loss, val/dfl_loss (as in results.csv); since version 3.
  double box_loss = 0;
  double cls_loss = 0;
  double dfl_loss = 0;
  bool operator==(const Val&) const = default;
};

struct Checkpoint {
  static constexpr std::string_view kType = "checkpoint";
  std::string path;
  std::string kind;  // "last", "best" or "interval"
  int epoch = 0;
  long long iteration = 0;
  bool operator==(const Checkpoint&) const = default;
};

struct Log {
  static constexpr std::string_view kType = "log";
  std::string level;  // "debug", "info", "warning" or "error"
  int rank = -1;      // -1: the launcher, not a rank
  std::string text;
  bool operator==(const Log&) const = default;
};

struct RankExit {
  static constexpr std::string_view kType = "rank_exit";
  int rank = 0;
  int exit_code = 0;
  int signal = 0;  // 0 when the rank was not killed by a signal
  std::string reason;
  bool operator==(const RankExit&) const = default;
};

struct Finished {
  static constexpr std::string_view kType = "finished";
  std::string status;  // "completed", "stopped" or "failed"
  int epochs_completed = 0;
  double best_fitness = 0;
  double map50 = 0;
  double map50_95 = 0;
  std::string best_checkpoint;
  std::string error;  // empty unless status is "failed"
  bool operator==(const Finished&) const = default;
};

// What verifying one split of a dataset found, sent before training (and printed by
// `syncbn-engine check-data`). Skipped files are left out of training; warnings are not.
struct DatasetClass {
  std::string name;
  int images = 0;     // usable images with at least one instance of the class
  int instances = 0;  // label rows of the class, duplicates removed
  bool operator==(const DatasetClass&) const = default;
};

struct DatasetProblem {
  std::string file;   // the image or label file concerned
  int line = 0;       // 1-based line in a label file; 0 when the problem is not a line's
  std::string level;  // "error": the image was skipped; "warning": kept (e.g. duplicates removed)
  std::string reason;
  bool operator==(const DatasetProblem&) const = default;
};

struct DatasetSummary {
  static constexpr std::string_view kType = "dataset";
  std::string data;   // the data.yaml
  std::string split;  // "train", "val" or "test"
  int images = 0;     // usable images, backgrounds included
  int backgrounds = 0;
  int skipped = 0;
  int duplicates_removed = 0;
  int instances = 0;
  std::vector<DatasetClass> classes;     // indexed by class id
  std::vector<DatasetProblem> problems;  // the first ones, in file order
  int problems_total = 0;                // problems found, including those not listed
  bool operator==(const DatasetSummary&) const = default;
};

// ---- GUI to engine ----

// Finish the current iteration, save a checkpoint, then exit with status "stopped".
struct Stop {
  static constexpr std::string_view kType = "stop";
  bool operator==(const Stop&) const = default;
};

struct CheckpointNow {
  static constexpr std::string_view kType = "checkpoint_now";
  bool operator==(const CheckpointNow&) const = default;
};

using Message = std::variant<Hello, RunStarted, Step, BnStats, Val, Checkpoint, Log, RankExit,
                             Finished, DatasetSummary, Stop, CheckpointNow>;

// The wire "type" of a message: "hello", "run_started", ...
std::string_view typeName(const Message& message);

// One line: a JSON object with "v" and "type" first, then the fields, then '\n'. Invalid UTF-8 in
// strings (e.g. a rank's raw stderr) is replaced by U+FFFD, so encoding does not fail.
std::string encode(const Message& message);

struct DecodeError {
  std::string reason;  // e.g. "step.iteration: expected integer, got string"
  bool operator==(const DecodeError&) const = default;
};

// A value or the reason there is none.
template <class T>
class Result {
 public:
  // Implicit, so that a function returning a Result can `return value;` or `return error;`.
  Result(T value) : state_(std::move(value)) {}
  Result(DecodeError error) : state_(std::move(error)) {}

  bool ok() const { return state_.index() == 0; }
  // Precondition: ok(); otherwise std::bad_variant_access.
  const T& value() const& { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  // Precondition: !ok(); otherwise std::bad_variant_access.
  const DecodeError& error() const { return std::get<1>(state_); }

 private:
  std::variant<T, DecodeError> state_;
};

using DecodeResult = Result<Message>;

// Never throws on any input. A trailing "\n" or "\r\n" is allowed. Reads every version from
// kOldestProtocolVersion to kProtocolVersion; fields not known to this build are ignored; every
// other problem is reported with the path of the field concerned.
DecodeResult decode(std::string_view line);

// Cuts a byte stream, read in chunks of any size, into lines. Memory stays bounded: an unfinished
// line is held only up to kMaxLineBytes; a longer one is dropped up to its '\n' and reported once.
class LineSplitter {
 public:
  // Queues the lines that `bytes` completes for take().
  void feed(std::string_view bytes);

  // The queued lines in arrival order, without "\n" or "\r\n"; blank lines are skipped and each
  // dropped oversized line is one error. Call after every feed() to keep memory bounded.
  std::vector<Result<std::string>> take();

  // feed(), then take() with every line decoded: the whole body of a socket read handler.
  std::vector<DecodeResult> feedAndDecode(std::string_view bytes);

  // Bytes of an unfinished line; nonzero when the stream ends means its last message was cut off.
  std::size_t pendingBytes() const { return partial_.size(); }

 private:
  void append(std::string_view piece);
  void endLine();

  std::string partial_;
  bool dropping_ = false;  // inside an oversized line, until its '\n'
  std::vector<Result<std::string>> complete_;
};

}  // namespace syncbn::protocol
