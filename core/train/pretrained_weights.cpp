#include "train/pretrained_weights.h"

#include <caffe2/serialize/inline_container.h>
#include <torch/torch.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <fstream>
#include <map>
#include <set>

#include "common/regular_file.h"
#include "model/detection_model.h"
#include "model/model_definition.h"
#include "nn/norm.h"
#include "train/checkpoint_file.h"
#include "train/python_pickle.h"

namespace syncbn::train {

namespace fs = std::filesystem;
using pickle::Kind;
using pickle::Value;

std::string PretrainedWeights::describe() const {
  std::string out = path.filename().string() + " (" + producer;
  if (!taken.empty()) out += ", " + taken;
  return out + ")";
}

namespace {

// data.pkl holds names and structure only (the tensors are separate records); a larger one is
// not a checkpoint.
constexpr std::size_t kMaxPickleBytes = 256u << 20;
// Module nesting in YOLO models is at most 6 deep (model.22.cv2.0.0.conv); far deeper is a
// malformed file.
constexpr int kMaxModuleDepth = 32;

// What this engine builds. Any other block in a checkpoint's definition is another family.
const std::set<std::string> kBuiltModules{"Conv",        "C2f",      "SPPF",   "Bottleneck",
                                          "nn.Upsample", "Upsample", "Concat", "Detect"};

// The family a block belongs to, for the reason a checkpoint is refused.
std::string familyOfBlock(const std::string& module) {
  static const std::map<std::string, std::string> kFamilies{{"C3", "YOLOv5u"},
                                                            {"C3x", "YOLOv5u"},
                                                            {"SPP", "YOLOv5u/YOLOv3u"},
                                                            {"C2", "YOLOv8 variant"},
                                                            {"C3k2", "YOLO11"},
                                                            {"C2PSA", "YOLO11"},
                                                            {"A2C2f", "YOLO12"},
                                                            {"RepNCSPELAN4", "YOLOv9"},
                                                            {"ADown", "YOLOv9"},
                                                            {"SPPELAN", "YOLOv9"},
                                                            {"SCDown", "YOLOv10"},
                                                            {"PSA", "YOLOv10"},
                                                            {"C2fCIB", "YOLOv10"},
                                                            {"v10Detect", "YOLOv10"},
                                                            {"Segment", "segmentation"},
                                                            {"Pose", "pose estimation"},
                                                            {"OBB", "oriented boxes"},
                                                            {"Classify", "classification"},
                                                            {"RTDETRDecoder", "RT-DETR"},
                                                            {"WorldDetect", "YOLO-World"},
                                                            {"ResNetLayer", "ResNet"},
                                                            {"GhostConv", "YOLOv8-ghost"},
                                                            {"C2fAttn", "YOLO-World"}};
  const auto it = kFamilies.find(module);
  return it == kFamilies.end() ? "" : it->second;
}

// The task a top-level Ultralytics class trains, when it is not detection.
std::string otherTask(const std::string& className) {
  static const std::vector<std::pair<std::string, std::string>> kTasks{
      {"SegmentationModel", "a segmentation model"},
      {"PoseModel", "a pose model"},
      {"OBBModel", "an oriented-box (OBB) model"},
      {"ClassificationModel", "a classification model"},
      {"RTDETRDetectionModel", "an RT-DETR model"},
      {"WorldModel", "a YOLO-World model"},
      {"YOLOEModel", "a YOLOE model"},
      {"YOLOESegModel", "a YOLOE segmentation model"}};
  const std::string last = className.substr(className.rfind('.') + 1);
  for (const auto& [name, task] : kTasks)
    if (last == name) return task;
  return "";
}

class ArchiveReader {
 public:
  ArchiveReader(const fs::path& path, caffe2::serialize::PyTorchStreamReader& archive)
      : path_(path), archive_(archive) {}

  [[noreturn]] void fail(const std::string& reason) const { throw CheckpointError(path_, reason); }

