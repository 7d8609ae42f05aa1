// The launcher against real child processes (launcher_test_worker): the torchrun environment,
// supervision (one failure stops all, SIGKILL after the grace period), signal forwarding, whole
// lines only, start failures, and no leaked descriptors or children.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "dist/child_process.h"
#include "dist/file_descriptor.h"
#include "dist/free_port.h"
#include "dist/launcher.h"
#include "dist/line_prefixer.h"
#include "dist/signal_pipe.h"

namespace syncbn::dist {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Correctness bound for "the launcher does not hang", far above the expected time.
constexpr auto kMustReturnWithin = 10s;

// Kept in sync with chattyLine() in launcher_test_worker.cpp.
std::string chattyLine(int rank, int line) {
  return "chatty rank=" + std::to_string(rank) + " line=" + std::to_string(line) + " " +
         std::string(static_cast<std::size_t>(line % 300), static_cast<char>('a' + line % 26));
}

LaunchOptions workerOptions(std::vector<std::string> args, int nprocPerNode) {
  LaunchOptions options;
  options.command = {LAUNCHER_TEST_WORKER};
  options.command.insert(options.command.end(), args.begin(), args.end());
  options.nprocPerNode = nprocPerNode;
  options.gracePeriod = 300ms;
  return options;
}

struct Outcome {
  LaunchResult result;
  std::string output;
  Clock::duration elapsed;
};

Outcome runLauncher(const LaunchOptions& options) {
  std::ostringstream output;
  const auto start = Clock::now();
  LaunchResult result = launch(options, output);
  return {std::move(result), output.str(), Clock::now() - start};
}

std::vector<std::string> splitLines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream stream(text);
  for (std::string line; std::getline(stream, line);)
    lines.push_back(line);
  return lines;
}

// The lines rank `rank` printed, without their prefix.
std::vector<std::string> rankLines(const std::string& output, int rank) {
  const std::string prefix = "[rank " + std::to_string(rank) + "] ";
  std::vector<std::string> lines;
  for (const auto& line : splitLines(output))
    if (line.starts_with(prefix)) lines.push_back(line.substr(prefix.size()));
  return lines;
}

std::size_t openDescriptorCount() {
  const auto entries = std::filesystem::directory_iterator("/proc/self/fd");
  return static_cast<std::size_t>(std::distance(entries, std::filesystem::directory_iterator()));
}

// True when this process has no children, exited or not: everything started was reaped.
bool noChildrenLeft() {
  errno = 0;
  return ::waitpid(-1, nullptr, WNOHANG) == -1 && errno == ECHILD;
}

