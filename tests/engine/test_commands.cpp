// The engine's check-config / plan / default-config commands, through their stream interface.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
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

TEST(CheckData, JsonReportHasTheCountsProblemsAndEveryImagesBoxes) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                    ("syncbn_cmd_check_json_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  ASSERT_EQ(run([&](auto ctx) {
              return makeDemoData(ctx, dir.string(),
                                  {.train = 6, .val = 2, .imgsz = 64, .seed = 2});
            }).code,
            kExitOk);
  const std::string yaml = (dir / "data.yaml").string();
  const auto badLabel = dir / "labels/train/train_000002.txt";
  std::ofstream(badLabel, std::ios::app) << "5 0.5 0.5 0.1 0.1\n";
  const CommandResult r = run([&](auto ctx) { return checkData(ctx, yaml, {.json = true}); });
  ASSERT_EQ(r.code, kExitOk) << r.err;
  const auto report = nlohmann::json::parse(r.out);
  EXPECT_EQ(report["schema"], 1);
  EXPECT_EQ(report["names"], (nlohmann::json{"circle", "rectangle", "triangle"}));
  EXPECT_TRUE(report["usable"].get<bool>());
  const auto& train = report["splits"][0];
  EXPECT_EQ(train["split"], "train");
  EXPECT_EQ(train["listed"], 6);
  EXPECT_EQ(train["images"], 5);
  EXPECT_EQ(train["skipped"], 1);
  ASSERT_EQ(train["problems"].size(), 1u);
  const auto& problem = train["problems"][0];
  EXPECT_EQ(problem["file"], badLabel.string());
  EXPECT_EQ(problem["label"], badLabel.string());
  EXPECT_EQ(problem["image"], (dir / "images/train/train_000002.jpg").string());
  EXPECT_TRUE(problem["skipped"].get<bool>());
  EXPECT_NE(problem["reason"].get<std::string>().find("class 5"), std::string::npos);
  // Each sample's boxes are its label file's rows (the file read here is the oracle).
  std::size_t instances = 0;
  for (const auto& sample : train["samples"]) {
    std::ifstream label(sample["label"].get<std::string>());
    std::vector<std::vector<double>> rows;
    for (double c, x, y, w, h; label >> c >> x >> y >> w >> h;)
      rows.push_back({c, x, y, w, h});
    ASSERT_EQ(sample["boxes"].size(), rows.size()) << sample["label"];
    for (std::size_t i = 0; i < rows.size(); ++i)
      for (std::size_t k = 0; k < 5; ++k)
        EXPECT_NEAR(sample["boxes"][i][k].get<double>(), rows[i][k], 1e-6);
    instances += rows.size();
    EXPECT_EQ(sample["width"], 64);
  }
  EXPECT_EQ(train["instances"], instances);
  // Progress lines on stderr, ending at each split's total.
  EXPECT_NE(r.err.find("progress: train 6/6\n"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("progress: val 2/2\n"), std::string::npos) << r.err;

  // --sample: that many images per split, the listing's size kept.
  const CommandResult sampled =
      run([&](auto ctx) { return checkData(ctx, yaml, {.sample = 3, .json = true}); });
  ASSERT_EQ(sampled.code, kExitOk) << sampled.err;
  const auto quick = nlohmann::json::parse(sampled.out);
  EXPECT_EQ(quick["sample"], 3);
  EXPECT_EQ(quick["splits"][0]["listed"], 6);
  EXPECT_EQ(quick["splits"][0]["verified"], 3);
  EXPECT_EQ(quick["splits"][1]["verified"], 2);  // fewer images than the sample: all of them
  const CommandResult text = run([&](auto ctx) { return checkData(ctx, yaml, {.sample = 3}); });
  EXPECT_NE(text.out.find("(a random sample of 3 of the 6 images)"), std::string::npos) << text.out;

  // A split without a usable image: still a report, saying why, and exit 1.
  for (const char* name : {"val_000000", "val_000001"})
    std::ofstream(dir / "labels/val" / (std::string(name) + ".txt")) << "0 0.5\n";
  const CommandResult unusable =
      run([&](auto ctx) { return checkData(ctx, yaml, {.json = true}); });
  EXPECT_EQ(unusable.code, kExitInvalid);
  const auto refused = nlohmann::json::parse(unusable.out);
  EXPECT_FALSE(refused["usable"].get<bool>());
  EXPECT_NE(refused["error"].get<std::string>().find("val: no usable image"), std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST(ModelInfo, JsonHasTheLayerTableTotalsAndActivationCount) {
  const auto at = [](int imgsz) {
    const CommandResult r = run([&](auto ctx) {
      return printModelInfo(ctx, "yolov8n.yaml", {"imgsz=" + std::to_string(imgsz)}, true);
    });
    EXPECT_EQ(r.code, kExitOk) << r.err;
    return nlohmann::json::parse(r.out);
  };
  const auto info = at(320);
  EXPECT_EQ(info["schema"], 1);
  EXPECT_EQ(info["parameters"], 3157200);  // Ultralytics' YOLOv8n with 80 classes
  ASSERT_EQ(info["layers"].size(), 23u);
  std::int64_t sum = 0;
  double gflops = 0;
  for (const auto& layer : info["layers"]) {
    sum += layer["parameters"].get<std::int64_t>();
    gflops += layer["gflops"].get<double>();
  }
  EXPECT_EQ(sum, info["parameters"].get<std::int64_t>());
  EXPECT_NEAR(gflops, info["gflops"].get<double>(), 1e-9);
  EXPECT_EQ(info["layers"][0]["module"], "Conv");
  EXPECT_EQ(info["layers"][22]["module"], "Detect");
  // Activations: three tensors the size of each convolution's output, and every output scales
  // with the image's area (320 and 640 are multiples of the largest stride, 32).
  EXPECT_EQ(info["activation_elements"], 3 * info["conv_output_elements"].get<std::int64_t>());
  EXPECT_EQ(at(640)["conv_output_elements"], 4 * info["conv_output_elements"].get<std::int64_t>());
  // The stem alone: Conv 3->16, stride 2, at 320 px outputs 16 x 160 x 160 values.
  const TempConfig scratch("");
  const std::string stem = scratch.path() + ".stem.yaml";
  std::ofstream(stem) << "nc: 1\nbackbone:\n  - [-1, 1, Conv, [16, 3, 2]]\nhead:\n"
                         "  - [[0], 1, Detect, [nc]]\n";
  const CommandResult r =
      run([&](auto ctx) { return printModelInfo(ctx, stem, {"imgsz=320"}, true); });
  ASSERT_EQ(r.code, kExitOk) << r.err;
  const auto stemInfo = nlohmann::json::parse(r.out);
  // Detect on one 16-channel level of 160 x 160: box branch 64, 64, 64 (4 x 16 bins) and class
  // branch 16, 16, 1 channels (max(16, min(nc, 100)) = 16), then the DFL's 1 channel over 4 sides.
  const std::int64_t pixels = 160 * 160;
  EXPECT_EQ(stemInfo["conv_output_elements"],
            16 * pixels + (64 + 64 + 64 + 16 + 16 + 1) * pixels + 4 * pixels);
  std::filesystem::remove(stem);
}

TEST(ModelInfo, JsonErrorNamesTheFileLineAndField) {
  const TempConfig model(
      "nc: 3\nbackbone:\n  - [-1, 1, Conv, [32, 3, 2]]\nhead:\n  - [-1, 1, Dtect, [nc]]\n");
  const CommandResult r =
      run([&](auto ctx) { return printModelInfo(ctx, model.path(), {}, true); });
  EXPECT_EQ(r.code, kExitInvalid);
  const auto error = nlohmann::json::parse(r.out)["error"];
  EXPECT_EQ(error["file"], model.path());
  EXPECT_EQ(error["line"], 5);
  EXPECT_EQ(error["field"], "head[0].module");
  // A configuration's own error: the field, with the file and line it came from.
  const TempConfig config("train:\n  batch: 0\n");
  const CommandResult c =
      run([&](auto ctx) { return printModelInfo(ctx, config.path(), {}, true); });
  EXPECT_EQ(c.code, kExitInvalid);
  const auto configError = nlohmann::json::parse(c.out)["error"];
  EXPECT_EQ(configError["field"], "train.batch");
  EXPECT_EQ(configError["line"], 2);
}

TEST(CheckData, MissingFileIsAnErrorNamingIt) {
  const CommandResult r = run([&](auto ctx) { return checkData(ctx, "no/such/data.yaml", {}); });
  EXPECT_EQ(r.code, kExitInvalid);
  EXPECT_EQ(r.err, "error: no/such/data.yaml: file does not exist\n");
}

}  // namespace
}  // namespace syncbn::engine
