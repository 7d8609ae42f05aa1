// Checkpoints: a save/restore round trip reproduces the model, EMA, optimizer, meta and RNG
// exactly (checked by continuing training on both copies and comparing), and every damaged,
// foreign or mismatched file is refused with its reason while the target stays as it was.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <torch/torch.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <random>

#include "checkpoint_payload_reader.h"
#include "common/config_yaml.h"
#include "file_size_limit.h"
#include "model/detection_model.h"
#include "model/model_definition.h"
#include "model/yolo_modules.h"
#include "tiny_detector.h"
#include "train/checkpoint_writer.h"
#include "train/model_ema.h"
#include "train/training_state.h"

namespace syncbn::train {
namespace {

namespace fs = std::filesystem;
using torch::Tensor;

// The tiny detector with twice as many channels in its first layer: the same tensor names,
// other shapes.
model::ModelDefinition widerTinyDefinition() {
  return model::parseModelDefinition(
      "nc: 2\n"
      "backbone:\n"
      "  - [-1, 1, Conv, [16, 3, 2]]\n"
      "  - [-1, 1, C2f, [8, True]]\n"
      "head:\n"
      "  - [[1], 1, Detect, [nc]]\n",
      "wider.yaml", "wider");
}

model::DetectionModel tinyModel(std::uint64_t seed, NormKind norm = NormKind::BatchNorm) {
  torch::manual_seed(seed);
  return model::DetectionModel(testing::tinyDetectorDefinition(), model::NormChoice{norm, nullptr});
}

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "syncbn_checkpoint_XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    fs::permissions(path_, fs::perms::owner_all, fs::perm_options::add, ignored);
    fs::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::string readBytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void writeBytes(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::map<std::string, Tensor> snapshot(const torch::nn::Module& module) {
  std::map<std::string, Tensor> copy;
  for (const auto& item : module.named_parameters())
    copy[item.key()] = item.value().clone();
  for (const auto& item : module.named_buffers())
    copy[item.key()] = item.value().clone();
  return copy;
}

// Bit-exact equality of every parameter and buffer.
void expectEqualTensors(const std::map<std::string, Tensor>& expected,
                        const torch::nn::Module& module, const std::string& what) {
  const std::map<std::string, Tensor> actual = snapshot(module);
  ASSERT_EQ(actual.size(), expected.size()) << what;
  for (const auto& [name, tensor] : expected) {
    ASSERT_EQ(actual.count(name), 1u) << what << ": " << name;
    EXPECT_TRUE(torch::equal(actual.at(name), tensor)) << what << ": " << name << " differs";
  }
}

// One training step with a loss every output contributes to.
void trainStep(model::DetectionModel& model, torch::optim::Optimizer& optimizer,
               const Tensor& images) {
  optimizer.zero_grad();
  Tensor loss = torch::zeros({});
  for (const Tensor& level : model->forwardLevels(images))
    loss = loss + level.pow(2).mean();
  loss.backward();
  optimizer.step();
}

Tensor testImages(std::uint64_t seed) {
  torch::manual_seed(seed);
  return torch::rand({2, 3, 32, 32});
}

CheckpointMeta sampleMeta() {
  CheckpointMeta meta;
  meta.kind = "last";
  meta.loop.set("epoch", std::int64_t{7});
  meta.loop.set("step_in_epoch", std::int64_t{13});
  meta.loop.set("epoch_complete", true);
  meta.loop.set("iteration", std::int64_t{123456789012LL});
  meta.loop.set("optimizer_steps", std::int64_t{30864197253LL});
  meta.loop.set("epoch_loss_sums", std::vector<double>{1.5, 2.25, 0.125});
  meta.loop.set("scaler_scale", 8192.0);
  meta.loop.set("start_time", 1764579600.125);
  meta.loop.set("note", std::string("caf\xc3\xa9"));
  meta.hooks["ema"].set("updates", std::int64_t{30864197252LL});
  meta.hooks["best_fitness"].set("best_fitness", 0.3141592653589793);
  meta.hooks["best_fitness"].set("best_epoch", std::int64_t{5});
  meta.worldSize = 4;
  meta.names = {"bolt", "nut \xe8\x9e\xba\xe6\xaf\x8d"};
  meta.modelYaml = "nc: 2\n";
  meta.modelSource = "tiny.yaml";
  meta.modelName = "tiny";
  meta.modelScale = "";
  meta.imgsz = 320;
  meta.configYaml = "train:\n  epochs: 30\n  name: \"r\\u00e9sum\\u00e9\" # caf\xc3\xa9\n";
  meta.datasetHash = hashBytes("images/a.jpg\nimages/b.jpg\n");
  meta.modelFingerprint = modelFingerprint(testing::tinyDetectorDefinition(), NormKind::BatchNorm);
  meta.engineVersion = "0.1.0";
  return meta;
}

void expectSameMeta(const CheckpointMeta& a, const CheckpointMeta& b) {
  EXPECT_EQ(a.kind, b.kind);
  EXPECT_TRUE(a.loop == b.loop);
  EXPECT_EQ(a.hooks.size(), b.hooks.size());
  for (const auto& [key, state] : b.hooks)
    EXPECT_TRUE(a.hooks.count(key) && a.hooks.at(key) == state) << "hook state " << key;
  EXPECT_EQ(a.worldSize, b.worldSize);
  EXPECT_EQ(a.names, b.names);
  EXPECT_EQ(a.modelYaml, b.modelYaml);
  EXPECT_EQ(a.modelSource, b.modelSource);
  EXPECT_EQ(a.modelName, b.modelName);
  EXPECT_EQ(a.modelScale, b.modelScale);
  EXPECT_EQ(a.imgsz, b.imgsz);
  EXPECT_EQ(a.configYaml, b.configYaml);
  EXPECT_EQ(a.datasetHash, b.datasetHash);
  EXPECT_EQ(a.modelFingerprint, b.modelFingerprint);
  EXPECT_EQ(a.engineVersion, b.engineVersion);
}

// ---- hashes and fingerprints -------------------------------------------------------------------

TEST(HashBytes, MatchesFnv1a64ReferenceValues) {
  // From the FNV reference test suite (Fowler/Noll/Vo, test_fnv.c, FNV-1a 64).
  EXPECT_EQ(hashBytes(""), "cbf29ce484222325");
  EXPECT_EQ(hashBytes("a"), "af63dc4c8601ec8c");
  EXPECT_EQ(hashBytes("foobar"), "85944171f73967e8");
  EXPECT_EQ(hashBytes(std::string_view("\0", 1)), "af63bd4c8601b7df");
}

TEST(ModelFingerprint, IdentifiesArchitectureClassesAndNormOnly) {
  const auto tiny = testing::tinyDetectorDefinition();
  const std::string bn = modelFingerprint(tiny, NormKind::BatchNorm);
  EXPECT_EQ(bn.rfind("nc=2 norm=bn layers=3 #", 0), 0u) << bn;
  EXPECT_EQ(bn.size(), std::string("nc=2 norm=bn layers=3 #").size() + 16) << bn;
  // Pinned: a change here orphans every checkpoint written so far.
  EXPECT_EQ(bn, "nc=2 norm=bn layers=3 #b414ba7d89de2657");

  EXPECT_EQ(modelFingerprint(*tinyModel(1), NormKind::BatchNorm), bn) << "weights do not count";
  auto renamed = tiny;
  renamed.source = "elsewhere/tiny.yaml";
  renamed.name = "Tiny";
  EXPECT_EQ(modelFingerprint(renamed, NormKind::BatchNorm), bn) << "names do not count";

  EXPECT_NE(modelFingerprint(tiny, NormKind::SyncBatchNorm), bn);
  EXPECT_NE(modelFingerprint(tiny, NormKind::GroupNorm), bn);
  EXPECT_NE(modelFingerprint(widerTinyDefinition(), NormKind::BatchNorm), bn);
  const auto n80 = model::loadModelDefinition("yolov8n.yaml");
  const auto n3 = model::loadModelDefinition("yolov8n.yaml", "", 3);
  const auto s80 = model::loadModelDefinition("yolov8s.yaml");
  EXPECT_NE(modelFingerprint(n80, NormKind::BatchNorm), modelFingerprint(n3, NormKind::BatchNorm));
  EXPECT_NE(modelFingerprint(n80, NormKind::BatchNorm), modelFingerprint(s80, NormKind::BatchNorm));
  EXPECT_EQ(modelFingerprint(n80, NormKind::BatchNorm).rfind("nc=80 norm=bn layers=23 #", 0), 0u);
}

// ---- round trips -------------------------------------------------------------------------------

// A trained for two steps (model, EMA, optimizer) is saved, restored into B built from other
// random weights; one more identical step on each must then give bit-identical weights. A third
// model restored without the optimizer state (fresh momentum / moments) must not: the optimizer
// state really is what makes the continuation exact.
void expectExactContinuation(
    const std::function<std::unique_ptr<torch::optim::Optimizer>(model::DetectionModel&)>&
        makeOptimizer) {
  const TempDir dir;
  const fs::path path = dir.path() / "last.ckpt";
  const Tensor images = testImages(11);

  model::DetectionModel a = tinyModel(1);
  ModelEma emaA = makeModelEma(a);
  auto optimizerA = makeOptimizer(a);
  for (int step = 0; step < 2; ++step) {
    trainStep(a, *optimizerA, images * (step + 1));
    emaA.update(*a);
  }
  CheckpointMeta meta = sampleMeta();
  meta.hooks["ema"].set("updates", std::int64_t{emaA.updates()});
  const std::string fingerprint = modelFingerprint(*a, NormKind::BatchNorm);
  meta.modelFingerprint = fingerprint;
  saveCheckpoint(path, {a.ptr().get(), &emaA.module(), optimizerA.get()}, meta);
  const Tensor drawnAfterSave = torch::rand({16});
  const auto savedModel = snapshot(*a);
  const auto savedEma = snapshot(emaA.module());

  model::DetectionModel b = tinyModel(2);
  ModelEma emaB = makeModelEma(b);
  auto optimizerB = makeOptimizer(b);
  ASSERT_FALSE(torch::equal(b->parameters()[0], a->parameters()[0])) << "B starts elsewhere";
  torch::manual_seed(12345);
  const CheckpointMeta restored =
      restoreCheckpoint(path, {b.ptr().get(), &emaB.module(), optimizerB.get()}, fingerprint);
  EXPECT_TRUE(torch::equal(torch::rand({16}), drawnAfterSave)) << "the CPU RNG continues";
  expectSameMeta(restored, meta);
  expectSameMeta(readCheckpointMeta(path), meta);
  expectEqualTensors(savedModel, *b, "model");
  expectEqualTensors(savedEma, emaB.module(), "EMA");

  model::DetectionModel c = tinyModel(3);
  auto optimizerC = makeOptimizer(c);
  restoreCheckpoint(path, {c.ptr().get(), nullptr, nullptr}, fingerprint);

  trainStep(a, *optimizerA, images * 3);
  trainStep(b, *optimizerB, images * 3);
  trainStep(c, *optimizerC, images * 3);
  expectEqualTensors(snapshot(*a), *b, "model after one more step");
  EXPECT_FALSE(torch::equal(a->parameters()[0], savedModel.at(a->named_parameters().keys()[0])))
      << "the step changed the weights";
  EXPECT_FALSE(torch::equal(a->parameters()[0], c->parameters()[0]))
      << "without the optimizer state the step differs";
}

TEST(Checkpoint, RoundTripContinuesSgdWithNesterovMomentumExactly) {
  expectExactContinuation([](model::DetectionModel& model) {
    return std::make_unique<torch::optim::SGD>(
        model->parameters(),
        torch::optim::SGDOptions(0.05).momentum(0.9).nesterov(true).weight_decay(5e-4));
  });
}

TEST(Checkpoint, RoundTripContinuesAdamWExactly) {
  expectExactContinuation([](model::DetectionModel& model) {
    return std::make_unique<torch::optim::AdamW>(
        model->parameters(), torch::optim::AdamWOptions(2e-3).weight_decay(0.01));
  });
}

TEST(Checkpoint, RestoresTheLearningRatesOfEveryParameterGroup) {
  const TempDir dir;
  const fs::path path = dir.path() / "last.ckpt";
  auto groups = [](model::DetectionModel& model) {
    std::vector<Tensor> weights, others;
    for (const auto& item : model->named_parameters())
      (item.key().find("weight") != std::string::npos ? weights : others).push_back(item.value());
    return std::vector<torch::optim::OptimizerParamGroup>{
        torch::optim::OptimizerParamGroup(weights),
        torch::optim::OptimizerParamGroup(
            others, std::make_unique<torch::optim::SGDOptions>(torch::optim::SGDOptions(0.2)))};
  };
  model::DetectionModel a = tinyModel(1);
  torch::optim::SGD optimizerA(groups(a), torch::optim::SGDOptions(0.01).momentum(0.9));
  trainStep(a, optimizerA, testImages(3));
  static_cast<torch::optim::SGDOptions&>(optimizerA.param_groups()[0].options()).lr(0.0123);
  static_cast<torch::optim::SGDOptions&>(optimizerA.param_groups()[1].options())
      .lr(0.0456)
      .momentum(0.8);  // as during Ultralytics' warmup
  saveCheckpoint(path, {a.ptr().get(), nullptr, &optimizerA}, sampleMeta());

  model::DetectionModel b = tinyModel(2);
  torch::optim::SGD optimizerB(groups(b), torch::optim::SGDOptions(0.01).momentum(0.9));
  restoreCheckpoint(path, {b.ptr().get(), nullptr, &optimizerB}, "");
  const auto& options0 =
      static_cast<torch::optim::SGDOptions&>(optimizerB.param_groups()[0].options());
  const auto& options1 =
      static_cast<torch::optim::SGDOptions&>(optimizerB.param_groups()[1].options());
  EXPECT_EQ(options0.lr(), 0.0123);
  EXPECT_EQ(options0.momentum(), 0.9);
  EXPECT_EQ(options1.lr(), 0.0456);
  EXPECT_EQ(options1.momentum(), 0.8);

  model::DetectionModel c = tinyModel(3);
  torch::optim::SGD oneGroup(c->parameters(), torch::optim::SGDOptions(0.01).momentum(0.9));
  try {
    restoreCheckpoint(path, {c.ptr().get(), nullptr, &oneGroup}, "");
    ADD_FAILURE() << "accepted an optimizer with one param group";
  } catch (const CheckpointError& e) {
    EXPECT_NE(std::string(e.what()).find(
                  "the checkpoint's optimizer has 2 parameter groups, this run's has 1"),
              std::string::npos)
        << e.what();
  }
  EXPECT_EQ(oneGroup.param_groups()[0].options().get_lr(), 0.01);
}

TEST(Checkpoint, TheRestoredOptimizerStateIsExactlyTheSavedOne) {
  const TempDir dir;
  const fs::path path = dir.path() / "last.ckpt";
  model::DetectionModel a = tinyModel(1);
  torch::optim::SGD optimizerA(a->parameters(), torch::optim::SGDOptions(0.05).momentum(0.9));
  saveCheckpoint(path, {a.ptr().get(), nullptr, &optimizerA}, sampleMeta());  // before any step

  model::DetectionModel b = tinyModel(2);
  torch::optim::SGD optimizerB(b->parameters(), torch::optim::SGDOptions(0.05).momentum(0.9));
  trainStep(b, optimizerB, testImages(4));
  ASSERT_FALSE(optimizerB.state().empty());
  restoreCheckpoint(path, {b.ptr().get(), nullptr, &optimizerB}, "");
  EXPECT_TRUE(optimizerB.state().empty()) << "no momentum survives from before the restore";
}

TEST(Checkpoint, RoundTripOfYolov8n) {
  const TempDir dir;
  const fs::path path = dir.path() / "best.ckpt";
  torch::manual_seed(1);
  model::DetectionModel a = model::buildDetectionModel("yolov8n.yaml", "", 3);
  torch::manual_seed(2);
  model::DetectionModel b = model::buildDetectionModel("yolov8n.yaml", "", 3);
  const std::string fingerprint = modelFingerprint(*a, NormKind::BatchNorm);
  CheckpointMeta meta = sampleMeta();
  meta.modelFingerprint = fingerprint;
  saveCheckpoint(path, {a.ptr().get(), nullptr, nullptr}, meta);
  restoreCheckpoint(path, {b.ptr().get(), nullptr, nullptr}, fingerprint);
  expectEqualTensors(snapshot(*a), *b, "yolov8n");
  std::int64_t values = 0;
  for (const auto& [name, tensor] : snapshot(*a))
    values += tensor.numel();
  EXPECT_GT(values, 3'000'000);
  EXPECT_GT(fs::file_size(path), static_cast<std::uintmax_t>(values) * 4) << "float32 weights";
}

TEST(Checkpoint, ReadingTheMetaLeavesTheRngAlone) {
  const TempDir dir;
  const fs::path path = dir.path() / "best.ckpt";
  model::DetectionModel a = tinyModel(1);
  CheckpointMeta meta = sampleMeta();
  meta.kind = "best";
  saveCheckpoint(path, {a.ptr().get(), nullptr, nullptr}, meta);

  torch::manual_seed(77);
  const Tensor expected = torch::rand({8});
  torch::manual_seed(77);
  expectSameMeta(readCheckpointMeta(path), meta);
  EXPECT_TRUE(torch::equal(torch::rand({8}), expected));
}

TEST(Checkpoint, OverwritesAnExistingCheckpointAndLeavesNoTemporaryFiles) {
  const TempDir dir;
  const fs::path path = dir.path() / "last.ckpt";
  model::DetectionModel a = tinyModel(1);
  CheckpointMeta meta = sampleMeta();
  meta.loop.set("epoch", std::int64_t{1});
  saveCheckpoint(path, {a.ptr().get(), nullptr, nullptr}, meta);
  meta.loop.set("epoch", std::int64_t{2});
  saveCheckpoint(path, {a.ptr().get(), nullptr, nullptr}, meta);
  EXPECT_EQ(readCheckpointMeta(path).loop.get<std::int64_t>("epoch"), 2);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1);
}

TEST(Checkpoint, HeaderIsMagicVersionLengthAndChecksumOfThePayload) {
  const TempDir dir;
  const fs::path path = dir.path() / "last.ckpt";
  model::DetectionModel a = tinyModel(1);
  saveCheckpoint(path, {a.ptr().get(), nullptr, nullptr}, sampleMeta());
  const std::string bytes = readBytes(path);
  ASSERT_GT(bytes.size(), 28u);
  auto le = [&bytes](std::size_t at, int n) {
    std::uint64_t value = 0;
    for (int i = 0; i < n; ++i)
      value |= static_cast<std::uint64_t>(static_cast<unsigned char>(bytes[at + i])) << (8 * i);
    return value;
  };
  EXPECT_EQ(bytes.substr(0, 8), "SYNCBNCK");
  EXPECT_EQ(le(8, 4), 2u);
  EXPECT_EQ(le(12, 8), bytes.size() - 28);
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(le(20, 8)));
  EXPECT_EQ(hashBytes(std::string_view(bytes).substr(28)), hex);
}

// A checkpoint of an engine that did not record the start time: the same container, its loop
// state without "start_time".
std::string withoutStartTime(const std::string& bytes) {
  constexpr std::size_t kHeader = 28;
  const std::vector<char> payload(bytes.begin() + kHeader, bytes.end());
  c10::IValue root = torch::pickle_load(payload);
  if (root.toGenericDict().at("meta").toGenericDict().at("loop").toGenericDict().erase(
          "start_time") != 1)
    throw std::logic_error("the checkpoint has no start_time to remove");
  const std::vector<char> older = torch::pickle_save(root);
  std::string file = bytes.substr(0, kHeader) + std::string(older.begin(), older.end());
  const std::uint64_t length = older.size();
  const std::uint64_t checksum =
      std::stoull(hashBytes(std::string_view(file).substr(kHeader)), nullptr, 16);
  for (int i = 0; i < 8; ++i) {
    file[12 + i] = static_cast<char>((length >> (8 * i)) & 0xff);
    file[20 + i] = static_cast<char>((checksum >> (8 * i)) & 0xff);
  }
  return file;
}

TEST(Checkpoint, OneWithoutAStartTimeStillLoadsWithTheStartTimeUnknown) {
  const TempDir dir;
  const fs::path path = dir.path() / "old.ckpt";
  model::DetectionModel a = tinyModel(1);
  saveCheckpoint(path, {a.ptr().get(), nullptr, nullptr}, sampleMeta());
  ASSERT_EQ(readCheckpointMeta(path).loop.get<double>("start_time"), 1764579600.125);
  writeBytes(path, withoutStartTime(readBytes(path)));

  // The checkpoint reads it as absent; the trainer then counts from its own start (getOr).
  CheckpointMeta expected = sampleMeta();
  StateDict loop;
  for (const auto& [key, value] : expected.loop.values())
    if (key != "start_time") loop.set(key, value);
  expected.loop = loop;
  expectSameMeta(readCheckpointMeta(path), expected);
  model::DetectionModel b = tinyModel(2);
  expectSameMeta(
      restoreCheckpoint(path, {b.ptr().get(), nullptr, nullptr}, sampleMeta().modelFingerprint),
      expected);
  expectEqualTensors(snapshot(*a), *b, "model");
}

// ---- refusals ----------------------------------------------------------------------------------

// A valid checkpoint of model A (with EMA and SGD state) and a target B built from other weights.
class CheckpointRefusal : public ::testing::Test {
 protected:
  void SetUp() override {
    model::DetectionModel a = tinyModel(1);
    ModelEma emaA = makeModelEma(a);
    torch::optim::SGD optimizerA(a->parameters(), torch::optim::SGDOptions(0.05).momentum(0.9));
    trainStep(a, optimizerA, testImages(5));
    emaA.update(*a);
    saveCheckpoint(good, {a.ptr().get(), &emaA.module(), &optimizerA}, sampleMeta());
    bytes = readBytes(good);
  }

