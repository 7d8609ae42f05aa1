#include "train/checkpoint_file.h"

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <locale>
#include <set>
#include <sstream>

#include "common/atomic_file.h"
#include "common/config_yaml.h"
#include "common/regular_file.h"
#include "model/detection_model.h"
#include "train/checkpoint_payload.h"

namespace syncbn::train {
namespace {

// Header, all integers little-endian:
//   [0, 8)   magic "SYNCBNCK"
//   [8, 12)  format version (uint32)
//   [12, 20) payload length in bytes (uint64)
//   [20, 28) FNV-1a 64 of the payload (uint64)
// then the payload: torch::pickle_save of a string-keyed dict (docs/checkpoints.md).
constexpr std::array<char, 8> kMagic{'S', 'Y', 'N', 'C', 'B', 'N', 'C', 'K'};
constexpr std::size_t kHeaderSize = 28;
constexpr const char* kForeign = "not a SyncBN Studio checkpoint";
constexpr std::uint32_t kOldestReadableVersion = 1;

// FNV-1a is written out here (not a library's) because the header's checksum is part of the
// file format: it must stay this exact function, whatever a library's hash might become.
constexpr std::uint64_t kFnvOffset = 0xcbf29ce484222325ULL;
constexpr std::uint64_t kFnvPrime = 0x100000001b3ULL;

std::uint64_t fnv1a64(const char* data, std::size_t size) {
  std::uint64_t hash = kFnvOffset;
  for (std::size_t i = 0; i < size; ++i) {
    hash ^= static_cast<unsigned char>(data[i]);
    hash *= kFnvPrime;
  }
  return hash;
}

std::string hex16(std::uint64_t value) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string text(16, '0');
  for (int i = 15; i >= 0; --i, value >>= 4)
    text[static_cast<std::size_t>(i)] = kDigits[value & 15];
  return text;
}

void putLittleEndian(char* out, std::uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i)
    out[i] = static_cast<char>((value >> (8 * i)) & 0xff);
}

std::uint64_t getLittleEndian(const char* in, int bytes) {
  std::uint64_t value = 0;
  for (int i = 0; i < bytes; ++i)
    value |= static_cast<std::uint64_t>(static_cast<unsigned char>(in[i])) << (8 * i);
  return value;
}

struct Payload {
  std::vector<char> bytes;
  std::uint32_t version = 0;
};

