// A torchrun-like launcher: starts the ranks of one node as child processes, prefixes their output
// and stops them all when one fails or the launcher is interrupted. POSIX only; no LibTorch.
#pragma once

#include <chrono>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace syncbn::dist {

struct LaunchOptions {
  std::vector<std::string> command;  // the worker's argv; argv[0] is a path or found in PATH
  int nprocPerNode = 1;
  int nnodes = 1;
  int nodeRank = 0;
  std::string masterAddr = "127.0.0.1";
  int masterPort = 0;  // 0: pick a free port, allowed only when nnodes == 1
  std::chrono::milliseconds gracePeriod{5000};  // between SIGTERM (or SIGINT) and SIGKILL
  // Ranks that treat SIGINT/SIGTERM as a request to stop cleanly (finish the iteration, save,
  // exit 0), as training does: a signal to the launcher gives them this long instead of
  // gracePeriod, and when every rank then exits 0 the launcher does too. A second signal still
  // kills them at once. Unset: signals are failures like any other.
  std::optional<std::chrono::milliseconds> cleanStopPeriod;
  // Set in every rank's environment; the rank variables (RANK, ...) take precedence.
  std::vector<std::pair<std::string, std::string>> extraEnvironment;
};

struct RankExitStatus {
  int rank = 0;            // global rank
  int exitCode = 0;        // the shell's convention: 128 + signal when killed by a signal
  int signal = 0;          // the signal that killed the rank, else 0
  std::string startError;  // why the rank could not be started, else empty

  bool failed() const { return exitCode != 0; }
  // "rank 1 exited with code 3", "rank 1 was killed by signal 9 (SIGKILL)",
  // "rank 0 could not be started: /path: No such file or directory"
  std::string describe() const;
};

struct LaunchResult {
  // 0 when every rank exited with 0. Otherwise set by what stopped the run first: the failing
  // rank's exit code (128 + signal if killed; 127 or 126 if it could not be started), or
  // 128 + signal when the launcher itself received SIGINT or SIGTERM.
  int exitCode = 0;
  std::optional<RankExitStatus> firstFailure;  // the first rank failure observed
  std::vector<RankExitStatus> ranks;           // in rank order; ranks never started are absent
};

// Runs options.nprocPerNode ranks and blocks until all have exited. Each rank gets the inherited
// environment plus extraEnvironment and RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, GROUP_RANK,
// MASTER_ADDR, MASTER_PORT as torchrun sets them, and runs in its own process group.
//
// `output` receives every line the ranks print on stdout or stderr as "[rank k] line" (global
// rank), only ever in whole lines (lines over 64 KiB are split), and the launcher's own messages
// as "[launcher] ...". It is written from the calling thread only.
//
// When a rank fails (non-zero exit or a signal) the others get SIGTERM; when the launcher gets
// SIGINT or SIGTERM it forwards that signal to every rank. Ranks still alive after gracePeriod
// get SIGKILL. While launch runs it owns the process's SIGINT, SIGTERM and SIGCHLD handlers
// (restored on return), so only one launch may run per process at a time.
//
// Throws std::invalid_argument for invalid options, naming the field.
LaunchResult launch(const LaunchOptions& options, std::ostream& output);

}  // namespace syncbn::dist
