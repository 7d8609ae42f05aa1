// `syncbn-engine train` as users run it: real processes, the real launcher and Gloo, a small demo
// dataset. The events file (docs/protocol.md) is what the tests read back.
//   - global-batch equivalence: 2 ranks x 4 with SyncBN = 1 rank x 8 (plain BN differs);
//   - stop: SIGINT to the launcher, or the GUI's stop command, stops both ranks after the same
//     iteration, saves, exits 0;
//   - rank death: kill -9 of a rank ends the run within 30 s, naming the rank;
//   - resume after kill -9 through the numbered run's own args.yaml: final weights equal an
//     uninterrupted run's;
//   - a corrupt checkpoint is refused with the file named and left as it was;
//   - results.csv, bn_stats and PreciseBN are produced;
//   - a run whose output pipe closes (a GUI that quit) goes on to its end, and every run writes
//     RUN_DIR/events.jsonl, with `time` that never decreases and a start time kept on resume.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <torch/torch.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/protocol.h"
#include "model/detection_model.h"
#include "tensorboard/read_tfevents.h"
#include "train/pretrained_weights.h"
#include "train/training_state.h"

extern char** environ;

namespace syncbn {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

const fs::path kEngine = SYNCBN_ENGINE_PATH;

fs::path testDir() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  fs::path dir = fs::temp_directory_path() /
                 ("syncbn_train_" + std::to_string(::getpid()) + "_" + info->name());
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// The engine as a child process; stdout and stderr go to a log file, or to `outputFd`.
class Engine {
 public:
  Engine(std::vector<std::string> args, const fs::path& log) : log_(log) {
    spawn(std::move(args), -1);
  }
  // Output to `outputFd` (a pipe's write end, say); log() then reads nothing.
  Engine(std::vector<std::string> args, int outputFd) { spawn(std::move(args), outputFd); }
  ~Engine() {
    if (!exitCode_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  pid_t pid() const { return pid_; }
  // The exit code (128 + signal when killed), or nullopt when still running after `timeout`.
  std::optional<int> wait(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!exitCode_) {
      int status = 0;
      const pid_t done = ::waitpid(pid_, &status, WNOHANG);
      if (done == pid_) {
        exitCode_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        break;
      }
      if (std::chrono::steady_clock::now() > deadline) return std::nullopt;
      std::this_thread::sleep_for(20ms);
    }
    return exitCode_;
  }
  std::string log() const {
    std::ifstream in(log_);
    return {std::istreambuf_iterator<char>(in), {}};
  }

 private:
  void spawn(std::vector<std::string> args, int outputFd) {
    args.insert(args.begin(), kEngine.string());
    std::vector<char*> argv;
    for (auto& arg : args)
      argv.push_back(arg.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    if (outputFd >= 0)
      posix_spawn_file_actions_adddup2(&actions, outputFd, 1);
    else
      posix_spawn_file_actions_addopen(&actions, 1, log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                       0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    const int error = ::posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (error != 0) throw std::runtime_error("cannot start " + kEngine.string());
  }

  fs::path log_;
  pid_t pid_ = -1;
  std::optional<int> exitCode_;
};

int runEngine(const std::vector<std::string>& args, const fs::path& log,
              std::chrono::seconds timeout = 300s) {
  Engine engine(args, log);
  const std::optional<int> code = engine.wait(timeout);
  EXPECT_TRUE(code) << "timed out: " << engine.log();
  if (code && *code != 0) ADD_FAILURE() << "exit " << *code << ":\n" << engine.log();
  return code.value_or(-1);
}

std::vector<protocol::Message> readEvents(const fs::path& file) {
  std::vector<protocol::Message> events;
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    auto decoded = protocol::decode(line);
    if (decoded.ok()) events.push_back(decoded.value());
  }
  return events;
}

template <typename T>
std::vector<T> eventsOf(const std::vector<protocol::Message>& events) {
  std::vector<T> out;
  for (const auto& event : events)
    if (const T* typed = std::get_if<T>(&event)) out.push_back(*typed);
  return out;
}

// A demo dataset shared by the tests of this process.
const fs::path& smallDataset() {
  static const fs::path yaml = [] {
    const fs::path dir =
        fs::temp_directory_path() / ("syncbn_train_data_" + std::to_string(::getpid()));
    fs::remove_all(dir);
    Engine make(
        {"make-demo-data", dir.string(), "--train", "80", "--val", "8", "--imgsz", "64", "--seed",
         "5"},
        fs::temp_directory_path() / ("syncbn_train_data_" + std::to_string(::getpid()) + ".log"));
    if (make.wait(120s) != 0) throw std::runtime_error("make-demo-data failed: " + make.log());
    return dir / "data.yaml";
  }();
  return yaml;
}

// A small, fast, reproducible run on the CPU, into dir/name; its events go to
// dir/name/events.jsonl.
std::vector<std::string> smallRunWithoutEventsFlag(const fs::path& dir, const std::string& name,
                                                   std::vector<std::string> more) {
  std::vector<std::string> args{"train",         "data=" + smallDataset().string(),
                                "imgsz=64",      "model=yolov8n.yaml",
                                "device=cpu",    "batch=8",
                                "workers=1",     "amp=false",
                                "augment=false", "project=" + dir.string(),
                                "name=" + name};
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

// The same, with a copy of the events in dir/name.jsonl (--events).
std::vector<std::string> smallRun(const fs::path& dir, const std::string& name,
                                  std::vector<std::string> more) {
  more.insert(more.end(), {"--events", (dir / (name + ".jsonl")).string()});
  return smallRunWithoutEventsFlag(dir, name, std::move(more));
}

double unixNow() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::vector<double> stepLosses(const fs::path& events) {
  std::vector<double> losses;
  for (const auto& step : eventsOf<protocol::Step>(readEvents(events)))
    losses.push_back(step.losses.at("box") + step.losses.at("cls") + step.losses.at("dfl"));
  return losses;
}

TEST(Training, TwoRanksWithSyncBnReproduceOneRankWithTheGlobalBatch) {
  const fs::path dir = testDir();
  const std::vector<std::string> common{"epochs=1", "cpu_ranks=1", "optimizer=SGD"};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> all = common;
    all.insert(all.end(), extra.begin(), extra.end());
    return all;
  };
  runEngine(smallRun(dir, "one", with({"norm=syncbn"})), dir / "one.log");
  runEngine(smallRun(dir, "sync", with({"cpu_ranks=2", "norm=syncbn"})), dir / "sync.log");
  runEngine(smallRun(dir, "bn", with({"cpu_ranks=2", "norm=bn"})), dir / "bn.log");

  const std::vector<double> one = stepLosses(dir / "one.jsonl");
  const std::vector<double> sync = stepLosses(dir / "sync.jsonl");
  const std::vector<double> bn = stepLosses(dir / "bn.jsonl");
  ASSERT_EQ(one.size(), 10u);  // 80 images / 8
  ASSERT_EQ(sync.size(), 10u);
  ASSERT_EQ(bn.size(), 10u);
  double worstBn = 0;
  for (std::size_t i = 0; i < one.size(); ++i) {
    EXPECT_NEAR(sync[i], one[i], 1e-4 * std::abs(one[i])) << "step " << i;
    worstBn = std::max(worstBn, std::abs(bn[i] - one[i]) / std::abs(one[i]));
  }
  // Per-rank BatchNorm over 4 images is another model: far beyond float noise.
  EXPECT_GT(worstBn, 1e-3);
}

TEST(Training, WritesResultsCsvBnStatsAndRecalibratesWithPreciseBn) {
  const fs::path dir = testDir();
  runEngine(smallRun(dir, "pbn",
                     {"epochs=2", "cpu_ranks=2", "cpu_threads=1", "norm=bn", "precise_bn=3",
                      "--bn-stats-every", "10"}),
            dir / "pbn.log");
  const auto events = readEvents(dir / "pbn.jsonl");
  int recalibrations = 0, threadLines = 0;
  for (const auto& log : eventsOf<protocol::Log>(events)) {
    if (log.text.find("PreciseBN: recalibrated") != std::string::npos) ++recalibrations;
    if (log.text.rfind("CPU: 1 thread per rank, 2 ranks on ", 0) == 0) {
      ++threadLines;
      EXPECT_NE(log.text.find("set by distributed.cpu_threads"), std::string::npos) << log.text;
    }
  }
  EXPECT_EQ(recalibrations, 2);  // before each epoch's validation
  EXPECT_EQ(threadLines, 1) << "rank 0 says how many threads the ranks use, and why";
  const auto bnStats = eventsOf<protocol::BnStats>(events);
  ASSERT_EQ(bnStats.size(), 2u);  // iterations 0 and 10 of 20 (--bn-stats-every 10)
  EXPECT_EQ(bnStats[1].iteration, 10);
  ASSERT_FALSE(bnStats[0].layers.empty());
  EXPECT_EQ(bnStats[0].layers[0].rank_mean.size(), 2u);
  EXPECT_GT(bnStats[0].layers[0].divergence, 0.0);  // plain BN: the ranks see different batches
  // YOLOv8n's 57 BatchNorm layers x 2 ranks: all listed.
  EXPECT_EQ(bnStats[0].layers_total, 57);
  EXPECT_EQ(bnStats[0].layers.size(), 57u);
  EXPECT_EQ(bnStats[0].rank_images, (std::vector<int>{4, 4}));
  EXPECT_GT(bnStats[0].disagreement_max, 0.0);  // each rank normalised with its own batch
  EXPECT_GT(bnStats[0].noise_median, 0.0);
  EXPECT_FALSE(bnStats[0].worst_layer.empty());
  for (const auto& layer : bnStats[1].layers) {
    // norm=bn broadcasts rank 0's running statistics before every step.
    EXPECT_EQ(layer.rank_running_mean[0], layer.rank_running_mean[1]) << layer.layer;
    EXPECT_EQ(layer.rank_noise.size(), 2u);
  }
  const auto vals = eventsOf<protocol::Val>(events);
  ASSERT_EQ(vals.size(), 2u);
  EXPECT_GT(vals[0].box_loss + vals[0].cls_loss + vals[0].dfl_loss, 0.0);
  EXPECT_EQ(eventsOf<protocol::DatasetSummary>(events).size(), 2u);  // train and val

  std::ifstream csv(dir / "pbn" / "results.csv");
  std::vector<std::string> lines;
  for (std::string line; std::getline(csv, line);)
    lines.push_back(line);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].rfind("epoch,time,train/box_loss,train/cls_loss,train/dfl_loss,", 0), 0u);
  EXPECT_EQ(lines[1].rfind("1,", 0), 0u);
  EXPECT_EQ(lines[2].rfind("2,", 0), 0u);
  // time: seconds since the start, as the epoch's val event says.
  const auto timeOf = [](const std::string& line) {
    return std::stod(line.substr(line.find(',') + 1));
  };
  EXPECT_GT(timeOf(lines[1]), 0.0);
  EXPECT_GT(timeOf(lines[2]), timeOf(lines[1]));
  EXPECT_NEAR(timeOf(lines[2]), vals[1].time, 1e-5 * vals[1].time);  // "%.6g"

