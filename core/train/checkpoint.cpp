#include "train/checkpoint.h"

#include <ATen/detail/CUDAHooksInterface.h>
#include <c10/util/Type.h>
#include <torch/torch.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <locale>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <typeinfo>
#include <utility>
#include <vector>

#include "common/atomic_file.h"
#include "model/detection_model.h"

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

std::string shapeText(at::IntArrayRef sizes) {
  std::ostringstream text;
  text << '[';
  for (std::size_t i = 0; i < sizes.size(); ++i)
    text << (i ? ", " : "") << sizes[i];
  text << ']';
  return text.str();
}

// ---- what is stored ---------------------------------------------------------------------------

// Parameters then buffers, dotted names as named_parameters/named_buffers give them; undefined
// tensors (optional buffers left empty) are neither saved nor expected.
std::vector<std::pair<std::string, at::Tensor>> tensorsOf(const torch::nn::Module& module) {
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  for (const auto& item : module.named_parameters(/*recurse=*/true))
    if (item.value().defined()) tensors.emplace_back(item.key(), item.value());
  for (const auto& item : module.named_buffers(/*recurse=*/true))
    if (item.value().defined()) tensors.emplace_back(item.key(), item.value());
  return tensors;
}

c10::Dict<std::string, at::Tensor> stateDictOf(const torch::nn::Module& module) {
  c10::Dict<std::string, at::Tensor> dict;
  for (const auto& [name, tensor] : tensorsOf(module))
    dict.insert(name, tensor.detach().to(torch::kCPU, tensor.scalar_type(), /*non_blocking=*/false,
                                         /*copy=*/true, at::MemoryFormat::Contiguous));
  return dict;
}

// Defined gradients of the parameters, by name.
c10::Dict<std::string, at::Tensor> gradientsOf(const torch::nn::Module& module) {
  c10::Dict<std::string, at::Tensor> dict;
  for (const auto& item : module.named_parameters())
    if (item.value().grad().defined())
      dict.insert(item.key(),
                  item.value().grad().detach().to(torch::kCPU).clone(at::MemoryFormat::Contiguous));
  return dict;
}

void checkGradientsFit(const std::filesystem::path& path,
                       const c10::Dict<std::string, at::Tensor>& gradients,
                       const torch::nn::Module& module) {
  const auto parameters = module.named_parameters();
  for (const auto& entry : gradients) {
    const at::Tensor* parameter = parameters.find(entry.key());
    if (parameter == nullptr)
      throw CheckpointError(path, "gradient of unknown parameter '" + entry.key() + "'");
    if (parameter->sizes() != entry.value().sizes() ||
        parameter->scalar_type() != entry.value().scalar_type())
      throw CheckpointError(path, "gradient of '" + entry.key() + "' does not fit its parameter");
  }
}

// Every parameter's .grad becomes the saved one, or undefined when none was saved.
void restoreGradients(const std::optional<c10::Dict<std::string, at::Tensor>>& gradients,
                      torch::nn::Module& module) {
  for (auto& item : module.named_parameters()) {
    at::Tensor& parameter = item.value();
    if (gradients && gradients->contains(item.key()))
      parameter.mutable_grad() = gradients->at(item.key()).to(parameter.device()).clone();
    else
      parameter.mutable_grad() = at::Tensor();
  }
}

std::string bytesOf(torch::serialize::OutputArchive& archive) {
  std::string bytes;
  archive.save_to([&bytes](const void* data, std::size_t size) -> std::size_t {
    bytes.append(static_cast<const char*>(data), size);
    return size;
  });
  return bytes;
}

std::string bytesOf(const torch::optim::Optimizer& optimizer) {
  torch::serialize::OutputArchive archive;
  optimizer.save(archive);
  return bytesOf(archive);
}

// LibTorch's optimizer archive keeps the per-parameter state but its load() leaves the param
// groups' options (learning rate, momentum, ...) as they are, so those travel separately.
std::string bytesOf(const torch::optim::OptimizerOptions& options) {
  torch::serialize::OutputArchive archive;
  options.serialize(archive);
  return bytesOf(archive);
}

