#include "engine/run_builder.h"

#include <signal.h>
#include <torch/torch.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <ext/stdio_filebuf.h>
#include <iostream>
#include <mutex>
#include <thread>

#include "common/atomic_file.h"
#include "common/config_yaml.h"
#include "data/augment.h"
#include "data/decoded_image_cache.h"
#include "data/demo_data.h"
#include "data/verify.h"
#include "dist/cpu_threads.h"
#include "dist/openmp_wait.h"
#include "dist/process_group.h"
#include "engine/verdict_reporter.h"
#include "train/checkpoint_file.h"
#include "train/console_reporter.h"
#include "train/progress_channel.h"
#include "train/tensorboard_events.h"
#include "train/training_hooks.h"

namespace syncbn::engine {

// ----- run directory ----------------------------------------------------------------------------

std::filesystem::path buildRunDirectory(const OutputConfig& output) {
  if (const char* dir = std::getenv(kRunDirVariable)) return dir;
  return output.resume ? std::filesystem::path(output.project) / output.name : chooseRunDir(output);
}

Config namingRunDir(Config config, const std::filesystem::path& runDir) {
  const std::filesystem::path dir = runDir.has_filename() ? runDir : runDir.parent_path();
  config.output.project = dir.parent_path().string();
  config.output.name = dir.filename().string();
  return config;
}

// ----- events: the GUI/file channel and the console, one sink -----------------------------------

train::ProgressChannelOptions channelOptionsFor(const TrainCommandOptions& options,
                                                const std::filesystem::path& runDir,
                                                bool holdRunRecord) {
  train::ProgressChannelOptions channel;
  if (holdRunRecord)
    channel.heldEventsFile = runDir / kEventsFileName;
  else
    channel.eventsFiles.push_back(runDir / kEventsFileName);
  channel.requireSocket = options.requireProgressSocket;
  if (!options.eventsFile.empty()) channel.eventsFiles.push_back(options.eventsFile);
  channel.progressSocket = options.progressSocket;
  channel.sessionToken = train::sessionTokenFromEnvironment();
  return channel;
}

class RankEvents::FanOut final : public train::EventSink {
 public:
  void add(train::EventSink* sink) {
    std::lock_guard lock(mutex_);
    if (sink != nullptr) sinks_.push_back(sink);
  }
  void publish(const protocol::Message& message) override {
    std::lock_guard lock(mutex_);
    for (auto* sink : sinks_)
      sink->publish(message);
  }

 private:
  std::mutex mutex_;
  std::vector<train::EventSink*> sinks_;
};

// Rank 0's console: the launcher's terminal when it handed one over, else stdout.
struct RankEvents::Console {
  std::unique_ptr<__gnu_cxx::stdio_filebuf<char>> buffer;
  std::unique_ptr<std::ostream> stream;
  std::unique_ptr<train::ConsoleReporter> reporter;