  // TensorBoard's event file in tb/ holds the same figures as the events (read independently).
  std::vector<fs::path> tb;
  for (const auto& entry : fs::directory_iterator(dir / "pbn" / "tb"))
    tb.push_back(entry.path());
  ASSERT_EQ(tb.size(), 1u);
  const nlohmann::json board = test_support::readTensorBoardEvents(tb[0]);
  ASSERT_FALSE(board.is_null());
  std::map<std::string, std::map<long long, double>> scalars;
  for (const auto& s : board["scalars"])
    scalars[s[0]][s[1].get<long long>()] = s[2];
  const auto steps = eventsOf<protocol::Step>(events);
  ASSERT_EQ(scalars["train/box_loss"].size(), steps.size());
  for (const auto& step : steps) {
    EXPECT_EQ(scalars["train/box_loss"][step.iteration], static_cast<float>(step.losses.at("box")));
    EXPECT_EQ(scalars["lr/pg0"][step.iteration], static_cast<float>(step.lr));
    EXPECT_EQ(scalars["rank1/compute_ms"][step.iteration],
              static_cast<float>(step.ranks.at(1).compute_ms));
  }
  for (const auto& v : vals)
    EXPECT_EQ(scalars["metrics/mAP50-95(B)"][v.epoch], static_cast<float>(v.map50_95));
  EXPECT_EQ(scalars["bn/noise_median"][10], static_cast<float>(bnStats[1].noise_median));
}

TEST(Training, SigintStopsEveryRankAfterTheSameIterationSavesAndExitsZero) {
  const fs::path dir = testDir();
  Engine engine(smallRun(dir, "stop", {"epochs=50", "cpu_ranks=2", "norm=syncbn"}),
                dir / "stop.log");
  // Wait for training to be under way.
  const auto deadline = std::chrono::steady_clock::now() + 120s;
  while (eventsOf<protocol::Step>(readEvents(dir / "stop.jsonl")).size() < 3) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << engine.log();
    ASSERT_FALSE(engine.wait(0ms)) << engine.log();
    std::this_thread::sleep_for(50ms);
  }
  ::kill(engine.pid(), SIGINT);
  const std::optional<int> code = engine.wait(120s);
  ASSERT_TRUE(code) << engine.log();
  EXPECT_EQ(*code, 0) << engine.log();

