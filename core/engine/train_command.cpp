#include "engine/train_command.h"

#include <signal.h>
#include <torch/torch.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <ext/stdio_filebuf.h>
#include <iostream>
#include <memory>
#include <mutex>
#include <thread>

#include "common/atomic_file.h"
#include "common/version.h"
#include "data/augment.h"
#include "data/demo_data.h"
#include "data/verify.h"
#include "dist/process_group.h"
#include "engine/self_launch.h"
#include "engine/verdict_reporter.h"
#include "train/checkpoint.h"
#include "train/console_reporter.h"
#include "train/progress_channel.h"
#include "train/trainer.h"

namespace syncbn::engine {
namespace {

// ----- signals: a request to stop cleanly, honoured after the current iteration -------------

std::atomic<int> receivedSignal{0};

extern "C" void onStopSignal(int signal) {
  receivedSignal.store(signal);
}

class StopSignals {
 public:
  StopSignals() {
    struct sigaction action {};
    action.sa_handler = onStopSignal;
    sigemptyset(&action.sa_mask);
    ::sigaction(SIGINT, &action, &previousInt_);
    ::sigaction(SIGTERM, &action, &previousTerm_);
  }
  ~StopSignals() {
    ::sigaction(SIGINT, &previousInt_, nullptr);
    ::sigaction(SIGTERM, &previousTerm_, nullptr);
  }
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

