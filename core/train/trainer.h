// The training loop, Detectron2-style: the Trainer runs forward, loss, backward, gradient sync and
// the optimizer step; everything else (learning-rate schedule, buffer broadcast, EMA, events,
// BatchNorm statistics, validation, checkpoints) is a TrainerHook, chosen and ordered by whoever
// assembles the run (the engine's run builder). The Trainer names no hook. One Trainer per rank;
// every rank runs the same iterations and the same collectives in the same order.
//
// Equivalence. W ranks with batch b step like one rank with batch W*b: SyncBN (norm=syncbn)
// normalises over the global batch, the loss normaliser (the sum of target scores) is averaged
// over the ranks, each rank's loss is multiplied by W, and the gradient synchronizer averages the
// gradients. Accumulation (nbs) and the schedule follow the global batch.
//
// Stop. After every iteration the ranks all-gather a small report (their loss terms, timings and
// local requests: a signal, the GUI's stop or checkpoint_now). A stop any rank saw is honoured by
// all after that same iteration.
#pragma once

#include <c10/core/Device.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/topology.h"
#include "data/batch_loader.h"
#include "model/detection_model.h"
#include "train/checkpoint_file.h"
#include "train/event_sink.h"
#include "train/pretrained_weights.h"
#include "train/state_dict.h"
#include "train/validator.h"

namespace torch::nn {
class Module;
}
namespace torch::optim {
class Optimizer;
}
namespace syncbn::dist {
class ProcessGroup;
}

namespace syncbn::train {

class GradientSynchronizer;
class GradScaler;
struct CheckpointParts;
class Trainer;
struct OptimizerChoice;

// The dataset as the trainer sees it: example producers, no files (the engine builds them from a
// verified dataset; tests and benchmarks from synthetic data).
struct TrainingData {
  data::ExampleProducer trainExamples;  // (index, epoch) -> augmented example; thread-safe
  std::size_t trainCount = 0;
  ValidationExampleProducer valExamples;  // index -> letterboxed example; thread-safe
  std::size_t valCount = 0;
  std::vector<std::string> classNames;
  std::string datasetHash;  // identifies the data in checkpoints
};

struct TrainerOptions {
  Config config;           // the effective configuration
  std::string configYaml;  // the same as YAML, saved in checkpoints and run_started
  Topology topology;
  int rank = 0;
  c10::Device device{c10::kCPU};
  std::filesystem::path runDir;  // rank 0 writes weights/, results.csv, args.yaml here
  int bnStatsEvery = 10;         // iterations between bn_stats events (0: never)
  bool validate = true;          // validation after each epoch
  // On a CPU device the model and its inputs are channels-last (NHWC), oneDNN's layout: an NCHW
  // step spent more time reordering tensors around the convolutions than in their forward
  // passes (docs/benchmarks.md, "Channels-last and ATen's AVX-512 kernels"). GPUs keep NCHW.
  // Off: NCHW everywhere (A/B).
  bool channelsLastOnCpu = true;
};

// One rank's numbers for the last iteration, as every rank learns them.
struct RankStepReport {
  double box = 0, cls = 0, dfl = 0;  // loss terms (gains applied, per image)
  double dataMs = 0, computeMs = 0, commMs = 0;
};

// What a rank asks for between iterations; the ranks combine them (any rank's stop stops all).
struct LocalRequests {
  bool stop = false;
  bool checkpointNow = false;
  std::string stopReason;  // e.g. "SIGINT", "stop requested by the GUI"
};
using RequestSource = std::function<LocalRequests()>;

// The loop's counters; Trainer::loopState() and restoreLoopState() are the one place they are
// saved and restored.
struct TrainerState {
  int epoch = 0;            // the epoch in progress (0-based)
  int stepInEpoch = 0;      // iterations of it done
  long long iteration = 0;  // iterations done since the start of training
  long long optimizerSteps = 0;
  long long lastOptimizerIteration = -1;  // `iteration` value right after the last step
  int accumulate = 1;                     // iterations per optimizer step, set by the schedule
  bool steppedOptimizer = false;          // the last iteration ended with an optimizer step
  std::vector<RankStepReport> ranks;      // last iteration, indexed by rank
  double stepSeconds = 0;                 // wall time of the last iteration
  // Unix time (UTC seconds) at which the run first started: set by train(), or restored by
  // resumeFrom() so that a resumed run's times go on from the original start.
  double startTime = 0;
  // Combined requests of the last iteration.
  bool stopAgreed = false;
  bool checkpointAgreed = false;
  std::string stopReason;
  int epochsCompleted = 0;
  std::array<double, 3> epochLossSums{};  // box, cls, dfl of this epoch, averaged over ranks
};

class TrainerHook {
 public:
  virtual ~TrainerHook() = default;
  // A hook that keeps counters across a resume names them here, as Detectron2's hooks keep a
  // state_dict: checkpoints store state() under stateKey(), and resumeFrom() hands it back to
  // restoreState(), which should read every key before it changes anything. An empty key: the
  // hook keeps nothing (the default). A checkpoint without the key leaves the hook as it is.
  virtual std::string stateKey() const { return {}; }
  virtual StateDict state() const { return {}; }
  virtual void restoreState(const StateDict&) {}
  // Modules whose tensors checkpoints keep besides the model, by section name. "ema" is the one
  // the file format knows: the averaged weights that export, val and predict load.
  virtual std::map<std::string, torch::nn::Module*> checkpointModules() { return {}; }

