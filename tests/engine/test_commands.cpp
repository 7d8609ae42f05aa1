// The engine's check-config / plan / default-config commands, through their stream interface.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/config_yaml.h"
#include "engine/commands.h"

namespace syncbn::engine {
namespace {

struct CommandResult {
  int code = -1;
  std::string out;
  std::string err;
};

class TempConfig {
 public:
  explicit TempConfig(const std::string& text)
      : path_(std::filesystem::temp_directory_path() /
              ("syncbn_cmd_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
               "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".yaml")) {
    std::ofstream(path_) << text;
  }
  ~TempConfig() { std::filesystem::remove(path_); }
  std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

template <typename Command>
CommandResult run(Command command, HostFacts host = {}) {
  std::ostringstream out, err;
  CommandResult result;
  result.code = command(CommandContext{host, out, err});
  result.out = out.str();
  result.err = err.str();
  return result;
}

TEST(CheckConfig, ValidFileSucceedsWithSummary) {
  const TempConfig file(
      "train: {batch: 8, nbs: 8, amp: false}\ndistributed: {device: cpu, cpu_ranks: 2, norm: "
      "syncbn}\n");
  const CommandResult r = run([&](auto ctx) { return checkConfig(ctx, file.path(), {}); });
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_NE(r.out.find("0 errors, 0 warnings, 0 notes"), std::string::npos) << r.out;
}

TEST(CheckConfig, PrintsAllErrorsWithFileAndLineAndExitsOne) {
  const TempConfig file(
      "train:\n  epochs: 0\n  batch: 3\ndistributed:\n  device: cpu\n  cpu_ranks: 2\n  norm: bn\n");
  const CommandResult r = run([&](auto ctx) { return checkConfig(ctx, file.path(), {"lr0=-1"}); });
  EXPECT_EQ(r.code, kExitInvalid);
  EXPECT_NE(r.out.find(file.path() + ":2: error: train.epochs: must be between 1 and 100000"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find(file.path() + ":3: error: train.batch: global batch 3 does not divide"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("command line: error: train.lr0: must be between"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("3 errors"), std::string::npos) << r.out;
}

TEST(CheckConfig, AdviceIsPrintedButDoesNotFail) {
  const TempConfig file("batch: 4\namp: false\ndevice: cpu\ncpu_ranks: 2\nnorm: bn\nnbs: 4\n");
  const CommandResult r = run([&](auto ctx) { return checkConfig(ctx, file.path(), {}); });
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_NE(r.out.find(":5: warning: distributed.norm:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("[small-batch-bn]"), std::string::npos) << r.out;
}

TEST(CheckConfig, BrokenFileReportsOnlyTheFileProblem) {
  const TempConfig file("train: {epochs: 3\n");
  const CommandResult r = run([&](auto ctx) { return checkConfig(ctx, file.path(), {}); });
  EXPECT_EQ(r.code, kExitInvalid);
  EXPECT_NE(r.out.find("YAML syntax"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("1 error,"), std::string::npos) << r.out;
}

TEST(Plan, ShowsRanksAndBatchPerBatchNorm) {
  const CommandResult r = run(
      [&](auto ctx) {
        return printPlan(ctx, "", {"device=0,1", "batch=8", "norm=bn", "nbs=8"});
      },
      HostFacts{.cudaDevices = 2});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_NE(r.out.find("CUDA devices 0,1: 2 rank(s) per node x 1 node(s) = world size 2"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("backend   nccl"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("global 8 = 4 per rank"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("own 4 image(s)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("[small-batch-bn]"), std::string::npos) << r.out;
}

TEST(Plan, InvalidConfigFailsWithoutAPlan) {
  const CommandResult r = run([&](auto ctx) { return printPlan(ctx, "", {"batch=0"}); });
  EXPECT_EQ(r.code, kExitInvalid);
  EXPECT_EQ(r.out.find("Training plan"), std::string::npos);
}

TEST(DefaultConfig, ParsesBackToDefaults) {
  const CommandResult r = run([&](auto ctx) { return printDefaultConfig(ctx); });
  EXPECT_EQ(r.code, kExitOk);
  const LoadedConfig loaded = parseConfigYaml(r.out, "stdout");
  EXPECT_TRUE(loaded.diagnostics.empty());
  EXPECT_EQ(loaded.config, Config{});
}

TEST(SplitArguments, OneFileAndOverrides) {
  std::string file;
  std::vector<std::string> overrides;
  std::ostringstream err;
  EXPECT_TRUE(splitArguments({"epochs=3", "a.yaml", "batch=2"}, file, overrides, err));
  EXPECT_EQ(file, "a.yaml");
  EXPECT_EQ(overrides, (std::vector<std::string>{"epochs=3", "batch=2"}));
  file.clear();
  EXPECT_FALSE(splitArguments({"a.yaml", "b.yaml"}, file, overrides, err));
  EXPECT_NE(err.str().find("more than one"), std::string::npos);
}

TEST(ModelInfo, TakesAModelFileOrTheConfigurationsModel) {
  // A model YAML given directly: a two-layer model, channels scaled by the file's only scale.
  // (TempConfig names files after the test, so the model is written beside it under its own name.)
  const TempConfig scratch("");
  const std::string modelPath = scratch.path() + ".model.yaml";
  std::ofstream(modelPath)
      << ("nc: 3\nscales:\n  t: [1.0, 0.5, 64]\nbackbone:\n  - [-1, 1, Conv, [32, 3, 2]]\n"
          "head:\n  - [[0], 1, Detect, [nc]]\n");
  CommandResult r = run([&](auto ctx) { return printModelInfo(ctx, modelPath, {}); });
  ASSERT_EQ(r.code, kExitOk) << r.err;
  // Conv 3->16 k3: 16*3*9 weights + 2*16 BN = 464, as YOLOv8n's first layer.
  EXPECT_NE(r.out.find("464  Conv        [3, 16, 3, 2]"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("scale t, 3 classes"), std::string::npos) << r.out;

  // A configuration naming that model, and its image size.
  const TempConfig config("data: {imgsz: 64}\nmodel: {model: " + modelPath + "}\n");
  r = run([&](auto ctx) { return printModelInfo(ctx, config.path(), {}); });
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_NE(r.out.find("(at 64x64)"), std::string::npos) << r.out;

  r = run([&](auto ctx) { return printModelInfo(ctx, config.path(), {"model=yolov8s.yaml"}); });
  // The configuration trains on the built-in demo data (3 classes): Ultralytics' YOLOv8s has
  // 11,135,987 parameters for one class and 3 x (128 + 1) more per extra class.
  EXPECT_NE(r.out.find("YOLOv8s summary: 224 layers, 11136761 parameters"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("scale s, 3 classes"), std::string::npos) << r.out;
  std::filesystem::remove(modelPath);
}

TEST(ModelInfo, BadModelFileIsAnErrorWithItsLine) {
  const TempConfig model(
      "nc: 3\nbackbone:\n  - [-1, 1, Conv, [32, 3, 2]]\nhead:\n  - [-1, 1, Dtect, [nc]]\n");
  const CommandResult r = run([&](auto ctx) { return printModelInfo(ctx, model.path(), {}); });
  EXPECT_EQ(r.code, kExitInvalid);
  EXPECT_NE(r.err.find(model.path() + ":5:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("head[0].module: unknown module 'Dtect'"), std::string::npos) << r.err;
}

TEST(CheckData, DemoDatasetPassesAndABrokenImageIsListedWithItsReason) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                    ("syncbn_cmd_check_data_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  const CommandResult made = run([&](auto ctx) {
    return makeDemoData(ctx, dir.string(), {.train = 6, .val = 2, .imgsz = 64, .seed = 1});
  });
  ASSERT_EQ(made.code, kExitOk) << made.err;
  const std::string yaml = (dir / "data.yaml").string();
  EXPECT_NE(made.out.find(yaml), std::string::npos) << made.out;

  const CommandResult ok = run([&](auto ctx) { return checkData(ctx, yaml, {}); });
  EXPECT_EQ(ok.code, kExitOk) << ok.err;
  EXPECT_NE(ok.out.find("train: 6 images, "), std::string::npos) << ok.out;
  EXPECT_NE(ok.out.find(" 0 skipped"), std::string::npos) << ok.out;
  EXPECT_NE(ok.out.find("val: 2 images, "), std::string::npos) << ok.out;

  const auto label = dir / "labels/val/val_000001.txt";
  std::ofstream(label) << "0 0.5 0.5 0.1 0.1\n9 0.5 0.5 0.1 0.1\n";
  const CommandResult bad = run([&](auto ctx) { return checkData(ctx, yaml, {.workers = 1}); });
  EXPECT_EQ(bad.code, kExitOk) << "one usable val image is left";
  EXPECT_NE(bad.out.find(label.string() + ":2: skipped: class 9 is not in names"),
            std::string::npos)
      << bad.out;

  std::ofstream(dir / "labels/val/val_000000.txt") << "0 0.5 0.5 0.1\n";
  const CommandResult none = run([&](auto ctx) { return checkData(ctx, yaml, {}); });
  EXPECT_EQ(none.code, kExitInvalid);
  EXPECT_NE(none.err.find(yaml + ":4: val: no usable image"), std::string::npos) << none.err;
  std::filesystem::remove_all(dir);
}

TEST(CheckData, MissingFileIsAnErrorNamingIt) {
  const CommandResult r = run([&](auto ctx) { return checkData(ctx, "no/such/data.yaml", {}); });
  EXPECT_EQ(r.code, kExitInvalid);
  EXPECT_EQ(r.err, "error: no/such/data.yaml: file does not exist\n");
}

}  // namespace
}  // namespace syncbn::engine
