#include "engine/host_probe.h"

#include <torch/torch.h>

namespace syncbn::engine {

HostProbe probeHost() {
  HostProbe probe;
  probe.facts.cudaDevices = static_cast<int>(torch::cuda::device_count());
  probe.torchVersion = TORCH_VERSION;
#ifdef USE_C10D_GLOO
  probe.glooAvailable = true;
#endif
#ifdef USE_C10D_NCCL
  probe.ncclAvailable = true;
#endif
  return probe;
}

}  // namespace syncbn::engine