at::Tensor byteTensor(const std::string& bytes) {
  at::Tensor tensor = torch::empty({static_cast<int64_t>(bytes.size())}, torch::kUInt8);
  if (!bytes.empty()) std::memcpy(tensor.data_ptr(), bytes.data(), bytes.size());
  return tensor;
}

std::string optimizerType(const torch::optim::Optimizer& optimizer) {
  return c10::demangle(typeid(optimizer).name());
}

at::Generator cpuGenerator() {
  return at::detail::getDefaultCPUGenerator();
}

// Every CUDA device's default generator; none on a build or machine without CUDA. Through the
// Context, not the CUDA hooks: their getDefaultCUDAGenerator (1.13) is getDefaultGenerator in 2.x.
std::vector<at::Generator> cudaGenerators() {
  std::vector<at::Generator> generators;
  const auto& hooks = at::detail::getCUDAHooks();
  if (!hooks.hasCUDA()) return generators;
  for (int device = 0; device < hooks.getNumGPUs(); ++device)
    generators.push_back(at::globalContext().defaultGenerator(
        c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(device))));
  return generators;
}

at::Tensor stateOf(at::Generator generator) {
  const std::lock_guard<std::mutex> lock(generator.mutex());
  return generator.get_state();
}

c10::impl::GenericDict metaDict(const CheckpointMeta& meta) {
  c10::impl::GenericDict dict(c10::StringType::get(), c10::AnyType::get());
  dict.insert("kind", meta.kind);
  dict.insert("epoch", static_cast<int64_t>(meta.epoch));
  dict.insert("step_in_epoch", static_cast<int64_t>(meta.stepInEpoch));
  dict.insert("epoch_complete", meta.epochComplete);
  dict.insert("iteration", static_cast<int64_t>(meta.iteration));
  dict.insert("optimizer_steps", static_cast<int64_t>(meta.optimizerSteps));
  dict.insert("last_optimizer_iteration", static_cast<int64_t>(meta.lastOptimizerIteration));
  dict.insert("epoch_loss_sums", c10::List<double>({meta.epochLossSums[0], meta.epochLossSums[1],
                                                    meta.epochLossSums[2]}));
  dict.insert("ema_updates", static_cast<int64_t>(meta.emaUpdates));
  dict.insert("best_fitness", meta.bestFitness);
  dict.insert("best_epoch", static_cast<int64_t>(meta.bestEpoch));
  dict.insert("epochs_without_improvement", static_cast<int64_t>(meta.epochsWithoutImprovement));
  dict.insert("scaler_scale", meta.scalerScale);
  dict.insert("scaler_growth_tracker", static_cast<int64_t>(meta.scalerGrowthTracker));
  dict.insert("world_size", static_cast<int64_t>(meta.worldSize));
  dict.insert("start_time", meta.startTime);
  dict.insert("config_yaml", meta.configYaml);
  dict.insert("dataset_hash", meta.datasetHash);
  dict.insert("model_fingerprint", meta.modelFingerprint);
  dict.insert("engine_version", meta.engineVersion);
  return dict;
}

// ---- reading ----------------------------------------------------------------------------------

// The decoded payload, validated for shape but not yet compared with any parts.
struct Contents {
  CheckpointMeta meta;
  c10::Dict<std::string, at::Tensor> model;
  std::optional<c10::Dict<std::string, at::Tensor>> ema;
  std::optional<c10::Dict<std::string, at::Tensor>> gradients;  // parameter name -> .grad
  std::optional<std::string> optimizerBytes;
  std::string optimizerType;
  std::vector<int64_t> groupSizes;        // parameters per param group
  std::vector<std::string> groupOptions;  // bytesOf(options) per param group
  at::Tensor cpuRng;
  std::vector<at::Tensor> cudaRng;
};

class PayloadReader {
 public:
  PayloadReader(const std::filesystem::path& path, c10::impl::GenericDict dict, std::string where)
      : path_(path), dict_(std::move(dict)), where_(std::move(where)) {}

