// The progress channel against a test-side GUI listening on a Unix socket: the handshake and the
// events arrive in order, the file keeps every event whatever the GUI does, a GUI that stops
// reading or goes away never blocks publish() or close(), and commands (and garbage) from the GUI
// are handled. Nothing here asserts on time: a watchdog aborts a run that deadlocks.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "common/protocol.h"
#include "common/version.h"
#include "dist/file_descriptor.h"
#include "train/progress_channel.h"

namespace syncbn::train {
namespace {

using dist::FileDescriptor;
using namespace std::chrono_literals;

// Aborts the test program if still armed after `limit`: a deadlock fails loudly instead of
// hanging the suite. Generous limits, since a loaded machine is slow, not stuck.
class Watchdog {
 public:
  explicit Watchdog(std::string what, std::chrono::seconds limit = 120s)
      : thread_([this, what = std::move(what), limit] {
          std::unique_lock lock(mutex_);
          if (!done_.wait_for(lock, limit, [this] { return disarmed_; })) {
            std::fprintf(stderr, "watchdog: %s did not finish within %llds\n", what.c_str(),
                         static_cast<long long>(limit.count()));
            std::abort();
          }
        }) {}
  ~Watchdog() {
    {
      const std::lock_guard lock(mutex_);
      disarmed_ = true;
    }
    done_.notify_one();
    thread_.join();
  }
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

 private:
  std::mutex mutex_;
  std::condition_variable done_;
  bool disarmed_ = false;
  std::thread thread_;
};

// A short folder name: a socket's path must fit in sockaddr_un (about 100 bytes).
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("sbn_ev_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

// The GUI's side: listens before the channel connects, as the real GUI does.
class FakeGui {
 public:
  explicit FakeGui(std::filesystem::path path) : path_(std::move(path)) {
    listener_ = FileDescriptor(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!listener_.isOpen()) throw std::runtime_error("socket");
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path_.c_str(), sizeof(address.sun_path) - 1);
    if (::bind(listener_.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)) !=
            0 ||
        ::listen(listener_.get(), 4) != 0)
      throw std::runtime_error("bind/listen " + path_.string() + ": " + std::strerror(errno));
  }

  const std::filesystem::path& path() const { return path_; }

  void accept() {
    connection_ = FileDescriptor(::accept(listener_.get(), nullptr, nullptr));
    if (!connection_.isOpen()) throw std::runtime_error("accept");
  }

  // Blocks until `count` lines have arrived; returns them without "\n".
  std::vector<std::string> readLines(std::size_t count) {
    std::vector<std::string> lines;
    while (lines.size() < count) {
      for (auto& line : splitter_.take())
        lines.push_back(line.ok() ? line.value() : "<error: " + line.error().reason + ">");
      if (lines.size() >= count) break;
      char buffer[65536];
      const ssize_t got = ::read(connection_.get(), buffer, sizeof(buffer));
      if (got <= 0) break;  // the channel closed: the caller sees too few lines
      splitter_.feed(std::string_view(buffer, static_cast<std::size_t>(got)));
    }
    return lines;
  }

  void send(const std::string& bytes) {
    std::size_t sent = 0;
    while (sent < bytes.size()) {
      const ssize_t n = ::send(connection_.get(), bytes.data() + sent, bytes.size() - sent, 0);
      if (n <= 0) throw std::runtime_error("send to the channel failed");
      sent += static_cast<std::size_t>(n);
    }
  }

  void disconnect() { connection_.reset(); }
  // The channel's reads go on working; its sends fail with EPIPE.
  void stopReceiving() { ::shutdown(connection_.get(), SHUT_RD); }

 private:
  std::filesystem::path path_;
  FileDescriptor listener_;
  FileDescriptor connection_;
  protocol::LineSplitter splitter_;
};

// Designated initializers would leave fields unnamed, which GCC warns about.
ProgressChannelOptions channelOptions(std::filesystem::path eventsFile,
                                      std::filesystem::path progressSocket,
                                      std::string token = "t") {
  ProgressChannelOptions options;
  if (!eventsFile.empty()) options.eventsFiles.push_back(std::move(eventsFile));
  options.progressSocket = std::move(progressSocket);
  options.sessionToken = std::move(token);
  return options;
}

std::vector<std::string> readFileLines(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);)
    lines.push_back(line);
  return lines;
}

std::string withoutNewline(std::string line) {
  if (line.ends_with('\n')) line.pop_back();
  return line;
}