// The container: header checks, then the whole payload against its checksum.
Payload readPayload(const std::filesystem::path& path) {
  std::error_code error;
  if (!std::filesystem::exists(path, error)) throw CheckpointError(path, "no such checkpoint file");
  // A FIFO would block the open below until a writer came, a device would never end.
  if (const auto kind = nonRegularKind(path))
    throw CheckpointError(path, "is " + *kind + ", not a checkpoint file");
  std::ifstream file(path, std::ios::binary);
  if (!file) throw CheckpointError(path, std::string("cannot open: ") + std::strerror(errno));
  const std::uintmax_t size = std::filesystem::file_size(path, error);
  if (error) throw CheckpointError(path, "cannot read its size: " + error.message());

  std::array<char, kHeaderSize> header{};
  const std::size_t headerBytes =
      static_cast<std::size_t>(std::min<std::uintmax_t>(size, kHeaderSize));
  if (!file.read(header.data(), static_cast<std::streamsize>(headerBytes)))
    throw CheckpointError(path, "cannot read the header");

  if (size == 0) throw CheckpointError(path, "truncated: the file is empty");
  const std::size_t magicBytes = std::min(headerBytes, kMagic.size());
  if (std::memcmp(header.data(), kMagic.data(), magicBytes) != 0)
    throw CheckpointError(path, std::string(kForeign) + " (its first bytes are not \"SYNCBNCK\")");
  if (size < kHeaderSize)
    throw CheckpointError(path, "truncated: " + std::to_string(size) + " bytes, shorter than the " +
                                    std::to_string(kHeaderSize) + "-byte header");

  const auto version = static_cast<std::uint32_t>(getLittleEndian(header.data() + 8, 4));
  if (version < kOldestReadableVersion || version > kCheckpointFormatVersion)
    throw CheckpointError(path, "unsupported checkpoint format version " + std::to_string(version) +
                                    " (this build reads versions " +
                                    std::to_string(kOldestReadableVersion) + " to " +
                                    std::to_string(kCheckpointFormatVersion) + ")");
  const std::uint64_t length = getLittleEndian(header.data() + 12, 8);
  const std::uint64_t checksum = getLittleEndian(header.data() + 20, 8);
  const std::uintmax_t available = size - kHeaderSize;
  if (available < length)
    throw CheckpointError(path, "truncated: the header announces " + std::to_string(length) +
                                    " payload bytes, the file holds " + std::to_string(available));
  if (available > length)
    throw CheckpointError(path, "corrupted: " + std::to_string(available - length) +
                                    " unexpected bytes after the " + std::to_string(length) +
                                    "-byte payload");

  std::vector<char> payload(static_cast<std::size_t>(length));
  if (!file.read(payload.data(), static_cast<std::streamsize>(length)))
    throw CheckpointError(path, "cannot read the payload");
  const std::uint64_t actual = fnv1a64(payload.data(), payload.size());
  if (actual != checksum)
    throw CheckpointError(path, "corrupted: payload checksum mismatch (header says " +
                                    hex16(checksum) + ", contents hash to " + hex16(actual) + ")");
  return {std::move(payload), version};
}

}  // namespace

CheckpointError::CheckpointError(std::filesystem::path path, const std::string& reason)
    : std::runtime_error(path.string() + ": " + reason), path_(std::move(path)), reason_(reason) {}