  // Tensors rebuilt from the pickle's records; a storage shared by views is read once. `depth`
  // bounds the wrappers (a parameter holds a tensor): a memo can make one hold itself.
  at::Tensor tensor(const Value& value, int depth = 0) {
    if (depth > 4) fail("a tensor wrapped more than 4 deep");
    const std::string name = value.className();
    const Value* args = value.args;
    if (value.kind != Kind::Object || args == nullptr)
      fail("expected a tensor, found " + pickle::describe(value));
    if (name == "torch._utils._rebuild_parameter" ||
        name == "torch._utils._rebuild_parameter_with_state") {
      if (args->items.empty()) fail("a parameter without its tensor");
      return tensor(*args->items[0], depth + 1);
    }
    if (name == "torch._tensor._rebuild_from_type_v2") {
      // (function, type, arguments, state): the function is _rebuild_tensor_v2 for a tensor
      // subclass such as Parameter.
      if (args->items.size() < 3 || args->items[0]->kind != Kind::Global ||
          args->items[0]->text != "torch._utils._rebuild_tensor_v2")
        fail("an unsupported tensor subclass " + pickle::describe(value));
      return rebuildTensor(*args->items[2]);
    }
    if (name == "torch._utils._rebuild_tensor_v2") return rebuildTensor(*args);
    fail("expected a tensor, found " + pickle::describe(value) +
         " (quantized and sparse tensors are not read)");
  }

 private:
  static std::int64_t integer(const Value* value) {
    return value != nullptr && value->kind == Kind::Int ? value->integer : -1;
  }

  // _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, hooks[, metadata])
  at::Tensor rebuildTensor(const Value& args) {
    if (args.kind != Kind::Tuple || args.items.size() < 4)
      fail("a tensor whose arguments are " + pickle::describe(args));
    const Storage& storage = this->storage(*args.items[0]);
    const std::int64_t offset = integer(args.items[1]);
    const Value& size = *args.items[2];
    const Value& stride = *args.items[3];
    if (offset < 0 || size.kind != Kind::Tuple || stride.kind != Kind::Tuple ||
        size.items.size() != stride.items.size() || size.items.size() > 8)
      fail("a tensor with a malformed shape " + pickle::describe(args));
    std::vector<std::int64_t> sizes, strides;
    // The highest element index the view reads, and its element count, in 128 bits: eight
    // dimensions of up to 2^40 overflow 64.
    __int128 last = offset;
    __int128 elements = 1;
    for (std::size_t d = 0; d < size.items.size(); ++d) {
      const std::int64_t n = integer(size.items[d]);
      const std::int64_t s = integer(stride.items[d]);
      if (n < 0 || s < 0 || n > (std::int64_t{1} << 40) || s > (std::int64_t{1} << 40))
        fail("a tensor with a malformed shape " + pickle::describe(args));
      sizes.push_back(n);
      strides.push_back(s);
      if (n > 0) last += static_cast<__int128>(n - 1) * s;
      elements = std::min<__int128>(elements * n, static_cast<__int128>(1) << 100);
    }
    const bool empty = elements == 0;
    // A state dict's tensors are dense views: one reading past its storage is corrupt, and one
    // of more elements than its storage (stride 0) would allocate without bound.
    if (!empty && (last >= storage.numel || elements > storage.numel))
      fail("a tensor of shape " + pickle::describe(size) + " at offset " + std::to_string(offset) +
           " lies outside its storage of " + std::to_string(storage.numel) + " elements");
    const auto options = at::TensorOptions().dtype(storage.dtype);
    if (empty) return at::empty(sizes, options);
    at::Tensor whole = at::from_blob(storage.data, {storage.numel}, options);
    return whole.as_strided(sizes, strides, offset).clone();
  }

  struct Storage {
    at::DataPtr owner;
    void* data = nullptr;
    std::int64_t numel = 0;
    at::ScalarType dtype = at::kFloat;
  };

  static std::optional<at::ScalarType> dtypeOf(const std::string& storageType) {
    static const std::map<std::string, at::ScalarType> kTypes{
        {"torch.FloatStorage", at::kFloat},       {"torch.HalfStorage", at::kHalf},
        {"torch.BFloat16Storage", at::kBFloat16}, {"torch.DoubleStorage", at::kDouble},
        {"torch.LongStorage", at::kLong},         {"torch.IntStorage", at::kInt},
        {"torch.ShortStorage", at::kShort},       {"torch.CharStorage", at::kChar},
        {"torch.ByteStorage", at::kByte},         {"torch.BoolStorage", at::kBool},
        {"torch.UntypedStorage", at::kByte}};
    const auto it = kTypes.find(storageType);
    if (it == kTypes.end()) return std::nullopt;
    return it->second;
  }

