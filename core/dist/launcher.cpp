#include "dist/launcher.h"

#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <stdexcept>
#include <string_view>
#include <system_error>

#include "dist/child_process.h"
#include "dist/file_descriptor.h"
#include "dist/free_port.h"
#include "dist/line_prefixer.h"
#include "dist/signal_pipe.h"

extern char** environ;

namespace syncbn::dist {
namespace {

using Clock = std::chrono::steady_clock;
using Variables = std::vector<std::pair<std::string, std::string>>;

constexpr std::size_t kReadChunkBytes = 64 * 1024;
// Reading what an exited rank left in a pipe stops after this many chunks: its descendants may
// still hold the pipe and write. 16 chunks cover a full pipe at Linux's default size limit.
constexpr int kMaxDrainReads = 16;

constexpr std::pair<int, const char*> kSignalNames[] = {
    {SIGHUP, "SIGHUP"},   {SIGINT, "SIGINT"},   {SIGQUIT, "SIGQUIT"}, {SIGILL, "SIGILL"},
    {SIGTRAP, "SIGTRAP"}, {SIGABRT, "SIGABRT"}, {SIGBUS, "SIGBUS"},   {SIGFPE, "SIGFPE"},
    {SIGKILL, "SIGKILL"}, {SIGUSR1, "SIGUSR1"}, {SIGSEGV, "SIGSEGV"}, {SIGUSR2, "SIGUSR2"},
    {SIGPIPE, "SIGPIPE"}, {SIGALRM, "SIGALRM"}, {SIGTERM, "SIGTERM"},
};

const char* signalName(int signal) {
  for (const auto& [number, name] : kSignalNames)
    if (number == signal) return name;
  return nullptr;
}

std::string signalText(int signal) {
  const char* name = signalName(signal);
  return name ? name : "signal " + std::to_string(signal);
}

void require(bool valid, const std::string& problem) {
  if (!valid) throw std::invalid_argument("launch options: " + problem);
}

void validate(const LaunchOptions& options) {
  require(!options.command.empty() && !options.command.front().empty(), "command is empty");
  require(options.nprocPerNode >= 1,
          "nprocPerNode must be at least 1, got " + std::to_string(options.nprocPerNode));
  require(options.nnodes >= 1, "nnodes must be at least 1, got " + std::to_string(options.nnodes));
  require(static_cast<long long>(options.nnodes) * options.nprocPerNode <= INT_MAX,
          "nnodes * nprocPerNode is too large");
  require(options.nodeRank >= 0 && options.nodeRank < options.nnodes,
          "nodeRank must be in [0, " + std::to_string(options.nnodes) + "), got " +
              std::to_string(options.nodeRank));
  require(!options.masterAddr.empty(), "masterAddr is empty");
  require(options.masterPort >= 0 && options.masterPort <= 65535,
          "masterPort must be in [0, 65535], got " + std::to_string(options.masterPort));
  require(options.masterPort != 0 || options.nnodes == 1,
          "masterPort must be given when nnodes > 1: all nodes must agree on it");
  require(options.gracePeriod.count() >= 0, "gracePeriod is negative");
  for (std::size_t i = 0; i < options.extraEnvironment.size(); ++i) {
    const std::string& name = options.extraEnvironment[i].first;
    require(!name.empty() && name.find('=') == std::string::npos,
            "extraEnvironment: invalid variable name '" + name + "'");
    for (std::size_t j = 0; j < i; ++j)
      require(options.extraEnvironment[j].first != name,
              "extraEnvironment: '" + name + "' is given twice");
  }
}

bool hasName(const Variables& variables, std::string_view name) {
  return std::any_of(variables.begin(), variables.end(),
                     [&](const auto& variable) { return variable.first == name; });
}

// torchrun's variables for one rank, then the user's extra ones that do not clash with them.
Variables rankVariables(const LaunchOptions& options, int localRank, int masterPort) {
  Variables variables = {
      {"RANK", std::to_string(options.nodeRank * options.nprocPerNode + localRank)},
      {"WORLD_SIZE", std::to_string(options.nnodes * options.nprocPerNode)},
      {"LOCAL_RANK", std::to_string(localRank)},
      {"LOCAL_WORLD_SIZE", std::to_string(options.nprocPerNode)},
      {"GROUP_RANK", std::to_string(options.nodeRank)},
      {"MASTER_ADDR", options.masterAddr},
      {"MASTER_PORT", std::to_string(masterPort)},
  };
  for (const auto& extra : options.extraEnvironment)
    if (!hasName(variables, extra.first)) variables.push_back(extra);
  return variables;
}

// The launcher's environment with `variables` set: "KEY=VALUE" entries for exec.
std::vector<std::string> environmentWith(const Variables& variables) {
  std::vector<std::string> entries;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string_view text(*entry);
    if (!hasName(variables, text.substr(0, text.find('=')))) entries.emplace_back(text);
  }
  for (const auto& [name, value] : variables)
    entries.push_back(name + "=" + value);
  return entries;
}

struct RankStream {
  FileDescriptor pipe;  // read end, non-blocking; closed at the end of the stream
  LinePrefixer lines;
};

struct Rank {
  int rank = 0;
  std::optional<ChildProcess> process;  // empty when it could not be started
  std::vector<RankStream> streams;      // stdout, stderr
  std::optional<RankExitStatus> exit;