namespace payload {

Root readRoot(const std::filesystem::path& path) {
  const Payload payload = readPayload(path);
  c10::IValue root;
  try {
    root = torch::pickle_load(payload.bytes);
  } catch (const std::exception& e) {
    throw CheckpointError(path, std::string("corrupted: cannot decode the payload: ") + e.what());
  }
  if (!root.isGenericDict()) throw CheckpointError(path, "malformed payload: not a dictionary");
  return {root.toGenericDict(), payload.version};
}

void writeRoot(const std::filesystem::path& path, const c10::impl::GenericDict& root) {
  const std::vector<char> payload = torch::pickle_save(root);
  std::array<char, kHeaderSize> header{};
  std::memcpy(header.data(), kMagic.data(), kMagic.size());
  putLittleEndian(header.data() + 8, kCheckpointFormatVersion, 4);
  putLittleEndian(header.data() + 12, payload.size(), 8);
  putLittleEndian(header.data() + 20, fnv1a64(payload.data(), payload.size()), 8);
  try {
    // Header and payload as two pieces: the payload (the size of the weights) is not copied.
    writeFileAtomically(path, {std::string_view(header.data(), header.size()),
                               std::string_view(payload.data(), payload.size())});
  } catch (const std::runtime_error& e) {
    // writeFileAtomically's message is "cannot write <path>: <why>"; keep only the why.
    std::string why = e.what();
    const std::string prefix = "cannot write " + path.string() + ": ";
    if (why.rfind(prefix, 0) == 0) why.erase(0, prefix.size());
    throw CheckpointError(path, "cannot save the checkpoint: " + why);
  }
}

// ---- the reader -------------------------------------------------------------------------------

Reader::Reader(std::filesystem::path path, c10::impl::GenericDict dict, std::string where)
    : path_(std::move(path)), dict_(std::move(dict)), where_(std::move(where)) {}

void Reader::fail(const std::string& key, const std::string& problem) const {
  throw CheckpointError(path_, "malformed payload: '" + where_ + key + "' is " + problem);
}

c10::IValue Reader::get(const std::string& key) const {
  const auto found = dict_.find(key);
  if (found == dict_.end()) fail(key, "missing");
  return found->value();
}
std::string Reader::string(const std::string& key) const {
  const c10::IValue value = get(key);
  if (!value.isString()) fail(key, "not a string");
  return value.toStringRef();
}
int64_t Reader::integer(const std::string& key) const {
  const c10::IValue value = get(key);
  if (!value.isInt()) fail(key, "not an integer");
  return value.toInt();
}
int Reader::smallInteger(const std::string& key) const {
  const int64_t value = integer(key);
  if (value < std::numeric_limits<int>::min() || value > std::numeric_limits<int>::max())
    fail(key, "out of range");
  return static_cast<int>(value);
}
double Reader::real(const std::string& key) const {
  const c10::IValue value = get(key);
  if (!value.isDouble()) fail(key, "not a number");
  return value.toDouble();
}
bool Reader::boolean(const std::string& key) const {
  const c10::IValue value = get(key);
  if (!value.isBool()) fail(key, "not a boolean");
  return value.toBool();
}
at::Tensor Reader::tensor(const std::string& key) const {
  const c10::IValue value = get(key);
  if (!value.isTensor()) fail(key, "not a tensor");
  return value.toTensor();
}
Reader Reader::section(const std::string& key) const {
  const c10::IValue value = get(key);
  if (!value.isGenericDict()) fail(key, "not a dictionary");
  return Reader(path_, value.toGenericDict(), where_ + key + ".");
}
std::vector<std::string> Reader::keys() const {
  std::vector<std::string> names;
  for (const auto& entry : dict_) {
    if (!entry.key().isString())
      throw CheckpointError(path_,
                            "malformed payload: '" + where_ + "' has a key that is not a string");
    names.push_back(entry.key().toStringRef());
  }
  return names;
}
TensorDict Reader::tensorDict(const std::string& key) const {
  const Reader inner = section(key);
  TensorDict tensors;
  for (const std::string& name : inner.keys())
    tensors.insert(name, inner.tensor(name));
  return tensors;
}
std::vector<int64_t> Reader::integerList(const std::string& key) const {
  const c10::IValue value = get(key);
  if (!value.isList()) fail(key, "not a list");
  std::vector<int64_t> values;
  for (const c10::IValue& item : value.toListRef()) {
    if (!item.isInt()) fail(key, "holds something that is not an integer");
    values.push_back(item.toInt());
  }
  return values;
}
std::vector<double> Reader::realList(const std::string& key) const {
  const c10::IValue value = get(key);
  if (!value.isList()) fail(key, "not a list");
  std::vector<double> values;
  for (const c10::IValue& item : value.toListRef()) {
    if (!item.isDouble()) fail(key, "holds something that is not a number");
    values.push_back(item.toDouble());
  }
  return values;
}
std::vector<std::string> Reader::stringList(const std::string& key) const {
  const c10::IValue value = get(key);
  if (!value.isList()) fail(key, "not a list");
  std::vector<std::string> values;
  for (const c10::IValue& item : value.toListRef()) {
    if (!item.isString()) fail(key, "holds something that is not a string");
    values.push_back(item.toStringRef());
  }
  return values;
}
std::vector<at::Tensor> Reader::tensorList(const std::string& key) const {
  const c10::IValue value = get(key);
  if (!value.isList()) fail(key, "not a list");
  std::vector<at::Tensor> tensors;
  for (const c10::IValue& item : value.toListRef()) {
    if (!item.isTensor()) fail(key, "holds something that is not a tensor");
    tensors.push_back(item.toTensor());
  }
  return tensors;
}
StateDict Reader::stateDict(const std::string& key) const {
  const Reader inner = section(key);
  StateDict state;
  for (const std::string& name : inner.keys()) {
    const c10::IValue value = inner.get(name);
    if (value.isBool())
      state.set(name, value.toBool());
    else if (value.isInt())
      state.set(name, static_cast<std::int64_t>(value.toInt()));
    else if (value.isDouble())
      state.set(name, value.toDouble());
    else if (value.isString())
      state.set(name, value.toStringRef());
    else if (value.isList())
      state.set(name, inner.realList(name));
    else
      inner.fail(name, "not a boolean, integer, number, string or list of numbers");
  }
  return state;
}

// ---- meta -------------------------------------------------------------------------------------

namespace {

c10::impl::GenericDict stateDictValue(const StateDict& state) {
  c10::impl::GenericDict dict(c10::StringType::get(), c10::AnyType::get());
  for (const auto& [key, value] : state.values())
    std::visit(
        [&dict, &key = key](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, std::vector<double>>)
            dict.insert(key, c10::List<double>(v));
          else
            dict.insert(key, v);
        },
        value);
  return dict;
}

// Version 1 kept every counter in the meta itself; these are the keys they have now.
CheckpointMeta metaFromVersion1(const Reader& meta) {
  CheckpointMeta out;
  StateDict& loop = out.loop;
  loop.set("epoch", meta.integer("epoch"));
  loop.set("step_in_epoch", meta.integer("step_in_epoch"));
  loop.set("epoch_complete", meta.boolean("epoch_complete"));
  loop.set("iteration", meta.integer("iteration"));
  loop.set("optimizer_steps", meta.integer("optimizer_steps"));
  loop.set("last_optimizer_iteration", meta.integer("last_optimizer_iteration"));
  const std::vector<double> sums = meta.realList("epoch_loss_sums");
  if (sums.size() != 3) meta.fail("epoch_loss_sums", "not a list of 3 numbers");
  loop.set("epoch_loss_sums", sums);
  loop.set("scaler_scale", meta.real("scaler_scale"));
  loop.set("scaler_growth_tracker", meta.integer("scaler_growth_tracker"));
  if (meta.has("start_time")) loop.set("start_time", meta.real("start_time"));
  out.hooks["ema"].set("updates", meta.integer("ema_updates"));
  StateDict& best = out.hooks["best_fitness"];
  best.set("best_fitness", meta.real("best_fitness"));
  best.set("best_epoch", meta.integer("best_epoch"));
  best.set("epochs_without_improvement", meta.integer("epochs_without_improvement"));
  return out;
}

}  // namespace