  const auto events = readEvents(dir / "stop.jsonl");
  const auto finished = eventsOf<protocol::Finished>(events);
  ASSERT_EQ(finished.size(), 1u);
  EXPECT_EQ(finished[0].status, "stopped");
  const auto checkpoints = eventsOf<protocol::Checkpoint>(events);
  ASSERT_FALSE(checkpoints.empty());
  const auto steps = eventsOf<protocol::Step>(events);
  // The last checkpoint is taken after the last iteration any rank ran.
  EXPECT_EQ(checkpoints.back().iteration, steps.back().iteration + 1);
  const train::CheckpointMeta meta =
      train::readCheckpointMeta(dir / "stop" / "weights" / "last.pt");
  EXPECT_EQ(meta.loop.get<std::int64_t>("iteration"), steps.back().iteration + 1);
  EXPECT_FALSE(meta.loop.get<bool>("epoch_complete"));
}

// Two Ctrl+C in a row: the launcher kills the ranks at once instead of waiting for a clean stop,
// and the record still ends with exactly one `finished` (rank 0's if it finished cleanly in
// between, else the launcher's "stopped by force").
TEST(Training, ASecondSigintKillsTheRanksAndTheRecordStillEndsWithFinished) {
  const fs::path dir = testDir();
  Engine engine(smallRun(dir, "force", {"epochs=50", "cpu_ranks=2", "norm=syncbn"}),
                dir / "force.log");
  const auto deadline = std::chrono::steady_clock::now() + 120s;
  while (eventsOf<protocol::Step>(readEvents(dir / "force.jsonl")).size() < 2) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << engine.log();
    ASSERT_FALSE(engine.wait(0ms)) << engine.log();
    std::this_thread::sleep_for(50ms);
  }
  ::kill(engine.pid(), SIGINT);
  std::this_thread::sleep_for(20ms);
  ::kill(engine.pid(), SIGINT);
  const std::optional<int> code = engine.wait(120s);
  ASSERT_TRUE(code) << engine.log();
  EXPECT_LT(*code, 256) << engine.log();
  for (const fs::path& file : {dir / "force.jsonl", dir / "force" / "events.jsonl"}) {
    const auto finished = eventsOf<protocol::Finished>(readEvents(file));
    ASSERT_EQ(finished.size(), 1u) << file << "\n" << engine.log();
    if (finished[0].status == "failed")
      EXPECT_NE(finished[0].error.find("stopped by force"), std::string::npos) << finished[0].error;
    else
      EXPECT_EQ(finished[0].status, "stopped");
  }
}