  bool has(const std::string& key) const { return dict_.contains(key); }

  c10::IValue get(const std::string& key) const {
    const auto found = dict_.find(key);
    if (found == dict_.end()) fail(key, "missing");
    return found->value();
  }
  std::string string(const std::string& key) const {
    const c10::IValue value = get(key);
    if (!value.isString()) fail(key, "not a string");
    return value.toStringRef();
  }
  int64_t integer(const std::string& key) const {
    const c10::IValue value = get(key);
    if (!value.isInt()) fail(key, "not an integer");
    return value.toInt();
  }
  int smallInteger(const std::string& key) const {
    const int64_t value = integer(key);
    if (value < std::numeric_limits<int>::min() || value > std::numeric_limits<int>::max())
      fail(key, "out of range");
    return static_cast<int>(value);
  }
  double real(const std::string& key) const {
    const c10::IValue value = get(key);
    if (!value.isDouble()) fail(key, "not a number");
    return value.toDouble();
  }
  bool boolean(const std::string& key) const {
    const c10::IValue value = get(key);
    if (!value.isBool()) fail(key, "not a boolean");
    return value.toBool();
  }
  at::Tensor tensor(const std::string& key) const {
    const c10::IValue value = get(key);
    if (!value.isTensor()) fail(key, "not a tensor");
    return value.toTensor();
  }
  PayloadReader section(const std::string& key) const {
    const c10::IValue value = get(key);
    if (!value.isGenericDict()) fail(key, "not a dictionary");
    return PayloadReader(path_, value.toGenericDict(), where_ + key + ".");
  }
  c10::Dict<std::string, at::Tensor> tensorDict(const std::string& key) const {
    const PayloadReader inner = section(key);
    c10::Dict<std::string, at::Tensor> tensors;
    for (const auto& entry : inner.dict_) {
      if (!entry.key().isString()) fail(key, "has a key that is not a string");
      const std::string name = entry.key().toStringRef();
      tensors.insert(name, inner.tensor(name));
    }
    return tensors;
  }
  std::vector<int64_t> integerList(const std::string& key) const {
    const c10::IValue value = get(key);
    if (!value.isList()) fail(key, "not a list");
    std::vector<int64_t> values;
    for (const c10::IValue& item : value.toListRef()) {
      if (!item.isInt()) fail(key, "holds something that is not an integer");
      values.push_back(item.toInt());
    }
    return values;
  }
  std::vector<double> realList(const std::string& key, std::size_t size) const {
    const c10::IValue value = get(key);
    if (!value.isList()) fail(key, "not a list");
    std::vector<double> values;
    for (const c10::IValue& item : value.toListRef()) {
      if (!item.isDouble()) fail(key, "holds something that is not a number");
      values.push_back(item.toDouble());
    }
    if (values.size() != size) fail(key, "not a list of " + std::to_string(size) + " numbers");
    return values;
  }
  std::vector<at::Tensor> tensorList(const std::string& key) const {
    const c10::IValue value = get(key);
    if (!value.isList()) fail(key, "not a list");
    std::vector<at::Tensor> tensors;
    for (const c10::IValue& item : value.toListRef()) {
      if (!item.isTensor()) fail(key, "holds something that is not a tensor");
      tensors.push_back(item.toTensor());
    }
    return tensors;
  }

 private:
  [[noreturn]] void fail(const std::string& key, const std::string& problem) const {
    throw CheckpointError(path_, "malformed payload: '" + where_ + key + "' is " + problem);
  }

  std::filesystem::path path_;
  c10::impl::GenericDict dict_;
  std::string where_;
};