c10::impl::GenericDict metaDict(const CheckpointMeta& meta) {
  c10::impl::GenericDict dict(c10::StringType::get(), c10::AnyType::get());
  dict.insert("kind", meta.kind);
  dict.insert("world_size", static_cast<int64_t>(meta.worldSize));
  dict.insert("config_yaml", meta.configYaml);
  dict.insert("dataset_hash", meta.datasetHash);
  dict.insert("model_fingerprint", meta.modelFingerprint);
  dict.insert("engine_version", meta.engineVersion);
  dict.insert("names", c10::List<std::string>(meta.names));
  c10::impl::GenericDict model(c10::StringType::get(), c10::AnyType::get());
  model.insert("yaml", meta.modelYaml);
  model.insert("source", meta.modelSource);
  model.insert("name", meta.modelName);
  model.insert("scale", meta.modelScale);
  dict.insert("model", model);
  dict.insert("imgsz", static_cast<int64_t>(meta.imgsz));
  dict.insert("loop", stateDictValue(meta.loop));
  c10::impl::GenericDict hooks(c10::StringType::get(), c10::AnyType::get());
  for (const auto& [key, state] : meta.hooks)
    hooks.insert(key, stateDictValue(state));
  dict.insert("hooks", hooks);
  if (!meta.metrics.values().empty()) dict.insert("metrics", stateDictValue(meta.metrics));
  return dict;
}

