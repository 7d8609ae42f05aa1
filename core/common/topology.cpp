#include "common/topology.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <numeric>
#include <string_view>

namespace syncbn {

std::optional<std::vector<int>> parseDeviceList(const std::string& device) {
  std::vector<int> ids;
  if (device.empty() || device == "cpu") return ids;
  std::string_view rest = device;
  while (true) {
    const auto comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    while (!item.empty() && item.front() == ' ')
      item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ')
      item.remove_suffix(1);
    int id = -1;
    const auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), id);
    if (item.empty() || ec != std::errc() || end != item.data() + item.size() || id < 0)
      return std::nullopt;
    if (std::find(ids.begin(), ids.end(), id) != ids.end()) return std::nullopt;
    ids.push_back(id);
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return ids;
}

Topology resolveTopology(const Config& config, const HostFacts& host) {
  const auto& dist = config.distributed;
  Topology t;
  if (dist.device != "cpu") {
    if (const auto ids = parseDeviceList(dist.device); ids && !ids->empty()) {
      t.cudaDeviceIds = *ids;
    } else if (dist.device.empty() && host.cudaDevices > 0) {
      t.cudaDeviceIds.resize(static_cast<std::size_t>(host.cudaDevices));
      std::iota(t.cudaDeviceIds.begin(), t.cudaDeviceIds.end(), 0);
    }
  }
  t.cuda = !t.cudaDeviceIds.empty();
  t.ranksPerNode = t.cuda ? static_cast<int>(t.cudaDeviceIds.size()) : std::max(dist.cpu_ranks, 1);
  t.worldSize = t.ranksPerNode * std::max(dist.nnodes, 1);
  t.backend =
      dist.backend != Backend::Auto ? dist.backend : (t.cuda ? Backend::Nccl : Backend::Gloo);

  const int batch = config.train.batch;
  t.perRankBatch = (batch > 0 && batch % t.worldSize == 0) ? batch / t.worldSize : 0;
  switch (dist.norm) {
    case NormKind::BatchNorm:
      t.bnBatch = t.perRankBatch;
      break;
    case NormKind::SyncBatchNorm:
      t.bnBatch = t.perRankBatch * t.worldSize;
      break;
    default:
      t.bnBatch = 0;
      break;
  }
  // As Ultralytics: accumulate = max(round(nbs / global batch), 1).
  t.accumulate =
      batch > 0 ? std::max(static_cast<int>(std::lround(double(config.train.nbs) / batch)), 1) : 1;
  return t;
}

}  // namespace syncbn