  Console() {
    int fd = -1;
    if (const char* text = std::getenv(kConsoleFdVariable)) fd = std::atoi(text);
    train::ConsoleStyle style;
    if (fd > 2 && train::ConsoleReporter::isTerminal(fd)) {
      buffer = std::make_unique<__gnu_cxx::stdio_filebuf<char>>(::dup(fd), std::ios::out);
      stream = std::make_unique<std::ostream>(buffer.get());
      style.terminal = true;
    } else {
      style.terminal = train::ConsoleReporter::isTerminal(STDOUT_FILENO);
    }
    reporter = std::make_unique<train::ConsoleReporter>(stream ? *stream : std::cout, style);
  }
};

RankEvents::RankEvents(const TrainCommandOptions& options, const std::filesystem::path& runDir,
                       bool rank0, bool tensorboard, bool holdRunRecord) {
  if (!rank0) return;
  channel_ =
      std::make_unique<train::ProgressChannel>(channelOptionsFor(options, runDir, holdRunRecord));
  if (!channel_->connectionWarning().empty())
    std::cerr << "warning: " << channel_->connectionWarning() << "\n";
  console_ = std::make_unique<Console>();
  fanOut_ = std::make_unique<FanOut>();
  fanOut_->add(channel_.get());
  fanOut_->add(console_->reporter.get());
  if (tensorboard) tensorboardDir_ = runDir / "tb";
  if (tensorboard && !holdRunRecord) {
    tensorboard_ = std::make_unique<train::TensorBoardSink>(tensorboardDir_);
    fanOut_->add(tensorboard_.get());
  }
  // Last, so the epoch's `val` reaches the others before the verdict on it.
  verdict_ = std::make_unique<VerdictReporter>(
      std::vector<train::EventSink*>{channel_.get(), console_->reporter.get()});
  fanOut_->add(verdict_.get());
}

RankEvents::~RankEvents() = default;

train::EventSink* RankEvents::sink() {
  return fanOut_.get();
}

void RankEvents::publish(const protocol::Message& message) {
  if (fanOut_) fanOut_->publish(message);
}

void RankEvents::close() {
  if (channel_) channel_->close();
}

void RankEvents::started() {
  if (!channel_) return;
  channel_->commit();
  if (!tensorboardDir_.empty() && !tensorboard_) {
    tensorboard_ = std::make_unique<train::TensorBoardSink>(tensorboardDir_);
    fanOut_->add(tensorboard_.get());
  }
}

void reportStaleTemporaries(const std::filesystem::path& runDir, RankEvents& events) {
  for (const auto& dir : {runDir, runDir / "weights"})
    for (const auto& removed : syncbn::removeStaleTemporaries(dir))
      events.publish(protocol::Log{"warning", 0,
                                   "removed " + removed.string() +
                                       ", left by a write that was interrupted (the file it was "
                                       "to replace is intact)"});
}

// ----- device and process group -----------------------------------------------------------------

CpuThreadChoice chooseCpuThreads(const Topology& topology, const Config& config) {
  CpuThreadChoice choice;
  choice.configured = config.distributed.cpu_threads > 0;
  choice.othersBusyCores = dist::othersBusyCoresAtStart();
  choice.threads = choice.configured
                       ? config.distributed.cpu_threads
                       : dist::cpuThreadsPerRank(topology.ranksPerNode, choice.othersBusyCores);
  return choice;
}

std::string describe(const CpuThreadChoice& choice, int ranksPerNode) {
  char busy[32];
  std::snprintf(busy, sizeof busy, "%.1f", choice.othersBusyCores);
  std::string text =
      "CPU: " + std::to_string(choice.threads) + " thread" + (choice.threads == 1 ? "" : "s") +
      " per rank, " + std::to_string(ranksPerNode) + " rank" + (ranksPerNode == 1 ? "" : "s") +
      " on " + std::to_string(std::max(1u, std::thread::hardware_concurrency())) + " cores; ";
  if (choice.configured) return text + "set by distributed.cpu_threads";
  return text + "other programs kept " + busy +
         " cores busy at start (set distributed.cpu_threads to fix the count)";
}

c10::Device buildDevice(const Topology& topology, int localRank, int cpuThreads) {
  if (topology.cuda)
    return c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(topology.cudaDeviceIds.at(
                                       static_cast<std::size_t>(localRank))));
  // Ranks share the node's cores; oversubscribed threads (OpenMP's and OpenBLAS's) slow every
  // rank down.
  dist::useCpuThreads(cpuThreads);
  return c10::Device(c10::kCPU);
}

std::shared_ptr<dist::ProcessGroup> buildProcessGroup(const Topology& topology,
                                                      const Config& config,
                                                      const dist::Rendezvous& rendezvous) {
  if (topology.worldSize <= 1) return nullptr;
  dist::Rendezvous meet = rendezvous;
  meet.timeout = std::chrono::seconds(config.distributed.timeout);
  return dist::ProcessGroup::create(dist::Store::tcp(meet), meet.rank, meet.worldSize,
                                    topology.backend, topology.cuda, meet.timeout);
}

