// The engine against planted bad input, as an adversarial user would try it, through the real
// command line: every case ends with a clear error naming the file and the field or line, an exit
// code below 128, within its timeout and under a memory cap, and changes nothing it had.
//
// docs/reliability.md lists each input class with the test that checks it.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/protocol.h"

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using syncbn::protocol::Message;

const fs::path kEngine = SYNCBN_ENGINE_PATH;
// Address space for one engine process: LibTorch and OpenBLAS reserve some, a 295 GB model or a
// decompression bomb would need far more.
constexpr rlim_t kMemoryCap = rlim_t{6} << 30;

fs::path testDir() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  fs::path dir =
      fs::temp_directory_path() / ("syncbn_bad_" + std::to_string(::getpid()) + "_" + info->name());
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

void writeText(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

std::string readText(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// The engine as a child process under the memory cap, its output in a log file.
class Engine {
 public:
  Engine(const std::vector<std::string>& args, fs::path log) : log_(std::move(log)) {
    std::vector<std::string> all{kEngine.string()};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& arg : all)
      argv.push_back(arg.data());
    argv.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) {
      const int fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      const int devNull = ::open("/dev/null", O_RDONLY);
      ::dup2(devNull, 0);
      const rlimit cap{kMemoryCap, kMemoryCap};
      ::setrlimit(RLIMIT_AS, &cap);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
  }
  ~Engine() {
    if (!exitCode_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  pid_t pid() const { return pid_; }
  std::optional<int> wait(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!exitCode_) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        exitCode_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        break;
      }
      if (std::chrono::steady_clock::now() > deadline) return std::nullopt;
      std::this_thread::sleep_for(20ms);
    }
    return exitCode_;
  }
  std::string log() const { return readText(log_); }

 private:
  fs::path log_;
  pid_t pid_ = -1;
  std::optional<int> exitCode_;
};

struct Outcome {
  int code = -1;  // -1: timed out (and killed)
  std::string output;
};

Outcome run(const std::vector<std::string>& args, const fs::path& log,
            std::chrono::seconds timeout = 120s) {
  Engine engine(args, log);
  const std::optional<int> code = engine.wait(timeout);
  return {code.value_or(-1), engine.log()};
}

// No crash, no hang: an exit code of 1 (the engine's "invalid input") and the expected words.
void expectRefused(const Outcome& outcome, const std::string& words, const std::string& what) {
  EXPECT_EQ(outcome.code, 1) << what << ":\n" << outcome.output;
  EXPECT_NE(outcome.output.find(words), std::string::npos)
      << what << ": expected \"" << words << "\" in:\n"
      << outcome.output;
}

std::vector<Message> readEvents(const fs::path& file) {
  std::vector<Message> events;
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);)
    if (auto decoded = syncbn::protocol::decode(line); decoded.ok())
      events.push_back(decoded.value());
  return events;
}

template <typename T>
std::vector<T> eventsOf(const std::vector<Message>& events) {
  std::vector<T> out;
  for (const auto& event : events)
    if (const T* typed = std::get_if<T>(&event)) out.push_back(*typed);
  return out;
}

// Every file under `dir` with its bytes, to show that a refused run changed nothing.
std::map<std::string, std::string> snapshot(const fs::path& dir) {
  std::map<std::string, std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    const std::string name = fs::relative(entry.path(), dir).string();
    if (entry.is_fifo()) {
      files[name] = "<fifo>";
    } else if (entry.is_regular_file()) {
      files[name] = readText(entry.path());
    } else {
      files[name] = "<folder>";
    }
  }
  return files;
}

// The names of the files that differ between two snapshots (added, removed or changed), or "".
std::string changedFiles(const std::map<std::string, std::string>& before,
                         const std::map<std::string, std::string>& after) {
  std::string changed;
  for (const auto& [name, bytes] : after) {
    const auto found = before.find(name);
    if (found == before.end() || found->second != bytes) changed += name + " ";
  }
  for (const auto& [name, bytes] : before)
    if (!after.contains(name)) changed += name + " (removed) ";
  return changed;
}

