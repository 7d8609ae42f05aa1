// `syncbn-engine train [CONFIG] [key=value ...]`: the training run. Started by hand it becomes
// the launcher of this node's ranks (one per CUDA device or distributed.cpu_ranks), each running
// the same command line; under torchrun or srun each process is a rank already.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "engine/commands.h"

namespace syncbn::engine {

struct TrainCommandOptions {
  std::string file;                      // configuration YAML; empty: defaults
  std::vector<std::string> overrides;    // key=value
  std::filesystem::path eventsFile;      // --events: JSON lines, appended (besides events.jsonl)
  std::filesystem::path progressSocket;  // --progress-socket: the GUI's local socket
  // --require-progress-socket: an unreachable socket fails the run (recorded in the events
  // files); without it the run goes on with the files and a warning.
  bool requireProgressSocket = false;
  bool worker = false;    // --worker: this process is a rank (srun)
  int bnStatsEvery = 10;  // iterations between bn_stats events
};

// Rank 0 appends every progress event to this file in the run directory (docs/protocol.md).
inline constexpr const char* kEventsFileName = "events.jsonl";

// Environment variables the launcher hands its ranks.
inline constexpr const char* kRunDirVariable = "SYNCBN_RUN_DIR";        // the run directory
inline constexpr const char* kConsoleFdVariable = "SYNCBN_CONSOLE_FD";  // a terminal for rank 0
inline constexpr const char* kLaunchedVariable = "SYNCBN_LAUNCHED";     // the launcher reports
                                                                        // failures itself

// argc/argv: the whole command line, re-run by the launcher in every rank.
int runTrainCommand(const CommandContext& ctx, const TrainCommandOptions& options, int argc,
                    char** argv);

// project/name, or project/name2, name3, ... when it exists and exist_ok is false (as
// Ultralytics numbers runs). Creates nothing.
std::filesystem::path chooseRunDir(const OutputConfig& output);

}  // namespace syncbn::engine