protocol::Message step(long long iteration) {
  return protocol::Step{.epoch = static_cast<int>(iteration / 100),
                        .iteration = iteration,
                        .time = 0.5 * static_cast<double>(iteration),
                        .losses = {{"box", 1.5}, {"cls", 2.25}, {"dfl", 1.125}},
                        .rank_losses = {},
                        .lr = 0.01,
                        .images_per_second = 40,
                        .ranks = {}};
}

// About 200 KB encoded: one of these fills a Unix socket's buffer.
protocol::Message bigBnStats(long long iteration) {
  protocol::BnStats stats;
  stats.iteration = iteration;
  for (int layer = 0; layer < 64; ++layer) {
    protocol::BnLayerStats layerStats;
    layerStats.layer = "model." + std::to_string(layer) + ".bn";
    layerStats.divergence = 0.1;
    for (int i = 0; i < 96; ++i) {
      layerStats.rank_mean.push_back(0.123456789 + i);
      layerStats.rank_var.push_back(1.987654321 + i);
    }
    stats.layers.push_back(std::move(layerStats));
  }
  return stats;
}

long long iterationOf(const std::string& line) {
  const auto decoded = protocol::decode(line);
  if (!decoded.ok()) return -1;
  if (const auto* s = std::get_if<protocol::Step>(&decoded.value())) return s->iteration;
  if (const auto* b = std::get_if<protocol::BnStats>(&decoded.value())) return b->iteration;
  return -1;
}

std::vector<std::string> logTexts(const std::vector<std::string>& lines) {
  std::vector<std::string> texts;
  for (const auto& line : lines) {
    const auto decoded = protocol::decode(line);
    if (decoded.ok())
      if (const auto* log = std::get_if<protocol::Log>(&decoded.value()))
        texts.push_back(log->text);
  }
  return texts;
}

// Polls takeCommands() until `count` commands arrived (the watchdog guards the wait).
std::vector<protocol::Message> waitForCommands(ProgressChannel& channel, std::size_t count) {
  std::vector<protocol::Message> commands;
  while (commands.size() < count) {
    for (auto& command : channel.takeCommands())
      commands.push_back(std::move(command));
    std::this_thread::sleep_for(1ms);
  }
  return commands;
}

TEST(ProgressChannel, SendsHelloThenEventsInOrderAndTheFileGetsTheSameLines) {
  const Watchdog watchdog("the handshake test");
  const TempDir dir;
  FakeGui gui(dir / "gui.sock");
  ProgressChannel channel(channelOptions(dir / "events.jsonl", gui.path(), "9f2c4e1a7b3d5f60"));
  gui.accept();

  std::vector<protocol::Message> events;
  for (int i = 0; i < 50; ++i)
    events.push_back(step(i));
  events.push_back(protocol::Log{.level = "info", .rank = 0, .text = "épocha ✓"});
  events.push_back(
      protocol::Checkpoint{.path = "w/last.pt", .kind = "last", .epoch = 0, .iteration = 49});
  for (const auto& event : events)
    channel.publish(event);

  const auto received = gui.readLines(events.size() + 1);
  ASSERT_EQ(received.size(), events.size() + 1);
  const auto hello = protocol::decode(received[0]);
  ASSERT_TRUE(hello.ok()) << received[0];
  EXPECT_EQ(std::get<protocol::Hello>(hello.value()),
            (protocol::Hello{.protocol = protocol::kProtocolVersion,
                             .engine_version = kVersion,
                             .token = "9f2c4e1a7b3d5f60"}));
  for (std::size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(received[i + 1], withoutNewline(protocol::encode(events[i]))) << "event " << i;
    const auto decoded = protocol::decode(received[i + 1]);
    ASSERT_TRUE(decoded.ok()) << decoded.error().reason;
    EXPECT_EQ(decoded.value(), events[i]);
  }
  channel.close();

  // The file has the events, not the hello: that carries the session secret.
  const std::vector<std::string> fileLines = readFileLines(dir / "events.jsonl");
  EXPECT_EQ(fileLines, std::vector<std::string>(received.begin() + 1, received.end()));
  EXPECT_EQ(channel.droppedEvents(), 0u);
  EXPECT_EQ(channel.connectionLosses(), 0u);
}

TEST(ProgressChannel, WithoutASocketWritesTheFileAppendingToWhatIsThere) {
  const TempDir dir;
  const auto path = dir / "events.jsonl";
  std::ofstream(path) << "earlier line\n";
  {
    ProgressChannel channel(channelOptions(path, {}));
    channel.publish(step(1));
    channel.publish(step(2));
    // Written through per line: a reader sees the lines before close().
    EXPECT_EQ(readFileLines(path).size(), 3u);
    channel.close();
    EXPECT_THROW(channel.publish(step(3)), std::logic_error);
    channel.close();  // idempotent
  }
  EXPECT_EQ(readFileLines(path),
            (std::vector<std::string>{"earlier line", withoutNewline(protocol::encode(step(1))),
                                      withoutNewline(protocol::encode(step(2)))}));
}

