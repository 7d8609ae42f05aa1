#include "common/config.h"

#include <array>
#include <cctype>
#include <utility>

namespace syncbn {
namespace {

constexpr std::array<std::pair<NormKind, std::string_view>, 4> kNormNames{{
    {NormKind::BatchNorm, "bn"},
    {NormKind::SyncBatchNorm, "syncbn"},
    {NormKind::GroupNorm, "groupnorm"},
    {NormKind::FrozenBatchNorm, "frozen"},
}};

constexpr std::array<std::pair<Backend, std::string_view>, 3> kBackendNames{{
    {Backend::Auto, "auto"},
    {Backend::Nccl, "nccl"},
    {Backend::Gloo, "gloo"},
}};

template <typename Enum, std::size_t N>
std::string_view nameOf(const std::array<std::pair<Enum, std::string_view>, N>& names, Enum e) {
  for (const auto& [value, name] : names)
    if (value == e) return name;
  return names.front().second;
}

template <typename Enum, std::size_t N>
std::optional<Enum> valueOf(const std::array<std::pair<Enum, std::string_view>, N>& names,
                            std::string_view text) {
  for (const auto& [value, name] : names)
    if (name == text) return value;
  return std::nullopt;
}

}  // namespace

std::string_view toString(NormKind norm) {
  return nameOf(kNormNames, norm);
}
std::string_view toString(Backend backend) {
  return nameOf(kBackendNames, backend);
}
bool isWeightsFile(const std::string& model) {
  const std::size_t dot = model.rfind('.');
  if (dot == std::string::npos || model.find('/', dot) != std::string::npos) return false;
  std::string extension = model.substr(dot);
  for (char& c : extension)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return extension == ".pt" || extension == ".pth";
}

std::optional<NormKind> parseNormKind(std::string_view text) {
  return valueOf(kNormNames, text);
}
std::optional<Backend> parseBackend(std::string_view text) {
  return valueOf(kBackendNames, text);
}

}  // namespace syncbn