  CheckpointParts target() { return {b.ptr().get(), &emaB.module(), &optimizerB}; }

  // `call` must throw a CheckpointError naming `path` whose reason contains `expected`, and
  // leave B's model and EMA as they were.
  void expectRefused(const fs::path& path, const std::string& expected,
                     const std::function<void()>& call) {
    const auto modelBefore = snapshot(*b);
    const auto emaBefore = snapshot(emaB.module());
    try {
      call();
      ADD_FAILURE() << path << ": accepted, expected a refusal with '" << expected << "'";
    } catch (const CheckpointError& e) {
      const std::string what = e.what();
      EXPECT_EQ(what.rfind(path.string() + ": ", 0), 0u) << what;
      EXPECT_EQ(e.path(), path);
      EXPECT_NE(what.find(expected), std::string::npos) << what;
    }
    expectEqualTensors(modelBefore, *b, "model after refusal");
    expectEqualTensors(emaBefore, emaB.module(), "EMA after refusal");
  }

  // Refused both by readCheckpointMeta and by restoreCheckpoint.
  void expectFileRefused(const fs::path& path, const std::string& expected) {
    expectRefused(path, expected, [&] { readCheckpointMeta(path); });
    expectRefused(path, expected, [&] { restoreCheckpoint(path, target(), fingerprint); });
  }