  // ('storage', torch.HalfStorage, key, location, numel)
  const Storage& storage(const Value& reference) {
    const Value* id = reference.args;
    if (reference.kind != Kind::PersistentId || id == nullptr || id->kind != Kind::Tuple ||
        id->items.size() < 5 || id->items[0]->text != "storage" ||
        id->items[1]->kind != Kind::Global || id->items[2]->kind != Kind::String)
      fail("a tensor without a storage record: " + pickle::describe(reference));
    const std::string& key = id->items[2]->text;
    if (const auto it = storages_.find(key); it != storages_.end()) return it->second;
    const auto dtype = dtypeOf(id->items[1]->text);
    if (!dtype) fail("a storage of unsupported type " + id->items[1]->text);
    const std::int64_t numel = integer(id->items[4]);
    const std::string record = "data/" + key;
    if (numel < 0 || !archive_.hasRecord(record))
      fail("the tensor storage '" + record + "' is missing from the archive");
    auto [data, bytes] = archive_.getRecord(record);
    const auto itemBytes = static_cast<std::int64_t>(c10::elementSize(*dtype));
    if (numel > static_cast<std::int64_t>(bytes) / itemBytes)
      fail("the tensor storage '" + record + "' holds " + std::to_string(bytes) +
           " bytes, less than its " + std::to_string(numel) + " elements need (truncated?)");
    Storage out;
    out.data = data.get();
    out.owner = std::move(data);
    out.numel = numel;
    out.dtype = *dtype;
    return storages_.emplace(key, std::move(out)).first->second;
  }