CheckpointMeta metaFrom(const PayloadReader& meta) {
  CheckpointMeta out;
  out.kind = meta.string("kind");
  out.epoch = meta.smallInteger("epoch");
  out.stepInEpoch = meta.smallInteger("step_in_epoch");
  out.epochComplete = meta.boolean("epoch_complete");
  out.iteration = meta.integer("iteration");
  out.optimizerSteps = meta.integer("optimizer_steps");
  out.lastOptimizerIteration = meta.integer("last_optimizer_iteration");
  const std::vector<double> sums = meta.realList("epoch_loss_sums", 3);
  std::copy(sums.begin(), sums.end(), out.epochLossSums.begin());
  out.emaUpdates = meta.integer("ema_updates");
  out.bestFitness = meta.real("best_fitness");
  out.bestEpoch = meta.smallInteger("best_epoch");
  out.epochsWithoutImprovement = meta.smallInteger("epochs_without_improvement");
  out.scalerScale = meta.real("scaler_scale");
  out.scalerGrowthTracker = meta.smallInteger("scaler_growth_tracker");
  out.worldSize = meta.smallInteger("world_size");
  out.startTime = meta.has("start_time") ? meta.real("start_time") : 0.0;  // absent: older file
  out.configYaml = meta.string("config_yaml");
  out.datasetHash = meta.string("dataset_hash");
  out.modelFingerprint = meta.string("model_fingerprint");
  out.engineVersion = meta.string("engine_version");
  return out;
}

// The container: header checks, then the whole payload against its checksum.
std::vector<char> readPayload(const std::filesystem::path& path) {
  std::error_code error;
  if (!std::filesystem::exists(path, error)) throw CheckpointError(path, "no such checkpoint file");
  if (std::filesystem::is_directory(path, error))
    throw CheckpointError(path, "is a directory, not a checkpoint file");
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
  if (version != kCheckpointFormatVersion)
    throw CheckpointError(path, "unsupported checkpoint format version " + std::to_string(version) +
                                    " (this build reads version " +
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
  return payload;
}

std::string bytesFrom(const std::filesystem::path& path, const at::Tensor& tensor,
                      const std::string& key) {
  if (tensor.scalar_type() != torch::kUInt8 || tensor.dim() != 1)
    throw CheckpointError(path, "malformed payload: '" + key + "' is not a byte tensor");
  const at::Tensor dense = tensor.contiguous();
  return std::string(static_cast<const char*>(dense.data_ptr()),
                     static_cast<std::size_t>(dense.numel()));
}

// The payload's dictionary, unchecked beyond being one.
c10::impl::GenericDict readRoot(const std::filesystem::path& path) {
  const std::vector<char> payload = readPayload(path);
  c10::IValue root;
  try {
    root = torch::pickle_load(payload);
  } catch (const std::exception& e) {
    throw CheckpointError(path, std::string("corrupted: cannot decode the payload: ") + e.what());
  }
  if (!root.isGenericDict()) throw CheckpointError(path, "malformed payload: not a dictionary");
  return root.toGenericDict();
}

Contents contentsOf(const std::filesystem::path& path, const c10::impl::GenericDict& root) {
  const PayloadReader reader(path, root, "");

  Contents contents;
  contents.meta = metaFrom(reader.section("meta"));
  contents.model = reader.tensorDict("model");
  if (reader.has("ema")) contents.ema = reader.tensorDict("ema");
  if (reader.has("gradients")) contents.gradients = reader.tensorDict("gradients");
  if (reader.has("optimizer")) {
    const PayloadReader optimizer = reader.section("optimizer");
    contents.optimizerBytes = bytesFrom(path, optimizer.tensor("state"), "optimizer.state");
    contents.optimizerType = optimizer.string("type");
    contents.groupSizes = optimizer.integerList("group_sizes");
    for (const at::Tensor& options : optimizer.tensorList("group_options"))
      contents.groupOptions.push_back(bytesFrom(path, options, "optimizer.group_options"));
    if (contents.groupOptions.size() != contents.groupSizes.size())
      throw CheckpointError(
          path, "malformed payload: 'optimizer' has " + std::to_string(contents.groupSizes.size()) +
                    " group sizes but " + std::to_string(contents.groupOptions.size()) +
                    " group options");
  }
  const PayloadReader rng = reader.section("rng");
  contents.cpuRng = rng.tensor("cpu");
  contents.cudaRng = rng.tensorList("cuda");
  return contents;
}

Contents readContents(const std::filesystem::path& path) {
  return contentsOf(path, readRoot(path));
}

// ---- checking against the parts ---------------------------------------------------------------

// Everything about `saved` that does not fit `module`: names missing on either side, shapes,
// dtypes.
std::vector<std::string> mismatches(const c10::Dict<std::string, at::Tensor>& saved,
                                    const torch::nn::Module& module) {
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
    else if (stored.scalar_type() != tensor.scalar_type())
      problems.push_back("'" + name + "' has dtype " +
                         std::string(c10::toString(stored.scalar_type())) + " in the checkpoint, " +
                         c10::toString(tensor.scalar_type()) + " in the model");
  }
  for (const auto& entry : saved)
    if (wantedNames.count(entry.key()) == 0)
      problems.push_back("'" + entry.key() + "' in the checkpoint is not in the model");
  return problems;
}