CheckpointMeta metaFrom(const Reader& meta, std::uint32_t version) {
  CheckpointMeta out;
  if (version == 1) {
    out = metaFromVersion1(meta);
  } else {
    out.names = meta.stringList("names");
    const Reader model = meta.section("model");
    out.modelYaml = model.string("yaml");
    out.modelSource = model.string("source");
    out.modelName = model.string("name");
    out.modelScale = model.string("scale");
    out.imgsz = meta.smallInteger("imgsz");
    out.loop = meta.stateDict("loop");
    const Reader hooks = meta.section("hooks");
    for (const std::string& key : hooks.keys())
      out.hooks[key] = hooks.stateDict(key);
    if (meta.has("metrics")) out.metrics = meta.stateDict("metrics");
  }
  out.kind = meta.string("kind");
  out.worldSize = meta.smallInteger("world_size");
  out.configYaml = meta.string("config_yaml");
  out.datasetHash = meta.string("dataset_hash");
  out.modelFingerprint = meta.string("model_fingerprint");
  out.engineVersion = meta.string("engine_version");
  return out;
}

// ---- tensors ----------------------------------------------------------------------------------

std::string shapeText(at::IntArrayRef sizes) {
  std::ostringstream text;
  text << '[';
  for (std::size_t i = 0; i < sizes.size(); ++i)
    text << (i ? ", " : "") << sizes[i];
  text << ']';
  return text.str();
}

std::vector<std::pair<std::string, at::Tensor>> tensorsOf(const torch::nn::Module& module) {
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  for (const auto& item : module.named_parameters(/*recurse=*/true))
    if (item.value().defined()) tensors.emplace_back(item.key(), item.value());
  for (const auto& item : module.named_buffers(/*recurse=*/true))
    if (item.value().defined()) tensors.emplace_back(item.key(), item.value());
  return tensors;
}

TensorDict stateDictOf(const torch::nn::Module& module, bool half) {
  TensorDict dict;
  for (const auto& [name, tensor] : tensorsOf(module)) {
    const at::ScalarType dtype =
        half && tensor.is_floating_point() ? at::kHalf : tensor.scalar_type();
    dict.insert(name, tensor.detach().to(torch::kCPU, dtype, /*non_blocking=*/false,
                                         /*copy=*/true, at::MemoryFormat::Contiguous));
  }
  return dict;
}

namespace {
// Everything about `saved` that does not fit `module`: names missing on either side, shapes,
// dtypes.
std::vector<std::string> mismatches(const payload::TensorDict& saved,
                                    const torch::nn::Module& module, bool allowHalf) {
  std::vector<std::string> problems;
  const auto wanted = tensorsOf(module);
  std::set<std::string> wantedNames;
  for (const auto& [name, tensor] : wanted) {
    wantedNames.insert(name);
    const auto found = saved.find(name);
    if (found == saved.end()) {
      problems.push_back("'" + name + "' is missing from the checkpoint");
      continue;
    }
    const at::Tensor& stored = found->value();
    if (stored.sizes() != tensor.sizes())
      problems.push_back("'" + name + "' has shape " + shapeText(stored.sizes()) +
                         " in the checkpoint, " + shapeText(tensor.sizes()) + " in the model");
    else if (stored.scalar_type() != tensor.scalar_type() &&
             !(allowHalf && stored.scalar_type() == at::kHalf && tensor.is_floating_point()))
      problems.push_back("'" + name + "' has dtype " +
                         std::string(c10::toString(stored.scalar_type())) + " in the checkpoint, " +
                         c10::toString(tensor.scalar_type()) + " in the model");
  }
  for (const auto& entry : saved)
    if (wantedNames.count(entry.key()) == 0)
      problems.push_back("'" + entry.key() + "' in the checkpoint is not in the model");
  return problems;
}

}  // namespace

