#include "train/training_state.h"

#include <ATen/detail/CUDAHooksInterface.h>
#include <c10/util/Type.h>
#include <torch/torch.h>

#include <cstring>
#include <mutex>
#include <optional>
#include <typeinfo>
#include <utility>
#include <vector>

#include "train/checkpoint_payload.h"

namespace syncbn::train {
namespace {

using payload::TensorDict;

// Defined gradients of the parameters, by name.
TensorDict gradientsOf(const torch::nn::Module& module) {
  TensorDict dict;
  for (const auto& item : module.named_parameters())
    if (item.value().grad().defined())
      dict.insert(item.key(),
                  item.value().grad().detach().to(torch::kCPU).clone(at::MemoryFormat::Contiguous));
  return dict;
}

void checkGradientsFit(const std::filesystem::path& path, const TensorDict& gradients,
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
void restoreGradients(const std::optional<TensorDict>& gradients, torch::nn::Module& module) {
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

std::string bytesFrom(const std::filesystem::path& path, const at::Tensor& tensor,
                      const std::string& key) {
  if (tensor.scalar_type() != torch::kUInt8 || tensor.dim() != 1)
    throw CheckpointError(path, "malformed payload: '" + key + "' is not a byte tensor");
  const at::Tensor dense = tensor.contiguous();
  return std::string(static_cast<const char*>(dense.data_ptr()),
                     static_cast<std::size_t>(dense.numel()));
}

// The training state of a payload, validated for shape but not yet compared with any parts.
struct TrainingContents {
  CheckpointMeta meta;
  TensorDict model;
  std::optional<TensorDict> ema;
  std::optional<TensorDict> gradients;  // parameter name -> .grad
  std::optional<std::string> optimizerBytes;
  std::string optimizerType;
  std::vector<int64_t> groupSizes;        // parameters per param group
  std::vector<std::string> groupOptions;  // bytesOf(options) per param group
  at::Tensor cpuRng;
  std::vector<at::Tensor> cudaRng;
};

TrainingContents readContents(const std::filesystem::path& path) {
  const payload::Root root = payload::readRoot(path);
  const payload::Reader reader(path, root.dict);
  TrainingContents contents;
  contents.meta = payload::metaFrom(reader.section("meta"), root.version);
  if (!reader.has("model") || !reader.has("rng"))
    throw CheckpointError(path, "holds only the weights for inference and export (a '" +
                                    contents.meta.kind +
                                    "' checkpoint, without the training state), so it cannot "
                                    "resume training: resume from the run's weights/last.pt");
  contents.model = reader.tensorDict("model");
  if (reader.has("ema")) contents.ema = reader.tensorDict("ema");
  if (reader.has("gradients")) contents.gradients = reader.tensorDict("gradients");
  if (reader.has("optimizer")) {
    const payload::Reader optimizer = reader.section("optimizer");
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
  const payload::Reader rng = reader.section("rng");
  contents.cpuRng = rng.tensor("cpu");
  contents.cudaRng = rng.tensorList("cuda");
  return contents;
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
    const TrainingContents& contents) {
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

}  // namespace

void saveCheckpoint(const std::filesystem::path& path, const CheckpointParts& parts,
                    const CheckpointMeta& meta) {
  if (parts.model == nullptr)
    throw std::invalid_argument("saveCheckpoint(" + path.string() + "): no model given");
  writeCheckpoint(path, snapshotTrainingCheckpoint(parts, meta));
}

CheckpointSnapshot snapshotTrainingCheckpoint(const CheckpointParts& parts,
                                              const CheckpointMeta& meta) {
  if (parts.model == nullptr)
    throw std::invalid_argument("snapshotTrainingCheckpoint: no model given");
  auto contents = std::make_unique<CheckpointSnapshot::Contents>();
  c10::impl::GenericDict& root = contents->root;
  root.insert("meta", payload::metaDict(meta));
  root.insert("model", payload::stateDictOf(*parts.model));
  if (parts.ema != nullptr) root.insert("ema", payload::stateDictOf(*parts.ema));
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
  return CheckpointSnapshot(std::move(contents));
}

CheckpointMeta restoreCheckpoint(const std::filesystem::path& path, const CheckpointParts& parts,
                                 const std::string& expectedFingerprint) {
  if (parts.model == nullptr)
    throw std::invalid_argument("restoreCheckpoint(" + path.string() + "): no model given");
  const TrainingContents contents = readContents(path);

  // 1. Validate everything; nothing has been touched yet.
  std::vector<std::unique_ptr<torch::optim::OptimizerOptions>> groupOptions;
  if (!expectedFingerprint.empty() && contents.meta.modelFingerprint != expectedFingerprint)
    throw CheckpointError(path, "made for another model: the checkpoint is for '" +
                                    contents.meta.modelFingerprint + "', this run's model is '" +
                                    expectedFingerprint + "'");
  payload::checkFits(path, contents.model, *parts.model, "model");
  if (parts.gradients && contents.gradients)
    checkGradientsFit(path, *contents.gradients, *parts.model);
  if (parts.ema != nullptr) {
    if (!contents.ema) throw CheckpointError(path, "the checkpoint holds no EMA weights");
    payload::checkFits(path, *contents.ema, *parts.ema, "EMA");
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
  payload::copyInto(contents.model, *parts.model);
  if (parts.gradients) restoreGradients(contents.gradients, *parts.model);
  if (parts.ema != nullptr) payload::copyInto(*contents.ema, *parts.ema);
  setState(cpuGenerator(), contents.cpuRng);
  // States of devices this machine lacks are dropped; devices the checkpoint lacks keep theirs.
  for (std::size_t i = 0; i < cuda.size() && i < contents.cudaRng.size(); ++i)
    setState(cuda[i], contents.cudaRng[i]);
  return contents.meta;
}

}  // namespace syncbn::train