// A GUI that started the run, then quit and left it running: the pipe it read the engine's output
// from closes. The run must go on to its end (no SIGPIPE in the launcher or the ranks), and the
// run directory's events.jsonl, written without --events, must hold all of it.
TEST(Training, ARunWhoseOutputPipeClosesGoesOnToTheEndRecordedInTheRunDirectory) {
  const fs::path dir = testDir();
  int output[2];
  ASSERT_EQ(::pipe2(output, O_CLOEXEC), 0);
  ASSERT_EQ(::fcntl(output[0], F_SETFL, O_NONBLOCK), 0);
  const double before = unixNow();
  Engine engine(smallRunWithoutEventsFlag(dir, "piped", {"epochs=1", "cpu_ranks=2"}), output[1]);
  ::close(output[1]);
  const fs::path events = dir / "piped" / "events.jsonl";
  const auto deadline = std::chrono::steady_clock::now() + 120s;
  std::string printed;
  while (eventsOf<protocol::Step>(readEvents(events)).size() < 2) {
    char buffer[4096];
    for (ssize_t n; (n = ::read(output[0], buffer, sizeof buffer)) > 0;)
      printed.append(buffer, static_cast<std::size_t>(n));
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << printed;
    ASSERT_FALSE(engine.wait(0ms)) << printed;
    std::this_thread::sleep_for(20ms);
  }
  ::close(output[0]);  // the GUI quits; the epoch's progress and results are still to be printed
  const std::optional<int> code = engine.wait(180s);
  ASSERT_TRUE(code) << "still running";
  EXPECT_EQ(*code, 0) << printed;

  const auto all = readEvents(events);
  ASSERT_FALSE(all.empty());
  ASSERT_TRUE(std::holds_alternative<protocol::Finished>(all.back())) << printed;
  EXPECT_EQ(std::get<protocol::Finished>(all.back()).status, "completed");
  const auto started = eventsOf<protocol::RunStarted>(all);
  ASSERT_EQ(started.size(), 1u);
  EXPECT_EQ(started[0].run_dir, (dir / "piped").string());
  EXPECT_GE(started[0].start_time, before);
  EXPECT_LE(started[0].start_time, unixNow());
  const auto steps = eventsOf<protocol::Step>(all);
  ASSERT_EQ(steps.size(), 10u);
  for (std::size_t i = 1; i < steps.size(); ++i)
    EXPECT_GE(steps[i].time, steps[i - 1].time) << "step " << i;
  EXPECT_GT(steps.front().time, 0.0);
  const auto vals = eventsOf<protocol::Val>(all);
  ASSERT_EQ(vals.size(), 1u);
  EXPECT_GE(vals[0].time, steps.back().time);
  EXPECT_LE(started[0].start_time + vals[0].time, unixNow());
}

// The GUI's end of --progress-socket: a listening Unix socket, one connection.
class FakeGui {
 public:
  explicit FakeGui(fs::path path) : path_(std::move(path)) {
    listener_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::snprintf(address.sun_path, sizeof(address.sun_path), "%s", path_.c_str());
    if (listener_ < 0 ||
        ::bind(listener_, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0 ||
        ::listen(listener_, 4) != 0)
      throw std::runtime_error("cannot listen on " + path_.string());
  }
  ~FakeGui() {
    if (connection_ >= 0) ::close(connection_);
    ::close(listener_);
    fs::remove(path_);
  }
  FakeGui(const FakeGui&) = delete;
  FakeGui& operator=(const FakeGui&) = delete;

  void accept() { connection_ = ::accept(listener_, nullptr, nullptr); }
  // Reads until a whole line holding `text` arrived (or the engine closed the connection).
  bool readUntil(const std::string& text) {
    char buffer[4096];
    while (received_.find(text) == std::string::npos) {
      const ssize_t n = ::read(connection_, buffer, sizeof(buffer));
      if (n <= 0) return false;
      received_.append(buffer, static_cast<std::size_t>(n));
    }
    return true;
  }
  void send(const std::string& line) {  // one encoded line, '\n' included
    ASSERT_EQ(::write(connection_, line.data(), line.size()), static_cast<ssize_t>(line.size()));
  }
  const std::string& received() const { return received_; }

 private:
  fs::path path_;
  int listener_ = -1;
  int connection_ = -1;
  std::string received_;
};

TEST(Training, TheGuisStopCommandStopsTheRunAfterAnIterationWithACheckpoint) {
  const fs::path dir = testDir();
  FakeGui gui(dir / "gui.sock");
  std::vector<std::string> args = smallRun(dir, "gui", {"epochs=50", "cpu_ranks=2", "norm=syncbn"});
  args.insert(args.end(), {"--progress-socket", (dir / "gui.sock").string()});
  Engine engine(args, dir / "gui.log");
  gui.accept();
  ASSERT_TRUE(gui.readUntil("\"type\":\"hello\"")) << engine.log();
  ASSERT_TRUE(gui.readUntil("\"type\":\"step\"")) << engine.log();
  gui.send(protocol::encode(protocol::Stop{}));
  ASSERT_TRUE(gui.readUntil("\"type\":\"finished\"")) << engine.log();
  const std::optional<int> code = engine.wait(120s);
  ASSERT_TRUE(code) << engine.log();
  EXPECT_EQ(*code, 0) << engine.log();
  const auto events = readEvents(dir / "gui.jsonl");
  const auto finished = eventsOf<protocol::Finished>(events);
  ASSERT_EQ(finished.size(), 1u);
  EXPECT_EQ(finished[0].status, "stopped");
  ASSERT_FALSE(eventsOf<protocol::Checkpoint>(events).empty());
  EXPECT_EQ(eventsOf<protocol::Checkpoint>(events).back().kind, "last");
  EXPECT_NE(gui.received().find("\"status\":\"stopped\""), std::string::npos);
}

// The ranks of a launcher, by reading /proc: child pid -> RANK from its environment.
std::map<int, pid_t> ranksOf(pid_t launcher) {
  std::map<int, pid_t> ranks;
  std::ifstream children("/proc/" + std::to_string(launcher) + "/task/" + std::to_string(launcher) +
                         "/children");
  pid_t child = 0;
  while (children >> child) {
    std::ifstream environ("/proc/" + std::to_string(child) + "/environ");
    std::string variable;
    while (std::getline(environ, variable, '\0'))
      if (variable.rfind("RANK=", 0) == 0) ranks[std::stoi(variable.substr(5))] = child;
  }
  return ranks;
}

TEST(Training, AKilledRankEndsTheRunWithinThirtySecondsAndIsNamed) {
  const fs::path dir = testDir();
  Engine engine(smallRun(dir, "death", {"epochs=50", "cpu_ranks=2", "norm=syncbn"}),
                dir / "death.log");
  const auto deadline = std::chrono::steady_clock::now() + 120s;
  while (eventsOf<protocol::Step>(readEvents(dir / "death.jsonl")).size() < 2) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << engine.log();
    ASSERT_FALSE(engine.wait(0ms)) << engine.log();
    std::this_thread::sleep_for(50ms);
  }
  const auto ranks = ranksOf(engine.pid());
  ASSERT_EQ(ranks.count(1), 1u) << "cannot find rank 1 under the launcher";
  const auto killed = std::chrono::steady_clock::now();
  ::kill(ranks.at(1), SIGKILL);
  const std::optional<int> code = engine.wait(60s);
  ASSERT_TRUE(code) << engine.log();
  EXPECT_LT(std::chrono::steady_clock::now() - killed, 30s);
  EXPECT_EQ(*code, 128 + SIGKILL) << engine.log();

