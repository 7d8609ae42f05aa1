// Internal to the checkpoint code (checkpoint_file.cpp, training_state.cpp): the container's
// payload as a LibTorch dictionary, and the readers and writers both halves share. Not a public
// header: it carries LibTorch types.
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "train/checkpoint_file.h"

namespace syncbn::train {

struct CheckpointSnapshot::Contents {
  c10::impl::GenericDict root{c10::StringType::get(), c10::AnyType::get()};
};

}  // namespace syncbn::train

namespace syncbn::train::payload {

using TensorDict = c10::Dict<std::string, at::Tensor>;

// The payload's root dictionary and the container version it came in.
struct Root {
  c10::impl::GenericDict dict{c10::StringType::get(), c10::AnyType::get()};
  std::uint32_t version = kCheckpointFormatVersion;
};

// Reads the container (header, length, checksum) and decodes the payload; throws CheckpointError.
Root readRoot(const std::filesystem::path& path);
// The root pickled into a container at `path`, atomically; throws CheckpointError.
void writeRoot(const std::filesystem::path& path, const c10::impl::GenericDict& root);

// Typed access to one dictionary of the payload; every failure names the dotted key.
class Reader {
 public:
  Reader(std::filesystem::path path, c10::impl::GenericDict dict, std::string where = "");

  bool has(const std::string& key) const { return dict_.contains(key); }
  c10::IValue get(const std::string& key) const;
  std::string string(const std::string& key) const;
  int64_t integer(const std::string& key) const;
  int smallInteger(const std::string& key) const;
  double real(const std::string& key) const;
  bool boolean(const std::string& key) const;
  at::Tensor tensor(const std::string& key) const;
  Reader section(const std::string& key) const;
  TensorDict tensorDict(const std::string& key) const;
  std::vector<int64_t> integerList(const std::string& key) const;
  std::vector<double> realList(const std::string& key) const;
  std::vector<std::string> stringList(const std::string& key) const;
  std::vector<at::Tensor> tensorList(const std::string& key) const;
  StateDict stateDict(const std::string& key) const;
  // The keys of this dictionary (all strings; anything else is refused).
  std::vector<std::string> keys() const;
  const std::filesystem::path& path() const { return path_; }

  [[noreturn]] void fail(const std::string& key, const std::string& problem) const;

 private:
  std::filesystem::path path_;
  c10::impl::GenericDict dict_;
  std::string where_;
};

// ---- meta -----------------------------------------------------------------------------------

c10::impl::GenericDict metaDict(const CheckpointMeta& meta);
// The meta of a file of `version` (version 1 kept its counters flat: they are mapped onto the
// loop's and the hooks' state dictionaries under the keys the trainer uses today).
CheckpointMeta metaFrom(const Reader& meta, std::uint32_t version);

// ---- tensors --------------------------------------------------------------------------------

// Parameters then buffers, dotted names; undefined tensors are neither saved nor expected.
std::vector<std::pair<std::string, at::Tensor>> tensorsOf(const torch::nn::Module& module);
// CPU, contiguous copies with their dtype, or floating-point ones in float16 with `half`.
TensorDict stateDictOf(const torch::nn::Module& module, bool half = false);
// Refuses, listing the first problems, when `saved` does not fit `module` by names, shapes and
// dtypes; `what` is "model" or "EMA". With `allowHalf`, float16 tensors fit float32 ones (an
// inference checkpoint's weights: copyInto casts them).
void checkFits(const std::filesystem::path& path, const TensorDict& saved,
               const torch::nn::Module& module, const std::string& what, bool allowHalf = false);
// Copies `saved` into the module's tensors (across devices and dtypes); checkFits first.
void copyInto(const TensorDict& saved, torch::nn::Module& module);

std::string shapeText(at::IntArrayRef sizes);

}  // namespace syncbn::train::payload