void checkFits(const std::filesystem::path& path, const c10::Dict<std::string, at::Tensor>& saved,
               const torch::nn::Module& module, const std::string& what) {
  const std::vector<std::string> problems = mismatches(saved, module);
  if (problems.empty()) return;
  constexpr std::size_t kShown = 5;
  std::string reason = what + " tensors do not match (" + std::to_string(problems.size()) +
                       (problems.size() == 1 ? " problem" : " problems") + "): ";
  for (std::size_t i = 0; i < problems.size() && i < kShown; ++i)
    reason += (i ? "; " : "") + problems[i];
  if (problems.size() > kShown) reason += "; ...";
  throw CheckpointError(path, reason);
}

void copyInto(const c10::Dict<std::string, at::Tensor>& saved, torch::nn::Module& module) {
  const torch::NoGradGuard noGrad;
  for (auto& [name, tensor] : tensorsOf(module))
    tensor.copy_(saved.at(name));
}

void checkRngState(const std::filesystem::path& path, const at::Tensor& saved,
                   const at::Tensor& current, const std::string& which) {
  if (saved.scalar_type() != torch::kUInt8 || saved.numel() != current.numel())
    throw CheckpointError(path, "the " + which + " RNG state has " + std::to_string(saved.numel()) +
                                    " bytes, this LibTorch's has " +
                                    std::to_string(current.numel()));
}

void setState(at::Generator generator, const at::Tensor& state) {
  const std::lock_guard<std::mutex> lock(generator.mutex());
  generator.set_state(state.contiguous());
}

torch::Device parameterDevice(const torch::optim::Optimizer& optimizer) {
  for (const auto& group : optimizer.param_groups())
    for (const auto& parameter : group.params())
      return parameter.device();
  return torch::kCPU;
}

// The checkpoint's options for each of the optimizer's param groups, read into copies; refuses
// other group counts or sizes.
std::vector<std::unique_ptr<torch::optim::OptimizerOptions>> parseGroupOptions(
    const std::filesystem::path& path, const torch::optim::Optimizer& optimizer,
    const Contents& contents) {
  const auto& groups = optimizer.param_groups();
  if (contents.groupSizes.size() != groups.size())
    throw CheckpointError(
        path, "the checkpoint's optimizer has " + std::to_string(contents.groupSizes.size()) +
                  " parameter groups, this run's has " + std::to_string(groups.size()));
  std::vector<std::unique_ptr<torch::optim::OptimizerOptions>> parsed;
  for (std::size_t i = 0; i < groups.size(); ++i) {
    const auto size = static_cast<int64_t>(groups[i].params().size());
    if (contents.groupSizes[i] != size)
      throw CheckpointError(
          path, "parameter group " + std::to_string(i) + " of the optimizer has " +
                    std::to_string(contents.groupSizes[i]) + " parameters in the checkpoint, " +
                    std::to_string(size) + " in this run");
    std::unique_ptr<torch::optim::OptimizerOptions> options = groups[i].options().clone();
    try {
      torch::serialize::InputArchive archive;
      archive.load_from(contents.groupOptions[i].data(), contents.groupOptions[i].size());
      options->serialize(archive);
    } catch (const std::exception& e) {
      throw CheckpointError(path, "the options of optimizer parameter group " + std::to_string(i) +
                                      " do not fit: " + e.what());
    }
    parsed.push_back(std::move(options));
  }
  return parsed;
}