  const auto events = readEvents(dir / "death.jsonl");
  const auto exits = eventsOf<protocol::RankExit>(events);
  ASSERT_EQ(exits.size(), 1u) << engine.log();
  EXPECT_EQ(exits[0].rank, 1);
  EXPECT_EQ(exits[0].signal, SIGKILL);
  const auto finished = eventsOf<protocol::Finished>(events);
  ASSERT_EQ(finished.size(), 1u);
  EXPECT_EQ(finished[0].status, "failed");
  EXPECT_NE(finished[0].error.find("rank 1"), std::string::npos) << finished[0].error;
  EXPECT_TRUE(std::holds_alternative<protocol::Finished>(events.back()));
  // The launcher's report went to the run directory's events.jsonl as well.
  const auto inRunDir = readEvents(dir / "death" / "events.jsonl");
  EXPECT_EQ(eventsOf<protocol::RankExit>(inRunDir), exits);
  ASSERT_FALSE(inRunDir.empty());
  EXPECT_EQ(inRunDir.back(), events.back());
}

// Every parameter and buffer of a checkpoint's model, by name.
std::map<std::string, torch::Tensor> weightsOf(const fs::path& checkpoint) {
  const train::CheckpointMeta meta = train::readCheckpointMeta(checkpoint);
  auto model = model::buildDetectionModel("yolov8n.yaml", "", 3);
  train::restoreCheckpoint(checkpoint, {model.get(), nullptr, nullptr}, "");
  std::map<std::string, torch::Tensor> weights;
  for (const auto& item : model->named_parameters())
    weights[item.key()] = item.value().clone();
  for (const auto& item : model->named_buffers())
    weights[item.key()] = item.value().clone();
  return weights;
}

// The cut run is numbered (cut2: cut exists) and resumed through its own args.yaml, which must
// name cut2. Its clock goes on: the resumed start has the first start's start_time, and its
// steps' time carries on from the steps before the kill.
TEST(Training, ResumeAfterKillNineEndsWithTheUninterruptedRunsWeights) {
  const fs::path dir = testDir();
  const std::vector<std::string> settings{"epochs=2", "cpu_ranks=1", "checkpoint_interval=3"};
  runEngine(smallRun(dir, "whole", settings), dir / "whole.log");

  fs::create_directories(dir / "cut");
  {
    Engine engine(smallRun(dir, "cut", settings), dir / "cut.log");
    // Kill it mid-epoch once an interval checkpoint exists and a few more steps ran.
    const auto deadline = std::chrono::steady_clock::now() + 120s;
    while (true) {
      const auto events = readEvents(dir / "cut.jsonl");
      const auto steps = eventsOf<protocol::Step>(events);
      if (!eventsOf<protocol::Checkpoint>(events).empty() && !steps.empty() &&
          steps.back().iteration >= 4)
        break;
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << engine.log();
      ASSERT_FALSE(engine.wait(0ms)) << "finished before it could be killed: " << engine.log();
      std::this_thread::sleep_for(5ms);
    }
    ::kill(engine.pid(), SIGKILL);
    ASSERT_EQ(engine.wait(30s), 128 + SIGKILL);
  }
  const fs::path run = dir / "cut2";
  const train::CheckpointMeta atKill = train::readCheckpointMeta(run / "weights/last.pt");
  EXPECT_FALSE(atKill.loop.get<bool>("epoch_complete"));
  EXPECT_GT(atKill.loop.get<double>("start_time"), 0.0);
  const auto beforeResume = eventsOf<protocol::Step>(readEvents(dir / "cut.jsonl"));
  ASSERT_FALSE(beforeResume.empty());
  runEngine({"train", (run / "args.yaml").string(), "resume=true", "--events",
             (dir / "cut.jsonl").string()},
            dir / "resume.log");

  const auto resumedEvents = readEvents(dir / "cut.jsonl");
  const auto steps = eventsOf<protocol::Step>(resumedEvents);
  ASSERT_FALSE(steps.empty());
  EXPECT_EQ(steps.back().iteration, 19);  // 2 epochs x 10 iterations, the last one counted from 0
  // At most one checkpoint interval is run twice.
  EXPECT_LE(static_cast<long long>(steps.size()), 20 + 3 + 1);
  const auto starts = eventsOf<protocol::RunStarted>(resumedEvents);
  ASSERT_EQ(starts.size(), 2u);
  EXPECT_EQ(starts[0].run_dir, run.string());
  EXPECT_EQ(starts[1].run_dir, run.string());
  EXPECT_EQ(starts[1].start_time, starts[0].start_time);
  EXPECT_EQ(starts[0].start_time, atKill.loop.get<double>("start_time"));
  ASSERT_GT(steps.size(), beforeResume.size());
  EXPECT_GT(steps[beforeResume.size()].time, beforeResume.back().time);
  // Both runs' events are in the run directory's events.jsonl too.
  EXPECT_EQ(eventsOf<protocol::RunStarted>(readEvents(run / "events.jsonl")).size(), 2u);

  const auto whole = weightsOf(dir / "whole/weights/last.pt");
  const auto resumed = weightsOf(run / "weights/last.pt");
  ASSERT_EQ(whole.size(), resumed.size());
  for (const auto& [name, tensor] : whole)
    EXPECT_TRUE(torch::equal(tensor, resumed.at(name))) << name;
}