// ----- data -------------------------------------------------------------------------------------

namespace {

std::filesystem::path demoOrDataYaml(const std::string& data) {
  return data == "demo" ? data::builtInDemoData(data::DemoOptions{}) : std::filesystem::path(data);
}

std::string datasetHash(const data::SplitReport& split) {
  std::string bytes;
  for (const data::Sample& sample : split.samples) {
    bytes += sample.image.string();
    bytes += '\0' + std::to_string(sample.width) + 'x' + std::to_string(sample.height);
    for (const data::LabelRow& row : sample.rows)
      bytes += ' ' + std::to_string(row.cls) + ',' + std::to_string(row.cx) + ',' +
               std::to_string(row.cy) + ',' + std::to_string(row.w) + ',' + std::to_string(row.h);
    bytes += '\n';
  }
  return train::hashBytes(bytes);
}

const data::SplitReport* findSplit(const data::DatasetReport& report, const std::string& name) {
  for (const auto& split : report.splits)
    if (split.split == name) return &split;
  return nullptr;
}

}  // namespace

train::TrainingData buildTrainingData(const Config& config, int ranksOnThisNode, RankEvents& events,
                                      std::function<bool()> stopRequested) {
  const std::filesystem::path yaml = demoOrDataYaml(config.data.data);
  data::VerifyOptions verify;
  verify.maxImagePixels = config.data.max_image_pixels;
  verify.stopRequested = std::move(stopRequested);
  const data::DatasetReport report = data::verifyDataset(yaml, verify);
  if (report.stopped())
    throw StoppedBeforeTraining("stopped while the dataset was verified, before training began");
  data::requireUsableImages(report);
  for (const auto& split : report.splits)
    events.publish(data::summarize(report, split));
  const data::SplitReport* trainSplit = findSplit(report, "train");
  const data::SplitReport* valSplit = findSplit(report, "val");
  if (trainSplit == nullptr) throw std::runtime_error(yaml.string() + ": no train split");
  // One cache for both splits, so that data.cache_mb bounds the rank's whole cache.
  const auto cache = std::make_shared<data::DecodedImageCache>(
      data::imageCacheBudget(static_cast<std::size_t>(std::max(config.data.cache_mb, 0)) << 20,
                             ranksOnThisNode, data::availableMemoryBytes()));
  data::AugmentSettings augment = data::AugmentSettings::fromConfig(config);
  auto trainFactory = std::make_shared<data::ExampleFactory>(trainSplit->samples, augment, cache);
  augment.augment = false;
  auto valFactory = std::make_shared<data::ExampleFactory>(
      valSplit ? valSplit->samples : std::vector<data::Sample>{}, augment, cache);

  train::TrainingData data;
  data.trainExamples = [trainFactory](std::size_t index, int epoch) {
    return trainFactory->training(index, epoch);
  };
  data.trainCount = trainFactory->size();
  data.valExamples = [valFactory](std::size_t index) { return valFactory->validation(index); };
  data.valCount = valFactory->size();
  data.classNames = report.dataset.names;
  data.datasetHash = datasetHash(*trainSplit);
  return data;
}

// ----- stop requests ----------------------------------------------------------------------------

namespace {

std::atomic<int> receivedSignal{0};

extern "C" void onStopSignal(int signal) {
  receivedSignal.store(signal);
}

}  // namespace

// A request to stop cleanly, honoured after the current iteration.
// SIGHUP (the terminal went away) stops as cleanly as SIGTERM, unless it was ignored (nohup).
struct StopRequests::Handlers {
  struct sigaction previousInt {};
  struct sigaction previousTerm {};
  struct sigaction previousHup {};
  Handlers() {
    struct sigaction action {};
    action.sa_handler = onStopSignal;
    sigemptyset(&action.sa_mask);
    ::sigaction(SIGINT, &action, &previousInt);
    ::sigaction(SIGTERM, &action, &previousTerm);
    ::sigaction(SIGHUP, &action, &previousHup);
    if (previousHup.sa_handler == SIG_IGN) ::sigaction(SIGHUP, &previousHup, nullptr);
  }
  ~Handlers() {
    ::sigaction(SIGINT, &previousInt, nullptr);
    ::sigaction(SIGTERM, &previousTerm, nullptr);
    ::sigaction(SIGHUP, &previousHup, nullptr);
  }
};