void checkFits(const std::filesystem::path& path, const payload::TensorDict& saved,
               const torch::nn::Module& module, const std::string& what, bool allowHalf) {
  const std::vector<std::string> problems = mismatches(saved, module, allowHalf);
  if (problems.empty()) return;
  constexpr std::size_t kShown = 5;
  std::string reason = what + " tensors do not match (" + std::to_string(problems.size()) +
                       (problems.size() == 1 ? " problem" : " problems") + "): ";
  for (std::size_t i = 0; i < problems.size() && i < kShown; ++i)
    reason += (i ? "; " : "") + problems[i];
  if (problems.size() > kShown) reason += "; ...";
  throw CheckpointError(path, reason);
}

void copyInto(const payload::TensorDict& saved, torch::nn::Module& module) {
  const torch::NoGradGuard noGrad;
  for (auto& [name, tensor] : tensorsOf(module))
    tensor.copy_(saved.at(name));
}

}  // namespace payload

CheckpointMeta readCheckpointMeta(const std::filesystem::path& path) {
  const payload::Root root = payload::readRoot(path);
  const payload::Reader reader(path, root.dict);
  return payload::metaFrom(reader.section("meta"), root.version);
}

namespace {

// The class count a file's own tensors imply (the class branch's last bias), for version-1 files
// that saved no names.
int64_t classCountOf(const std::filesystem::path& path, const payload::TensorDict& tensors) {
  for (const auto& entry : tensors) {
    const std::string& name = entry.key();
    static const std::string kSuffix = ".cv3.0.2.bias";
    if (name.size() > kSuffix.size() &&
        name.compare(name.size() - kSuffix.size(), kSuffix.size(), kSuffix) == 0)
      return entry.value().numel();
  }
  throw CheckpointError(path, "holds no detection head (no '*.cv3.0.2.bias' tensor)");
}

}  // namespace

CheckpointModel loadCheckpointModel(const std::filesystem::path& path, c10::Device device) {
  const payload::Root root = payload::readRoot(path);
  const payload::Reader reader(path, root.dict);
  CheckpointModel out;
  out.meta = payload::metaFrom(reader.section("meta"), root.version);
  out.fromEma = reader.has("ema");
  const payload::TensorDict weights = reader.tensorDict(out.fromEma ? "ema" : "model");

  const LoadedConfig saved = parseConfigYaml(out.meta.configYaml, path.string() + " (meta)");
  for (const Diagnostic& d : saved.diagnostics)
    if (d.severity == Severity::Error)
      throw CheckpointError(path, "the configuration saved in it is unusable: " + format(d));
  out.trainedNorm = saved.config.distributed.norm;
  out.imgsz = out.meta.imgsz > 0 ? out.meta.imgsz : saved.config.data.imgsz;

  model::ModelDefinition definition;
  try {
    if (!out.meta.modelYaml.empty()) {
      definition = model::parseModelDefinition(out.meta.modelYaml, out.meta.modelSource,
                                               out.meta.modelName, out.meta.modelScale,
                                               static_cast<int64_t>(out.meta.names.size()));
    } else {  // version 1: the definition the configuration names, as the run loaded it
      definition = model::loadModelDefinition(saved.config.model.model, saved.config.model.scale,
                                              classCountOf(path, weights));
    }
  } catch (const model::ModelDefinitionError& e) {
    throw CheckpointError(path, std::string("its model definition does not load: ") + e.what());
  }
  out.names = out.meta.names;
  for (auto c = static_cast<int64_t>(out.names.size()); c < definition.nc; ++c)
    out.names.push_back("class" + std::to_string(c));
  if (modelFingerprint(definition, out.trainedNorm) != out.meta.modelFingerprint)
    throw CheckpointError(path, "its model definition does not match its fingerprint '" +
                                    out.meta.modelFingerprint + "'");

  const NormKind built =
      out.trainedNorm == NormKind::SyncBatchNorm ? NormKind::BatchNorm : out.trainedNorm;
  out.model =
      std::make_shared<model::DetectionModelImpl>(definition, model::NormChoice{built, nullptr});
  payload::checkFits(path, weights, *out.model, out.fromEma ? "EMA" : "model",
                     /*allowHalf=*/true);
  payload::copyInto(weights, *out.model);
  out.model->to(device);
  out.model->eval();
  for (auto& parameter : out.model->parameters())
    parameter.set_requires_grad(false);
  return out;
}