 private:
  struct sigaction previousInt_ {};
  struct sigaction previousTerm_ {};
};

// A GUI reads the launcher's stdout and stderr through pipes, and closes them when it quits and
// leaves the run going; the ranks write theirs into the launcher's pipes. A write to a closed
// pipe must then fail (EPIPE, which leaves the stream in a failed state, silently) instead of
// killing the process with SIGPIPE: the run goes on, and its events files keep the record. The
// launcher gives its children the default disposition back (dist::ChildProcess), so the ranks,
// which run this command too, decide for themselves, as they do under torchrun or srun.
void ignoreBrokenPipes() {
  struct sigaction action {};
  action.sa_handler = SIG_IGN;
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGPIPE, &action, nullptr);
}

// ----- events: the GUI/file channel and the console, one sink ------------------------------

class FanOut final : public train::EventSink {
 public:
  void add(train::EventSink* sink) {
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
struct Console {
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

// ----- configuration --------------------------------------------------------------------------

// The configuration, checked; on resume the run's own args.yaml plus the command line's
// overrides. nullopt after printing why it cannot be used.
std::optional<Config> loadRunConfig(const CommandContext& ctx, const TrainCommandOptions& options,
                                    bool quiet) {
  CheckedConfig checked = loadAndCheck(ctx, options.file, options.overrides);
  if (checked.loaded.config.output.resume) {
    const OutputConfig& output = checked.loaded.config.output;
    const auto args = std::filesystem::path(output.project) / output.name / "args.yaml";
    if (!std::filesystem::exists(args)) {
      ctx.err << "error: output.resume: " << args.string()
              << " does not exist; resume continues the run in output.project/output.name\n";
      return std::nullopt;
    }
    checked = loadAndCheck(ctx, args.string(), options.overrides);
    checked.loaded.config.output.resume = true;
  }
  const bool errors = countSeverity(checked.diagnostics, Severity::Error) > 0;
  if (errors || !quiet) {
    for (const auto& d : checked.diagnostics)
      if (errors || d.severity != Severity::Info) ctx.err << format(d) << "\n";
  }
  if (errors) return std::nullopt;
  return checked.loaded.config;
}

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

// project/name when resuming it, else a new run directory (see chooseRunDir).
std::filesystem::path runDirFor(const OutputConfig& output) {
  return output.resume ? std::filesystem::path(output.project) / output.name : chooseRunDir(output);
}

// The run's events.jsonl, plus the events file and GUI socket the command line names.
train::ProgressChannelOptions channelOptionsFor(const TrainCommandOptions& options,
                                                const std::filesystem::path& runDir) {
  train::ProgressChannelOptions channel;
  channel.eventsFiles.push_back(runDir / kEventsFileName);
  if (!options.eventsFile.empty()) channel.eventsFiles.push_back(options.eventsFile);
  channel.progressSocket = options.progressSocket;
  channel.sessionToken = train::sessionTokenFromEnvironment();
  return channel;
}

// ----- one rank ---------------------------------------------------------------------------------

// The configuration with output.project/output.name naming `runDir`, the directory the run
// writes (numbered, say): so args.yaml names its own run, and `syncbn-engine train
// RUN_DIR/args.yaml resume=true` resumes exactly that run.
Config namingRunDir(Config config, const std::filesystem::path& runDir) {
  const std::filesystem::path dir = runDir.has_filename() ? runDir : runDir.parent_path();
  config.output.project = dir.parent_path().string();
  config.output.name = dir.filename().string();
  return config;
}

// What a resume that switched bn <-> syncbn carried over (docs/checkpoints.md).
std::string normSwitchNote(const train::ResumeReport& resumed, const train::Trainer& trainer,
                           const Topology& topology) {
  const std::string to(toString(resumed.norm));
  std::string note = "norm switched on resume from " + std::string(toString(resumed.checkpointNorm)) +
                     " to " + to +
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

int runRank(const CommandContext& ctx, const TrainCommandOptions& options,
            const Config& loadedConfig) {
  const dist::Rendezvous rendezvous = dist::Rendezvous::fromEnvironment();
  const Topology topology = resolveTopology(loadedConfig, ctx.host);
  if (rendezvous.worldSize != topology.worldSize)
    throw std::runtime_error(
        "the environment says WORLD_SIZE=" + std::to_string(rendezvous.worldSize) +
        ", the configuration " + std::to_string(topology.worldSize) + " ranks");
  const bool rank0 = rendezvous.rank == 0;
  const bool launched = std::getenv(kLaunchedVariable) != nullptr;

  // Rank 0 owns the run directory and the events.
  std::filesystem::path runDir;
  if (const char* dir = std::getenv(kRunDirVariable))
    runDir = dir;
  else
    runDir = runDirFor(loadedConfig.output);
  const Config config = namingRunDir(loadedConfig, runDir);
  std::unique_ptr<train::ProgressChannel> channel;
  std::unique_ptr<Console> console;
  std::unique_ptr<VerdictReporter> verdict;
  FanOut events;
  if (rank0) {
    std::filesystem::create_directories(runDir / "weights");
    // A resumed run's args.yaml changes only once its checkpoint was accepted (below).
    if (!config.output.resume) writeFileAtomically(runDir / "args.yaml", toYaml(config));
    channel = std::make_unique<train::ProgressChannel>(channelOptionsFor(options, runDir));
    console = std::make_unique<Console>();
    events.add(channel.get());
    events.add(console->reporter.get());
    // Last, so the epoch's `val` reaches the others before the verdict on it.
    verdict = std::make_unique<VerdictReporter>(
        std::vector<train::EventSink*>{channel.get(), console->reporter.get()});
    events.add(verdict.get());
  }

  try {
    if (!topology.cuda) {
      // Ranks share the node's cores; oversubscribed OpenMP threads slow every rank down.
      const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
      torch::set_num_threads(static_cast<int>(std::max(1u, cores / topology.ranksPerNode)));
    }
    const c10::Device device =
        topology.cuda
            ? c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(topology.cudaDeviceIds.at(
                                          static_cast<std::size_t>(rendezvous.localRank))))
            : c10::Device(c10::kCPU);
    std::shared_ptr<dist::ProcessGroup> group;
    if (topology.worldSize > 1) {
      dist::Rendezvous meet = rendezvous;
      meet.timeout = std::chrono::seconds(config.distributed.timeout);
      group = dist::ProcessGroup::create(dist::Store::tcp(meet), meet.rank, meet.worldSize,
                                         topology.backend, topology.cuda, meet.timeout);
    }

    // The dataset: verified on every rank (the label cache makes the others quick).
    const std::filesystem::path yaml = demoOrDataYaml(config.data.data);
    const data::DatasetReport report = data::verifyDataset(yaml, {.workers = 0, .useCache = true});
    data::requireUsableImages(report);
    if (rank0)
      for (const auto& split : report.splits)
        events.publish(data::summarize(report, split));
    const data::SplitReport* trainSplit = findSplit(report, "train");
    const data::SplitReport* valSplit = findSplit(report, "val");
    if (trainSplit == nullptr) throw std::runtime_error(yaml.string() + ": no train split");
    data::AugmentSettings augment = data::AugmentSettings::fromConfig(config);
    auto trainFactory = std::make_shared<data::ExampleFactory>(trainSplit->samples, augment);
    augment.augment = false;
    auto valFactory = std::make_shared<data::ExampleFactory>(
        valSplit ? valSplit->samples : std::vector<data::Sample>{}, augment);

    train::TrainingData trainingData;
    trainingData.trainExamples = [trainFactory](std::size_t index, int epoch) {
      return trainFactory->training(index, epoch);
    };
    trainingData.trainCount = trainFactory->size();
    trainingData.valExamples = [valFactory](std::size_t index) {
      return valFactory->validation(index);
    };
    trainingData.valCount = valFactory->size();
    trainingData.classNames = report.dataset.names;
    trainingData.datasetHash = datasetHash(*trainSplit);

    train::TrainerOptions trainerOptions;
    trainerOptions.config = config;
    trainerOptions.configYaml = toYaml(config);
    trainerOptions.topology = topology;
    trainerOptions.rank = rendezvous.rank;
    trainerOptions.device = device;
    trainerOptions.runDir = runDir;
    trainerOptions.bnStatsEvery = options.bnStatsEvery;

    const StopSignals signals;
    train::ProgressChannel* commands = channel.get();
    const auto requests = [commands] {
      train::LocalRequests local;
      if (const int signal = receivedSignal.load()) {
        local.stop = true;
        local.stopReason = signal == SIGINT ? "SIGINT" : "SIGTERM";
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
    train::Trainer trainer(trainerOptions, trainingData, group, rank0 ? &events : nullptr,
                           requests);
    trainer.addStandardHooks();
    if (config.output.resume) {
      const auto last = runDir / "weights" / "last.pt";
      const train::ResumeReport resumed = trainer.resumeFrom(last);
      if (rank0) {
        writeFileAtomically(runDir / "args.yaml", toYaml(config));
        events.publish(protocol::Log{"info", 0,
                                     "resuming " + runDir.string() + " from " + last.string() +
                                         " at epoch " + std::to_string(trainer.state().epoch + 1) +
                                         ", iteration " +
                                         std::to_string(trainer.state().iteration)});
        if (resumed.normSwitched())
          events.publish(protocol::Log{"info", 0, normSwitchNote(resumed, trainer, topology)});
      }
    }
    const train::TrainOutcome outcome = trainer.train();
    if (rank0) {
      protocol::Finished finished;
      finished.status = outcome.status;
      finished.epochs_completed = outcome.epochsCompleted;
      finished.best_fitness = std::max(0.0, outcome.bestFitness);
      finished.map50 = outcome.map50;
      finished.map50_95 = outcome.map50_95;
      finished.best_checkpoint = outcome.bestCheckpoint.string();
      if (!outcome.stopReason.empty())
        events.publish(protocol::Log{"info", 0, "stopped: " + outcome.stopReason});
      events.publish(finished);
      if (channel) channel->close();
    }
    return kExitOk;
  } catch (const std::exception& error) {
    if (rank0) {
      // Under this engine's launcher, the launcher names the failed rank and ends the run.
      events.publish(protocol::Log{"error", rendezvous.rank, error.what()});
      if (!launched) {
        protocol::Finished finished;
        finished.status = "failed";
        finished.error = error.what();
        events.publish(finished);
      }
      if (channel) channel->close();
    } else {
      ctx.err << "error: rank " << rendezvous.rank << ": " << error.what() << "\n";
    }
    return kExitInvalid;
  }
}

// ----- the launcher -----------------------------------------------------------------------------

// After a failed run: the failed rank's exit to the events files and the GUI, then `finished`.
void reportFailure(const TrainCommandOptions& options, const std::filesystem::path& runDir,
                   const dist::LaunchResult& result) {
  try {
    train::ProgressChannel channel(channelOptionsFor(options, runDir));
    const dist::RankExitStatus& failure = *result.firstFailure;
    channel.publish(
        protocol::RankExit{failure.rank, failure.exitCode, failure.signal, failure.describe()});
    protocol::Finished finished;
    finished.status = "failed";
    finished.error = failure.describe();
    channel.publish(finished);
    channel.close();
  } catch (const std::exception& error) {
    std::cerr << "[launcher] cannot report the failure: " << error.what() << "\n";
  }
}

int launchRanks(const CommandContext& ctx, const TrainCommandOptions& options, const Config& config,
                int argc, char** argv) {
  const Topology topology = resolveTopology(config, ctx.host);
  // The run directory is chosen once, here, so that every rank agrees.
  const std::filesystem::path runDir = runDirFor(config.output);
  std::filesystem::create_directories(runDir);
  // The demo dataset is generated once before the ranks race to it.
  if (config.data.data == "demo") demoOrDataYaml(config.data.data);

  dist::LaunchOptions launch;
  launch.nprocPerNode = topology.ranksPerNode;
  launch.nnodes = config.distributed.nnodes;
  launch.nodeRank = config.distributed.node_rank;
  launch.masterAddr = config.distributed.master_addr;
  launch.masterPort = config.distributed.nnodes > 1 ? config.distributed.master_port : 0;
  launch.cleanStopPeriod = std::chrono::seconds(120);
  launch.extraEnvironment = {{kRunDirVariable, runDir.string()}, {kLaunchedVariable, "1"}};
  int consoleFd = -1;
  if (::isatty(STDOUT_FILENO)) {
    consoleFd = ::dup(STDOUT_FILENO);  // inherited by the ranks (no FD_CLOEXEC)
    launch.extraEnvironment.emplace_back(kConsoleFdVariable, std::to_string(consoleFd));
  }
  launch.command = thisCommandLine(argc, argv);
  const dist::LaunchResult result = dist::launch(launch, std::cout);
  if (consoleFd >= 0) ::close(consoleFd);
  if (result.firstFailure) reportFailure(options, runDir, result);
  return result.exitCode;
}

}  // namespace

std::filesystem::path chooseRunDir(const OutputConfig& output) {
  const std::filesystem::path base = std::filesystem::path(output.project) / output.name;
  if (output.exist_ok || !std::filesystem::exists(base)) return base;
  for (int n = 2;; ++n) {
    const std::filesystem::path numbered =
        std::filesystem::path(output.project) / (output.name + std::to_string(n));
    if (!std::filesystem::exists(numbered)) return numbered;
  }
}

int runTrainCommand(const CommandContext& ctx, const TrainCommandOptions& options, int argc,
                    char** argv) {
  ignoreBrokenPipes();
  const bool rank = isRankProcess(options.worker);
  // Ranks stay quiet about advice: the launcher (or the user's first look) already showed it.
  const std::optional<Config> config = loadRunConfig(ctx, options, rank);
  if (!config) return kExitInvalid;
  try {
    const Topology topology = resolveTopology(*config, ctx.host);
    const bool multiProcess = topology.ranksPerNode > 1 || config->distributed.nnodes > 1;
    if (!rank && multiProcess) return launchRanks(ctx, options, *config, argc, argv);
    return runRank(ctx, options, *config);
  } catch (const std::exception& error) {
    ctx.err << "error: " << error.what() << "\n";
    return kExitInvalid;
  }
}

}  // namespace syncbn::engine