  const TempDir dir;
  const fs::path good = dir.path() / "last.ckpt";
  const fs::path bad = dir.path() / "bad.ckpt";
  const std::string fingerprint = sampleMeta().modelFingerprint;
  std::string bytes;
  model::DetectionModel b = tinyModel(2);
  ModelEma emaB = makeModelEma(b);
  torch::optim::SGD optimizerB{b->parameters(), torch::optim::SGDOptions(0.05).momentum(0.9)};
};

TEST_F(CheckpointRefusal, TheUndamagedFileIsAccepted) {
  const CheckpointMeta meta = restoreCheckpoint(good, target(), fingerprint);
  EXPECT_TRUE(meta.loop == sampleMeta().loop);
}

TEST_F(CheckpointRefusal, TruncatedFilesAnywhereIncludingTheHeader) {
  for (const std::size_t keep :
       {std::size_t{0}, std::size_t{3}, std::size_t{8}, std::size_t{12}, std::size_t{20},
        std::size_t{27}, std::size_t{28}, std::size_t{29}, bytes.size() / 2, bytes.size() - 1}) {
    SCOPED_TRACE("kept " + std::to_string(keep) + " of " + std::to_string(bytes.size()));
    writeBytes(bad, bytes.substr(0, keep));
    expectFileRefused(bad, "truncated");
  }
}

TEST_F(CheckpointRefusal, AFlippedPayloadByteFailsTheChecksum) {
  for (const std::size_t at :
       {std::size_t{28}, bytes.size() / 3, bytes.size() / 2, bytes.size() - 1}) {
    SCOPED_TRACE("byte " + std::to_string(at));
    std::string damaged = bytes;
    damaged[at] = static_cast<char>(damaged[at] ^ 0x10);
    writeBytes(bad, damaged);
    expectFileRefused(bad, "corrupted: payload checksum mismatch");
  }
}

TEST_F(CheckpointRefusal, ADamagedChecksumOrTrailingBytesAreRefused) {
  std::string damaged = bytes;
  damaged[20] = static_cast<char>(damaged[20] ^ 1);
  writeBytes(bad, damaged);
  expectFileRefused(bad, "checksum mismatch");
  writeBytes(bad, bytes + "x");
  expectFileRefused(bad, "corrupted: 1 unexpected bytes after");
}

TEST_F(CheckpointRefusal, ForeignFiles) {
  torch::save(torch::rand({4, 4}), bad.string());
  expectFileRefused(bad, "not a SyncBN Studio checkpoint");

  writeBytes(bad, "train:\n  epochs: 30\n  batch: 16\n");
  expectFileRefused(bad, "not a SyncBN Studio checkpoint");

  std::mt19937 random(7);
  std::string noise(4096, '\0');
  for (char& c : noise)
    c = static_cast<char>(random() & 0xff);
  noise[0] = 'X';
  writeBytes(bad, noise);
  expectFileRefused(bad, "not a SyncBN Studio checkpoint");

  writeBytes(bad, "SYNCB\n");  // shorter than the magic, but not a prefix of it
  expectFileRefused(bad, "not a SyncBN Studio checkpoint");
}

TEST_F(CheckpointRefusal, OtherFormatVersions) {
  for (const unsigned char version : {0, 3, 255}) {
    std::string other = bytes;
    other[8] = static_cast<char>(version);
    writeBytes(bad, other);
    expectFileRefused(bad, "unsupported checkpoint format version " + std::to_string(version) +
                               " (this build reads versions 1 to 2)");
  }
}

TEST_F(CheckpointRefusal, MissingFileNamesThePath) {
  const fs::path missing = dir.path() / "nowhere" / "last.ckpt";
  expectRefused(missing, "no such checkpoint file", [&] { readCheckpointMeta(missing); });
  expectRefused(missing, "no such checkpoint file",
                [&] { restoreCheckpoint(missing, target(), fingerprint); });
  expectRefused(dir.path(), "is a folder, not a checkpoint file",
                [&] { readCheckpointMeta(dir.path()); });
}

TEST_F(CheckpointRefusal, AnotherModelsFingerprintNamesBoth) {
  const std::string other =
      modelFingerprint(testing::tinyDetectorDefinition(), NormKind::GroupNorm);
  expectRefused(good,
                "made for another model: the checkpoint is for '" + fingerprint +
                    "', this run's model is '" + other + "'",
                [&] { restoreCheckpoint(good, target(), other); });
}

TEST_F(CheckpointRefusal, ShapeMismatchNamesTheTensorAndBothShapes) {
  torch::manual_seed(4);
  model::DetectionModel wider(widerTinyDefinition());
  const auto before = snapshot(*wider);
  try {
    restoreCheckpoint(good, {wider.ptr().get(), nullptr, nullptr}, "");
    ADD_FAILURE() << "accepted a model with other shapes";
  } catch (const CheckpointError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("model tensors do not match"), std::string::npos) << what;
    EXPECT_NE(what.find("'model.0.conv.weight' has shape [8, 3, 3, 3] in the checkpoint, "
                        "[16, 3, 3, 3] in the model"),
              std::string::npos)
        << what;
  }
  expectEqualTensors(before, *wider, "wider model after refusal");
  // The EMA is checked as carefully, and the model is not touched when only the EMA differs.
  expectRefused(good, "EMA tensors do not match", [&] {
    restoreCheckpoint(good, {b.ptr().get(), wider.ptr().get(), nullptr}, "");
  });
  expectEqualTensors(before, *wider, "wider EMA after refusal");
}