  fs::path path_;
  caffe2::serialize::PyTorchStreamReader& archive_;
  std::map<std::string, Storage> storages_;
};

// A nn.Module's attributes: the state its pickle set (`__dict__`).
const Value* moduleState(const Value& module) {
  if (module.kind != Kind::Object || module.state == nullptr || module.state->kind != Kind::Dict)
    return nullptr;
  return module.state;
}

// nn.Module.state_dict(): parameters, then persistent buffers, then each child's, by name.
void collectStateDict(const Value& module, const std::string& prefix, int depth,
                      ArchiveReader& reader, std::vector<std::pair<std::string, at::Tensor>>& out) {
  if (depth > kMaxModuleDepth) reader.fail("modules nested more than 32 deep");
  const Value* state = moduleState(module);
  if (state == nullptr)
    reader.fail("'" + (prefix.empty() ? std::string("model") : prefix) + "' is " +
                pickle::describe(module) + ", not a module");
  std::set<std::string> nonPersistent;
  if (const Value* set = state->get("_non_persistent_buffers_set"))
    for (const Value* item : set->items)
      if (item->kind == Kind::String) nonPersistent.insert(item->text);
  for (const char* section : {"_parameters", "_buffers"}) {
    const Value* tensors = state->get(section);
    if (tensors == nullptr) continue;
    if (tensors->kind != Kind::Dict) reader.fail("'" + prefix + section + "' is not a dict");
    for (const auto& [key, value] : tensors->entries) {
      if (key->kind != Kind::String) reader.fail("'" + prefix + section + "' has a non-string key");
      if (value->isNone() || nonPersistent.count(key->text) != 0) continue;
      out.emplace_back(prefix + key->text, reader.tensor(*value));
    }
  }
  if (const Value* children = state->get("_modules")) {
    if (children->kind != Kind::Dict) reader.fail("'" + prefix + "_modules' is not a dict");
    for (const auto& [key, child] : children->entries) {
      if (key->kind != Kind::String) reader.fail("'" + prefix + "_modules' has a non-string key");
      if (child->isNone()) continue;
      collectStateDict(*child, prefix + key->text + ".", depth + 1, reader, out);
    }
  }
}

// A pickled plain value as YAML (the model definition Ultralytics keeps as a parsed dict).
void emitYaml(YAML::Emitter& out, const Value& value, const ArchiveReader& reader, int depth) {
  if (depth > 16) reader.fail("the model definition is nested more than 16 deep");
  switch (value.kind) {
    case Kind::None:
      out << YAML::Null;
      return;
    case Kind::Bool:
      out << value.boolean;
      return;
    case Kind::Int:
      out << value.integer;
      return;
    case Kind::Float:
      out << value.number;
      return;
    case Kind::String:
      out << value.text;
      return;
    case Kind::List:
    case Kind::Tuple:
      out << YAML::Flow << YAML::BeginSeq;
      for (const Value* item : value.items)
        emitYaml(out, *item, reader, depth + 1);
      out << YAML::EndSeq;
      return;
    case Kind::Dict:
      out << YAML::Block << YAML::BeginMap;
      for (const auto& [key, item] : value.entries) {
        out << YAML::Key;
        emitYaml(out, *key, reader, depth + 1);
        out << YAML::Value;
        emitYaml(out, *item, reader, depth + 1);
      }
      out << YAML::EndMap;
      return;
    default:
      reader.fail("the model definition holds " + pickle::describe(value) +
                  ", which a model YAML cannot");
  }
}

// Refuses definitions with blocks this engine does not build, naming the layer and the family.
void checkFamily(const Value& yaml, const std::string& yamlFile, const ArchiveReader& reader) {
  int index = 0;
  for (const char* part : {"backbone", "head"}) {
    const Value* rows = yaml.get(part);
    if (rows == nullptr || rows->kind != Kind::List)
      reader.fail("its model definition has no '" + std::string(part) + "' list");
    for (const Value* row : rows->items) {
      if (row->kind != Kind::List && row->kind != Kind::Tuple) continue;
      if (row->items.size() >= 3 && row->items[2]->kind == Kind::String &&
          kBuiltModules.count(row->items[2]->text) == 0) {
        const std::string& module = row->items[2]->text;
        const std::string family = familyOfBlock(module);
        reader.fail((yamlFile.empty() ? std::string("its model") : yamlFile) + ": layer " +
                    std::to_string(index) + " is " + module +
                    (family.empty() ? std::string() : ", a block of " + family) +
                    ". This engine builds YOLOv8 detectors (Conv, C2f, SPPF, Concat, Upsample, "
                    "Detect) only");
      }
      ++index;
    }
  }
}

std::string textOf(const Value* value) {
  return value != nullptr && value->kind == Kind::String ? value->text : "";
}

PretrainedWeights readUltralytics(const fs::path& path, bool withTensors) {
  std::unique_ptr<caffe2::serialize::PyTorchStreamReader> archive;
  try {
    archive = std::make_unique<caffe2::serialize::PyTorchStreamReader>(path.string());
  } catch (const std::exception& e) {
    std::string reason = e.what();
    reason = reason.substr(0, reason.find('\n'));
    throw CheckpointError(path,
                          "is a zip file but not a readable PyTorch archive (" + reason + ")");
  }
  ArchiveReader reader(path, *archive);
  if (archive->hasRecord("constants.pkl") || archive->hasRecord("code/__torch__.py") ||
      archive->hasRecord("bytecode.pkl"))
    reader.fail(
        "is a TorchScript module, not a checkpoint: starting weights must be a training "
        "checkpoint (.pt from torch.save)");
  if (!archive->hasRecord("data.pkl"))
    reader.fail("is a zip archive without data.pkl, not a torch.save file");
  if (archive->hasRecord("byteorder")) {
    auto [data, bytes] = archive->getRecord("byteorder");
    const std::string order(static_cast<const char*>(data.get()), bytes);
    if (order != "little") reader.fail("was saved on a " + order + "-endian machine");
  }
  auto [pickleData, pickleBytes] = archive->getRecord("data.pkl");
  if (pickleBytes > kMaxPickleBytes) reader.fail("its data.pkl is larger than 256 MiB");
  pickle::Document document;
  try {
    document = pickle::readPickle(
        std::string_view(static_cast<const char*>(pickleData.get()), pickleBytes));
  } catch (const pickle::PickleError& e) {
    reader.fail(std::string("data.pkl does not read: ") + e.what());
  }
  const Value& root = document.root();
  if (root.kind != Kind::Dict)
    reader.fail("holds " + pickle::describe(root) +
                ", not a checkpoint dictionary (Ultralytics saves {'model': ..., 'ema': ...})");

  PretrainedWeights out;
  out.path = path;
  out.format = WeightsFormat::Ultralytics;
  const std::string version = textOf(root.get("version"));
  out.producer = "Ultralytics" + (version.empty() ? std::string() : " " + version);
  if (const Value* args = root.get("train_args"))
    if (const Value* imgsz = args->get("imgsz"); imgsz != nullptr && imgsz->kind == Kind::Int)
      out.imgsz = static_cast<int>(std::clamp<std::int64_t>(imgsz->integer, 0, 1 << 16));

  const Value* yaml = nullptr;
  const Value* names = nullptr;
  const Value* converted = root.get("state_dict");
  if (converted != nullptr && converted->kind == Kind::Dict && root.get("yaml") != nullptr) {
    // scripts/ultralytics-to-syncbn.py's plain form: the definition, the names and the state
    // dict, with no Ultralytics classes in the pickle.
    out.taken = "converted " + textOf(root.get("taken"));
    yaml = root.get("yaml");
    names = root.get("names");
    for (const auto& [key, value] : converted->entries) {
      if (key->kind != Kind::String) reader.fail("its state_dict has a non-string key");
      if (withTensors) out.tensors.emplace_back(key->text, reader.tensor(*value));
    }
    if (converted->entries.empty()) reader.fail("its state_dict is empty");
  } else {
    const Value* model = root.get("ema");
    out.taken = "ema";
    if (model == nullptr || model->isNone()) {
      model = root.get("model");
      out.taken = "model";
    }
    if (model == nullptr || model->isNone()) {
      std::string keys;
      for (const auto& entry : root.entries)
        if (entry.first->kind == Kind::String && keys.size() < 80)
          keys += (keys.empty() ? "" : ", ") + entry.first->text;
      reader.fail("holds no model under 'ema' or 'model' (its keys: " + keys +
                  "): not an Ultralytics checkpoint");
    }
    const std::string className = model->className();
    if (const std::string task = otherTask(className); !task.empty())
      reader.fail("holds " + task + " (" + className +
                  "): this engine trains YOLOv8 detection models only");
    if (className.rfind("ultralytics.", 0) != 0 ||
        className.substr(className.rfind('.') + 1) != "DetectionModel") {
      const bool yolov5 = className.rfind("models.yolo.", 0) == 0;
      reader.fail("holds " + (className.empty() ? pickle::describe(*model) : className) +
                  (yolov5 ? " from the ultralytics/yolov5 repository, a YOLOv5 model"
                          : ", not an Ultralytics DetectionModel") +
                  ": this engine trains YOLOv8 detection models only");
    }
    const Value* state = moduleState(*model);
    if (state == nullptr) reader.fail("its DetectionModel has no attributes");
    yaml = state->get("yaml");
    names = state->get("names");
    if (withTensors) collectStateDict(*model, "", 0, reader, out.tensors);
  }
  if (yaml == nullptr || yaml->kind != Kind::Dict)
    reader.fail("holds no model definition (the DetectionModel's 'yaml' attribute)");
  const std::string yamlFile = textOf(yaml->get("yaml_file"));
  checkFamily(*yaml, fs::path(yamlFile).filename().string(), reader);
  if (withTensors && out.tensors.empty()) reader.fail("its model holds no tensors");

  YAML::Emitter emitter;
  emitter.SetDoublePrecision(17);
  emitYaml(emitter, *yaml, reader, 0);
  out.modelYaml = emitter.c_str();
  out.scale = textOf(yaml->get("scale"));
  std::string stem = fs::path(yamlFile).stem().string();
  if (stem.empty()) stem = "yolov8" + out.scale;
  if (stem.rfind("yolo", 0) == 0) stem.replace(0, 4, "YOLO");
  out.modelName = stem;

  if (names != nullptr && names->kind == Kind::Dict) {
    std::map<std::int64_t, std::string> byId;
    for (const auto& [id, name] : names->entries)
      if (id->kind == Kind::Int && name->kind == Kind::String && id->integer >= 0)
        byId[id->integer] = name->text;
    for (std::int64_t c = 0; byId.count(c) != 0; ++c)
      out.names.push_back(byId[c]);
  } else if (names != nullptr && names->kind == Kind::List) {
    for (const Value* name : names->items)
      out.names.push_back(textOf(name));
  }
  return out;
}

// What this engine's checkpoint meta says of its weights.
PretrainedWeights describedBy(const fs::path& path, const CheckpointMeta& meta) {
  PretrainedWeights out;
  out.path = path;
  out.format = WeightsFormat::SyncBN;
  out.producer = "SyncBN Studio " +
                 (meta.engineVersion.empty() ? std::string("checkpoint") : meta.engineVersion);
  out.taken = "EMA";
  out.modelYaml = meta.modelYaml;
  out.modelName = meta.modelName;
  out.scale = meta.modelScale;
  out.names = meta.names;
  out.imgsz = meta.imgsz;
  return out;
}

PretrainedWeights readOwnCheckpoint(const fs::path& path, bool withTensors) {
  // Format 1 saved no definition: only the whole file (loadCheckpointModel) tells the model.
  if (CheckpointMeta meta = readCheckpointMeta(path); !withTensors && !meta.modelYaml.empty())
    return describedBy(path, meta);
  const CheckpointModel loaded = loadCheckpointModel(path);
  PretrainedWeights out = describedBy(path, loaded.meta);
  const model::ModelDefinition& definition = loaded.model->definition();
  if (!loaded.fromEma) out.taken = "raw weights";
  out.modelYaml = definition.yamlText;
  out.modelName = definition.name;
  out.scale = definition.scale;
  out.names = loaded.names;
  out.imgsz = loaded.imgsz;
  out.tensors = ultralyticsStateDict(*loaded.model);
  return out;
}

}  // namespace

PretrainedWeights readPretrainedWeights(const fs::path& path, bool withTensors) {
  if (const auto kind = nonRegularKind(path))
    throw CheckpointError(path, "is " + *kind + ", not a weights file");
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::error_code error;
    throw CheckpointError(path, fs::exists(path, error) ? "cannot be opened" : "does not exist");
  }
  std::array<char, 8> head{};
  in.read(head.data(), head.size());
  const auto got = static_cast<std::size_t>(in.gcount());
  in.close();
  if (got == head.size() && std::memcmp(head.data(), "SYNCBNCK", 8) == 0)
    return readOwnCheckpoint(path, withTensors);
  if (got >= 4 && std::memcmp(head.data(), "PK\x03\x04", 4) == 0)
    return readUltralytics(path, withTensors);
  if (got >= 2 && static_cast<unsigned char>(head[0]) == 0x80 &&
      static_cast<unsigned char>(head[1]) <= 5)
    throw CheckpointError(path,
                          "was saved in PyTorch's legacy format (before 1.6): load it in Python "
                          "and save it again with torch.save, or convert it with "
                          "scripts/ultralytics-to-syncbn.py");
  if (path.extension() == ".onnx")
    throw CheckpointError(path, "is an ONNX model, not a training checkpoint");
  throw CheckpointError(path, got == 0 ? "is empty"
                                       : "is neither an Ultralytics checkpoint (a torch.save zip "
                                         "archive) nor a SyncBN Studio checkpoint");
}