// A tiny dataset shared by the tests of this process.
const fs::path& smallDataset() {
  static const fs::path yaml = [] {
    const fs::path dir =
        fs::temp_directory_path() / ("syncbn_bad_data_" + std::to_string(::getpid()));
    fs::remove_all(dir);
    const Outcome made = run({"make-demo-data", dir.string(), "--train", "16", "--val", "4",
                              "--imgsz", "64", "--seed", "2"},
                             dir.string() + ".log");
    if (made.code != 0) throw std::runtime_error("make-demo-data failed: " + made.output);
    return dir / "data.yaml";
  }();
  return yaml;
}

std::vector<std::string> smallRun(const fs::path& dir, const std::string& name,
                                  std::vector<std::string> more = {}) {
  std::vector<std::string> args{"train",       "data=" + smallDataset().string(),
                                "imgsz=64",    "device=cpu",
                                "batch=8",     "workers=1",
                                "amp=false",   "augment=false",
                                "epochs=1",    "project=" + dir.string(),
                                "name=" + name};
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

// ---- Model YAML: check-config, model-info and train refuse it alike, naming the file ----------

struct BadModel {
  const char* what;
  std::string yaml;
  const char* words;  // in the message of every command
};

std::string builtinWith(const std::string& from, const std::string& to) {
  static const std::string builtin =
      readText(fs::path(SYNCBN_SOURCE_DIR) / "resources/models/yolov8.yaml");
  std::string text = builtin;
  const auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

TEST(BadInput, AModelYamlIsRefusedAlikeByCheckConfigModelInfoAndTrainNamingItsLineAndField) {
  const fs::path dir = testDir();
  const std::vector<BadModel> models{
      {"an absurd width", builtinWith("n: [0.33, 0.25, 1024]", "n: [0.33, 1e6, 1024]"),
       "bad.yaml:9:13: scales.n[1]: the width gain must be"},
      {"absurd repeats",
       builtinWith("[-1, 3, C2f, [128, True]]", "[-1, 30000000, C2f, [128, True]]"),
       "backbone[2].repeats: must be 1 to 64"},
      {"a NaN multiplier", builtinWith("n: [0.33, 0.25, 1024]", "n: [0.33, .nan, 1024]"),
       "scales.n[1]: the width gain must be a number above 0"},
      {"an infinite depth", builtinWith("n: [0.33, 0.25, 1024]", "n: [.inf, 0.25, 1024]"),
       "scales.n[0]: the depth gain must be a number above 0"},
      {"a huge kernel", builtinWith("[-1, 1, Conv, [64, 3, 2]]", "[-1, 1, Conv, [64, 2001, 2]]"),
       "backbone[0].args[1]: the kernel must be odd, 1 to 15"},
      {"a huge class count",
       builtinWith("[[15, 18, 21], 1, Detect, [nc]]", "[[15, 18, 21], 1, Detect, [100000000]]"),
       "head[12].args[0]: the class count must be 1 to 10000"},
      {"a scale key of the wrong type", builtinWith("n: [0.33", "{a: 1}: [0.33"),
       "scales: expected a scale name such as n or x"},
      {"an unknown module", builtinWith("SPPF, [1024, 5]", "SPPG, [1024, 5]"),
       "backbone[9].module: unknown module 'SPPG'"},
      {"a forward reference",
       builtinWith("[[-1, 6], 1, Concat, [1]]", "[[-1, 16], 1, Concat, [1]]"),
       "head[1].from: index 16 is not an earlier layer"},
      {"negative repeats", builtinWith("[-1, 3, C2f, [128, True]]", "[-1, -3, C2f, [128, True]]"),
       "backbone[2].repeats: must be 1 to 64, got -3"},
      {"deep nesting", std::string(50000, '[') + std::string(50000, ']'), "bad.yaml"},
      // Within every per-layer limit, yet 60 GB of weights: refused from its size alone.
      {"a model larger than memory",
       "nc: 1\nbackbone:\n  - [-1, 1, Conv, [8192, 15, 2]]\n  - [-1, 1, Conv, [8192, 15, 2]]\n"
       "  - [-1, 1, Conv, [8192, 15, 2]]\nhead:\n  - [[2], 1, Detect, [nc]]\n",
       "of memory on this machine"},
  };
  for (const BadModel& bad : models) {
    SCOPED_TRACE(bad.what);
    writeText(dir / "bad.yaml", bad.yaml);
    writeText(dir / "config.yaml",
              "data:\n  data: " + smallDataset().string() + "\n  imgsz: 64\nmodel:\n  model: " +
                  (dir / "bad.yaml").string() + "\ndistributed:\n  device: cpu\n");
    const std::string config = (dir / "config.yaml").string();
    const Outcome check = run({"check-config", config}, dir / "check.log");
    const Outcome infoModel = run({"model-info", (dir / "bad.yaml").string()}, dir / "info.log");
    const Outcome infoConfig = run({"model-info", config}, dir / "info2.log");
    const Outcome train =
        run({"train", config, "project=" + (dir / "runs").string()}, dir / "train.log");
    expectRefused(check, bad.words, "check-config");
    expectRefused(infoModel, bad.words, "model-info MODEL");
    expectRefused(infoConfig, bad.words, "model-info CONFIG");
    expectRefused(train, bad.words, "train");
    for (const Outcome* outcome : {&check, &infoModel, &infoConfig, &train}) {
      EXPECT_EQ(outcome->output.find("c10::Error"), std::string::npos) << outcome->output;
      EXPECT_EQ(outcome->output.find("Exception raised from"), std::string::npos)
          << "no LibTorch stack frames: " << outcome->output;
    }
    EXPECT_FALSE(fs::exists(dir / "runs")) << "a refused start creates no run directory";
  }
}

TEST(BadInput, AModelPathThatDoesNotExistIsAnErrorOfCheckConfigAsOfTrain) {
  const fs::path dir = testDir();
  const std::string missing = (dir / "no-such-model.yaml").string();
  const Outcome check =
      run({"check-config", (fs::path(SYNCBN_SOURCE_DIR) / "configs/demo.yaml").string(),
           "model=" + missing},
          dir / "check.log");
  expectRefused(check, "model.model: " + missing + ": cannot read the model file: does not exist",
                "check-config");
  const Outcome train = run({"train", "data=" + smallDataset().string(), "model=" + missing,
                             "device=cpu", "project=" + (dir / "runs").string()},
                            dir / "train.log");
  expectRefused(train, "model.model: " + missing + ": cannot read the model file: does not exist",
                "train");
  EXPECT_FALSE(fs::exists(dir / "runs"));
}

// ---- Special files and resume: refused at once, the run directory byte for byte as it was ------

TEST(BadInput, AResumeFromAFifoOrAForeignLastPtIsRefusedAtOnceAndChangesNothing) {
  const fs::path dir = testDir();
  const fs::path runDir = dir / "runs" / "r";
  // A real run's directory, then its last.pt replaced.
  ASSERT_EQ(run(smallRun(dir / "runs", "r"), dir / "first.log").code, 0)
      << readText(dir / "first.log");
  for (const std::string kind : {"fifo", "folder", "foreign"}) {
    SCOPED_TRACE(kind);
    fs::remove_all(runDir / "weights" / "last.pt");
    if (kind == "fifo") {
      ASSERT_EQ(::mkfifo((runDir / "weights" / "last.pt").c_str(), 0644), 0);
    } else if (kind == "folder") {
      fs::create_directories(runDir / "weights" / "last.pt");
    } else {
      writeText(runDir / "weights" / "last.pt", "PK\x03\x04 a zip, not a checkpoint");
    }
    const auto before = snapshot(runDir);
    const Outcome resumed = run({"train", (runDir / "args.yaml").string(), "resume=true",
                                 "--events", (dir / (kind + ".jsonl")).string()},
                                dir / (kind + ".log"), 120s);
    const std::string reason = kind == "fifo"     ? "is a FIFO (named pipe), not a checkpoint file"
                               : kind == "folder" ? "is a folder, not a checkpoint file"
                                                  : "not a SyncBN Studio checkpoint";
    expectRefused(resumed, (runDir / "weights" / "last.pt").string(), "resume");
    expectRefused(resumed, reason, "resume");
    EXPECT_EQ(changedFiles(before, snapshot(runDir)), "")
        << "args.yaml, events.jsonl, tb/ and weights/ unchanged";
    // The failure is recorded where the user asked: the --events file.
    const auto finished = eventsOf<syncbn::protocol::Finished>(readEvents(dir / (kind + ".jsonl")));
    ASSERT_EQ(finished.size(), 1u);
    EXPECT_EQ(finished[0].status, "failed");
  }
}

// ---- Datasets: special files, bombs ----------------------------------------------------------

TEST(BadInput, AnImageListThatIsAFifoOrDevZeroIsRefusedAtOnceNamingIt) {
  const fs::path dir = testDir();
  ASSERT_EQ(::mkfifo((dir / "fifo.txt").c_str(), 0644), 0);
  fs::create_symlink("/dev/zero", dir / "zero.txt");
  for (const std::string list : {"fifo.txt", "zero.txt"}) {
    SCOPED_TRACE(list);
    writeText(dir / "data.yaml", "train: " + list + "\nval: " + list + "\nnames: [a]\n");
    const Outcome checked =
        run({"check-data", (dir / "data.yaml").string()}, dir / "check.log", 60s);
    expectRefused(checked, "cannot read image list '" + (dir / list).string() + "': is a",
                  "check-data");
    const Outcome trained = run({"train", "data=" + (dir / "data.yaml").string(), "imgsz=64",
                                 "device=cpu", "epochs=1", "project=" + (dir / "runs").string()},
                                dir / "train.log", 60s);
    expectRefused(trained, (dir / "data.yaml").string() + ":1: train: cannot read image list",
                  "train");
  }
}

// A real decompression bomb: a valid 30000 x 30000 8-bit greyscale PNG of zeros, about 1 MB on
// disk and 2.7 GB once OpenCV decodes it to BGR, written row by row through zlib.
std::string bombPng(std::uint32_t side) {
  const auto be32 = [](std::uint32_t v) {
    return std::string{static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                       static_cast<char>(v >> 8), static_cast<char>(v)};
  };
  const auto chunk = [&](const std::string& type, const std::string& data) {
    const std::string body = type + data;
    const auto crc = static_cast<std::uint32_t>(
        ::crc32(0, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size())));
    return be32(static_cast<std::uint32_t>(data.size())) + body + be32(crc);
  };
  z_stream z{};
  EXPECT_EQ(::deflateInit(&z, Z_BEST_SPEED), Z_OK);
  const std::string row(side + 1, '\0');  // filter byte 0, then the pixels
  std::string idat;
  std::vector<unsigned char> out(1 << 16);
  for (std::uint32_t y = 0; y <= side; ++y) {
    const bool last = y == side;
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(row.data()));
    z.avail_in = last ? 0 : static_cast<uInt>(row.size());
    do {
      z.next_out = out.data();
      z.avail_out = static_cast<uInt>(out.size());
      ::deflate(&z, last ? Z_FINISH : Z_NO_FLUSH);
      idat.append(reinterpret_cast<char*>(out.data()), out.size() - z.avail_out);
    } while (z.avail_out == 0);
  }
  ::deflateEnd(&z);
  return std::string("\x89PNG\r\n\x1a\n", 8) +
         chunk("IHDR", be32(side) + be32(side) + std::string("\x08\x00\x00\x00\x00", 5)) +
         chunk("IDAT", idat) + chunk("IEND", "");
}