TEST(ProgressChannel, EveryEventsFileGetsEveryLineAndAFileNamedTwiceGetsItOnce) {
  const TempDir dir;
  std::filesystem::create_directories(dir / "run");
  std::filesystem::create_symlink(dir / "run", dir / "link");
  ProgressChannelOptions options;
  // The run's file, the same file by two other paths, and a second file.
  options.eventsFiles = {dir / "run/events.jsonl", dir / "link/events.jsonl",
                         dir / "run/../run/events.jsonl", dir / "extra.jsonl"};
  ProgressChannel channel(options);
  for (int i = 0; i < 3; ++i)
    channel.publish(step(i));
  channel.close();
  const std::vector<std::string> expected{withoutNewline(protocol::encode(step(0))),
                                          withoutNewline(protocol::encode(step(1))),
                                          withoutNewline(protocol::encode(step(2)))};
  EXPECT_EQ(readFileLines(dir / "run/events.jsonl"), expected);
  EXPECT_EQ(readFileLines(dir / "extra.jsonl"), expected);
}

TEST(ProgressChannel, AGuiThatStopsReadingNeverBlocksPublishAndTheFileKeepsEverything) {
  const Watchdog watchdog("publishing to a GUI that does not read");
  const TempDir dir;
  FakeGui gui(dir / "gui.sock");
  ProgressChannelOptions options = channelOptions(dir / "events.jsonl", gui.path());
  options.closeDeadline = 100ms;
  ProgressChannel channel(options);
  gui.accept();  // and never reads

  constexpr long long kBig = 40;
  constexpr long long kTotal = 100'000;
  for (long long i = 0; i < kBig; ++i)
    channel.publish(bigBnStats(i));
  for (long long i = kBig; i < kTotal; ++i)
    channel.publish(step(i));
  // Reaching this line is the test: 100k publishes returned although nobody read the socket.
  EXPECT_GT(channel.droppedEvents(), 0u);
  EXPECT_EQ(channel.connectionLosses(), 0u);
  channel.close();

  const std::vector<std::string> lines = readFileLines(dir / "events.jsonl");
  ASSERT_EQ(lines.size(), static_cast<std::size_t>(kTotal));
  for (long long i = 0; i < kTotal; ++i)
    ASSERT_EQ(iterationOf(lines[static_cast<std::size_t>(i)]), i) << "line " << i;
}

// The GUI reads hello and ten events, then `goAway` ends the connection; the channel must notice
// once, raise no SIGPIPE (its default disposition would kill this test) and keep the file going.
void expectTheFileOutlivesTheGui(void (FakeGui::*goAway)()) {
  const Watchdog watchdog("publishing after the GUI went away");
  const TempDir dir;
  FakeGui gui(dir / "gui.sock");
  ProgressChannel channel(channelOptions(dir / "events.jsonl", gui.path()));
  gui.accept();

  long long iteration = 0;
  for (; iteration < 10; ++iteration)
    channel.publish(step(iteration));
  ASSERT_EQ(gui.readLines(11).size(), 11u);
  (gui.*goAway)();

  // Publishing on until the channel notices, then some more.
  while (channel.connectionLosses() == 0) {
    channel.publish(step(iteration++));
    std::this_thread::sleep_for(1ms);
  }
  const long long total = iteration + 100;
  for (; iteration < total; ++iteration)
    channel.publish(step(iteration));
  channel.close();
  EXPECT_EQ(channel.connectionLosses(), 1u);

  const std::vector<std::string> lines = readFileLines(dir / "events.jsonl");
  long long expected = 0;
  for (const auto& line : lines) {
    const long long lineIteration = iterationOf(line);
    if (lineIteration < 0) continue;  // the log line
    EXPECT_EQ(lineIteration, expected++);
  }
  EXPECT_EQ(expected, total);
  const std::vector<std::string> logs = logTexts(lines);
  ASSERT_EQ(logs.size(), 1u);
  EXPECT_NE(logs[0].find("lost the connection to the GUI"), std::string::npos) << logs[0];
  EXPECT_NE(logs[0].find((dir / "gui.sock").string()), std::string::npos) << logs[0];
}

TEST(ProgressChannel, AGuiThatClosesTheConnectionIsReportedOnceAndTheFileGoesOn) {
  expectTheFileOutlivesTheGui(&FakeGui::disconnect);
}