class TemporaryDirectory {
 public:
  TemporaryDirectory() {
    static int counter = 0;
    path_ =
        std::filesystem::temp_directory_path() /
        ("syncbn_test_launcher_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::create_directories(path_);
  }
  ~TemporaryDirectory() { std::filesystem::remove_all(path_); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// ---- LinePrefixer ----

TEST(LinePrefixer, WritesWholeLinesWhateverTheChunks) {
  LinePrefixer prefixer("[rank 2] ");
  std::ostringstream out;
  for (const char byte : std::string("first\nsecond line\n\nthird"))
    prefixer.feed(std::string_view(&byte, 1), out);
  EXPECT_EQ(out.str(), "[rank 2] first\n[rank 2] second line\n[rank 2] \n");
  prefixer.finish(out);
  EXPECT_EQ(out.str(), "[rank 2] first\n[rank 2] second line\n[rank 2] \n[rank 2] third\n");
}

TEST(LinePrefixer, SplitsLinesLongerThanTheLimit) {
  LinePrefixer prefixer("> ", 4);
  std::ostringstream out;
  prefixer.feed("abcdefghij\nabcd\nab", out);
  prefixer.feed("cd", out);
  prefixer.feed("\n", out);
  EXPECT_EQ(out.str(), "> abcd\n> efgh\n> ij\n> abcd\n> abcd\n");
}

TEST(LinePrefixer, FinishWritesNothingAfterACompleteLine) {
  LinePrefixer prefixer("> ");
  std::ostringstream out;
  prefixer.feed("done\n", out);
  prefixer.finish(out);
  EXPECT_EQ(out.str(), "> done\n");
}

// ---- building blocks ----

TEST(FreePort, ReturnsAPortThatCanBeBound) {
  const int port = pickFreePort();
  ASSERT_GT(port, 0);
  ASSERT_LT(port, 65536);
  const FileDescriptor socket(::socket(AF_INET, SOCK_STREAM, 0));
  ASSERT_TRUE(socket.isOpen());
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  EXPECT_EQ(::bind(socket.get(), reinterpret_cast<sockaddr*>(&address), sizeof address), 0)
      << std::strerror(errno);
}

TEST(SignalPipe, QueuesSignalsAndRestoresTheHandlers) {
  struct sigaction before {};
  ASSERT_EQ(::sigaction(SIGTERM, nullptr, &before), 0);
  {
    SignalPipe signals;
    EXPECT_THROW(SignalPipe second, std::logic_error);
    ASSERT_EQ(::raise(SIGTERM), 0);
    EXPECT_EQ(signals.take(), std::vector<int>{SIGTERM});
    EXPECT_TRUE(signals.take().empty());
  }
  struct sigaction after {};
  ASSERT_EQ(::sigaction(SIGTERM, nullptr, &after), 0);
  EXPECT_EQ(after.sa_handler, before.sa_handler);
}

TEST(ChildProcess, DestroyingARunningChildKillsAndReapsIt) {
  Pipe pipe = makePipe();
  pid_t pid = -1;
  {
    ChildProcess child = ChildProcess::spawn({LAUNCHER_TEST_WORKER, "sleep"}, {},
                                             pipe.writeEnd.get(), pipe.writeEnd.get());
    pid = child.pid();
    EXPECT_EQ(::getpgid(pid), pid) << "the child leads its own process group";
  }
  EXPECT_EQ(::kill(pid, 0), -1);
  EXPECT_TRUE(noChildrenLeft());
}

// ---- launch ----

TEST(Launcher, GivesEachRankTheTorchrunEnvironment) {
  ASSERT_EQ(::setenv("SYNCBN_TEST_INHERITED", "yes", 1), 0);
  LaunchOptions options = workerOptions({"env", "SYNCBN_TEST_EXTRA", "SYNCBN_TEST_INHERITED"}, 3);
  options.nnodes = 2;
  options.nodeRank = 1;
  options.masterAddr = "10.1.2.3";
  options.masterPort = 29555;
  options.extraEnvironment = {{"SYNCBN_TEST_EXTRA", "hello"}};

  const Outcome run = runLauncher(options);

  EXPECT_EQ(run.result.exitCode, 0) << run.output;
  EXPECT_FALSE(run.result.firstFailure.has_value());
  ASSERT_EQ(run.result.ranks.size(), 3u);
  for (int localRank = 0; localRank < 3; ++localRank) {
    const int rank = 3 + localRank;
    EXPECT_EQ(run.result.ranks[localRank].rank, rank);
    EXPECT_EQ(run.result.ranks[localRank].exitCode, 0);
    const std::vector<std::string> expected = {
        "RANK=" + std::to_string(rank),
        "WORLD_SIZE=6",
        "LOCAL_RANK=" + std::to_string(localRank),
        "LOCAL_WORLD_SIZE=3",
        "GROUP_RANK=1",
        "MASTER_ADDR=10.1.2.3",
        "MASTER_PORT=29555",
        "SYNCBN_TEST_EXTRA=hello",
        "SYNCBN_TEST_INHERITED=yes",
    };
    EXPECT_EQ(rankLines(run.output, rank), expected) << run.output;
  }
  ::unsetenv("SYNCBN_TEST_INHERITED");
}

TEST(Launcher, PicksOneFreePortForAllRanksWhenNoneIsGiven) {
  const Outcome run = runLauncher(workerOptions({"env"}, 2));

  ASSERT_EQ(run.result.exitCode, 0) << run.output;
  std::set<std::string> ports;
  for (int rank = 0; rank < 2; ++rank)
    for (const auto& line : rankLines(run.output, rank))
      if (line.starts_with("MASTER_PORT=")) ports.insert(line);
  ASSERT_EQ(ports.size(), 1u) << run.output;
  EXPECT_GT(std::stoi(ports.begin()->substr(std::string("MASTER_PORT=").size())), 0);
}

TEST(Launcher, StopsAllRanksWhenOneAborts) {
  const std::size_t descriptorsBefore = openDescriptorCount();
  LaunchOptions options = workerOptions({"abort-rank", "1"}, 3);
  options.gracePeriod = LaunchOptions{}.gracePeriod;  // the default must meet the bound too

  const Outcome run = runLauncher(options);

  EXPECT_LT(run.elapsed, kMustReturnWithin);
  EXPECT_EQ(run.result.exitCode, 128 + SIGABRT) << run.output;
  ASSERT_TRUE(run.result.firstFailure.has_value());
  EXPECT_EQ(run.result.firstFailure->rank, 1);
  EXPECT_EQ(run.result.firstFailure->signal, SIGABRT);
  EXPECT_NE(run.output.find("[launcher] rank 1 was killed by signal 6 (SIGABRT); stopping the "
                            "other ranks\n"),
            std::string::npos)
      << run.output;
  ASSERT_EQ(run.result.ranks.size(), 3u);
  EXPECT_EQ(run.result.ranks[0].signal, SIGTERM);
  EXPECT_EQ(run.result.ranks[2].signal, SIGTERM);
  EXPECT_TRUE(noChildrenLeft());
  EXPECT_EQ(openDescriptorCount(), descriptorsBefore);
}

TEST(Launcher, ReturnsTheExitCodeOfTheFailingRank) {
  const Outcome run = runLauncher(workerOptions({"exit-rank", "2", "7"}, 3));

  EXPECT_LT(run.elapsed, kMustReturnWithin);
  EXPECT_EQ(run.result.exitCode, 7) << run.output;
  ASSERT_TRUE(run.result.firstFailure.has_value());
  EXPECT_EQ(run.result.firstFailure->rank, 2);
  EXPECT_EQ(run.result.firstFailure->exitCode, 7);
  EXPECT_EQ(run.result.firstFailure->signal, 0);
  EXPECT_NE(run.output.find("[launcher] rank 2 exited with code 7; stopping the other ranks\n"),
            std::string::npos)
      << run.output;
}

TEST(Launcher, KillsRanksThatIgnoreSigtermAfterTheGracePeriod) {
  const TemporaryDirectory readyDir;
  LaunchOptions options = workerOptions({"ignore-term", "1"}, 3);
  options.extraEnvironment = {{"READY_DIR", readyDir.path().string()}};

  const Outcome run = runLauncher(options);

  EXPECT_GE(run.elapsed, options.gracePeriod);
  EXPECT_LT(run.elapsed, kMustReturnWithin);
  EXPECT_EQ(run.result.exitCode, 3) << run.output;
  ASSERT_TRUE(run.result.firstFailure.has_value());
  EXPECT_EQ(run.result.firstFailure->rank, 1);
  ASSERT_EQ(run.result.ranks.size(), 3u);
  EXPECT_EQ(run.result.ranks[0].signal, SIGKILL) << run.output;
  EXPECT_EQ(run.result.ranks[2].signal, SIGKILL) << run.output;
  EXPECT_NE(run.output.find("[launcher] ranks 0, 2 still running 300 ms after being asked to "
                            "stop; sending SIGKILL\n"),
            std::string::npos)
      << run.output;
  EXPECT_TRUE(noChildrenLeft());
}

TEST(Launcher, WritesOnlyWholeLines) {
  const Outcome run = runLauncher(workerOptions({"chatty"}, 3));

  ASSERT_EQ(run.result.exitCode, 0) << run.output.substr(0, 2000);
  std::map<int, std::set<int>> linesSeen;  // rank -> line numbers
  for (const auto& line : splitLines(run.output)) {
    if (line.starts_with("[launcher] ")) continue;
    int rank = -1;
    int number = -1;
    ASSERT_EQ(std::sscanf(line.c_str(), "[rank %d] chatty rank=%*d line=%d", &rank, &number), 2)
        << "torn or foreign line: " << line;
    ASSERT_EQ(line, "[rank " + std::to_string(rank) + "] " + chattyLine(rank, number));
    EXPECT_TRUE(linesSeen[rank].insert(number).second) << "repeated: " << line;
  }
  ASSERT_EQ(linesSeen.size(), 3u);
  for (const auto& [rank, numbers] : linesSeen) {
    EXPECT_EQ(numbers.size(), 1000u) << "rank " << rank;
    EXPECT_EQ(*numbers.rbegin(), 999) << "rank " << rank;
  }
}

TEST(Launcher, SplitsOverlongLinesAndWritesAnUnfinishedLastLine) {
  const Outcome run = runLauncher(workerOptions({"long-line", "100000"}, 1));

  ASSERT_EQ(run.result.exitCode, 0);
  const std::vector<std::string> expected = {std::string(kMaxLineBytes, 'x'),
                                             std::string(100000 - kMaxLineBytes, 'x')};
  EXPECT_EQ(rankLines(run.output, 0), expected);
  EXPECT_TRUE(run.output.ends_with(std::string(100000 - kMaxLineBytes, 'x') + "\n"));
}

TEST(Launcher, ReportsACommandThatDoesNotExist) {
  const std::size_t descriptorsBefore = openDescriptorCount();
  LaunchOptions options = workerOptions({}, 2);
  options.command = {"/nonexistent/syncbn-worker", "env"};

  const Outcome run = runLauncher(options);

  EXPECT_LT(run.elapsed, kMustReturnWithin);
  EXPECT_EQ(run.result.exitCode, 127);
  ASSERT_TRUE(run.result.firstFailure.has_value());
  EXPECT_EQ(run.result.firstFailure->rank, 0);
  EXPECT_EQ(run.result.firstFailure->describe(),
            "rank 0 could not be started: /nonexistent/syncbn-worker: No such file or directory");
  EXPECT_NE(run.output.find("[launcher] cannot start rank 0: /nonexistent/syncbn-worker: No such "
                            "file or directory\n"),
            std::string::npos)
      << run.output;
  EXPECT_TRUE(noChildrenLeft());
  EXPECT_EQ(openDescriptorCount(), descriptorsBefore);
}

TEST(Launcher, ReportsACommandThatIsNotExecutable) {
  const TemporaryDirectory directory;
  const auto script = directory.path() / "not-executable";
  std::ofstream(script) << "#!/bin/sh\nexit 0\n";
  std::filesystem::permissions(
      script, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  LaunchOptions options = workerOptions({}, 1);
  options.command = {script.string()};

  const Outcome run = runLauncher(options);

  EXPECT_EQ(run.result.exitCode, 126);
  EXPECT_NE(run.output.find("[launcher] cannot start rank 0: " + script.string() +
                            ": Permission denied\n"),
            std::string::npos)
      << run.output;
  EXPECT_TRUE(noChildrenLeft());
}

TEST(Launcher, RejectsInvalidOptions) {
  LaunchOptions noCommand;
  std::ostringstream out;
  EXPECT_THROW(launch(noCommand, out), std::invalid_argument);

  LaunchOptions badNodeRank = workerOptions({"env"}, 1);
  badNodeRank.nnodes = 2;
  badNodeRank.nodeRank = 2;
  badNodeRank.masterPort = 29555;
  EXPECT_THROW(launch(badNodeRank, out), std::invalid_argument);

  LaunchOptions multiNodeWithoutPort = workerOptions({"env"}, 1);
  multiNodeWithoutPort.nnodes = 2;
  EXPECT_THROW(launch(multiNodeWithoutPort, out), std::invalid_argument);
  EXPECT_TRUE(out.str().empty());
}

// SIGINT and SIGTERM to the launcher reach every rank; launch returns 128 + signal and gives
// the process its previous handler back.
class LauncherSignals : public testing::TestWithParam<int> {};

bool waitForHandlerChange(int signal, const struct sigaction& before) {
  const auto deadline = Clock::now() + kMustReturnWithin;
  while (Clock::now() < deadline) {
    struct sigaction current {};
    ::sigaction(signal, nullptr, &current);
    if (current.sa_handler != before.sa_handler) return true;
    std::this_thread::sleep_for(5ms);
  }
  return false;
}

TEST_P(LauncherSignals, ForwardsTheSignalToEveryRank) {
  const int signal = GetParam();
  struct sigaction before {};
  ASSERT_EQ(::sigaction(signal, nullptr, &before), 0);
  Outcome run;
  // gtest owns the main thread, so the launcher runs beside it and the signal comes from here.
  std::thread launcher([&] { run = runLauncher(workerOptions({"sleep", "30"}, 2)); });
  const bool installed = waitForHandlerChange(signal, before);
  if (installed) ::kill(::getpid(), signal);
  launcher.join();  // if not installed, the workers' own 30 s end the run

  ASSERT_TRUE(installed) << "launch never installed its handler";
  EXPECT_LT(run.elapsed, kMustReturnWithin);
  EXPECT_EQ(run.result.exitCode, 128 + signal) << run.output;
  EXPECT_FALSE(run.result.firstFailure.has_value());
  ASSERT_EQ(run.result.ranks.size(), 2u);
  for (const auto& rank : run.result.ranks)
    EXPECT_EQ(rank.signal, signal) << run.output;
  const std::string name = signal == SIGINT ? "SIGINT" : "SIGTERM";
  EXPECT_NE(run.output.find("[launcher] received " + name + ", stopping ranks\n"),
            std::string::npos)
      << run.output;
  struct sigaction after {};
  ASSERT_EQ(::sigaction(signal, nullptr, &after), 0);
  EXPECT_EQ(after.sa_handler, before.sa_handler);
  EXPECT_TRUE(noChildrenLeft());
}

INSTANTIATE_TEST_SUITE_P(SigintAndSigterm, LauncherSignals, testing::Values(SIGINT, SIGTERM),
                         [](const testing::TestParamInfo<int>& info) {
                           return info.param == SIGINT ? "Sigint" : "Sigterm";
                         });

}  // namespace
}  // namespace syncbn::dist
