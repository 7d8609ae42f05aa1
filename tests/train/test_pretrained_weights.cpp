// Starting weights: Ultralytics checkpoints written by
// tests/pretrained/make_ultralytics_checkpoint.py (Debian's python3-torch and a stand-in package
// with Ultralytics' module paths), read here without Python. The oracle is the script's manifest:
// every state-dict tensor's raw bytes as Python stored them, written beside the checkpoint and read
// here without the pickle.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <torch/torch.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "common/config_yaml.h"
#include "model/detection_model.h"
#include "model/model_definition.h"
#include "temp_dir.h"
#include "train/checkpoint_file.h"
#include "train/pretrained_weights.h"
#include "train/python_pickle.h"

namespace syncbn::train {
namespace {

namespace fs = std::filesystem;
using data::testing::TempDir;
using data::testing::writeFile;

struct Generated {
  fs::path checkpoint;
  fs::path manifest;  // without extension: .json and .blob
};

std::string shellQuote(const std::string& text) {
  std::string out = "'";
  for (char c : text)
    out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// Runs the checkpoint writer; `extra` are its options. Fails the test with its output.
Generated generate(const TempDir& dir, const std::string& name, const std::string& extra) {
  Generated out{dir / (name + ".pt"), dir / name};
  const fs::path log = dir / (name + ".log");
  const std::string command =
      shellQuote(SYNCBN_PYTHON) + " " +
      shellQuote(SYNCBN_SOURCE_DIR "/tests/pretrained/make_ultralytics_checkpoint.py") +
      " --yaml " + shellQuote(SYNCBN_SOURCE_DIR "/resources/models/yolov8.yaml") + " --out " +
      shellQuote(out.checkpoint.string()) + " --manifest " + shellQuote(out.manifest.string()) +
      " " + extra + " > " + shellQuote(log.string()) + " 2>&1";
  const int status = std::system(command.c_str());
  if (status != 0) {
    std::ifstream in(log);
    std::stringstream text;
    text << in.rdbuf();
    ADD_FAILURE() << "the checkpoint writer failed (python3-torch is installed by "
                     "scripts/install-deps.sh):\n"
                  << command << "\n"
                  << text.str();
  }
  return out;
}

struct ManifestTensor {
  std::string name;
  at::Tensor tensor;  // as Python stored it
};

std::vector<ManifestTensor> readManifest(const fs::path& manifest) {
  std::ifstream jsonFile(manifest.string() + ".json");
  const nlohmann::json json = nlohmann::json::parse(jsonFile);
  std::ifstream blobFile(manifest.string() + ".blob", std::ios::binary);
  const std::string blob((std::istreambuf_iterator<char>(blobFile)),
                         std::istreambuf_iterator<char>());
  const std::map<std::string, at::ScalarType> dtypes{
      {"float16", at::kHalf}, {"float32", at::kFloat}, {"int64", at::kLong}};
  std::vector<ManifestTensor> out;
  for (const auto& entry : json.at("tensors")) {
    const auto shape = entry.at("shape").get<std::vector<int64_t>>();
    const auto offset = entry.at("offset").get<std::size_t>();
    const auto dtype = dtypes.at(entry.at("dtype").get<std::string>());
    at::Tensor tensor = at::empty(shape, at::TensorOptions().dtype(dtype));
    EXPECT_EQ(static_cast<std::size_t>(tensor.nbytes()), entry.at("bytes").get<std::size_t>());
    std::memcpy(tensor.data_ptr(), blob.data() + offset, tensor.nbytes());
    out.push_back({entry.at("name").get<std::string>(), tensor});
  }
  return out;
}

// Whether two tensors hold the same bits (NaN-safe, dtype included).
bool sameBits(const at::Tensor& a, const at::Tensor& b) {
  if (a.scalar_type() != b.scalar_type() || a.sizes() != b.sizes()) return false;
  const at::Tensor x = a.contiguous(), y = b.contiguous();
  return std::memcmp(x.data_ptr(), y.data_ptr(), x.nbytes()) == 0;
}

std::map<std::string, at::Tensor> byName(const std::vector<std::pair<std::string, at::Tensor>>& v) {
  return {v.begin(), v.end()};
}

std::string refusal(const fs::path& path) {
  try {
    readPretrainedWeights(path);
  } catch (const CheckpointError& e) {
    EXPECT_EQ(e.path(), path);
    return e.reason();
  }
  ADD_FAILURE() << path << " was accepted";
  return "";
}

TEST(UltralyticsCheckpoint, EveryTensorLandsBitExactlyInItsParameterFloat16Included) {
  const TempDir dir;
  const Generated file = generate(dir, "yolov8n", "--scale n --nc 80 --seed 1 --layout final");
  const std::vector<ManifestTensor> oracle = readManifest(file.manifest);
  ASSERT_EQ(oracle.size(), 355u);  // Ultralytics' own count for yolov8n

  const PretrainedWeights weights = readPretrainedWeights(file.checkpoint);
  EXPECT_EQ(weights.format, WeightsFormat::Ultralytics);
  EXPECT_EQ(weights.producer, "Ultralytics 8.3.186");
  EXPECT_EQ(weights.taken, "model");  // strip_optimizer's layout: the EMA saved as "model"
  EXPECT_EQ(weights.modelName, "YOLOv8n");
  EXPECT_EQ(weights.scale, "n");
  EXPECT_EQ(weights.imgsz, 320);
  ASSERT_EQ(weights.names.size(), 80u);
  EXPECT_EQ(weights.names[79], "class79");
  // As stored: float16 weights and statistics, int64 counters, in Python's state-dict order.
  ASSERT_EQ(weights.tensors.size(), oracle.size());
  for (std::size_t i = 0; i < oracle.size(); ++i) {
    EXPECT_EQ(weights.tensors[i].first, oracle[i].name);
    EXPECT_TRUE(sameBits(weights.tensors[i].second, oracle[i].tensor)) << oracle[i].name;
  }

  const model::ModelDefinition definition = pretrainedDefinition(weights);
  EXPECT_EQ(definition.nc, 80);
  model::DetectionModel model(definition);
  const TransferReport report = transferWeights(*model, weights);
  EXPECT_EQ(report.transferred, 355);
  EXPECT_EQ(report.total, 355);
  EXPECT_TRUE(report.notTransferred.empty());
  EXPECT_TRUE(report.unused.empty());
  EXPECT_EQ(report.summary(),
            "Transferred 355/355 items from yolov8n.pt (Ultralytics 8.3.186, model)");

  // Every tensor in the parameter or buffer of the same meaning, through this engine's own
  // names (the norm slots add ".layer"): float16 values widened exactly to float32.
  std::map<std::string, at::Tensor> ours;
  for (const auto& item : model->named_parameters())
    ours[item.key()] = item.value();
  for (const auto& item : model->named_buffers())
    ours[item.key()] = item.value();
  ASSERT_EQ(ours.size(), oracle.size());
  int normTensors = 0;
  for (const ManifestTensor& expected : oracle) {
    std::string name = expected.name;
    const std::size_t last = name.rfind('.');
    const std::string owner = name.substr(0, last);
    if (owner.size() > 3 && owner.compare(owner.size() - 3, 3, ".bn") == 0) {
      name = owner + ".layer" + name.substr(last);
      ++normTensors;
    }
    ASSERT_EQ(ours.count(name), 1u) << name;
    const at::Tensor widened =
        expected.tensor.is_floating_point() ? expected.tensor.to(at::kFloat) : expected.tensor;
    EXPECT_TRUE(sameBits(ours.at(name), widened)) << name;
  }
  EXPECT_EQ(normTensors, 57 * 5);  // 57 BatchNorms: weight, bias, mean, var, count

  // yolov8n's class branches are max(64, min(nc, 100)) wide: with 3 classes all of cv3 is
  // narrower than the file's 80, so 36 items stay initialised, as Ultralytics reports 319/355.
  model::DetectionModel three(pretrainedDefinition(weights, 3));
  const TransferReport other = transferWeights(*three, weights);
  EXPECT_EQ(other.transferred, 319);
  EXPECT_EQ(other.total, 355);
  EXPECT_EQ(other.leftOut(), "model.22.cv3 (36 items: other shapes)");

  // model.scale asking for another scale than the weights' is refused, naming both.
  try {
    pretrainedDefinition(weights, 3, "s");
    ADD_FAILURE() << "accepted";
  } catch (const CheckpointError& e) {
    EXPECT_EQ(e.reason(),
              "holds YOLOv8n (scale 'n'), and model.scale asks for 's': leave "
              "model.scale empty to train the weights' scale");
  }
}

TEST(UltralyticsCheckpoint, ATrainingCheckpointGivesItsEmaAndOtherClassesKeepTheirOwnHead) {
  const TempDir dir;
  const Generated file = generate(dir, "last", "--scale s --nc 80 --seed 2 --layout training");
  const PretrainedWeights weights = readPretrainedWeights(file.checkpoint);
  EXPECT_EQ(weights.taken, "ema");  // save_model's layout: "model" None, the EMA under "ema"
  EXPECT_EQ(weights.scale, "s");

  // A dataset of 3 classes: everything transfers but the class branches' last convolutions.
  model::DetectionModel model(pretrainedDefinition(weights, 3));
  torch::manual_seed(0);
  model::DetectionModel fresh(pretrainedDefinition(weights, 3));
  const auto initial = byName(ultralyticsStateDict(*fresh));
  const TransferReport report = transferWeights(*model, weights);
  EXPECT_EQ(report.total, 355);
  EXPECT_EQ(report.transferred, 349);
  std::set<std::string> left;
  for (const std::string& line : report.notTransferred)
    left.insert(line.substr(0, line.find(':')));
  EXPECT_EQ(left, (std::set<std::string>{"model.22.cv3.0.2.weight", "model.22.cv3.0.2.bias",
                                         "model.22.cv3.1.2.weight", "model.22.cv3.1.2.bias",
                                         "model.22.cv3.2.2.weight", "model.22.cv3.2.2.bias"}));
  EXPECT_EQ(report.notTransferred.front(),
            "model.22.cv3.0.2.weight: [80, 128, 1, 1] in the file, [3, 128, 1, 1] here");
  EXPECT_EQ(report.leftOut(), "model.22.cv3 (6 items: other shapes)");
  // The head keeps its initialisation (the class prior in the bias); the rest is the file's.
  const auto file_ = byName(weights.tensors);
  const auto now = byName(ultralyticsStateDict(*model));
  EXPECT_TRUE(torch::equal(now.at("model.22.cv3.0.2.bias"), initial.at("model.22.cv3.0.2.bias")));
  EXPECT_TRUE(torch::equal(now.at("model.22.cv2.0.2.bias"),
                           file_.at("model.22.cv2.0.2.bias").to(at::kFloat)));
  EXPECT_TRUE(torch::equal(now.at("model.9.cv2.bn.running_var"),
                           file_.at("model.9.cv2.bn.running_var").to(at::kFloat)));
}

TEST(UltralyticsCheckpoint, OtherFamiliesTasksAndFilesAreRefusedWithTheReason) {
  const TempDir dir;
  const Generated segment = generate(dir, "seg", "--task segment --nc 3");
  EXPECT_NE(refusal(segment.checkpoint)
                .find("holds a segmentation model (ultralytics.nn.tasks.SegmentationModel)"),
            std::string::npos);
  const Generated pose = generate(dir, "pose", "--task pose --nc 3");
  EXPECT_NE(refusal(pose.checkpoint).find("a pose model"), std::string::npos);
  const Generated v5 = generate(dir, "v5", "--family v5 --nc 3");
  EXPECT_EQ(refusal(v5.checkpoint),
            "yolov5nu.yaml: layer 2 is C3, a block of YOLOv5u. This engine builds YOLOv8 "
            "detectors (Conv, C2f, SPPF, Concat, Upsample, Detect) only");
  const Generated plain = generate(dir, "plain", "--layout plain");
  EXPECT_EQ(refusal(plain.checkpoint),
            "holds no model under 'ema' or 'model' (its keys: weights, step): not an Ultralytics "
            "checkpoint");

  writeFile(dir / "empty.pt", "");
  EXPECT_EQ(refusal(dir / "empty.pt"), "is empty");
  writeFile(dir / "text.pt", "model: yolov8n.yaml\n");
  EXPECT_NE(refusal(dir / "text.pt").find("is neither an Ultralytics checkpoint"),
            std::string::npos);
  writeFile(dir / "legacy.pt", std::string("\x80\x02\x8a\x0a", 4) + "rest");
  EXPECT_NE(refusal(dir / "legacy.pt").find("PyTorch's legacy format"), std::string::npos);
  EXPECT_EQ(refusal(dir / "missing.pt"), "does not exist");
  fs::create_directories(dir / "folder.pt");
  EXPECT_EQ(refusal(dir / "folder.pt"), "is a folder, not a weights file");
  ASSERT_EQ(::mkfifo((dir / "fifo.pt").c_str(), 0600), 0);
  EXPECT_EQ(refusal(dir / "fifo.pt"), "is a FIFO (named pipe), not a weights file");

  // A truncated archive, and one whose storage lost its bytes.
  const Generated good = generate(dir, "good", "--nc 3");
  std::ifstream in(good.checkpoint, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  writeFile(dir / "cut.pt", bytes.substr(0, bytes.size() / 2));
  EXPECT_NE(refusal(dir / "cut.pt").find("not a readable PyTorch archive"), std::string::npos);
}

// Tensors no torch.save writes, made opcode by opcode
// (tests/pretrained/make_hostile_checkpoint.py).
TEST(UltralyticsCheckpoint, MalformedTensorsAreRefusedBeforeAnythingIsAllocated) {
  const TempDir dir;
  const std::vector<std::pair<std::string, std::string>> cases{
      {"huge-view",
       "a tensor of shape (1099511627776, 1099511627776) at offset 0 lies outside "
       "its storage of 4 elements"},
      {"outside", "a tensor of shape (4) at offset 0 lies outside its storage of 4 elements"},
      {"short-storage",
       "the tensor storage 'data/0' holds 16 bytes, less than its 8 elements need (truncated?)"},
      {"deep", "a tensor wrapped more than 4 deep"}};
  for (const auto& [kind, reason] : cases) {
    const fs::path file = dir / (kind + ".pt");
    const std::string command =
        shellQuote(SYNCBN_PYTHON) + " " +
        shellQuote(SYNCBN_SOURCE_DIR "/tests/pretrained/make_hostile_checkpoint.py") + " " +
        shellQuote(file.string()) + " " + kind;
    ASSERT_EQ(std::system(command.c_str()), 0) << command;
    EXPECT_EQ(refusal(file), reason) << kind;
  }
}

TEST(UltralyticsCheckpoint, ThisEnginesOwnBestPtIsStartingWeightsToo) {
  const TempDir dir;
  const model::ModelDefinition definition = model::loadModelDefinition("yolov8n.yaml", "", 4);
  torch::manual_seed(3);
  model::DetectionModel trained(definition);
  {
    torch::NoGradGuard noGrad;
    for (auto& buffer : trained->buffers())
      if (buffer.is_floating_point()) buffer.uniform_(0.5, 1.5);
  }
  CheckpointMeta meta;
  meta.kind = "best";
  meta.configYaml = toYaml(Config{});
  meta.modelFingerprint = modelFingerprint(*trained, NormKind::BatchNorm);
  meta.names = {"bolt", "nut", "washer", "gear"};
  meta.modelYaml = definition.yamlText;
  meta.modelSource = definition.source;
  meta.modelName = definition.name;
  meta.modelScale = definition.scale;
  meta.imgsz = 416;
  const fs::path best = dir / "best.pt";
  writeCheckpoint(best,
                  snapshotInferenceCheckpoint(*trained, true, meta, WeightPrecision::Float16));

  const PretrainedWeights weights = readPretrainedWeights(best);
  EXPECT_EQ(weights.format, WeightsFormat::SyncBN);
  EXPECT_EQ(weights.names, meta.names);
  EXPECT_EQ(weights.imgsz, 416);
  model::DetectionModel model(pretrainedDefinition(weights, 4));
  const TransferReport report = transferWeights(*model, weights);
  EXPECT_EQ(report.transferred, 355);
  EXPECT_EQ(report.total, 355);
  // best.pt stored float16: the values arrive rounded to it, exactly.
  const auto source = byName(ultralyticsStateDict(*trained));
  for (const auto& [name, tensor] : ultralyticsStateDict(*model)) {
    const at::Tensor expected =
        tensor.is_floating_point() ? source.at(name).to(at::kHalf).to(at::kFloat) : source.at(name);
    EXPECT_TRUE(sameBits(tensor, expected)) << name;
  }
}

TEST(PretrainedFreeze, FreezesTheFirstLayersAndAlwaysTheDfl) {
  model::DetectionModel model(model::loadModelDefinition("yolov8n.yaml", "", 3));
  int expected = 0;
  for (std::size_t i = 0; i < 10; ++i)
    expected += static_cast<int>(model->layer(i)->parameters().size());
  EXPECT_EQ(freezeLayers(*model, 10), expected);
  for (const auto& item : model->named_parameters()) {
    const std::string& name = item.key();
    const int layer = std::stoi(name.substr(6, name.find('.', 6) - 6));
    const bool dfl = name.find(".dfl.") != std::string::npos;
    EXPECT_EQ(item.value().requires_grad(), layer >= 10 && !dfl) << name;
  }
}

TEST(PythonPickle, ReadsPlainValuesAndRecordsObjectsWithoutRunningThem) {
  // Python's pickle.dumps(d, protocol=2), torch.save's protocol, of
  // d = {'a': [1, -2, 3.5, None, True], 'b': (b'xy', 'z'), 'o': OrderedDict(k=7), 'c': t}
  // where t is a pkg.mod.Thing with t.n = 5: an object of a class this reader does not know.
  const std::string bytes(
      "\x80\x02\x7d\x71\x00\x28\x58\x01\x00\x00\x00\x61\x71\x01\x5d\x71\x02\x28\x4b\x01\x4a\xfe"
      "\xff\xff\xff\x47\x40\x0c\x00\x00\x00\x00\x00\x00\x4e\x88\x65\x58\x01\x00\x00\x00\x62\x71"
      "\x03\x63\x5f\x63\x6f\x64\x65\x63\x73\x0a\x65\x6e\x63\x6f\x64\x65\x0a\x71\x04\x58\x02\x00"
      "\x00\x00\x78\x79\x71\x05\x58\x06\x00\x00\x00\x6c\x61\x74\x69\x6e\x31\x71\x06\x86\x71\x07"
      "\x52\x71\x08\x58\x01\x00\x00\x00\x7a\x71\x09\x86\x71\x0a\x58\x01\x00\x00\x00\x6f\x71\x0b"
      "\x63\x63\x6f\x6c\x6c\x65\x63\x74\x69\x6f\x6e\x73\x0a\x4f\x72\x64\x65\x72\x65\x64\x44\x69"
      "\x63\x74\x0a\x71\x0c\x29\x52\x71\x0d\x58\x01\x00\x00\x00\x6b\x71\x0e\x4b\x07\x73\x58\x01"
      "\x00\x00\x00\x63\x71\x0f\x63\x70\x6b\x67\x2e\x6d\x6f\x64\x0a\x54\x68\x69\x6e\x67\x0a\x71"
      "\x10\x29\x81\x71\x11\x7d\x71\x12\x58\x01\x00\x00\x00\x6e\x71\x13\x4b\x05\x73\x62\x75\x2e",
      198);
  const pickle::Document document = pickle::readPickle(bytes);
  const pickle::Value& root = document.root();
  ASSERT_EQ(root.kind, pickle::Kind::Dict);
  EXPECT_EQ(pickle::describe(*root.get("a")), "[1, -2, 3.5, None, True]");
  EXPECT_EQ(pickle::describe(*root.get("b")), "(b<2 bytes>, 'z')");
  EXPECT_EQ(pickle::describe(*root.get("o")), "{'k': 7}");
  const pickle::Value* thing = root.get("c");
  ASSERT_NE(thing, nullptr);
  EXPECT_EQ(thing->className(), "pkg.mod.Thing");
  EXPECT_EQ(pickle::describe(*thing->state), "{'n': 5}");

  // set() of one memoised list of 1000 items, 2000 times (6 bytes each): the copies are bounded by
  // the pickle's size, not multiplied by it.
  std::string amplifier("\x80\x02](", 4);
  for (int i = 0; i < 1000; ++i)
    amplifier += std::string("K\x00", 2);
  amplifier += std::string(
      "eq\x00"
      "cbuiltins\nset\nq\x01",
      19);
  for (int i = 0; i < 2000; ++i)
    amplifier += std::string("h\x01h\x00\x85R0", 7);
  amplifier += ".";
  try {
    pickle::readPickle(amplifier);
    ADD_FAILURE() << "accepted";
  } catch (const pickle::PickleError& e) {
    EXPECT_NE(std::string(e.what()).find("copies more values than it holds"), std::string::npos)
        << e.what();
  }

  // Every prefix of it is refused with the offset, never read past its end.
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_THROW(pickle::readPickle(bytes.substr(0, n)), pickle::PickleError) << n;
  }
}

}  // namespace
}  // namespace syncbn::train