// Only sending fails then (EPIPE), which is where SIGPIPE would strike.
TEST(ProgressChannel, AGuiThatStopsReceivingIsReportedOnceWithoutSigpipe) {
  expectTheFileOutlivesTheGui(&FakeGui::stopReceiving);
}

TEST(ProgressChannel, CommandsFromTheGuiAreReturnedInOrder) {
  const Watchdog watchdog("waiting for commands");
  const TempDir dir;
  FakeGui gui(dir / "gui.sock");
  ProgressChannel channel(channelOptions({}, gui.path()));
  gui.accept();
  ASSERT_EQ(gui.readLines(1).size(), 1u);  // hello

  gui.send(protocol::encode(protocol::Stop{}));
  // A line split across writes, with a CRLF ending.
  gui.send(R"({"v":1,"ty)");
  gui.send("pe\":\"checkpoint_now\"}\r\n");
  const auto commands = waitForCommands(channel, 2);
  EXPECT_EQ(commands,
            (std::vector<protocol::Message>{protocol::Stop{}, protocol::CheckpointNow{}}));
  EXPECT_TRUE(channel.takeCommands().empty());
  EXPECT_EQ(channel.ignoredLines(), 0u);
}

TEST(ProgressChannel, GarbageAndOversizedLinesFromTheGuiAreLoggedAndIgnored) {
  const Watchdog watchdog("waiting for a command after garbage");
  const TempDir dir;
  FakeGui gui(dir / "gui.sock");
  ProgressChannel channel(channelOptions(dir / "events.jsonl", gui.path()));
  gui.accept();
  ASSERT_EQ(gui.readLines(1).size(), 1u);  // hello

  // The channel reads while the test writes, so these big sends do not deadlock.
  gui.send("garbage\n");
  gui.send(std::string(protocol::kMaxLineBytes + 500'000, 'x') + "\n");
  gui.send(protocol::encode(step(7)));  // valid, but not a command
  gui.send(protocol::encode(protocol::Stop{}));
  EXPECT_EQ(waitForCommands(channel, 1), std::vector<protocol::Message>{protocol::Stop{}});
  EXPECT_EQ(channel.ignoredLines(), 3u);
  channel.close();

  const std::vector<std::string> logs = logTexts(readFileLines(dir / "events.jsonl"));
  ASSERT_EQ(logs.size(), 3u);
  EXPECT_NE(logs[0].find("not valid JSON"), std::string::npos) << logs[0];
  EXPECT_NE(logs[1].find("oversized line dropped"), std::string::npos) << logs[1];
  EXPECT_NE(logs[2].find("\"step\" is not a command"), std::string::npos) << logs[2];
  EXPECT_EQ(channel.connectionLosses(), 0u);
}

TEST(ProgressChannel, CloseReturnsWhenTheGuiStoppedReading) {
  const Watchdog watchdog("close() with a stalled GUI");
  const TempDir dir;
  FakeGui gui(dir / "gui.sock");
  {
    ProgressChannel channel(channelOptions({}, gui.path()));
    gui.accept();  // and never reads
    long long iteration = 0;
    while (channel.droppedEvents() == 0)
      channel.publish(bigBnStats(iteration++));
    const auto droppedBeforeClose = channel.droppedEvents();
    channel.close();  // the default 2 s deadline, then gives up on the queued events
    EXPECT_GT(channel.droppedEvents(), droppedBeforeClose);
  }
  {
    FakeGui secondGui(dir / "gui2.sock");
    ProgressChannel channel(channelOptions({}, secondGui.path()));
    secondGui.accept();
    for (long long iteration = 0; channel.droppedEvents() == 0; ++iteration)
      channel.publish(bigBnStats(iteration));
  }  // the destructor returns too
}

TEST(ProgressChannel, AnEventsFileInAMissingFolderIsAnErrorNamingThePath) {
  const TempDir dir;
  const auto missing = dir / "no-such-dir" / "events.jsonl";
  try {
    ProgressChannel channel(channelOptions(missing, {}));
    FAIL() << "expected an error";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find(missing.string()), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("No such file or directory"), std::string::npos)
        << error.what();
  }
}

TEST(ProgressChannel, AnEventsFileInAReadOnlyFolderIsAnErrorNamingThePath) {
  if (::geteuid() == 0) GTEST_SKIP() << "root ignores directory permissions";
  const TempDir dir;
  const auto readOnly = dir / "read-only";
  std::filesystem::create_directories(readOnly);
  ::chmod(readOnly.c_str(), 0555);
  try {
    ProgressChannel channel(channelOptions(readOnly / "events.jsonl", {}));
    FAIL() << "expected an error";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find((readOnly / "events.jsonl").string()),
              std::string::npos)
        << error.what();
  }
  ::chmod(readOnly.c_str(), 0755);
}

