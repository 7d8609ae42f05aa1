// One rank's training run, assembled outside the loop, as Detectron2's DefaultTrainer does it:
// each build step makes one part (run directory, events, device, process group, data, stop
// requests, hooks), and buildHooks() says why the hooks come in the order they do. runRank()
// in train_command.cpp composes them; the Trainer itself knows only TrainerHook.
#pragma once

#include <c10/core/Device.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/topology.h"
#include "engine/train_command.h"
#include "train/event_sink.h"
#include "train/trainer.h"

namespace syncbn::dist {
class ProcessGroup;
struct Rendezvous;
}  // namespace syncbn::dist
namespace syncbn::train {
class BestFitnessHook;
class ProgressChannel;
struct ProgressChannelOptions;
struct EpochRecord;
class TensorBoardSink;
}  // namespace syncbn::train

namespace syncbn::engine {

class VerdictReporter;

// The launcher's choice (SYNCBN_RUN_DIR), else project/name on resume, else a new numbered one.
std::filesystem::path buildRunDirectory(const OutputConfig& output);

// The configuration with output.project/output.name naming `runDir`, the directory the run
// writes (numbered, say): so args.yaml names its own run, and `syncbn-engine train
// RUN_DIR/args.yaml resume=true` resumes exactly that run.
Config namingRunDir(Config config, const std::filesystem::path& runDir);

// Where rank 0's events go: the run's events.jsonl and the GUI socket (the channel), the console,
// TensorBoard's event file, and the diagnosis verdicts that follow each epoch. Other ranks have
// none (sink() is null).
class RankEvents {
 public:
  // `tensorboard`: rank 0 also writes the figures as TensorBoard event files in RUN_DIR/tb/.
  // `holdRunRecord`: the run directory's events.jsonl and TensorBoard files are written only
  // from started() on (a resume, until its checkpoint is accepted), so that a run refused before
  // it starts leaves its directory as it was; its report still reaches the console, the
  // --events file and the GUI.
  RankEvents(const TrainCommandOptions& options, const std::filesystem::path& runDir, bool rank0,
             bool tensorboard, bool holdRunRecord = false);
  ~RankEvents();
  RankEvents(const RankEvents&) = delete;
  RankEvents& operator=(const RankEvents&) = delete;

  train::EventSink* sink();  // null on ranks other than 0
  // Where the GUI's commands arrive (null on ranks other than 0).
  train::ProgressChannel* channel() { return channel_.get(); }
  void publish(const protocol::Message& message);  // no-op without a sink
  void close();                                    // flushes and closes the channel
  // The run has started: the held record is written (see the constructor). Idempotent.
  void started();

 private:
  class FanOut;
  struct Console;
  std::unique_ptr<train::ProgressChannel> channel_;
  std::unique_ptr<Console> console_;
  std::unique_ptr<VerdictReporter> verdict_;
  std::unique_ptr<train::TensorBoardSink> tensorboard_;
  std::unique_ptr<FanOut> fanOut_;
  std::filesystem::path tensorboardDir_;  // created at started(); empty: none
};

// The run's events.jsonl, plus the events file and GUI socket the command line names.
// `holdRunRecord`: events.jsonl is the channel's held file (ProgressChannelOptions).
train::ProgressChannelOptions channelOptionsFor(const TrainCommandOptions& options,
                                                const std::filesystem::path& runDir,
                                                bool holdRunRecord = false);

// Removes what interrupted atomic writes left in the run directory and its weights/ (stale
// ".last.pt.tmp.XXXXXX" files) and logs each to `events`. Rank 0, once the run has started.
void reportStaleTemporaries(const std::filesystem::path& runDir, RankEvents& events);

// Intra-op threads for each CPU rank: distributed.cpu_threads, or (0) the rank's share of the
// cores other programs left free when the engine started (dist::cpuThreadsPerRank).
struct CpuThreadChoice {
  int threads = 1;
  bool configured = false;     // from distributed.cpu_threads
  double othersBusyCores = 0;  // dist::othersBusyCoresAtStart()
};
CpuThreadChoice chooseCpuThreads(const Topology& topology, const Config& config);
// One line for the run's log: the count, and why.
std::string describe(const CpuThreadChoice& choice, int ranksPerNode);

// The rank's device: its CUDA device by local rank, or the CPU with `cpuThreads` intra-op
// threads (chooseCpuThreads).
c10::Device buildDevice(const Topology& topology, int localRank, int cpuThreads);

// The process group over every rank, or null for one rank.
std::shared_ptr<dist::ProcessGroup> buildProcessGroup(const Topology& topology,
                                                      const Config& config,
                                                      const dist::Rendezvous& rendezvous);

// The dataset, verified (on every rank; the label cache makes the others quick), as the
// trainer's example producers. Rank 0 publishes each split's summary to `events`.
// `stopRequested` is asked between images while the dataset is verified: true there throws
// StoppedBeforeTraining. The decoded-image cache gets data.cache_mb, capped at a quarter of the
// available memory shared by the `ranksOnThisNode` ranks (data::imageCacheBudget).
train::TrainingData buildTrainingData(const Config& config, int ranksOnThisNode, RankEvents& events,
                                      std::function<bool()> stopRequested = nullptr);

// A stop (a signal, the GUI) before training began; the run ends cleanly, with nothing trained.
class StoppedBeforeTraining : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Installs SIGINT/SIGTERM handlers for the object's lifetime; requests() reports a signal or the
// GUI's stop and checkpoint_now commands as the trainer's LocalRequests.
class StopRequests {
 public:
  explicit StopRequests(train::ProgressChannel* commands);
  ~StopRequests();
  StopRequests(const StopRequests&) = delete;
  StopRequests& operator=(const StopRequests&) = delete;
  train::RequestSource source() const;
  // The signal received (SIGINT, SIGTERM or SIGHUP), else 0.
  int signal() const;

 private:
  struct Handlers;
  std::unique_ptr<Handlers> handlers_;
  train::ProgressChannel* commands_;
};

// The hooks a run reads back after train(): the best epoch and the last validation.
struct RunHooks {
  std::shared_ptr<const train::EpochRecord> record;
  const train::BestFitnessHook* bestFitness = nullptr;  // null when not validating
};

// Adds the standard hooks to `trainer`, in their order (run_builder.cpp says why).
RunHooks buildHooks(train::Trainer& trainer);

// A new run has started (its data verified, its model built): its directory, weights/ and
// args.yaml are made, the held run record is written (RankEvents::started) and stale temporary
// files of an earlier run in the same directory (exist_ok) are removed. Rank 0.
void startRun(const Config& config, const std::filesystem::path& runDir, RankEvents& events);

// Fine-tuning: what the starting weights gave the model ("Transferred 349/355 items from ...",
// each item left out and why) and what train.freeze froze, as log events. Rank 0; nothing when
// the run trains from scratch.
void reportStartingWeights(const train::Trainer& trainer, RankEvents& events);

// Resumes from runDir/weights/last.pt (output.resume). Once it was accepted: the held run record
// is written (RankEvents::started), stale temporary files are removed, args.yaml is rewritten,
// and where the run goes on is logged (and what a bn <-> syncbn switch carried over).
void resumeRun(train::Trainer& trainer, const Config& config, const std::filesystem::path& runDir,
               const Topology& topology, RankEvents& events, bool rank0);

// The `finished` event of a run that ended (completed or stopped).
protocol::Finished finishedMessage(const train::TrainOutcome& outcome, const RunHooks& hooks,
                                   const std::filesystem::path& runDir);

}  // namespace syncbn::engine