  bool running() const { return process && process->running(); }
};

Rank startRank(int rank, const std::vector<std::string>& command,
               const std::vector<std::string>& environment) {
  Pipe out = makePipe();
  Pipe err = makePipe();
  setNonBlocking(out.readEnd);
  setNonBlocking(err.readEnd);
  Rank started{rank,
               ChildProcess::spawn(command, environment, out.writeEnd.get(), err.writeEnd.get()),
               {},
               std::nullopt};
  // Our write ends close on return: the child's copies are then the only ones, so end of stream
  // means the rank (and whatever it started) closed its output.
  const std::string prefix = "[rank " + std::to_string(rank) + "] ";
  started.streams.push_back({std::move(out.readEnd), LinePrefixer(prefix)});
  started.streams.push_back({std::move(err.readEnd), LinePrefixer(prefix)});
  return started;
}

// Starts the ranks, then loops: wait (poll) for output, signals or the kill deadline; copy
// output; reap ranks that exited; stop the rest when one fails or the launcher is interrupted.
class Supervisor {
 public:
  Supervisor(const LaunchOptions& options, std::ostream& output)
      : options_(options),
        output_(output),
        masterPort_(options.masterPort != 0 ? options.masterPort : pickFreePort()) {}

  LaunchResult run() {
    startRanks();
    while (anyRunning())
      waitForEvents();
    finishOutput();
    return result();
  }

 private:
  enum class ReadResult { kData, kEmpty, kClosed };

  void startRanks();
  void waitForEvents();
  int pollTimeoutMs() const;
  void handleSignals();
  void reapExited();
  void recordExit(Rank& rank, const RankExitStatus& status);
  void stop(int signal, int exitCode, std::chrono::milliseconds grace);
  void killWhenGraceIsOver();
  void killRemaining();
  ReadResult readOnce(RankStream& stream);
  void drainOutput(Rank& rank);
  void finishOutput();
  bool anyRunning() const;
  std::string runningRanks() const;
  void say(const std::string& message) { output_ << "[launcher] " << message << '\n'; }
  bool stopping() const { return killDeadline_.has_value(); }
  LaunchResult result() const;

