// Reads a checkpoint's payload the way any LibTorch program could, without the engine's reader:
// skip the 28-byte header, unpickle the rest. The tests' independent view of what a file holds.
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <vector>

namespace syncbn::train::testing {

inline c10::impl::GenericDict checkpointPayload(const std::filesystem::path& path) {
  constexpr std::size_t kHeader = 28;
  std::ifstream in(path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.size() <= kHeader) throw std::runtime_error(path.string() + ": no payload");
  return torch::pickle_load(std::vector<char>(bytes.begin() + kHeader, bytes.end()))
      .toGenericDict();
}

inline std::set<std::string> payloadKeys(const std::filesystem::path& path) {
  std::set<std::string> keys;
  for (const auto& entry : checkpointPayload(path))
    keys.insert(entry.key().toStringRef());
  return keys;
}

}  // namespace syncbn::train::testing