model::ModelDefinition pretrainedDefinition(const PretrainedWeights& weights,
                                            std::optional<int64_t> nc, const std::string& scale) {
  if (!scale.empty() && scale != weights.scale)
    throw CheckpointError(weights.path,
                          "holds " + weights.modelName + " (scale '" + weights.scale +
                              "'), and model.scale asks for '" + scale +
                              "': leave model.scale empty to train the weights' scale");
  if (!nc && !weights.names.empty()) nc = static_cast<int64_t>(weights.names.size());
  try {
    return model::parseModelDefinition(weights.modelYaml,
                                       weights.path.string() + " (model definition)",
                                       weights.modelName, weights.scale, nc);
  } catch (const model::ModelDefinitionError& e) {
    throw CheckpointError(weights.path,
                          std::string("its model definition does not load: ") + e.what());
  }
}

model::ModelDefinition modelDefinitionFor(const std::string& model, const std::string& scale,
                                          std::optional<int64_t> nc) {
  if (!isWeightsFile(model)) return model::loadModelDefinition(model, scale, nc);
  return pretrainedDefinition(readPretrainedWeights(model, /*withTensors=*/false), nc, scale);
}

std::vector<std::pair<std::string, at::Tensor>> ultralyticsStateDict(
    const torch::nn::Module& model) {
  // The norm slots' prefixes: "model.0.bn." holds "layer.weight".
  std::set<std::string> normPrefixes;
  for (const auto& item : model.named_modules("", /*include_self=*/false))
    if (item.value()->as<nn::Norm2dImpl>() != nullptr) normPrefixes.insert(item.key() + ".");
  auto rename = [&](const std::string& name) {
    const std::size_t layer = name.rfind(".layer.");
    if (layer != std::string::npos && normPrefixes.count(name.substr(0, layer + 1)) != 0)
      return name.substr(0, layer + 1) + name.substr(layer + 7);
    return name;
  };
  std::vector<std::pair<std::string, at::Tensor>> out;
  // Module::named_parameters and named_buffers each walk the tree; Ultralytics' order
  // interleaves them per module, which only the report's order would show.
  for (const auto& item : model.named_parameters())
    out.emplace_back(rename(item.key()), item.value());
  for (const auto& item : model.named_buffers())
    out.emplace_back(rename(item.key()), item.value());
  return out;
}