void saveCheckpointWithEma(const std::filesystem::path& source, const std::filesystem::path& target,
                           const torch::nn::Module& ema) {
  payload::Root root = payload::readRoot(source);
  const payload::Reader reader(source, root.dict);
  // The meta is checked, and written in this version's layout (an older file's is converted).
  const CheckpointMeta meta = payload::metaFrom(reader.section("meta"), root.version);
  if (!reader.has("ema")) throw CheckpointError(source, "the checkpoint holds no EMA weights");
  const payload::TensorDict saved = reader.tensorDict("ema");
  payload::checkFits(source, saved, ema, "EMA", /*allowHalf=*/true);
  bool half = false;
  for (const auto& entry : saved)
    half = half || entry.value().scalar_type() == at::kHalf;
  root.dict.insert_or_assign("meta", payload::metaDict(meta));
  root.dict.insert_or_assign("ema", payload::stateDictOf(ema, half));
  payload::writeRoot(target, root.dict);
}

CheckpointSnapshot::CheckpointSnapshot(std::unique_ptr<Contents> contents)
    : contents_(std::move(contents)) {}
CheckpointSnapshot::~CheckpointSnapshot() = default;
CheckpointSnapshot::CheckpointSnapshot(CheckpointSnapshot&&) noexcept = default;
CheckpointSnapshot& CheckpointSnapshot::operator=(CheckpointSnapshot&&) noexcept = default;

void writeCheckpoint(const std::filesystem::path& path, const CheckpointSnapshot& snapshot) {
  payload::writeRoot(path, snapshot.contents().root);
}

CheckpointSnapshot snapshotInferenceCheckpoint(const torch::nn::Module& weights, bool isEma,
                                               const CheckpointMeta& meta,
                                               WeightPrecision precision) {
  auto contents = std::make_unique<CheckpointSnapshot::Contents>();
  contents->root.insert("meta", payload::metaDict(meta));
  contents->root.insert(isEma ? "ema" : "model",
                        payload::stateDictOf(weights, precision == WeightPrecision::Float16));
  return CheckpointSnapshot(std::move(contents));
}

std::string modelFingerprint(const model::ModelDefinition& definition, NormKind norm) {
  std::ostringstream text;
  text.imbue(std::locale::classic());  // no digit grouping, whatever the process's locale
  const auto list = [&text](const auto& values) {
    for (std::size_t i = 0; i < values.size(); ++i)
      text << (i ? "," : "") << values[i];
  };
  text << "syncbn-model-v1|in=" << definition.inputChannels << "|nc=" << definition.nc
       << "|norm=" << toString(norm);
  for (const model::LayerSpec& layer : definition.layers) {
    text << "|" << layer.index << ":" << model::toString(layer.type) << ":in=";
    list(layer.inputs);
    text << ":r=" << layer.repeats << ":c1=";
    list(layer.inChannels);
    text << ":c2=" << layer.outChannels << ":k=" << layer.kernel << ":s=" << layer.stride
         << ":sc=" << layer.shortcut << ":up=" << layer.scaleFactor << ":nc=" << layer.nc;
  }
  return "nc=" + std::to_string(definition.nc) + " norm=" + std::string(toString(norm)) +
         " layers=" + std::to_string(definition.layers.size()) + " #" + hashBytes(text.str());
}

std::string modelFingerprint(const model::DetectionModelImpl& model, NormKind norm) {
  return modelFingerprint(model.definition(), norm);
}

std::string hashBytes(std::string_view bytes) {
  return hex16(fnv1a64(bytes.data(), bytes.size()));
}

}  // namespace syncbn::train
