#include "engine/train_command.h"

#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>

#include "common/atomic_file.h"
#include "data/demo_data.h"
#include "dist/launcher.h"
#include "dist/process_group.h"
#include "engine/run_builder.h"
#include "engine/self_launch.h"
#include "train/progress_channel.h"
#include "train/trainer.h"

namespace syncbn::engine {
namespace {

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

// project/name when resuming it, else a new run directory (see chooseRunDir).
std::filesystem::path runDirFor(const OutputConfig& output) {
  return output.resume ? std::filesystem::path(output.project) / output.name : chooseRunDir(output);
}

// ----- one rank ---------------------------------------------------------------------------------

// One rank: the run builder's parts (run_builder.h), then the loop.
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
  const std::filesystem::path runDir = buildRunDirectory(loadedConfig.output);
  const Config config = namingRunDir(loadedConfig, runDir);
  // The run directory changes only once the run has started: its dataset verified, its model
  // built and, on resume, its checkpoint accepted (startRun, resumeRun). A run refused before
  // that leaves it byte for byte as it was (and creates none); the console, the --events file
  // and the GUI hear why.
  RankEvents events(options, runDir, rank0, config.output.tensorboard, /*holdRunRecord=*/true);
  // Installed before the dataset is verified, which can take minutes: a signal then stops the
  // run cleanly too.
  const StopRequests requests(events.channel());

  try {
    train::TrainerOptions trainerOptions;
    trainerOptions.config = config;
    trainerOptions.configYaml = toYaml(config);
    trainerOptions.topology = topology;
    trainerOptions.rank = rendezvous.rank;
    const CpuThreadChoice threads = chooseCpuThreads(topology, config);
    trainerOptions.device = buildDevice(topology, rendezvous.localRank, threads.threads);
    if (rank0 && !topology.cuda)
      events.publish(protocol::Log{"info", 0, describe(threads, topology.ranksPerNode)});
    trainerOptions.runDir = runDir;
    trainerOptions.bnStatsEvery = options.bnStatsEvery;
    const std::shared_ptr<dist::ProcessGroup> group =
        buildProcessGroup(topology, config, rendezvous);
    // A signal reaches every rank (the launcher forwards it); the GUI's stop reaches rank 0
    // alone, and a rank that left before training would leave the others waiting in their first
    // collective, so with several ranks that stop waits for the first iteration.
    const train::RequestSource stopSource = requests.source();
    const bool alone = topology.worldSize == 1;
    train::TrainingData data =
        buildTrainingData(config, topology.ranksPerNode, events, [&requests, stopSource, alone] {
          return requests.signal() != 0 || (alone && stopSource().stop);
        });

    train::Trainer trainer(trainerOptions, std::move(data), group, events.sink(),
                           requests.source());
    const RunHooks hooks = buildHooks(trainer);
    if (config.output.resume)
      resumeRun(trainer, config, runDir, topology, events, rank0);
    else if (rank0)
      startRun(config, runDir, events);
    if (rank0) reportStartingWeights(trainer, events);
    const train::TrainOutcome outcome = trainer.train();
    if (!outcome.stopReason.empty())
      events.publish(protocol::Log{"info", 0, "stopped: " + outcome.stopReason});
    events.publish(finishedMessage(outcome, hooks, runDir));
    events.close();
    return kExitOk;
  } catch (const StoppedBeforeTraining& stopped) {
    // As a stop during training: a clean end, exit 0, and `finished` in the record.
    if (rank0) {
      const int signal = requests.signal();
      const std::string reason = signal == SIGINT    ? "SIGINT"
                                 : signal == SIGHUP  ? "SIGHUP"
                                 : signal == SIGTERM ? "SIGTERM"
                                                     : "stop requested by the GUI";
      events.publish(protocol::Log{"info", 0, "stopped (" + reason + "): " + stopped.what()});
      protocol::Finished finished;
      finished.status = "stopped";
      events.publish(finished);
      events.close();
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
      events.close();
    } else {
      ctx.err << "error: rank " << rendezvous.rank << ": " << error.what() << "\n";
    }
    return kExitInvalid;
  }
}

// ----- the launcher -----------------------------------------------------------------------------

// The size of a file, or -1 when there is none.
std::intmax_t sizeOrNone(const std::filesystem::path& path) {
  std::error_code error;
  const std::uintmax_t size = std::filesystem::file_size(path, error);
  return error ? -1 : static_cast<std::intmax_t>(size);
}

// After a run that did not end on its own, what rank 0 could not record: a failed rank's exit,
// or rank 0 killed (by a second Ctrl+C), then `finished`, to the events files and the GUI. A
// run that rank 0 never started (its events.jsonl unchanged) leaves the run directory alone.
void reportEnd(const TrainCommandOptions& options, const std::filesystem::path& runDir,
               bool runStarted, const std::optional<dist::RankExitStatus>& failure,
               const std::string& error) {
  try {
    train::ProgressChannelOptions channelOptions =
        channelOptionsFor(options, runDir, /*holdRunRecord=*/!runStarted);
    channelOptions.requireSocket = false;  // the files must get it, GUI or not
    train::ProgressChannel channel(channelOptions);
    if (failure)
      channel.publish(protocol::RankExit{failure->rank, failure->exitCode, failure->signal,
                                         failure->describe()});
    protocol::Finished finished;
    finished.status = "failed";
    finished.error = error;
    channel.publish(finished);
    channel.close();
  } catch (const std::exception& e) {
    std::cerr << "[launcher] cannot record the end of the run: " << e.what() << "\n";
  }
}

int launchRanks(const CommandContext& ctx, const TrainCommandOptions& options, const Config& config,
                int argc, char** argv) {
  const Topology topology = resolveTopology(config, ctx.host);
  // The run directory is chosen once, here, so that every rank agrees.
  const std::filesystem::path runDir = runDirFor(config.output);
  std::error_code ignored;
  const bool existed = std::filesystem::exists(runDir, ignored);
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
  const std::filesystem::path runEvents = runDir / kEventsFileName;
  const std::intmax_t eventsBefore = sizeOrNone(runEvents);
  const dist::LaunchResult result = dist::launch(launch, std::cout);
  if (consoleFd >= 0) ::close(consoleFd);
  const bool runStarted = sizeOrNone(runEvents) != eventsBefore;
  if (result.firstFailure) {
    reportEnd(options, runDir, runStarted, result.firstFailure, result.firstFailure->describe());
  } else if (!result.ranks.empty() && result.ranks.front().rank == 0 &&
             result.ranks.front().signal != 0) {
    // Stopped by the user, and rank 0 killed before it could finish cleanly (a second Ctrl+C):
    // it wrote no `finished`.
    reportEnd(options, runDir, runStarted, std::nullopt,
              "stopped by force: " + result.ranks.front().describe() +
                  " before it could stop cleanly; weights/last.pt holds the last checkpoint "
                  "written");
  }
  // Made above for a run that never started: removed again if still empty.
  if (!runStarted && !existed) std::filesystem::remove(runDir, ignored);
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