std::string TransferReport::summary() const {
  return "Transferred " + std::to_string(transferred) + "/" + std::to_string(total) +
         " items from " + source;
}

std::string TransferReport::leftOut() const {
  // By block (the first three name parts, "model.22.cv3"), in the model's order.
  std::vector<std::pair<std::string, std::pair<int, int>>> blocks;  // missing, other shape
  for (const std::string& line : notTransferred) {
    const std::string name = line.substr(0, line.find(':'));
    std::size_t end = 0;
    for (int part = 0; part < 3 && end != std::string::npos; ++part)
      end = name.find('.', end == 0 ? 0 : end + 1);
    const std::string block = name.substr(0, end);
    if (blocks.empty() || blocks.back().first != block) blocks.push_back({block, {0, 0}});
    (line.find("not in the file") != std::string::npos ? blocks.back().second.first
                                                       : blocks.back().second.second)++;
  }
  std::string out;
  for (const auto& [block, counts] : blocks) {
    const int n = counts.first + counts.second;
    out += (out.empty() ? "" : ", ") + block + " (" + std::to_string(n) +
           (n == 1 ? " item: " : " items: ") +
           (counts.second == 0  ? "not in the file"
            : counts.first == 0 ? "other shapes"
                                : "other shapes or not in the file") +
           ")";
  }
  return out;
}