StopRequests::StopRequests(train::ProgressChannel* commands)
    : handlers_(std::make_unique<Handlers>()), commands_(commands) {}
StopRequests::~StopRequests() = default;

int StopRequests::signal() const {
  return receivedSignal.load();
}

train::RequestSource StopRequests::source() const {
  return [commands = commands_] {
    train::LocalRequests local;
    if (const int signal = receivedSignal.load()) {
      local.stop = true;
      local.stopReason = signal == SIGINT ? "SIGINT" : signal == SIGHUP ? "SIGHUP" : "SIGTERM";
    }
    if (commands != nullptr) {
      for (const protocol::Message& command : commands->takeCommands()) {
        if (std::holds_alternative<protocol::Stop>(command)) {
          local.stop = true;
          local.stopReason = "stop requested by the GUI";
        } else if (std::holds_alternative<protocol::CheckpointNow>(command)) {
          local.checkpointNow = true;
        }
      }
    }
    return local;
  };
}

// ----- hooks ------------------------------------------------------------------------------------

RunHooks buildHooks(train::Trainer& trainer) {
  const train::TrainerOptions& options = trainer.options();
  auto record = std::make_shared<train::EpochRecord>();
  RunHooks run;
  run.record = record;
  // Before each step: the learning rate, momentum and accumulation first, as the step and every
  // later hook see them; then, under norm=bn, rank 0's running statistics to every rank before
  // the forward pass uses them (norm=syncbn computes them over every rank already).
  trainer.addHook(std::make_unique<train::LearningRateHook>());
  if (options.config.distributed.norm == NormKind::BatchNorm && trainer.worldSize() > 1)
    trainer.addHook(std::make_unique<train::BufferBroadcastHook>());
  // After each step, the EMA first: the checkpoints that a stop or an interval writes after this
  // step must hold this step's average.
  auto ema = std::make_unique<train::EmaHook>(trainer.model());
  const train::EmaHook& emaHook = *ema;
  trainer.addHook(std::move(ema));
  // The BN statistics probe arms before the step and collects after it (a collective: every rank
  // runs it at the same place); then the step's event, which only reports.
  if (options.bnStatsEvery > 0)
    trainer.addHook(std::make_unique<train::BnStatisticsHook>(options.bnStatsEvery));
  trainer.addHook(std::make_unique<train::StepEventsHook>());
  // After each epoch, in the order each needs the last: PreciseBN changes the EMA's statistics
  // before it is validated; the validation fills the epoch's record; the best fitness reads it
  // and decides improvement and patience; the `val` event and the results.csv row report both.
  if (options.validate) {
    trainer.addHook(std::make_unique<train::PreciseBnHook>(emaHook));
    trainer.addHook(std::make_unique<train::ValidationHook>(emaHook, record));
    auto best = std::make_unique<train::BestFitnessHook>(record);
    run.bestFitness = best.get();
    trainer.addHook(std::move(best));
    trainer.addHook(std::make_unique<train::ValEventHook>(record));
    trainer.addHook(std::make_unique<train::ResultsCsvHook>(record));
  }
  // Checkpoints last: last.pt and best.pt then hold every hook's state as of this epoch's end,
  // and best.pt is written once the epoch's improvement is known.
  trainer.addHook(std::make_unique<train::CheckpointHook>(record));
  return run;
}

// ----- resume -----------------------------------------------------------------------------------