// The GUI's "switch to SyncBN and resume": `train RUN/args.yaml resume=true norm=syncbn`
// continues a norm=bn run from the same iteration with the same tensors, and says so; the
// ranks' normalisers then agree exactly. A switch to groupnorm is refused with the reason.
TEST(Training, ResumeSwitchesBetweenBnAndSyncBnAndRefusesGroupNorm) {
  const fs::path dir = testDir();
  runEngine(smallRun(dir, "switch", {"epochs=1", "cpu_ranks=2", "norm=bn"}), dir / "bn.log");
  const fs::path run = dir / "switch";
  const train::CheckpointMeta saved = train::readCheckpointMeta(run / "weights/last.pt");
  ASSERT_EQ(saved.loop.get<std::int64_t>("iteration"), 10);

  Engine refused({"train", (run / "args.yaml").string(), "resume=true", "epochs=2",
                  "norm=groupnorm", "--events", (dir / "switch.jsonl").string()},
                 dir / "groupnorm.log");
  ASSERT_EQ(refused.wait(120s), 1) << refused.log();
  EXPECT_NE(refused.log().find((run / "weights/last.pt").string() +
                               ": it was trained with norm=bn and this run asks for "
                               "distributed.norm=groupnorm: on resume the norm can only switch "
                               "between bn and syncbn"),
            std::string::npos)
      << refused.log();
  const auto argsYaml = [&run] {
    std::ifstream in(run / "args.yaml");
    return std::string{std::istreambuf_iterator<char>(in), {}};
  };
  EXPECT_NE(argsYaml().find("norm: bn"), std::string::npos) << "a refused resume changes nothing";

  runEngine({"train", (run / "args.yaml").string(), "resume=true", "epochs=2", "norm=syncbn",
             "--events", (dir / "switch.jsonl").string()},
            dir / "syncbn.log");
  const auto events = readEvents(dir / "switch.jsonl");
  const auto starts = eventsOf<protocol::RunStarted>(events);
  ASSERT_EQ(starts.size(), 2u);
  EXPECT_EQ(starts[0].norm, "bn");
  EXPECT_EQ(starts[1].norm, "syncbn");
  EXPECT_NE(starts[1].config_yaml.find("norm: syncbn"), std::string::npos);
  EXPECT_NE(argsYaml().find("norm: syncbn"), std::string::npos) << argsYaml();

  const auto steps = eventsOf<protocol::Step>(events);
  ASSERT_EQ(steps.size(), 20u);  // 10 before the switch, 10 after, none repeated
  for (std::size_t i = 0; i < steps.size(); ++i)
    EXPECT_EQ(steps[i].iteration, static_cast<long long>(i));
  bool noted = false;
  for (const auto& log : eventsOf<protocol::Log>(events))
    noted = noted || log.text.find(
                         "norm switched on resume from bn to syncbn: carried over the "
                         "weights, the EMA") != std::string::npos;
  EXPECT_TRUE(noted);

  // bn_stats: at iteration 0 under BN the ranks disagree; the first iteration after the switch is
  // probed too, and under SyncBN they agree exactly.
  const auto bnStats = eventsOf<protocol::BnStats>(events);
  ASSERT_GE(bnStats.size(), 2u);
  EXPECT_EQ(bnStats.front().iteration, 0);
  EXPECT_GT(bnStats.front().disagreement_max, 0.0);
  const auto afterSwitch =
      std::find_if(bnStats.begin(), bnStats.end(), [](const auto& m) { return m.iteration >= 10; });
  ASSERT_NE(afterSwitch, bnStats.end());
  EXPECT_EQ(afterSwitch->iteration, 10);
  EXPECT_EQ(afterSwitch->disagreement_max, 0.0);
  for (const auto& layer : afterSwitch->layers)
    EXPECT_EQ(layer.disagreement, 0.0) << layer.layer;
}

TEST(Training, ACorruptCheckpointIsRefusedNamingTheFileAndLeftAlone) {
  const fs::path dir = testDir();
  runEngine(smallRun(dir, "run", {"epochs=1", "cpu_ranks=1"}), dir / "first.log");
  const fs::path last = dir / "run/weights/last.pt";
  std::string bytes;
  {
    std::ifstream in(last, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  ASSERT_GT(bytes.size(), 1000u);
  const std::string truncated = bytes.substr(0, bytes.size() / 2);
  std::ofstream(last, std::ios::binary | std::ios::trunc) << truncated;

  Engine engine(smallRun(dir, "run", {"resume=true", "epochs=2"}), dir / "resume.log");
  const std::optional<int> code = engine.wait(120s);
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 1) << engine.log();
  EXPECT_NE(engine.log().find(last.string()), std::string::npos) << engine.log();
  EXPECT_NE(engine.log().find("truncated"), std::string::npos) << engine.log();
  std::ifstream in(last, std::ios::binary);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), truncated);
}

