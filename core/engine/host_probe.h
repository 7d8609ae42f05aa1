// What LibTorch knows about this machine, behind a torch-free header.
#pragma once

#include <string>

#include "common/topology.h"

namespace syncbn::engine {

struct HostProbe {
  HostFacts facts;           // CUDA device count as LibTorch sees it
  std::string torchVersion;  // e.g. "1.13.0"
  bool glooAvailable = false;
  bool ncclAvailable = false;
};

HostProbe probeHost();

}  // namespace syncbn::engine