  virtual void beforeTrain(Trainer&) {}
  virtual void beforeEpoch(Trainer&) {}
  virtual void beforeStep(Trainer&) {}
  virtual void afterStep(Trainer&) {}  // also after the iteration at which a stop was agreed
  virtual void afterEpoch(Trainer&) {}
  virtual void afterTrain(Trainer&) {}
};

// What resumeFrom() restored the run from.
struct ResumeReport {
  NormKind checkpointNorm = NormKind::BatchNorm;  // the norm the checkpoint was trained with
  NormKind norm = NormKind::BatchNorm;  // this run's (differs after a bn <-> syncbn switch)
  bool normSwitched() const { return checkpointNorm != norm; }
};

struct TrainOutcome {
  std::string status;  // "completed" or "stopped"
  std::string stopReason;
  int epochsCompleted = 0;
};

class Trainer {
 public:
  // Builds the model (seeded, norms per config; SyncBN on `group`), optimizer, scaler,
  // synchronizer (broadcasting rank 0's weights) and loader. `group` is null for one rank.
  // `events` is the sink rank 0 publishes to (null on other ranks, or for no events).
  Trainer(TrainerOptions options, TrainingData data, std::shared_ptr<dist::ProcessGroup> group,
          EventSink* events, RequestSource requests);
  ~Trainer();
  Trainer(const Trainer&) = delete;
  Trainer& operator=(const Trainer&) = delete;

  // Hooks run in the order they were added, at every event (engine/run_builder.cpp adds the
  // standard ones and says why in that order).
  void addHook(std::unique_ptr<TrainerHook> hook);

  // Restores the model, optimizer, scaler, RNG and loop state, and every hook's state and
  // checkpoint modules (the EMA), from a checkpoint (every rank reads it); call after the hooks
  // were added. Throws CheckpointError when it does not fit this run: the container, the tensors
  // and the loop state are checked before anything changes; a hook's malformed state is refused
  // after the tensors were copied (the run then does not start). The norm may
  // switch between bn and syncbn (the same parameters and buffers, docs/checkpoints.md says what
  // carries over); a switch to or from groupnorm or frozen BN is refused with the reason.
  ResumeReport resumeFrom(const std::filesystem::path& checkpoint);