namespace {

// What a resume that switched bn <-> syncbn carried over (docs/checkpoints.md).
std::string normSwitchNote(const train::ResumeReport& resumed, const train::Trainer& trainer,
                           const Topology& topology) {
  const std::string to(toString(resumed.norm));
  std::string note =
      "norm switched on resume from " + std::string(toString(resumed.checkpointNorm)) + " to " +
      to +
      ": carried over the weights, the EMA (weights, running statistics, update "
      "count), the running statistics (rank 0's, as saved), the optimizer state, the "
      "accumulated gradients, the schedule position (epoch " +
      std::to_string(trainer.state().epoch + 1) + ", iteration " +
      std::to_string(trainer.state().iteration) + ", " +
      std::to_string(trainer.state().optimizerSteps) +
      " optimizer steps), the RNG state, the loss scaler, best fitness and patience; "
      "from here on ";
  if (resumed.norm == NormKind::SyncBatchNorm)
    note += "BatchNorm statistics are all-reduced over " + std::to_string(topology.bnBatch) +
            " image(s) (" + std::to_string(topology.perRankBatch) + " per rank x " +
            std::to_string(topology.worldSize) + " ranks)";
  else
    note += "each rank's BatchNorm statistics come from its own " +
            std::to_string(topology.perRankBatch) + " image(s)";
  return note;
}

}  // namespace

void startRun(const Config& config, const std::filesystem::path& runDir, RankEvents& events) {
  std::filesystem::create_directories(runDir / "weights");
  writeFileAtomically(runDir / "args.yaml", toYaml(config));
  events.started();
  reportStaleTemporaries(runDir, events);
}

void reportStartingWeights(const train::Trainer& trainer, RankEvents& events) {
  if (const auto& report = trainer.transferReport()) {
    events.publish(protocol::Log{"info", 0, report->summary()});
    // By block: the class branches' width follows the class count (`model-info` lists each).
    if (!report->notTransferred.empty())
      events.publish(
          protocol::Log{"info", 0, "not transferred, kept as initialised: " + report->leftOut()});
  }
  const int layers = trainer.options().config.train.freeze;
  if (layers > 0)
    events.publish(protocol::Log{"info", 0,
                                 "freeze=" + std::to_string(layers) + ": layers 0-" +
                                     std::to_string(layers - 1) + " do not train (" +
                                     std::to_string(trainer.frozenParameters()) +
                                     " parameter tensors), nor the DFL"});
}

void resumeRun(train::Trainer& trainer, const Config& config, const std::filesystem::path& runDir,
               const Topology& topology, RankEvents& events, bool rank0) {
  const auto last = runDir / "weights" / "last.pt";
  const train::ResumeReport resumed = trainer.resumeFrom(last);
  if (!rank0) return;
  // Accepted: from here on the run directory changes.
  events.started();
  reportStaleTemporaries(runDir, events);
  writeFileAtomically(runDir / "args.yaml", toYaml(config));
  events.publish(protocol::Log{"info", 0,
                               "resuming " + runDir.string() + " from " + last.string() +
                                   " at epoch " + std::to_string(trainer.state().epoch + 1) +
                                   ", iteration " + std::to_string(trainer.state().iteration)});
  if (resumed.normSwitched())
    events.publish(protocol::Log{"info", 0, normSwitchNote(resumed, trainer, topology)});
}

// ----- outcome ----------------------------------------------------------------------------------

protocol::Finished finishedMessage(const train::TrainOutcome& outcome, const RunHooks& hooks,
                                   const std::filesystem::path& runDir) {
  protocol::Finished finished;
  finished.status = outcome.status;
  finished.epochs_completed = outcome.epochsCompleted;
  if (hooks.bestFitness != nullptr) {
    finished.best_fitness = std::max(0.0, hooks.bestFitness->bestFitness());
    if (hooks.bestFitness->bestEpoch() >= 0)
      finished.best_checkpoint = (runDir / "weights" / "best.pt").string();
  }
  if (hooks.record && hooks.record->latest) {
    finished.map50 = hooks.record->latest->summary.map50;
    finished.map50_95 = hooks.record->latest->summary.map50to95;
  }
  return finished;
}

}  // namespace syncbn::engine
