// `syncbn-engine recalibrate`: a round trip on a tiny detector and dataset whose written running
// statistics must equal an independent float64 recomputation over the same batches, and the
// refusals (truncated, foreign, unwritable output) that leave no file behind.
#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "common/config_yaml.h"
#include "data/augment.h"
#include "data/batch_loader.h"
#include "data/demo_data.h"
#include "data/distributed_sampler.h"
#include "data/verify.h"
#include "engine/recalibrate_command.h"
#include "model/detection_model.h"
#include "nn/norm.h"
#include "train/training_state.h"

namespace syncbn::engine {
namespace {

namespace fs = std::filesystem;

struct CommandResult {
  int code = -1;
  std::string out, err;
};

CommandResult runRecalibrate(const RecalibrateOptions& options) {
  std::ostringstream out, err;
  CommandResult result;
  result.code = recalibrate(CommandContext{HostFacts{}, out, err}, options);
  result.out = out.str();
  result.err = err.str();
  return result;
}

std::string bytesOf(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

std::set<std::string> filesIn(const fs::path& dir) {
  std::set<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir))
    names.insert(entry.path().filename().string());
  return names;
}

// A demo dataset, a two-layer detector (Conv, C2f with BatchNorm), and a checkpoint of it whose
// EMA running statistics are far from the truth.
class Recalibrate : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("syncbn_recalibrate_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "run");
    data_ = data::makeDemoData(dir_ / "data", {.train = 14, .val = 4, .imgsz = 64, .seed = 2});
    const fs::path modelYaml = dir_ / "tiny.yaml";
    std::ofstream(modelYaml) << "nc: 2\nbackbone:\n  - [-1, 1, Conv, [8, 3, 2]]\n"
                                "  - [-1, 1, C2f, [8, True]]\nhead:\n  - [[1], 1, Detect, [nc]]\n";
    config_.data.data = data_.string();
    config_.data.imgsz = 64;
    config_.model.model = modelYaml.string();
    config_.train.batch = 4;
    config_.train.workers = 1;
    config_.train.seed = 11;
    config_.distributed.norm = NormKind::BatchNorm;

    torch::manual_seed(5);
    model::DetectionModel net = model::buildDetectionModel(config_.model.model, "", 3);
    model::DetectionModel ema = model::buildDetectionModel(config_.model.model, "", 3);
    {
      torch::NoGradGuard noGrad;
      net->train();
      net->forwardLevels(torch::rand({2, 3, 64, 64}) * 3);  // running statistics of noise
      for (auto& p : net->parameters())
        p.add_(torch::randn_like(p) * 0.05);
      const auto from = net->named_parameters();
      for (auto& p : ema->named_parameters())
        p.value().copy_(from[p.key()] + 0.01);
      const auto buffers = net->named_buffers();
      for (auto& b : ema->named_buffers())
        b.value().copy_(buffers[b.key()]);
    }
    train::CheckpointMeta meta;
    meta.kind = "last";
    meta.loop.set("epoch", std::int64_t{4});
    meta.loop.set("epoch_complete", true);
    meta.loop.set("iteration", std::int64_t{40});
    meta.configYaml = toYaml(config_);
    meta.datasetHash = "test";
    meta.modelFingerprint = train::modelFingerprint(*net, NormKind::BatchNorm);
    weights_ = dir_ / "run" / "last.pt";
    train::saveCheckpoint(weights_, {net.get(), ema.get(), nullptr}, meta);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Every parameter and buffer of `part` ("model" or "ema") of a checkpoint.
  std::map<std::string, torch::Tensor> tensorsOf(const fs::path& checkpoint,
                                                 const std::string& part) const {
    auto net = model::buildDetectionModel(config_.model.model, "", 3);
    auto ema = model::buildDetectionModel(config_.model.model, "", 3);
    train::restoreCheckpoint(checkpoint, {net.get(), ema.get(), nullptr}, "");
    std::map<std::string, torch::Tensor> out;
    auto& which = part == "ema" ? *ema : *net;
    for (const auto& p : which.named_parameters())
      out[p.key()] = p.value().clone();
    for (const auto& b : which.named_buffers())
      out[b.key()] = b.value().clone();
    return out;
  }

  fs::path dir_, data_, weights_;
  Config config_;
};

TEST_F(Recalibrate, WritesRunningStatisticsEqualToAFloat64RecomputationOverTheSameBatches) {
  const std::string input = bytesOf(weights_);
  RecalibrateOptions options;
  options.weights = weights_;
  options.batches = 5;  // 14 images in batches of 4: 3 per pass, so the order goes round again
  options.json = true;
  options.device = "cpu";
  const CommandResult r = runRecalibrate(options);
  ASSERT_EQ(r.code, kExitOk) << r.err;
  const nlohmann::json report = nlohmann::json::parse(r.out);
  const fs::path output = dir_ / "run" / "last-precise.pt";
  EXPECT_EQ(report["output"], output.string());
  EXPECT_EQ(report["input"], weights_.string());
  EXPECT_EQ(report["batches"], 5);
  EXPECT_EQ(report["batch"], 4);
  const auto norms = nn::normLayers(*model::buildDetectionModel(config_.model.model, "", 3));
  EXPECT_EQ(report["layers"], norms.size());  // every one is a BatchNorm
  for (const char* when : {"before", "after"}) {
    ASSERT_TRUE(report[when].is_object()) << report.dump();
    EXPECT_GE(report[when]["map50"].get<double>(), 0.0);
    EXPECT_GE(report[when]["map50_95"].get<double>(), 0.0);
  }
  EXPECT_EQ(bytesOf(weights_), input) << "the input is never overwritten";
  EXPECT_EQ(filesIn(dir_ / "run"), (std::set<std::string>{"last.pt", "last-precise.pt"}));

  // The oracle: the input's EMA in float64, in training mode, fed the same batches; each
  // BatchNorm's input's per-channel mean and unbiased variance, averaged over the batches.
  auto oracle = model::buildDetectionModel(config_.model.model, "", 3);
  {
    auto unused = model::buildDetectionModel(config_.model.model, "", 3);
    train::restoreCheckpoint(weights_, {unused.get(), oracle.get(), nullptr}, "");
  }
  oracle->to(torch::kDouble);
  oracle->train();
  std::map<std::string, std::pair<torch::Tensor, torch::Tensor>> sums;
  for (const auto& [name, norm] : nn::normLayers(*oracle)) {
    sums[name] = {torch::zeros({norm->channels()}, torch::kDouble),
                  torch::zeros({norm->channels()}, torch::kDouble)};
    norm->setInputObserver([&sums, name = name](const torch::Tensor& x) {
      const torch::Tensor perChannel = x.transpose(0, 1).reshape({x.size(1), -1});
      sums[name].first += perChannel.mean(1);
      sums[name].second += perChannel.var(1, /*unbiased=*/true);
    });
  }
  const data::DatasetReport dataset = data::verifyDataset(data_);
  data::AugmentSettings letterbox = data::AugmentSettings::fromConfig(config_);
  letterbox.augment = false;
  const data::ExampleFactory images(dataset.splits[0].samples, letterbox);
  ASSERT_EQ(dataset.splits[0].split, "train");
  const auto batches = recalibrationBatches(images.size(), 5, 4, 11);
  ASSERT_EQ(batches.size(), 5u);
  {
    torch::NoGradGuard noGrad;
    for (const auto& indices : batches) {
      std::vector<data::TrainingExample> examples;
      for (const std::size_t i : indices)
        examples.push_back(images.validation(i));
      const data::Batch batch = data::collateExamples(std::move(examples));
      oracle->forwardLevels(data::toFloatImages(batch.images, torch::kCPU).to(torch::kDouble));
    }
  }
  const auto written = tensorsOf(output, "ema");
  for (const auto& [name, sum] : sums) {
    SCOPED_TRACE(name);
    const torch::Tensor mean = written.at(name + ".layer.running_mean").to(torch::kDouble);
    const torch::Tensor var = written.at(name + ".layer.running_var").to(torch::kDouble);
    const torch::Tensor expectedMean = sum.first / 5, expectedVar = sum.second / 5;
    EXPECT_TRUE(torch::allclose(mean, expectedMean, 1e-4, 1e-5))
        << (mean - expectedMean).abs().max().item<double>();
    EXPECT_TRUE(torch::allclose(var, expectedVar, 1e-4, 1e-5))
        << (var - expectedVar).abs().max().item<double>();
    // ...and they moved far from the noise statistics the checkpoint had.
    const auto before = tensorsOf(weights_, "ema");
    EXPECT_GT((before.at(name + ".layer.running_var").to(torch::kDouble) - expectedVar)
                  .abs()
                  .max()
                  .item<double>(),
              1e-3);
  }

  // Everything else is carried over: the trained model, the EMA's weights, the meta.
  const auto inputModel = tensorsOf(weights_, "model");
  const auto outputModel = tensorsOf(output, "model");
  for (const auto& [name, tensor] : inputModel)
    EXPECT_TRUE(torch::equal(tensor, outputModel.at(name))) << name;
  const auto inputEma = tensorsOf(weights_, "ema");
  for (const auto& [name, tensor] : inputEma) {
    // The running statistics and their update count (BatchNorm counts the recalibration's
    // forwards) are what recalibration rewrites.
    if (name.find("running_") == std::string::npos &&
        name.find("num_batches_tracked") == std::string::npos) {
      EXPECT_TRUE(torch::equal(tensor, written.at(name))) << name;
    }
  }
  const train::CheckpointMeta meta = train::readCheckpointMeta(output);
  EXPECT_EQ(meta.loop.get<std::int64_t>("iteration"), 40);
  EXPECT_EQ(meta.configYaml, toYaml(config_));
}

TEST_F(Recalibrate, TheBatchesFollowTheDocumentedOrder) {
  const auto batches = recalibrationBatches(14, 7, 4, 11);
  ASSERT_EQ(batches.size(), 7u);
  const data::DistributedSampler sampler(14, 1, 0, true, 11 + 7919);
  for (int k = 0; k < 7; ++k) {
    const auto order = sampler.indices(k / 3);
    const std::vector<std::size_t> expected(order.begin() + (k % 3) * 4,
                                            order.begin() + (k % 3 + 1) * 4);
    EXPECT_EQ(batches[static_cast<std::size_t>(k)], expected) << k;
  }
  EXPECT_EQ(recalibrationBatches(14, 7, 4, 11), batches);
  EXPECT_EQ(recalibrationBatches(3, 2, 8, 0)[1].size(), 3u);  // batch cut to the images there are
}

TEST_F(Recalibrate, PrintsAReportAndWritesWhereOutputSays) {
  RecalibrateOptions options;
  options.weights = weights_;
  options.batches = 2;
  options.output = dir_ / "chosen.pt";
  options.device = "cpu";
  const CommandResult r = runRecalibrate(options);
  ASSERT_EQ(r.code, kExitOk) << r.err;
  const auto norms = nn::normLayers(*model::buildDetectionModel(config_.model.model, "", 3));
  EXPECT_NE(r.out.find("PreciseBN: recalibrated " + std::to_string(norms.size()) +
                       " BatchNorm layers of the EMA of " + weights_.string() +
                       " over 2 batches of 4 training images"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("  before  mAP50 "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  after   mAP50 "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("saved " + (dir_ / "chosen.pt").string()), std::string::npos) << r.out;
  EXPECT_TRUE(fs::exists(dir_ / "chosen.pt"));
  EXPECT_FALSE(fs::exists(dir_ / "run" / "last-precise.pt"));
}

// A best.pt holds the EMA alone, in float16 with output.best_fp16: it recalibrates the same way
// and stays what it was (no training state, float16).
TEST_F(Recalibrate, AFloat16BestPtWithoutTrainingStateRecalibratesAndStaysFloat16) {
  const train::CheckpointModel last = train::loadCheckpointModel(weights_);
  train::CheckpointMeta meta = last.meta;
  meta.kind = "best";
  const fs::path best = dir_ / "run" / "best.pt";
  train::writeCheckpoint(best, train::snapshotInferenceCheckpoint(*last.model, true, meta,
                                                                  train::WeightPrecision::Float16));
  RecalibrateOptions options;
  options.weights = best;
  options.batches = 2;
  options.device = "cpu";
  const CommandResult r = runRecalibrate(options);
  ASSERT_EQ(r.code, kExitOk) << r.err;
  const fs::path output = dir_ / "run" / "best-precise.pt";
  EXPECT_EQ(fs::file_size(output), fs::file_size(best));
  const train::CheckpointModel recalibrated = train::loadCheckpointModel(output);
  EXPECT_EQ(recalibrated.meta.kind, "best");
  bool changed = false;
  const auto before = train::loadCheckpointModel(best).model->named_buffers();
  for (const auto& b : recalibrated.model->named_buffers())
    if (b.key().find("running_var") != std::string::npos) {
      // float16 values widened: each one survives a round trip through float16 unchanged
      EXPECT_TRUE(torch::equal(b.value(), b.value().to(torch::kHalf).to(torch::kFloat32)));
      changed = changed || !torch::equal(b.value(), before[b.key()]);
    }
  EXPECT_TRUE(changed) << "the running statistics were recalibrated";
}

TEST_F(Recalibrate, RefusesTruncatedAndForeignCheckpointsLeavingNoFile) {
  const std::string bytes = bytesOf(weights_);
  const fs::path truncated = dir_ / "run" / "cut.pt";
  std::ofstream(truncated, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  const fs::path foreign = dir_ / "run" / "yolov8n.pt";
  std::ofstream(foreign, std::ios::binary) << "PK\x03\x04 a torch.save zip, not ours";
  const auto before = filesIn(dir_ / "run");
  for (const auto& [file, reason] :
       {std::pair{truncated, std::string("truncated")},
        std::pair{foreign, std::string("not a SyncBN Studio checkpoint")}}) {
    RecalibrateOptions options;
    options.weights = file;
    options.batches = 1;
    const CommandResult r = runRecalibrate(options);
    EXPECT_EQ(r.code, kExitInvalid);
    EXPECT_EQ(r.err.rfind("error: " + file.string() + ": ", 0), 0u) << r.err;
    EXPECT_NE(r.err.find(reason), std::string::npos) << r.err;
    EXPECT_EQ(filesIn(dir_ / "run"), before) << "no partial output";
  }
  RecalibrateOptions missing;
  missing.weights = dir_ / "run" / "none.pt";
  const CommandResult r = runRecalibrate(missing);
  EXPECT_EQ(r.code, kExitInvalid);
  EXPECT_NE(r.err.find((dir_ / "run" / "none.pt").string() + ": no such checkpoint file"),
            std::string::npos)
      << r.err;
}

TEST_F(Recalibrate, AnUnwritableOutputIsNamedAndNothingIsWritten) {
  RecalibrateOptions options;
  options.weights = weights_;
  options.batches = 1;
  options.device = "cpu";
  options.output = dir_ / "no-such-folder" / "out.pt";
  const CommandResult r = runRecalibrate(options);
  EXPECT_EQ(r.code, kExitInvalid);
  EXPECT_EQ(r.err.rfind("error: " + options.output.string() + ": cannot save the checkpoint", 0),
            0u)
      << r.err;
  EXPECT_FALSE(fs::exists(dir_ / "no-such-folder"));
  EXPECT_EQ(filesIn(dir_ / "run"), (std::set<std::string>{"last.pt"}));
}

}  // namespace
}  // namespace syncbn::engine