  // A checkpoint of the run as it stands, copied now (rank 0 alone calls it); write it with
  // writeCheckpoint or a CheckpointWriter. `kind` "last" or "interval": everything resumeFrom()
  // restores, the accumulated gradients only when the checkpoint falls between two optimizer
  // steps. "best": what inference and export need (the EMA weights, in float16 with
  // output.best_fp16, and the meta with `metrics`). `epochComplete` says the epoch, validation
  // included, is done.
  CheckpointSnapshot snapshotCheckpoint(const std::string& kind, bool epochComplete,
                                        const StateDict& metrics = {});
  // snapshotCheckpoint, written at once (atomically).
  void saveCheckpoint(const std::filesystem::path& file, const std::string& kind,
                      bool epochComplete);

  // Runs the remaining epochs. Collective on every rank.
  TrainOutcome train();

  // For hooks.
  const TrainerOptions& options() const { return options_; }
  const TrainingData& data() const { return data_; }
  TrainerState& state() { return state_; }
  const TrainerState& state() const { return state_; }
  int rank() const { return options_.rank; }
  int worldSize() const { return options_.topology.worldSize; }
  int iterationsPerEpoch() const;
  int epochs() const { return options_.config.train.epochs; }
  model::DetectionModel& model();
  torch::optim::Optimizer& optimizer();
  GradScaler& scaler();
  GradientSynchronizer& synchronizer();
  const std::shared_ptr<dist::ProcessGroup>& group() const { return group_; }
  EventSink* events() const { return events_; }
  const OptimizerChoice& optimizerChoice() const;
  // Fine-tuning: what the starting weights gave the model (nullopt when it trains from scratch
  // or resumes), and how many parameters train.freeze froze.
  const std::optional<TransferReport>& transferReport() const;
  int frozenParameters() const;
  std::array<double, 3> initialLearningRates() const;
  // The architecture + classes + norm fingerprint checkpoints are matched against.
  std::string modelFingerprint() const;
  // The loop's counters (TrainerState and the loss scaler) as checkpoints keep them, and back.
  StateDict loopState(bool epochComplete) const;
  void restoreLoopState(const StateDict& state);
  // Wall-clock seconds since state().startTime, for the `time` of events and results.csv. From
  // the wall clock once when train() begins, then the steady clock: it never decreases while
  // this trainer runs, and is never negative.
  double secondsSinceStart() const;
  // Publishes on rank 0 (no-op elsewhere or without a sink).
  void publish(const protocol::Message& message) const;
  // A hook's decision that every rank takes alike (e.g. patience): ends after this epoch.
  void requestStopAfterEpoch(std::string reason);
  bool stopAfterEpochRequested() const { return stopAfterEpoch_.has_value(); }

 private:
  struct Parts;
  // The loop's counters as read from a checkpoint, before they are applied.
  struct LoopSnapshot {
    int epoch = 0, stepInEpoch = 0, epochsCompleted = 0;
    long long iteration = 0, optimizerSteps = 0, lastOptimizerIteration = -1;
    std::array<double, 3> epochLossSums{};
    double startTime = 0;
    double scalerScale = 65536.0;
    int scalerGrowthTracker = 0;
  };
  static LoopSnapshot decodeLoopState(const StateDict& state);  // throws StateError
  void applyLoopSnapshot(const LoopSnapshot& loop);
  CheckpointParts checkpointParts();
  void runEpoch();
  void runStep(const data::Batch& batch);
  void optimizerStep();
  void exchangeReports(const RankStepReport& mine, const LocalRequests& requests);
  template <typename F>
  void forEachHook(F&& call);

  TrainerOptions options_;
  TrainingData data_;
  std::shared_ptr<dist::ProcessGroup> group_;
  EventSink* events_;
  RequestSource requests_;
  std::unique_ptr<Parts> parts_;
  std::vector<std::unique_ptr<TrainerHook>> hooks_;
  TrainerState state_;
  std::optional<std::string> stopAfterEpoch_;
  double secondsAtTrainStart_ = 0;  // secondsSinceStart() when train() began
  std::chrono::steady_clock::time_point trainStart_;
};

}  // namespace syncbn::train