// `val`, `export` and `predict` on a run's own best.pt, as a user deploys it.
std::string fileText(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::vector<std::vector<double>> labelRows(const fs::path& file) {
  std::vector<std::vector<double>> rows;
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    std::vector<double> row;
    for (double v; fields >> v;)
      row.push_back(v);
    rows.push_back(row);
  }
  return rows;
}

TEST(Deploying, ValReproducesTheLoggedMapAndTheExportsPredictTheCheckpointsBoxes) {
  const fs::path dir = testDir();
  runEngine(smallRun(dir, "run", {"epochs=2", "cpu_ranks=1"}), dir / "train.log");
  const fs::path best = dir / "run/weights/best.pt";
  const train::CheckpointMeta meta = train::readCheckpointMeta(best);
  const auto epoch = meta.loop.get<std::int64_t>("epoch");
  std::optional<protocol::Val> logged;
  for (const auto& val : eventsOf<protocol::Val>(readEvents(dir / "run.jsonl")))
    if (val.epoch == epoch) logged = val;
  ASSERT_TRUE(logged) << "no val event for best.pt's epoch " << epoch;

  // val --json on the checkpoint: training's validation of that epoch, to 1e-6.
  runEngine({"val", "--weights", best.string(), "--json"}, dir / "val.log");
  const std::string valOutput = fileText(dir / "val.log");
  const auto json = nlohmann::json::parse(valOutput.substr(valOutput.find('{')));
  EXPECT_NEAR(json["map50_95"].get<double>(), logged->map50_95, 1e-6);
  EXPECT_NEAR(json["map50"].get<double>(), logged->map50, 1e-6);
  // A run this short detects nothing yet (mAP 0 both ways); its validation losses are not 0 and
  // depend on every weight, the letterbox and the data, so they are compared too.
  ASSERT_GT(logged->box_loss, 0.0);
  EXPECT_NEAR(json["box_loss"].get<double>(), logged->box_loss, 1e-6);
  EXPECT_NEAR(json["cls_loss"].get<double>(), logged->cls_loss, 1e-6);
  EXPECT_NEAR(json["dfl_loss"].get<double>(), logged->dfl_loss, 1e-6);
  EXPECT_EQ(json["kind"], "checkpoint");

  // Both exports pass their own checks, and predict draws the checkpoint's boxes with them.
  const fs::path images = smallDataset().parent_path() / "images" / "val";
  runEngine({"predict", "--weights", best.string(), "--source", images.string(), "--conf", "0.001",
             "--save-txt", "--project", dir.string(), "--name", "from_pt"},
            dir / "predict_pt.log");
  for (const std::string format : {"onnx", "torchscript"}) {
    runEngine({"export", "--weights", best.string(), "--format", format}, dir / (format + ".log"));
    EXPECT_NE(fileText(dir / (format + ".log")).find("PASSED"), std::string::npos)
        << fileText(dir / (format + ".log"));
    const fs::path exported = dir / "run/weights" / ("best." + format);
    ASSERT_TRUE(fs::exists(exported));
    runEngine({"predict", "--weights", exported.string(), "--source", images.string(), "--conf",
               "0.001", "--save-txt", "--project", dir.string(), "--name", "from_" + format},
              dir / ("predict_" + format + ".log"));
    int boxes = 0;
    for (const auto& entry : fs::directory_iterator(dir / "from_pt" / "labels")) {
      const auto expected = labelRows(entry.path());
      const auto actual = labelRows(dir / ("from_" + format) / "labels" / entry.path().filename());
      ASSERT_EQ(actual.size(), expected.size()) << format << " " << entry.path().filename();
      for (std::size_t i = 0; i < expected.size(); ++i) {
        ASSERT_EQ(actual[i].size(), 6u);
        EXPECT_EQ(actual[i][0], expected[i][0]) << "class, " << format;
        for (std::size_t k = 1; k < 6; ++k)
          EXPECT_NEAR(actual[i][k], expected[i][k], 1e-4) << format << " " << entry.path();
        ++boxes;
      }
    }
    EXPECT_GT(boxes, 0) << "nothing detected to compare";
  }
}

// ---- fine-tuning -------------------------------------------------------------------------------

// The mAP50 a run's last validation reached, from its finished event.
double finalMap50(const fs::path& events) {
  const auto finished = eventsOf<protocol::Finished>(readEvents(events));
  EXPECT_EQ(finished.size(), 1u) << events;
  return finished.empty() ? -1.0 : finished.back().map50;
}

std::vector<std::string> logLines(const fs::path& events) {
  std::vector<std::string> lines;
  for (const auto& log : eventsOf<protocol::Log>(readEvents(events)))
    lines.push_back(log.text);
  return lines;
}