TEST(BadInput, ADecompressionBombIsSkippedUnreadUnderTheMemoryCapAndNamed) {
  const fs::path dir = testDir();
  fs::copy(smallDataset().parent_path(), dir / "data", fs::copy_options::recursive);
  const std::string bomb = bombPng(30000);
  EXPECT_LT(bomb.size(), 4u << 20) << "a bomb is small";
  writeText(dir / "data/images/train/bomb.png", bomb);
  const Outcome checked =
      run({"check-data", (dir / "data/data.yaml").string()}, dir / "check.log", 60s);
  EXPECT_EQ(checked.code, 0) << checked.output;
  EXPECT_NE(checked.output.find("bomb.png: skipped: image is 30000x30000 px (900.0 Mpixel), more "
                                "than twice data.max_image_pixels"),
            std::string::npos)
      << checked.output;
  // Without the limit the same file is decoded (or refused for memory under the cap): never a
  // crash.
  const Outcome unlimited = run(
      {"check-data", (dir / "data/data.yaml").string(), "--max-image-pixels", "0", "--no-cache"},
      dir / "unlimited.log", 120s);
  EXPECT_GE(unlimited.code, 0) << "finished within its timeout";
  EXPECT_LT(unlimited.code, 128) << unlimited.output;
}

// ---- The progress channel and the end of the record --------------------------------------------