// A socket path that does not exist, or is a plain file: by default the run goes on with the
// files and a warning naming the path; with requireSocket the files get the reason and a failed
// `finished` before the constructor throws.
TEST(ProgressChannel, AnUnreachableSocketIsAWarningOrWithRequireSocketARecordedFailure) {
  const TempDir dir;
  std::ofstream(dir / "plain-file.sock") << "not a socket";
  for (const auto& socket : {dir / "nobody.sock", dir / "plain-file.sock"}) {
    const auto events = dir / "events.jsonl";
    std::filesystem::remove(events);
    {
      ProgressChannel channel(channelOptions(events, socket));
      EXPECT_NE(channel.connectionWarning().find(socket.string()), std::string::npos)
          << channel.connectionWarning();
      channel.publish(step(1));
      channel.close();
    }
    std::vector<std::string> lines = readFileLines(events);
    ASSERT_EQ(lines.size(), 2u);
    const auto warning = protocol::decode(lines[0]);
    ASSERT_TRUE(warning.ok() && std::holds_alternative<protocol::Log>(warning.value()));
    EXPECT_EQ(std::get<protocol::Log>(warning.value()).level, "warning");
    EXPECT_EQ(lines[1], withoutNewline(protocol::encode(step(1))));

    std::filesystem::remove(events);
    ProgressChannelOptions required = channelOptions(events, socket);
    required.requireSocket = true;
    try {
      ProgressChannel channel(required);
      ADD_FAILURE() << "expected an error";
    } catch (const std::runtime_error& error) {
      EXPECT_NE(std::string(error.what()).find(socket.string()), std::string::npos) << error.what();
    }
    lines = readFileLines(events);
    ASSERT_EQ(lines.size(), 2u) << "the reason, then finished";
    const auto finished = protocol::decode(lines[1]);
    ASSERT_TRUE(finished.ok() && std::holds_alternative<protocol::Finished>(finished.value()));
    EXPECT_EQ(std::get<protocol::Finished>(finished.value()).status, "failed");
    EXPECT_NE(std::get<protocol::Finished>(finished.value()).error.find(socket.string()),
              std::string::npos);
  }
}

// A held file is not created until commit(), then gets every line; closed without commit() it
// never exists, while the other files got everything.
TEST(ProgressChannel, AHeldEventsFileIsWrittenOnlyFromCommitWithEveryEarlierLine) {
  const TempDir dir;
  const auto held = dir / "run" / "events.jsonl";
  std::filesystem::create_directories(held.parent_path());
  std::ofstream(held) << "earlier run\n";
  const auto before = readFileLines(held);
  {
    ProgressChannelOptions options = channelOptions(dir / "other.jsonl", {});
    options.heldEventsFile = held;
    ProgressChannel channel(options);
    channel.publish(step(1));
    channel.close();  // refused before it started
  }
  EXPECT_EQ(readFileLines(held), before);
  EXPECT_EQ(readFileLines(dir / "other.jsonl").size(), 1u);

  ProgressChannelOptions options = channelOptions(dir / "other.jsonl", {});
  options.heldEventsFile = held;
  ProgressChannel channel(options);
  channel.publish(step(2));
  channel.commit();
  channel.publish(step(3));
  channel.commit();  // idempotent
  channel.close();
  EXPECT_EQ(readFileLines(held),
            (std::vector<std::string>{"earlier run", withoutNewline(protocol::encode(step(2))),
                                      withoutNewline(protocol::encode(step(3)))}));
  // Held and named as an events file too (--events pointing at the run's own file): once.
  ProgressChannelOptions both = channelOptions(held, {});
  both.heldEventsFile = held;
  ProgressChannel twice(both);
  twice.publish(step(4));
  twice.commit();
  twice.close();
  EXPECT_EQ(readFileLines(held).size(), 4u);
}

TEST(ProgressChannel, TheSessionTokenComesFromTheEnvironment) {
  ::unsetenv(kSessionTokenVariable);
  EXPECT_EQ(sessionTokenFromEnvironment(), "");
  ::setenv(kSessionTokenVariable, "abc123", 1);
  EXPECT_EQ(sessionTokenFromEnvironment(), "abc123");
  ::unsetenv(kSessionTokenVariable);
}

}  // namespace
}  // namespace syncbn::train