TEST_F(CheckpointRefusal, DtypeMismatch) {
  b->to(torch::kDouble);
  expectRefused(good, "has dtype Float in the checkpoint, Double in the model", [&] {
    restoreCheckpoint(good, {b.ptr().get(), nullptr, nullptr}, "");
  });
}

TEST_F(CheckpointRefusal, OtherTensorNames) {
  // GroupNorm has no running statistics: those are in the checkpoint, not in the model.
  model::DetectionModel grouped = tinyModel(6, NormKind::GroupNorm);
  const auto before = snapshot(*grouped);
  try {
    restoreCheckpoint(good, {grouped.ptr().get(), nullptr, nullptr}, "");
    ADD_FAILURE() << "accepted a model with other tensors";
  } catch (const CheckpointError& e) {
    EXPECT_NE(std::string(e.what()).find("running_mean' in the checkpoint is not in the model"),
              std::string::npos)
        << e.what();
  }
  expectEqualTensors(before, *grouped, "GroupNorm model after refusal");
}

TEST_F(CheckpointRefusal, PartsTheCheckpointLacks) {
  const fs::path bare = dir.path() / "bare.ckpt";
  model::DetectionModel a = tinyModel(1);
  saveCheckpoint(bare, {a.ptr().get(), nullptr, nullptr}, sampleMeta());
  expectRefused(bare, "the checkpoint holds no EMA weights", [&] {
    restoreCheckpoint(bare, {b.ptr().get(), &emaB.module(), nullptr}, "");
  });
  expectRefused(bare, "the checkpoint holds no optimizer state", [&] {
    restoreCheckpoint(bare, {b.ptr().get(), nullptr, &optimizerB}, "");
  });
}