TEST(BadInput, AnUnreachableGuiSocketIsAWarningOrWithTheOptionAFailureInTheEventsFile) {
  const fs::path dir = testDir();
  // An exist_ok run into a folder an interrupted write left a temporary file in.
  writeText(dir / "runs/r/weights/.last.pt.tmp.Ab3xYz", "half a checkpoint");
  const Outcome goesOn =
      run(smallRun(dir / "runs", "r",
                   {"exist_ok=true", "--progress-socket", (dir / "no-such.sock").string(),
                    "--events", (dir / "on.jsonl").string()}),
          dir / "on.log");
  EXPECT_EQ(goesOn.code, 0) << goesOn.output;
  EXPECT_NE(goesOn.output.find("warning: cannot connect to the progress socket"), std::string::npos)
      << goesOn.output;
  const auto events = readEvents(dir / "on.jsonl");
  ASSERT_EQ(eventsOf<syncbn::protocol::Finished>(events).size(), 1u);
  EXPECT_EQ(eventsOf<syncbn::protocol::Finished>(events)[0].status, "completed");
  EXPECT_FALSE(fs::exists(dir / "runs/r/weights/.last.pt.tmp.Ab3xYz"));
  bool reported = false;
  for (const auto& log : eventsOf<syncbn::protocol::Log>(events))
    reported = reported || log.text.find(
                               ".last.pt.tmp.Ab3xYz, left by a write that was "
                               "interrupted") != std::string::npos;
  EXPECT_TRUE(reported) << "the removed temporary file is reported";

  const Outcome fails =
      run(smallRun(dir / "runs", "f",
                   {"--progress-socket", (dir / "no-such.sock").string(),
                    "--require-progress-socket", "--events", (dir / "off.jsonl").string()}),
          dir / "off.log");
  expectRefused(fails, "cannot connect to the progress socket " + (dir / "no-such.sock").string(),
                "--require-progress-socket");
  const auto failed = eventsOf<syncbn::protocol::Finished>(readEvents(dir / "off.jsonl"));
  ASSERT_EQ(failed.size(), 1u) << readText(dir / "off.jsonl");
  EXPECT_EQ(failed[0].status, "failed");
}

