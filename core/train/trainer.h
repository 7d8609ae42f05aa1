// The training loop, Detectron2-style: the Trainer runs forward, loss, backward, gradient sync and
// the optimizer step; everything else (learning-rate schedule, buffer broadcast, events,
// BatchNorm statistics, validation, checkpoints) is a TrainerHook. One Trainer per rank; every
// rank runs the same iterations and the same collectives in the same order.
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
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/topology.h"
#include "data/batch_loader.h"
#include "model/detection_model.h"
#include "train/event_sink.h"
#include "train/validator.h"

namespace torch::optim {
class Optimizer;
}
namespace syncbn::dist {
class ProcessGroup;
}

namespace syncbn::train {

class GradientSynchronizer;
class GradScaler;
class ModelEma;
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
  // Epoch results, kept across resumes.
  int epochsCompleted = 0;
  double bestFitness = -1;
  int bestEpoch = -1;
  int epochsWithoutImprovement = 0;
  std::optional<ValidationResult> lastValidation;
  std::array<double, 3> epochLossSums{};  // box, cls, dfl of this epoch, averaged over ranks
};

class TrainerHook {
 public:
  virtual ~TrainerHook() = default;
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
  NormKind norm = NormKind::BatchNorm;            // this run's (differs after a bn <-> syncbn switch)
  bool normSwitched() const { return checkpointNorm != norm; }
};

struct TrainOutcome {
  std::string status;  // "completed" or "stopped"
  std::string stopReason;
  int epochsCompleted = 0;
  double bestFitness = -1;
  double map50 = 0, map50_95 = 0;  // last validation
  std::filesystem::path bestCheckpoint;
};

class Trainer {
 public:
  // Builds the model (seeded, norms per config; SyncBN on `group`), EMA, optimizer, scaler,
  // synchronizer (broadcasting rank 0's weights) and loader. `group` is null for one rank.
  // `events` is the sink rank 0 publishes to (null on other ranks, or for no events).
  Trainer(TrainerOptions options, TrainingData data, std::shared_ptr<dist::ProcessGroup> group,
          EventSink* events, RequestSource requests);
  ~Trainer();
  Trainer(const Trainer&) = delete;
  Trainer& operator=(const Trainer&) = delete;

  void addHook(std::unique_ptr<TrainerHook> hook);
  // The standard hooks: schedule, buffer broadcast (norm=bn), bn_stats, step events,
  // validation (+ PreciseBN), checkpoints. Call once, before train().
  void addStandardHooks();

  // Restores model, EMA, optimizer, scaler and loop state from a checkpoint (every rank reads
  // it). Throws CheckpointError, changing nothing, when it does not fit this run. The norm may
  // switch between bn and syncbn (the same parameters and buffers, docs/checkpoints.md says what
  // carries over); a switch to or from groupnorm or frozen BN is refused with the reason.
  ResumeReport resumeFrom(const std::filesystem::path& checkpoint);

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
  ModelEma& ema();
  torch::optim::Optimizer& optimizer();
  GradScaler& scaler();
  GradientSynchronizer& synchronizer();
  const std::shared_ptr<dist::ProcessGroup>& group() const { return group_; }
  EventSink* events() const { return events_; }
  const OptimizerChoice& optimizerChoice() const;
  std::array<double, 3> initialLearningRates() const;
  // The architecture + classes + norm fingerprint checkpoints are matched against.
  std::string modelFingerprint() const;
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