// A run's best.pt in Ultralytics' format, as a user who trained with this engine and took the
// weights to Ultralytics (or back) would have it: the tensors in Ultralytics' names and dtypes
// (float16, as Ultralytics saves), then the Ultralytics-format writer of the unit tests.
void writeAsUltralytics(const fs::path& best, const fs::path& target, const fs::path& dir) {
  const train::PretrainedWeights weights = train::readPretrainedWeights(best);
  const fs::path manifest = dir / "exported";
  nlohmann::json entries = nlohmann::json::array();
  std::ofstream blob(manifest.string() + ".blob", std::ios::binary);
  std::size_t offset = 0;
  for (const auto& [name, tensor] : weights.tensors) {
    const torch::Tensor stored =
        (tensor.is_floating_point() ? tensor.to(torch::kHalf) : tensor).contiguous();
    blob.write(static_cast<const char*>(stored.data_ptr()),
               static_cast<std::streamsize>(stored.nbytes()));
    entries.push_back({{"name", name},
                       {"dtype", stored.scalar_type() == torch::kHalf ? "float16" : "int64"},
                       {"shape", stored.sizes().vec()},
                       {"offset", offset},
                       {"bytes", stored.nbytes()}});
    offset += stored.nbytes();
  }
  blob.close();
  std::ofstream(manifest.string() + ".json") << nlohmann::json{{"tensors", entries}}.dump();
  std::string names;
  for (const std::string& name : weights.names)
    names += (names.empty() ? "" : ",") + name;
  const std::string command =
      std::string(SYNCBN_PYTHON) +
      " " SYNCBN_SOURCE_DIR
      "/tests/pretrained/make_ultralytics_checkpoint.py --yaml " SYNCBN_SOURCE_DIR
      "/resources/models/yolov8.yaml --scale " +
      weights.scale + " --nc " + std::to_string(weights.names.size()) + " --names " + names +
      " --tensors " + manifest.string() + " --out " + target.string() + " > " +
      (dir / "export.log").string() + " 2>&1";
  ASSERT_EQ(std::system(command.c_str()), 0) << command << "\n" << fileText(dir / "export.log");
}

// What fine-tuning is for: a model trained on one dataset, saved in Ultralytics' format, then one
// epoch on another dataset of the same classes is far ahead of one epoch from scratch.
TEST(FineTuning, OneEpochFromPretrainedWeightsIsFarAheadOfOneFromScratch) {
  const fs::path dir = testDir();
  const auto makeData = [&](const std::string& name, const std::string& seed) {
    Engine make({"make-demo-data", (dir / name).string(), "--train", "192", "--val", "48",
                 "--imgsz", "128", "--seed", seed},
                dir / (name + ".log"));
    EXPECT_EQ(make.wait(120s), 0) << make.log();
    return dir / name / "data.yaml";
  };
  const fs::path first = makeData("first", "21");
  const fs::path second = makeData("second", "22");
  const auto run = [&](const fs::path& data, const std::string& name, const std::string& model,
                       const std::string& epochs) {
    std::vector<std::string> args{
        "train", "data=" + data.string(), "imgsz=128", "model=" + model, "epochs=" + epochs,
        "batch=16", "device=cpu", "cpu_ranks=1", "workers=2", "amp=false", "close_mosaic=2",
        "project=" + dir.string(),
        // An optimizer step every iteration and a short warmup: 180 iterations then learn the
        // shapes well enough for the comparison (about 0.15 mAP50).
        "nbs=16", "warmup_epochs=1", "name=" + name, "--events",
        (dir / (name + ".jsonl")).string()};
    EXPECT_EQ(runEngine(args, dir / (name + ".log"), 900s), 0);
    return dir / (name + ".jsonl");
  };

  const fs::path pretrained = run(first, "pretrain", "yolov8n.yaml", "15");
  const double pretrainedMap = finalMap50(pretrained);
  const fs::path ultralytics = dir / "pretrained.pt";
  writeAsUltralytics(dir / "pretrain" / "weights" / "best.pt", ultralytics, dir);

  const fs::path scratch = run(second, "scratch", "yolov8n.yaml", "1");
  const fs::path tuned = run(second, "tuned", ultralytics.string(), "1");
  const double scratchMap = finalMap50(scratch);
  const double tunedMap = finalMap50(tuned);
  std::cout << "mAP50: pretrained " << pretrainedMap << " (first dataset), one epoch on the "
            << "second: from scratch " << scratchMap << ", fine-tuned " << tunedMap << "\n";
  const std::vector<std::string> logs = logLines(tuned);
  EXPECT_NE(std::find(logs.begin(), logs.end(),
                      "Transferred 355/355 items from pretrained.pt (Ultralytics 8.3.186, model)"),
            logs.end());
  EXPECT_GT(pretrainedMap, 0.1);
  EXPECT_GT(tunedMap, scratchMap + 0.1);
  EXPECT_GT(tunedMap, 0.5 * pretrainedMap);

  // Resume is not fine-tuning: the fine-tuned run goes on from its own last.pt, at epoch 2, and
  // takes nothing from the starting weights again.
  const fs::path resumed = dir / "tuned-resumed.jsonl";
  EXPECT_EQ(runEngine({"train", (dir / "tuned" / "args.yaml").string(), "resume=true", "epochs=2",
                       "--events", resumed.string()},
                      dir / "tuned-resumed.log", 900s),
            0);
  const std::vector<std::string> resumedLogs = logLines(resumed);
  EXPECT_TRUE(std::none_of(resumedLogs.begin(), resumedLogs.end(), [](const std::string& line) {
    return line.rfind("Transferred", 0) == 0;
  }));
  EXPECT_TRUE(std::any_of(resumedLogs.begin(), resumedLogs.end(), [](const std::string& line) {
    return line.find("at epoch 2, iteration 12") != std::string::npos;
  })) << fileText(dir / "tuned-resumed.log");
}

}  // namespace
}  // namespace syncbn