// The SGD momentum buffers by the optimizer's own state keys.
std::map<std::string, Tensor> momentumBuffers(torch::optim::SGD& optimizer) {
  std::map<std::string, Tensor> buffers;
  for (const auto& [key, state] : optimizer.state())
    buffers[key] = static_cast<torch::optim::SGDParamState&>(*state).momentum_buffer().clone();
  return buffers;
}

TEST_F(CheckpointRefusal, AnOptimizerThatDoesNotFitIsLeftAsItWas) {
  torch::optim::AdamW adam(b->parameters());
  expectRefused(good, "holds torch::optim::SGD state, this run's optimizer is torch::optim::AdamW",
                [&] {
                  restoreCheckpoint(good, {b.ptr().get(), nullptr, &adam}, "");
                });

  // Same type, fewer parameters.
  auto parameters = b->parameters();
  parameters.pop_back();
  torch::optim::SGD partial(parameters, torch::optim::SGDOptions(0.05).momentum(0.9));
  trainStep(b, partial, testImages(9));
  const std::map<std::string, Tensor> before = momentumBuffers(partial);
  ASSERT_EQ(before.size(), parameters.size());
  expectRefused(good,
                "parameter group 0 of the optimizer has " + std::to_string(parameters.size() + 1) +
                    " parameters in the checkpoint, " + std::to_string(parameters.size()) +
                    " in this run",
                [&] {
                  restoreCheckpoint(good, {b.ptr().get(), nullptr, &partial}, "");
                });
  const std::map<std::string, Tensor> after = momentumBuffers(partial);
  ASSERT_EQ(after.size(), before.size());
  for (const auto& [key, buffer] : before) {
    ASSERT_EQ(after.count(key), 1u);
    EXPECT_TRUE(torch::equal(after.at(key), buffer));
  }
}

// ---- failed saves ------------------------------------------------------------------------------

TEST(CheckpointSave, AFailedWriteLeavesTheExistingCheckpointIntact) {
  const TempDir dir;
  const fs::path path = dir.path() / "last.ckpt";
  model::DetectionModel a = tinyModel(1);
  CheckpointMeta meta = sampleMeta();
  saveCheckpoint(path, {a.ptr().get(), nullptr, nullptr}, meta);
  const std::string before = readBytes(path);

  model::DetectionModel b = tinyModel(2);
  ModelEma emaB = makeModelEma(b);
  meta.loop.set("epoch", std::int64_t{8});
  try {
    const syncbn::testing::FileSizeLimit limit(before.size() / 2);
    saveCheckpoint(path, {b.ptr().get(), &emaB.module(), nullptr}, meta);
    ADD_FAILURE() << "the save succeeded despite the file size limit";
  } catch (const CheckpointError& e) {
    EXPECT_EQ(std::string(e.what()).rfind(path.string() + ": cannot save the checkpoint: ", 0), 0u)
        << e.what();
  }
  EXPECT_EQ(readBytes(path), before);
  EXPECT_EQ(readCheckpointMeta(path).loop.get<std::int64_t>("epoch"), 7);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1)
      << "the temporary file is removed";
}

TEST(CheckpointSave, AnUnwritableDirectoryLeavesTheExistingCheckpointIntact) {
  if (::geteuid() == 0) GTEST_SKIP() << "root writes into read-only directories";
  const TempDir dir;
  const fs::path path = dir.path() / "last.ckpt";
  model::DetectionModel a = tinyModel(1);
  saveCheckpoint(path, {a.ptr().get(), nullptr, nullptr}, sampleMeta());
  const std::string before = readBytes(path);
  fs::permissions(dir.path(), fs::perms::owner_read | fs::perms::owner_exec);
  model::DetectionModel b = tinyModel(2);
  EXPECT_THROW(saveCheckpoint(path, {b.ptr().get(), nullptr, nullptr}, sampleMeta()),
               CheckpointError);
  fs::permissions(dir.path(), fs::perms::owner_all);
  EXPECT_EQ(readBytes(path), before);
}

