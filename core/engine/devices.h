// `syncbn-engine devices`: the devices a training run can use, as LibTorch sees them. Torch-free
// header; the CUDA properties are read only in a build against a CUDA LibTorch.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "engine/host_probe.h"

namespace syncbn::engine {

struct DeviceInfo {
  std::string type;  // "cuda" or "cpu"
  int index = 0;
  std::string name;               // "NVIDIA H100 80GB HBM3", or the CPU's model name
  std::uint64_t memoryBytes = 0;  // CUDA: the device's total memory; CPU: physical memory
  std::string capability;         // CUDA compute capability, e.g. "9.0"; empty for the CPU
  int cores = 0;                  // CPU: logical cores (0: unknown); 0 for CUDA devices
};

// The CUDA devices LibTorch sees (probe.facts.cudaDevices of them) or, when there is none, the
// CPU that training falls back to.
std::vector<DeviceInfo> listDevices(const HostProbe& probe);

// This machine's CPU: the model name from /proc/cpuinfo ("CPU" when it names none), logical cores
// (std::thread::hardware_concurrency) and physical memory (sysconf).
DeviceInfo cpuDevice();

// The CPU's name in the text of /proc/cpuinfo: the first "model name" (x86), else "Processor"
// (older ARM kernels), "cpu model" (MIPS) or "cpu" (POWER); "" when there is none of them.
std::string cpuModelName(std::string_view cpuinfo);

// {"cuda": bool, "torch_version": string, "nccl": bool, "gloo": bool, "devices": [...]}, each
// device {"type": "cuda", "index", "name", "memory_bytes", "capability": "9.0"} or {"type":
// "cpu", "index", "name", "cores", "memory_bytes"}. "cuda" is true when there is a CUDA device.
nlohmann::ordered_json devicesJson(const HostProbe& probe, const std::vector<DeviceInfo>& devices);

// The same as text: a line for LibTorch and its backends, then one line per device.
void printDevices(std::ostream& out, const HostProbe& probe,
                  const std::vector<DeviceInfo>& devices);

// `devices [--json]`: lists this machine's devices on out. Exit 1 (the reason on err) when CUDA
// devices are seen but their properties cannot be read.
int listDevicesCommand(std::ostream& out, std::ostream& err, const HostProbe& probe, bool json);

}  // namespace syncbn::engine