void loadOptimizer(const std::filesystem::path& path, torch::optim::Optimizer& optimizer,
                   const std::string& bytes) {
  const std::string backup = bytesOf(optimizer);
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(bytes.data(), bytes.size(), parameterDevice(optimizer));
    // load() only replaces the entries the archive has: without this, a parameter that had no
    // state when saved would keep this optimizer's.
    optimizer.state().clear();
    optimizer.load(archive);
  } catch (const std::exception& e) {
    torch::serialize::InputArchive previous;
    previous.load_from(backup.data(), backup.size());
    optimizer.load(previous);
    throw CheckpointError(
        path, std::string("the optimizer state does not fit this optimizer: ") + e.what());
  }
}

// The header and `payload`, written atomically to `path` (defined below saveCheckpoint).
void writeContainer(const std::filesystem::path& path, std::vector<char> payload);

}  // namespace

CheckpointError::CheckpointError(std::filesystem::path path, const std::string& reason)
    : std::runtime_error(path.string() + ": " + reason), path_(std::move(path)), reason_(reason) {}

void saveCheckpoint(const std::filesystem::path& path, const CheckpointParts& parts,
                    const CheckpointMeta& meta) {
  if (parts.model == nullptr)
    throw std::invalid_argument("saveCheckpoint(" + path.string() + "): no model given");

  c10::impl::GenericDict root(c10::StringType::get(), c10::AnyType::get());
  root.insert("meta", metaDict(meta));
  root.insert("model", stateDictOf(*parts.model));
  if (parts.ema != nullptr) root.insert("ema", stateDictOf(*parts.ema));
  if (parts.gradients) root.insert("gradients", gradientsOf(*parts.model));
  if (parts.optimizer != nullptr) {
    c10::impl::GenericDict optimizer(c10::StringType::get(), c10::AnyType::get());
    optimizer.insert("type", optimizerType(*parts.optimizer));
    optimizer.insert("state", byteTensor(bytesOf(*parts.optimizer)));
    c10::List<int64_t> sizes;
    c10::List<at::Tensor> options;
    for (const auto& group : parts.optimizer->param_groups()) {
      sizes.push_back(static_cast<int64_t>(group.params().size()));
      options.push_back(byteTensor(bytesOf(group.options())));
    }
    optimizer.insert("group_sizes", sizes);
    optimizer.insert("group_options", options);
    root.insert("optimizer", optimizer);
  }
  c10::impl::GenericDict rng(c10::StringType::get(), c10::AnyType::get());
  rng.insert("cpu", stateOf(cpuGenerator()));
  c10::List<at::Tensor> cuda;
  for (const at::Generator& generator : cudaGenerators())
    cuda.push_back(stateOf(generator));
  rng.insert("cuda", cuda);
  root.insert("rng", rng);

  std::vector<char> payload = torch::pickle_save(root);
  root.clear();  // the CPU copies of the tensors: a big model's checkpoint need not be held thrice
  writeContainer(path, std::move(payload));
}

namespace {

void writeContainer(const std::filesystem::path& path, std::vector<char> payload) {
  std::string contents(kHeaderSize + payload.size(), '\0');
  std::memcpy(contents.data(), kMagic.data(), kMagic.size());
  putLittleEndian(contents.data() + 8, kCheckpointFormatVersion, 4);
  putLittleEndian(contents.data() + 12, payload.size(), 8);
  putLittleEndian(contents.data() + 20, fnv1a64(payload.data(), payload.size()), 8);
  if (!payload.empty()) std::memcpy(contents.data() + kHeaderSize, payload.data(), payload.size());

  try {
    writeFileAtomically(path, contents);
  } catch (const std::runtime_error& e) {
    // writeFileAtomically's message is "cannot write <path>: <why>"; keep only the why.
    std::string why = e.what();
    const std::string prefix = "cannot write " + path.string() + ": ";
    if (why.rfind(prefix, 0) == 0) why.erase(0, prefix.size());
    throw CheckpointError(path, "cannot save the checkpoint: " + why);
  }
}

}  // namespace