TEST(CheckpointSave, AMissingDirectoryIsReportedWithThePath) {
  const TempDir dir;
  const fs::path path = dir.path() / "missing" / "last.ckpt";
  model::DetectionModel a = tinyModel(1);
  try {
    saveCheckpoint(path, {a.ptr().get(), nullptr, nullptr}, sampleMeta());
    ADD_FAILURE() << "saved into a directory that does not exist";
  } catch (const CheckpointError& e) {
    EXPECT_EQ(e.path(), path);
    EXPECT_NE(std::string(e.what()).find("No such file or directory"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(saveCheckpoint(path, {nullptr, nullptr, nullptr}, sampleMeta()),
               std::invalid_argument);
}

// ---- devices -----------------------------------------------------------------------------------

TEST(CheckpointDevices, SavedOnCudaRestoresOnCpuAndBack) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  const TempDir dir;
  const fs::path onCuda = dir.path() / "cuda.ckpt";
  const fs::path onCpu = dir.path() / "cpu.ckpt";
  const Tensor images = testImages(21);

  model::DetectionModel gpu = tinyModel(1);
  gpu->to(torch::kCUDA);
  torch::optim::SGD gpuOptimizer(gpu->parameters(), torch::optim::SGDOptions(0.05).momentum(0.9));
  trainStep(gpu, gpuOptimizer, images.to(torch::kCUDA));
  saveCheckpoint(onCuda, {gpu.ptr().get(), nullptr, &gpuOptimizer}, sampleMeta());

  model::DetectionModel cpu = tinyModel(2);
  torch::optim::SGD cpuOptimizer(cpu->parameters(), torch::optim::SGDOptions(0.05).momentum(0.9));
  restoreCheckpoint(onCuda, {cpu.ptr().get(), nullptr, &cpuOptimizer}, "");
  std::map<std::string, Tensor> expected;
  for (const auto& [name, tensor] : snapshot(*gpu))
    expected[name] = tensor.cpu();
  expectEqualTensors(expected, *cpu, "CUDA checkpoint on the CPU");
  for (const auto& [key, buffer] : momentumBuffers(cpuOptimizer))
    EXPECT_TRUE(buffer.is_cpu()) << key;
  trainStep(cpu, cpuOptimizer, images);  // CPU step with CPU state: no device mix-up

  saveCheckpoint(onCpu, {cpu.ptr().get(), nullptr, &cpuOptimizer}, sampleMeta());
  model::DetectionModel back = tinyModel(3);
  back->to(torch::kCUDA);
  torch::optim::SGD backOptimizer(back->parameters(), torch::optim::SGDOptions(0.05).momentum(0.9));
  restoreCheckpoint(onCpu, {back.ptr().get(), nullptr, &backOptimizer}, "");
  for (const auto& [key, buffer] : momentumBuffers(backOptimizer))
    EXPECT_TRUE(buffer.is_cuda()) << key;
  EXPECT_TRUE(back->parameters()[0].is_cuda());
  back->to(torch::kCPU);
  expectEqualTensors(snapshot(*cpu), *back, "CPU checkpoint on CUDA");
}

// ---- loading a checkpoint's detector without the trainer ---------------------------------------

// The container with its payload's root changed by `edit` and the header's version `version`.
std::string rewritten(const std::string& bytes,
                      const std::function<void(c10::impl::GenericDict&)>& edit,
                      std::uint32_t version) {
  constexpr std::size_t kHeader = 28;
  const std::vector<char> payload(bytes.begin() + kHeader, bytes.end());
  c10::IValue root = torch::pickle_load(payload);
  c10::impl::GenericDict dict = root.toGenericDict();
  edit(dict);
  const std::vector<char> changed = torch::pickle_save(root);
  std::string file = bytes.substr(0, kHeader) + std::string(changed.begin(), changed.end());
  const std::uint64_t length = changed.size();
  const std::uint64_t checksum =
      std::stoull(hashBytes(std::string_view(file).substr(kHeader)), nullptr, 16);
  for (int i = 0; i < 4; ++i)
    file[8 + i] = static_cast<char>((version >> (8 * i)) & 0xff);
  for (int i = 0; i < 8; ++i) {
    file[12 + i] = static_cast<char>((length >> (8 * i)) & 0xff);
    file[20 + i] = static_cast<char>((checksum >> (8 * i)) & 0xff);
  }
  return file;
}

// A run's checkpoint of the tiny detector trained with `norm`, its EMA ahead of the raw weights.
struct TrainedTiny {
  model::DetectionModel model = tinyModel(1);
  ModelEma ema = makeModelEma(model);
  CheckpointMeta meta;
  explicit TrainedTiny(NormKind norm, const std::string& modelArgument = "tiny.yaml") {
    torch::optim::SGD optimizer(model->parameters(), torch::optim::SGDOptions(0.05));
    for (int step = 0; step < 3; ++step) {
      trainStep(model, optimizer, testImages(20 + step));
      ema.update(*model);
    }
    Config config;
    config.model.model = modelArgument;
    config.distributed.norm = norm;
    config.data.imgsz = 96;
    meta = sampleMeta();
    meta.configYaml = toYaml(config);
    const model::ModelDefinition definition = testing::tinyDetectorDefinition();
    meta.modelFingerprint = modelFingerprint(definition, norm);
    meta.modelYaml = definition.yamlText;
    meta.modelSource = definition.source;
    meta.modelName = definition.name;
    meta.names = {"bolt", "nut"};
    meta.imgsz = 320;
  }
};

TEST(CheckpointModel, IsTheEmaBuiltFromTheDefinitionTheFileCarries) {
  const TempDir dir;
  const fs::path path = dir.path() / "best.pt";
  TrainedTiny trained(NormKind::SyncBatchNorm);  // tiny.yaml exists nowhere: the file suffices
  saveCheckpoint(path, {trained.model.ptr().get(), &trained.ema.module(), nullptr}, trained.meta);

  const CheckpointModel loaded = loadCheckpointModel(path);
  EXPECT_TRUE(loaded.fromEma);
  EXPECT_EQ(loaded.trainedNorm, NormKind::SyncBatchNorm);
  EXPECT_EQ(loaded.names, (std::vector<std::string>{"bolt", "nut"}));
  EXPECT_EQ(loaded.imgsz, 320);
  EXPECT_FALSE(loaded.model->is_training());
  expectEqualTensors(snapshot(trained.ema.module()), *loaded.model, "EMA");
  // The same function as the EMA in eval mode (SyncBN built as BatchNorm changes nothing there).
  auto& ema = dynamic_cast<model::DetectionModelImpl&>(trained.ema.module());
  ema.eval();
  const Tensor images = testImages(99);
  const torch::NoGradGuard noGrad;
  EXPECT_TRUE(torch::equal(loaded.model->predict(images), ema.predict(images)));
}

TEST(CheckpointModel, ReadsAVersionOneFileThroughItsSavedConfiguration) {
  const TempDir dir;
  const fs::path definitionFile = dir.path() / "tiny.yaml";
  writeBytes(definitionFile, testing::tinyDetectorDefinition().yamlText);
  TrainedTiny trained(NormKind::BatchNorm, definitionFile.string());
  const fs::path path = dir.path() / "old.pt";
  saveCheckpoint(path, {trained.model.ptr().get(), &trained.ema.module(), nullptr}, trained.meta);
  // Version 1's meta: the counters flat, no names, no definition.
  writeBytes(path, rewritten(
                       readBytes(path),
                       [&](c10::impl::GenericDict& root) {
                         c10::impl::GenericDict meta(c10::StringType::get(), c10::AnyType::get());
                         meta.insert("kind", std::string("best"));
                         meta.insert("epoch", int64_t{4});
                         meta.insert("step_in_epoch", int64_t{10});
                         meta.insert("epoch_complete", true);
                         meta.insert("iteration", int64_t{50});
                         meta.insert("optimizer_steps", int64_t{25});
                         meta.insert("last_optimizer_iteration", int64_t{49});
                         meta.insert("epoch_loss_sums", c10::List<double>({1.0, 2.0, 3.0}));
                         meta.insert("ema_updates", int64_t{25});
                         meta.insert("best_fitness", 0.5);
                         meta.insert("best_epoch", int64_t{4});
                         meta.insert("epochs_without_improvement", int64_t{0});
                         meta.insert("scaler_scale", 65536.0);
                         meta.insert("scaler_growth_tracker", int64_t{0});
                         meta.insert("world_size", int64_t{2});
                         meta.insert("config_yaml", trained.meta.configYaml);
                         meta.insert("dataset_hash", std::string("0123"));
                         meta.insert("model_fingerprint", trained.meta.modelFingerprint);
                         meta.insert("engine_version", std::string("0.1.0"));
                         root.insert_or_assign("meta", meta);
                       },
                       1));

  const CheckpointMeta meta = readCheckpointMeta(path);
  EXPECT_EQ(meta.kind, "best");
  EXPECT_EQ(meta.worldSize, 2);
  EXPECT_EQ(meta.loop.get<std::int64_t>("epoch"), 4);
  EXPECT_EQ(meta.loop.get<bool>("epoch_complete"), true);
  EXPECT_EQ(meta.loop.get<std::int64_t>("last_optimizer_iteration"), 49);
  EXPECT_EQ(meta.loop.get<std::vector<double>>("epoch_loss_sums"), (std::vector<double>{1, 2, 3}));
  EXPECT_FALSE(meta.loop.has("start_time"));
  EXPECT_EQ(meta.hooks.at("ema").get<std::int64_t>("updates"), 25);
  EXPECT_EQ(meta.hooks.at("best_fitness").get<double>("best_fitness"), 0.5);
  EXPECT_EQ(meta.hooks.at("best_fitness").get<std::int64_t>("best_epoch"), 4);
  EXPECT_TRUE(meta.names.empty());

  const CheckpointModel loaded = loadCheckpointModel(path);
  EXPECT_EQ(loaded.names, (std::vector<std::string>{"class0", "class1"}));
  EXPECT_EQ(loaded.imgsz, 96) << "the saved configuration's data.imgsz";
  expectEqualTensors(snapshot(trained.ema.module()), *loaded.model, "EMA");
}

TEST(CheckpointModel, RefusesADefinitionThatIsNotTheFingerprintedOne) {
  const TempDir dir;
  const fs::path path = dir.path() / "best.pt";
  TrainedTiny trained(NormKind::BatchNorm);
  trained.meta.modelYaml = widerTinyDefinition().yamlText;
  saveCheckpoint(path, {trained.model.ptr().get(), &trained.ema.module(), nullptr}, trained.meta);
  try {
    loadCheckpointModel(path);
    ADD_FAILURE() << "accepted";
  } catch (const CheckpointError& e) {
    EXPECT_EQ(e.path(), path);
    EXPECT_NE(e.reason().find("does not match its fingerprint"), std::string::npos) << e.what();
  }
}

// ---- inference checkpoints (best.pt) -----------------------------------------------------------

TEST(InferenceCheckpoint, HoldsTheMetaAndTheEmaOnlyAndLoadsBitExactly) {
  const TempDir dir;
  TrainedTiny trained(NormKind::BatchNorm);
  trained.meta.kind = "best";
  trained.meta.metrics.set("map50", 0.625);
  trained.meta.metrics.set("epoch", std::int64_t{4});
  const fs::path best = dir.path() / "best.pt";
  writeCheckpoint(best, snapshotInferenceCheckpoint(trained.ema.module(), /*isEma=*/true,
                                                    trained.meta, WeightPrecision::Float32));
  const fs::path full = dir.path() / "full.pt";
  torch::optim::SGD optimizer(trained.model->parameters(), torch::optim::SGDOptions(0.05));
  saveCheckpoint(full, {trained.model.ptr().get(), &trained.ema.module(), &optimizer, true},
                 trained.meta);

  EXPECT_EQ(testing::payloadKeys(best), (std::set<std::string>{"meta", "ema"}));
  EXPECT_LT(fs::file_size(best) * 2, fs::file_size(full) + 1);
  const CheckpointModel loaded = loadCheckpointModel(best);
  EXPECT_TRUE(loaded.fromEma);
  expectEqualTensors(snapshot(trained.ema.module()), *loaded.model, "EMA");
  EXPECT_EQ(loaded.meta.metrics.get<double>("map50"), 0.625);
  EXPECT_EQ(loaded.meta.metrics.get<std::int64_t>("epoch"), 4);
  expectSameMeta(loaded.meta, trained.meta);
}

TEST(InferenceCheckpoint, Float16HalvesTheWeightsAndLoadsThemRounded) {
  const TempDir dir;
  TrainedTiny trained(NormKind::BatchNorm);
  const fs::path single = dir.path() / "best32.pt";
  const fs::path half = dir.path() / "best16.pt";
  writeCheckpoint(single, snapshotInferenceCheckpoint(trained.ema.module(), true, trained.meta,
                                                      WeightPrecision::Float32));
  writeCheckpoint(half, snapshotInferenceCheckpoint(trained.ema.module(), true, trained.meta,
                                                    WeightPrecision::Float16));
  // Stored: floating-point tensors in float16, the integer counters as they were.
  std::int64_t floatBytes = 0;
  const auto stored = testing::checkpointPayload(half).at("ema").toGenericDict();
  const auto records = static_cast<std::int64_t>(stored.size());
  for (const auto& entry : stored) {
    const Tensor tensor = entry.value().toTensor();
    if (entry.key().toStringRef().find("num_batches_tracked") != std::string::npos)
      EXPECT_EQ(tensor.scalar_type(), torch::kInt64) << entry.key().toStringRef();
    else
      EXPECT_EQ(tensor.scalar_type(), torch::kHalf) << entry.key().toStringRef();
    if (tensor.scalar_type() == torch::kHalf) floatBytes += tensor.numel() * 2;
  }
  // The float16 file is the float32 one less two bytes per weight, give or take the archive's
  // 64-byte alignment of each tensor's record.
  const auto saved = static_cast<std::int64_t>(fs::file_size(single) - fs::file_size(half));
  EXPECT_NEAR(static_cast<double>(saved), static_cast<double>(floatBytes),
              static_cast<double>(64 * records));
  // Loaded back: each weight is its float32 value rounded to float16 and widened again.
  std::map<std::string, Tensor> rounded = snapshot(trained.ema.module());
  for (auto& [name, tensor] : rounded)
    if (tensor.is_floating_point()) tensor = tensor.to(torch::kHalf).to(torch::kFloat32);
  const CheckpointModel loaded = loadCheckpointModel(half);
  expectEqualTensors(rounded, *loaded.model, "float16 EMA");
}

TEST(InferenceCheckpoint, AResumeFromItIsRefusedWithTheReasonAndChangesNothing) {
  const TempDir dir;
  TrainedTiny trained(NormKind::BatchNorm);
  trained.meta.kind = "best";
  const fs::path best = dir.path() / "best.pt";
  writeCheckpoint(best, snapshotInferenceCheckpoint(trained.ema.module(), true, trained.meta,
                                                    WeightPrecision::Float32));
  model::DetectionModel other = tinyModel(9);
  const auto before = snapshot(*other);
  try {
    restoreCheckpoint(best, {other.ptr().get(), nullptr, nullptr}, "");
    ADD_FAILURE() << "a best.pt resumed training";
  } catch (const CheckpointError& e) {
    EXPECT_EQ(e.path(), best);
    EXPECT_NE(e.reason().find("cannot resume training"), std::string::npos) << e.what();
    EXPECT_NE(e.reason().find("'best'"), std::string::npos) << e.what();
  }
  expectEqualTensors(before, *other, "model");
}

TEST(InferenceCheckpoint, ReplacingItsEmaKeepsItsFloat16) {
  const TempDir dir;
  TrainedTiny trained(NormKind::BatchNorm);
  const fs::path half = dir.path() / "best16.pt";
  writeCheckpoint(half, snapshotInferenceCheckpoint(trained.ema.module(), true, trained.meta,
                                                    WeightPrecision::Float16));
  const CheckpointModel loaded = loadCheckpointModel(half);
  const fs::path out = dir.path() / "best16-precise.pt";
  saveCheckpointWithEma(half, out, *loaded.model);
  EXPECT_EQ(testing::payloadKeys(out), (std::set<std::string>{"meta", "ema"}));
  EXPECT_EQ(fs::file_size(out), fs::file_size(half));
  for (const auto& entry : testing::checkpointPayload(out).at("ema").toGenericDict())
    if (entry.key().toStringRef().find("num_batches_tracked") == std::string::npos)
      EXPECT_EQ(entry.value().toTensor().scalar_type(), torch::kHalf) << entry.key().toStringRef();
}

// ---- the background writer ---------------------------------------------------------------------

TEST(CheckpointWriter, WritesEveryCheckpointInOrderAndReportsItOnceInPlace) {
  const TempDir dir;
  TrainedTiny trained(NormKind::BatchNorm);
  std::vector<std::map<std::string, Tensor>> states;
  {
    CheckpointWriter writer;
    for (int i = 0; i < 3; ++i) {
      trained.meta.loop.set("iteration", std::int64_t{i});
      writer.submit(snapshotInferenceCheckpoint(trained.ema.module(), true, trained.meta,
                                                WeightPrecision::Float32),
                    {dir.path() / "last.pt", "last", 0, i});
      states.push_back(snapshot(trained.ema.module()));
      // The live weights change right after the snapshot: the file must not see it.
      const torch::NoGradGuard noGrad;
      for (auto& parameter : trained.ema.module().parameters())
        parameter.add_(1.0);
    }
    writer.submit(snapshotInferenceCheckpoint(trained.ema.module(), true, trained.meta,
                                              WeightPrecision::Float32),
                  {dir.path() / "best.pt", "best", 0, 2});
    writer.waitIdle();
    const auto written = writer.takeWritten();
    ASSERT_EQ(written.size(), 4u);
    for (int i = 0; i < 3; ++i) {
      EXPECT_EQ(written[static_cast<std::size_t>(i)].iteration, i);
      EXPECT_EQ(written[static_cast<std::size_t>(i)].path, dir.path() / "last.pt");
    }
    EXPECT_EQ(written[3].kind, "best");
    EXPECT_EQ(written[3].bytes, fs::file_size(dir.path() / "best.pt"));
    EXPECT_TRUE(writer.takeWritten().empty()) << "each write is reported once";
  }
  const CheckpointModel last = loadCheckpointModel(dir.path() / "last.pt");
  EXPECT_EQ(last.meta.loop.get<std::int64_t>("iteration"), 2);
  expectEqualTensors(states.back(), *last.model, "the last snapshot, not the live weights");
  std::set<std::string> files;
  for (const auto& entry : fs::directory_iterator(dir.path()))
    files.insert(entry.path().filename().string());
  EXPECT_EQ(files, (std::set<std::string>{"last.pt", "best.pt"})) << "no temporary files";
}

TEST(CheckpointWriter, AFailedWriteIsReportedOnceNamingTheFileAndLaterWritesGoOn) {
  const TempDir dir;
  TrainedTiny trained(NormKind::BatchNorm);
  const auto take = [&] {
    return snapshotInferenceCheckpoint(trained.ema.module(), true, trained.meta,
                                       WeightPrecision::Float32);
  };
  CheckpointWriter writer;
  const fs::path missing = dir.path() / "no-such-folder" / "last.pt";
  writer.submit(take(), {missing, "last", 0, 1});
  writer.waitIdle();
  try {
    writer.takeWritten();
    ADD_FAILURE() << "the failed write was not reported";
  } catch (const CheckpointError& e) {
    EXPECT_EQ(e.path(), missing);
    EXPECT_NE(e.reason().find("cannot save the checkpoint"), std::string::npos) << e.what();
  }
  writer.submit(take(), {dir.path() / "last.pt", "last", 0, 2});
  writer.waitIdle();
  const auto written = writer.takeWritten();
  ASSERT_EQ(written.size(), 1u);
  EXPECT_EQ(written[0].iteration, 2);
  EXPECT_FALSE(fs::exists(missing.parent_path()));
}

TEST(CheckpointWriter, ItsDestructorFinishesTheQueuedWrites) {
  const TempDir dir;
  TrainedTiny trained(NormKind::BatchNorm);
  {
    CheckpointWriter writer;
    for (const char* name : {"a.pt", "b.pt", "c.pt"})
      writer.submit(snapshotInferenceCheckpoint(trained.ema.module(), true, trained.meta,
                                                WeightPrecision::Float32),
                    {dir.path() / name, "last", 0, 0});
  }
  for (const char* name : {"a.pt", "b.pt", "c.pt"})
    EXPECT_NO_THROW(loadCheckpointModel(dir.path() / name)) << name;
}

}  // namespace
}  // namespace syncbn::train