  const LaunchOptions& options_;
  std::ostream& output_;
  const int masterPort_;
  // Declared before ranks_: on an exception the children are killed and reaped while the
  // handlers are still ours, and the previous ones come back only after.
  SignalPipe signals_;
  std::vector<Rank> ranks_;
  std::optional<RankExitStatus> firstFailure_;
  int exitCode_ = 0;
  bool interrupted_ = false;  // the launcher received SIGINT or SIGTERM
  std::chrono::milliseconds grace_{0};
  std::optional<Clock::time_point> killDeadline_;  // set when stopping begins
  bool killSent_ = false;
  std::vector<char> buffer_ = std::vector<char>(kReadChunkBytes);
};

void Supervisor::startRanks() {
  const int first = options_.nodeRank * options_.nprocPerNode;
  const int last = first + options_.nprocPerNode - 1;
  say((first == last ? "starting rank " + std::to_string(first)
                     : "starting ranks " + std::to_string(first) + ".." + std::to_string(last)) +
      " of " + std::to_string(options_.nnodes * options_.nprocPerNode) + " (MASTER_ADDR=" +
      options_.masterAddr + ", MASTER_PORT=" + std::to_string(masterPort_) + ")");
  ranks_.reserve(static_cast<std::size_t>(options_.nprocPerNode));
  for (int localRank = 0; localRank < options_.nprocPerNode; ++localRank) {
    const int rank = first + localRank;
    const auto environment = environmentWith(rankVariables(options_, localRank, masterPort_));
    try {
      ranks_.push_back(startRank(rank, options_.command, environment));
    } catch (const std::system_error& error) {
      say("cannot start rank " + std::to_string(rank) + ": " + error.what());
      // The shell's codes: 127 not found, 126 found but not executable.
      const int code = error.code() == std::errc::no_such_file_or_directory ? 127 : 126;
      const RankExitStatus status{rank, code, 0, error.what()};
      ranks_.push_back(Rank{rank, std::nullopt, {}, status});
      firstFailure_ = status;
      stop(SIGTERM, code, options_.gracePeriod);
      return;
    }
  }
}

void Supervisor::waitForEvents() {
  std::vector<pollfd> fds{{signals_.fd(), POLLIN, 0}};
  std::vector<RankStream*> streams{nullptr};  // parallel to fds
  for (auto& rank : ranks_) {
    for (auto& stream : rank.streams) {
      if (!stream.pipe.isOpen()) continue;
      fds.push_back({stream.pipe.get(), POLLIN, 0});
      streams.push_back(&stream);
    }
  }
  if (::poll(fds.data(), fds.size(), pollTimeoutMs()) < 0) {
    if (errno == EINTR) return;  // the handler has queued the signal; the next poll sees it
    throw std::system_error(errno, std::generic_category(), "poll");
  }
  if (fds[0].revents != 0) handleSignals();
  for (std::size_t i = 1; i < fds.size(); ++i)
    if (fds[i].revents != 0) readOnce(*streams[i]);
  reapExited();
  killWhenGraceIsOver();
  output_.flush();
}

int Supervisor::pollTimeoutMs() const {
  if (!killDeadline_ || killSent_) return -1;
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(*killDeadline_ - Clock::now());
  return static_cast<int>(std::clamp<long long>(left.count(), 0, INT_MAX));
}

void Supervisor::handleSignals() {
  // SIGCHLD needs nothing here: every wake-up reaps.
  for (const int signal : signals_.take()) {
    if (signal != SIGINT && signal != SIGTERM && signal != SIGHUP) continue;
    if (stopping()) {
      say("received " + signalText(signal) + " while stopping ranks; sending SIGKILL");
      killRemaining();
      continue;
    }
    say("received " + signalText(signal) + ", stopping ranks");
    stop(signal, 128 + signal, options_.cleanStopPeriod.value_or(options_.gracePeriod));
    interrupted_ = true;
  }
}

void Supervisor::reapExited() {
  for (auto& rank : ranks_) {
    if (!rank.running()) continue;
    if (const auto status = rank.process->tryReap()) {
      drainOutput(rank);
      recordExit(rank, {rank.rank, status->exitCode, status->signal, {}});
    }
  }
}

void Supervisor::recordExit(Rank& rank, const RankExitStatus& status) {
  rank.exit = status;
  if (!status.failed()) return;
  if (stopping()) {
    say(status.describe());
    return;
  }
  firstFailure_ = status;
  say(status.describe() + (anyRunning() ? "; stopping the other ranks" : ""));
  stop(SIGTERM, status.exitCode, options_.gracePeriod);
}

void Supervisor::stop(int signal, int exitCode, std::chrono::milliseconds grace) {
  exitCode_ = exitCode;
  grace_ = grace;
  killDeadline_ = Clock::now() + grace;
  for (auto& rank : ranks_)
    if (rank.running()) rank.process->signalGroup(signal);
}

void Supervisor::killWhenGraceIsOver() {
  if (!killDeadline_ || killSent_ || Clock::now() < *killDeadline_ || !anyRunning()) return;
  say(runningRanks() + " still running " + std::to_string(grace_.count()) +
      " ms after being asked to stop; sending SIGKILL");
  killRemaining();
}

void Supervisor::killRemaining() {
  killSent_ = true;
  for (auto& rank : ranks_)
    if (rank.running()) rank.process->signalGroup(SIGKILL);
}

Supervisor::ReadResult Supervisor::readOnce(RankStream& stream) {
  const ssize_t count = ::read(stream.pipe.get(), buffer_.data(), buffer_.size());
  if (count > 0) {
    stream.lines.feed({buffer_.data(), static_cast<std::size_t>(count)}, output_);
    return ReadResult::kData;
  }
  if (count == 0) {
    stream.lines.finish(output_);
    stream.pipe.reset();
    return ReadResult::kClosed;
  }
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return ReadResult::kEmpty;
  throw std::system_error(errno, std::generic_category(), "read(rank output)");
}

// What a rank wrote before it exited is already in its pipes: reading it now puts its last lines
// before the launcher's verdict on it.
void Supervisor::drainOutput(Rank& rank) {
  for (auto& stream : rank.streams)
    for (int i = 0; i < kMaxDrainReads && stream.pipe.isOpen(); ++i)
      if (readOnce(stream) != ReadResult::kData) break;
}

// All ranks have exited; pipes still open are held by their descendants, which are not waited for.
void Supervisor::finishOutput() {
  for (auto& rank : ranks_) {
    drainOutput(rank);
    for (auto& stream : rank.streams) {
      if (!stream.pipe.isOpen()) continue;
      stream.lines.finish(output_);
      stream.pipe.reset();
    }
  }
  output_.flush();
}

bool Supervisor::anyRunning() const {
  return std::any_of(ranks_.begin(), ranks_.end(), [](const Rank& rank) { return rank.running(); });
}

std::string Supervisor::runningRanks() const {
  std::string list;
  int count = 0;
  for (const auto& rank : ranks_) {
    if (!rank.running()) continue;
    list += (count++ == 0 ? "" : ", ") + std::to_string(rank.rank);
  }
  return (count == 1 ? "rank " : "ranks ") + list;
}

LaunchResult Supervisor::result() const {
  const bool cleanStop = interrupted_ && options_.cleanStopPeriod && !firstFailure_ &&
                         std::all_of(ranks_.begin(), ranks_.end(), [](const Rank& rank) {
                           return rank.exit && !rank.exit->failed();
                         });
  LaunchResult result{cleanStop ? 0 : exitCode_, firstFailure_, {}};
  for (const auto& rank : ranks_)
    if (rank.exit) result.ranks.push_back(*rank.exit);
  return result;
}

}  // namespace

std::string RankExitStatus::describe() const {
  const std::string who = "rank " + std::to_string(rank);
  if (!startError.empty()) return who + " could not be started: " + startError;
  if (signal == 0) return who + " exited with code " + std::to_string(exitCode);
  const char* name = signalName(signal);
  return who + " was killed by signal " + std::to_string(signal) +
         (name ? std::string(" (") + name + ")" : "");
}

LaunchResult launch(const LaunchOptions& options, std::ostream& output) {
  validate(options);
  Supervisor supervisor(options, output);
  return supervisor.run();
}

}  // namespace syncbn::dist
