#include "engine/devices.h"

#include <torch/torch.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <ostream>
#include <sstream>
#include <thread>

#include "engine/commands.h"

// SYNCBN_HAVE_CUDA: set by CMake when LibTorch was built with CUDA (core/engine/CMakeLists.txt).
#ifdef SYNCBN_HAVE_CUDA
#include <ATen/cuda/CUDAContext.h>
#endif

namespace syncbn::engine {
namespace {

std::string_view trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t\r");
  return text.substr(first, last - first + 1);
}

std::vector<DeviceInfo> cudaDevices(int count) {
  std::vector<DeviceInfo> devices;
  for (int i = 0; i < count; ++i) {
    DeviceInfo device;
    device.type = "cuda";
    device.index = i;
#ifdef SYNCBN_HAVE_CUDA
    const cudaDeviceProp* properties = at::cuda::getDeviceProperties(i);
    device.name = properties->name;
    device.memoryBytes = properties->totalGlobalMem;
    device.capability = std::to_string(properties->major) + "." + std::to_string(properties->minor);
#else
    // Unreachable in practice: a LibTorch without CUDA sees no CUDA device.
    device.name = "CUDA device " + std::to_string(i) + " (properties unknown to this build)";
#endif
    devices.push_back(std::move(device));
  }
  return devices;
}

std::string gibibytes(std::uint64_t bytes) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.1f GiB", static_cast<double>(bytes) / (1ull << 30));
  return buffer;
}

}  // namespace

std::string cpuModelName(std::string_view cpuinfo) {
  // In order of preference; the first line with the best key present wins.
  const std::string_view keys[] = {"model name", "Processor", "cpu model", "cpu"};
  std::string_view best;
  std::size_t bestRank = std::size(keys);
  while (!cpuinfo.empty()) {
    const auto end = cpuinfo.find('\n');
    const std::string_view line = cpuinfo.substr(0, end);
    cpuinfo = end == std::string_view::npos ? std::string_view{} : cpuinfo.substr(end + 1);
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string_view key = trim(line.substr(0, colon));
    const std::string_view value = trim(line.substr(colon + 1));
    for (std::size_t rank = 0; rank < bestRank; ++rank) {
      if (key == keys[rank] && !value.empty()) {
        best = value;
        bestRank = rank;
        break;
      }
    }
    if (bestRank == 0) break;
  }
  return std::string(best);
}

DeviceInfo cpuDevice() {
  DeviceInfo cpu;
  cpu.type = "cpu";
  std::ifstream file("/proc/cpuinfo");
  std::ostringstream text;
  text << file.rdbuf();
  cpu.name = cpuModelName(text.str());
  if (cpu.name.empty()) cpu.name = "CPU";
  cpu.cores = static_cast<int>(std::thread::hardware_concurrency());
  const long pages = ::sysconf(_SC_PHYS_PAGES);
  const long pageSize = ::sysconf(_SC_PAGE_SIZE);
  if (pages > 0 && pageSize > 0)
    cpu.memoryBytes = static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(pageSize);
  return cpu;
}

std::vector<DeviceInfo> listDevices(const HostProbe& probe) {
  if (probe.facts.cudaDevices > 0) return cudaDevices(probe.facts.cudaDevices);
  return {cpuDevice()};
}

nlohmann::ordered_json devicesJson(const HostProbe& probe, const std::vector<DeviceInfo>& devices) {
  using Json = nlohmann::ordered_json;
  Json list = Json::array();
  bool cuda = false;
  for (const DeviceInfo& device : devices) {
    Json entry = {{"type", device.type}, {"index", device.index}, {"name", device.name}};
    if (device.type == "cuda") {
      cuda = true;
      entry["memory_bytes"] = device.memoryBytes;
      entry["capability"] = device.capability;
    } else {
      entry["cores"] = device.cores;
      entry["memory_bytes"] = device.memoryBytes;
    }
    list.push_back(std::move(entry));
  }
  return Json{{"cuda", cuda},
              {"torch_version", probe.torchVersion},
              {"nccl", probe.ncclAvailable},
              {"gloo", probe.glooAvailable},
              {"devices", std::move(list)}};
}

void printDevices(std::ostream& out, const HostProbe& probe,
                  const std::vector<DeviceInfo>& devices) {
  bool cuda = false;
  for (const DeviceInfo& device : devices)
    cuda = cuda || device.type == "cuda";
  out << "LibTorch " << probe.torchVersion << ", Gloo: " << (probe.glooAvailable ? "yes" : "no")
      << ", NCCL: " << (probe.ncclAvailable ? "yes" : "no") << "\n";
  if (!cuda) out << "no CUDA device: training runs on the CPU\n";
  for (const DeviceInfo& device : devices) {
    out << device.type << " " << device.index << ": " << device.name;
    if (device.type == "cuda") {
      out << ", " << gibibytes(device.memoryBytes) << ", compute capability " << device.capability;
    } else {
      out << ", " << device.cores << " logical cores, " << gibibytes(device.memoryBytes);
    }
    out << "\n";
  }
}

int listDevicesCommand(std::ostream& out, std::ostream& err, const HostProbe& probe, bool json) {
  try {
    const std::vector<DeviceInfo> devices = listDevices(probe);
    if (json)
      out << devicesJson(probe, devices).dump(2) << "\n";
    else
      printDevices(out, probe, devices);
    return kExitOk;
  } catch (const std::exception& e) {  // CUDA could not be initialised to read the properties
    err << "error: devices: " << e.what() << "\n";
    return kExitInvalid;
  }
}

}  // namespace syncbn::engine