TransferReport transferWeights(torch::nn::Module& model, const PretrainedWeights& weights) {
  std::map<std::string, const at::Tensor*> source;
  for (const auto& [name, tensor] : weights.tensors)
    source[name] = &tensor;
  TransferReport report;
  report.source = weights.describe();
  std::set<std::string> used;
  torch::NoGradGuard noGrad;
  for (auto& [name, target] : ultralyticsStateDict(model)) {
    ++report.total;
    const auto it = source.find(name);
    if (it == source.end()) {
      report.notTransferred.push_back(name + ": not in the file");
      continue;
    }
    used.insert(name);
    const at::Tensor& from = *it->second;
    if (from.sizes() != target.sizes()) {
      report.notTransferred.push_back(name + ": " + c10::str(from.sizes()) + " in the file, " +
                                      c10::str(target.sizes()) + " here");
      continue;
    }
    target.copy_(from.to(target.device(), target.scalar_type()));
    ++report.transferred;
  }
  for (const auto& [name, tensor] : weights.tensors)
    if (used.count(name) == 0) report.unused.push_back(name);
  return report;
}

int freezeLayers(model::DetectionModelImpl& model, int layers) {
  int frozen = 0;
  const int count = std::min<int>(layers, static_cast<int>(model.layerCount()));
  for (int i = 0; i < count; ++i)
    for (auto& parameter : model.layer(static_cast<std::size_t>(i))->parameters()) {
      if (parameter.requires_grad()) ++frozen;
      parameter.set_requires_grad(false);
    }
  // Ultralytics always freezes '.dfl': its weights are the fixed bins 0..15.
  for (auto& parameter : model.detect()->dfl->parameters())
    parameter.set_requires_grad(false);
  return frozen;
}

}  // namespace syncbn::train
