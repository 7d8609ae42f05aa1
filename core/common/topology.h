// What a configuration means on a given machine: how many ranks, which device type, and the
// batch sizes that BatchNorm and the optimizer actually see.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/config.h"

namespace syncbn {

// Facts about the host the config layer cannot know by itself (it links no torch).
struct HostFacts {
  int cudaDevices = 0;
};

struct Topology {
  bool cuda = false;
  std::vector<int> cudaDeviceIds;  // the devices this node's ranks use, in local-rank order
  int ranksPerNode = 1;
  int worldSize = 1;
  Backend backend = Backend::Gloo;  // resolved: never Auto
  int perRankBatch = 0;             // 0 when the global batch does not divide evenly
  int bnBatch = 0;     // images one BatchNorm statistic is computed over; 0 when not batch-based
  int accumulate = 1;  // optimizer steps happen every `accumulate` iterations (nbs / batch)
};

// "" or "cpu" or "0,1,3"; nullopt when malformed. "" yields an empty list (= auto).
std::optional<std::vector<int>> parseDeviceList(const std::string& device);

Topology resolveTopology(const Config& config, const HostFacts& host);

}  // namespace syncbn