// A dataset slow enough to verify that a signal arrives during verification: verification decodes
// every image, and 2500 of 256 px took about 0.75 s on the idle 2-core machine, where 1500 of 64 px
// took 85 ms on a fast day, less than the test's wait before the signal.
fs::path slowDataset(const fs::path& dir) {
  const Outcome made = run({"make-demo-data", (dir / "slow").string(), "--train", "2500", "--val",
                            "4", "--imgsz", "256", "--seed", "4"},
                           dir / "make.log");
  EXPECT_EQ(made.code, 0) << made.output;
  return dir / "slow" / "data.yaml";
}

TEST(BadInput, SigtermOrSighupDuringDatasetVerificationEndsCleanlyWithFinished) {
  const fs::path dir = testDir();
  const fs::path data = slowDataset(dir);
  for (const int signal : {SIGTERM, SIGHUP}) {
    SCOPED_TRACE(signal);
    const std::string name = "s" + std::to_string(signal);
    fs::remove_all(data.parent_path() / "labels" / "train.syncbn-cache.json");
    Engine engine({"train", "data=" + data.string(), "imgsz=64", "device=cpu", "epochs=1",
                   "workers=1", "project=" + (dir / "runs").string(), "name=" + name, "--events",
                   (dir / (name + ".jsonl")).string()},
                  dir / (name + ".log"));
    // The --events file opens just before the handlers are installed and the dataset is
    // verified (the run directory's own record waits until the run has started).
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    while (!fs::exists(dir / (name + ".jsonl"))) {
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << engine.log();
      ASSERT_FALSE(engine.wait(0ms)) << "ended before verification: " << engine.log();
      std::this_thread::sleep_for(5ms);
    }
    std::this_thread::sleep_for(100ms);
    ::kill(engine.pid(), signal);
    const std::optional<int> code = engine.wait(60s);
    ASSERT_TRUE(code) << engine.log();
    EXPECT_EQ(*code, 0) << engine.log();
    const auto events = readEvents(dir / (name + ".jsonl"));
    const auto finished = eventsOf<syncbn::protocol::Finished>(events);
    ASSERT_EQ(finished.size(), 1u) << engine.log();
    EXPECT_EQ(finished[0].status, "stopped");
    EXPECT_TRUE(eventsOf<syncbn::protocol::Step>(events).empty())
        << "stopped before training: " << engine.log();
    EXPECT_FALSE(fs::exists(dir / "runs" / name)) << "a run that never started leaves no folder";
  }
}

}  // namespace