CheckpointMeta readCheckpointMeta(const std::filesystem::path& path) {
  return readContents(path).meta;
}

void saveCheckpointWithEma(const std::filesystem::path& source, const std::filesystem::path& target,
                           const torch::nn::Module& ema) {
  c10::impl::GenericDict root = readRoot(source);
  const Contents contents = contentsOf(source, root);  // the whole file is checked, as on restore
  if (!contents.ema) throw CheckpointError(source, "the checkpoint holds no EMA weights");
  checkFits(source, *contents.ema, ema, "EMA");
  root.insert_or_assign("ema", stateDictOf(ema));
  writeContainer(target, torch::pickle_save(root));
}

CheckpointMeta restoreCheckpoint(const std::filesystem::path& path, const CheckpointParts& parts,
                                 const std::string& expectedFingerprint) {
  if (parts.model == nullptr)
    throw std::invalid_argument("restoreCheckpoint(" + path.string() + "): no model given");
  const Contents contents = readContents(path);

  // 1. Validate everything; nothing has been touched yet.
  std::vector<std::unique_ptr<torch::optim::OptimizerOptions>> groupOptions;
  if (!expectedFingerprint.empty() && contents.meta.modelFingerprint != expectedFingerprint)
    throw CheckpointError(path, "made for another model: the checkpoint is for '" +
                                    contents.meta.modelFingerprint + "', this run's model is '" +
                                    expectedFingerprint + "'");
  checkFits(path, contents.model, *parts.model, "model");
  if (parts.gradients && contents.gradients)
    checkGradientsFit(path, *contents.gradients, *parts.model);
  if (parts.ema != nullptr) {
    if (!contents.ema) throw CheckpointError(path, "the checkpoint holds no EMA weights");
    checkFits(path, *contents.ema, *parts.ema, "EMA");
  }
  if (parts.optimizer != nullptr) {
    if (!contents.optimizerBytes)
      throw CheckpointError(path, "the checkpoint holds no optimizer state");
    const std::string wanted = optimizerType(*parts.optimizer);
    if (contents.optimizerType != wanted)
      throw CheckpointError(path, "the checkpoint holds " + contents.optimizerType +
                                      " state, this run's optimizer is " + wanted);
    groupOptions = parseGroupOptions(path, *parts.optimizer, contents);
  }
  checkRngState(path, contents.cpuRng, stateOf(cpuGenerator()), "CPU");
  const std::vector<at::Generator> cuda = cudaGenerators();
  for (std::size_t i = 0; i < cuda.size() && i < contents.cudaRng.size(); ++i)
    checkRngState(path, contents.cudaRng[i], stateOf(cuda[i]), "CUDA:" + std::to_string(i));

  // 2. Apply. The optimizer goes first: it alone can still be refused (by LibTorch), and then
  // it is rolled back before the model or EMA changed.
  if (parts.optimizer != nullptr) {
    loadOptimizer(path, *parts.optimizer, *contents.optimizerBytes);
    for (std::size_t i = 0; i < groupOptions.size(); ++i)
      parts.optimizer->param_groups()[i].set_options(std::move(groupOptions[i]));
  }
  copyInto(contents.model, *parts.model);
  if (parts.gradients) restoreGradients(contents.gradients, *parts.model);
  if (parts.ema != nullptr) copyInto(*contents.ema, *parts.ema);
  setState(cpuGenerator(), contents.cpuRng);
  // States of devices this machine lacks are dropped; devices the checkpoint lacks keep theirs.
  for (std::size_t i = 0; i < cuda.size() && i < contents.cudaRng.size(); ++i)
    setState(cuda[i], contents.cudaRng[i]);
  return contents.meta;
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
