// `syncbn-engine devices`: the JSON and text forms of a device list, the CPU model name read from
// /proc/cpuinfo's text, and this machine's CPU entry against what the OS reports.
#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "engine/devices.h"

namespace syncbn::engine {
namespace {

HostProbe cpuOnlyProbe() {
  HostProbe probe;
  probe.facts.cudaDevices = 0;
  probe.torchVersion = "1.13.1";
  probe.glooAvailable = true;
  probe.ncclAvailable = false;
  return probe;
}

DeviceInfo cpu(std::string name, int cores, std::uint64_t memory) {
  DeviceInfo device;
  device.type = "cpu";
  device.name = std::move(name);
  device.cores = cores;
  device.memoryBytes = memory;
  return device;
}

DeviceInfo h100(int index) {
  DeviceInfo device;
  device.type = "cuda";
  device.index = index;
  device.name = "NVIDIA H100 80GB HBM3";
  device.memoryBytes = 85'520'809'984;
  device.capability = "9.0";
  return device;
}

TEST(DevicesJson, CpuFallbackHasEveryFieldWithItsType) {
  const std::uint64_t memory = 8'589'934'592 + 12345;  // beyond 32 bits
  const nlohmann::ordered_json json =
      devicesJson(cpuOnlyProbe(), {cpu("AMD EPYC 7B13 64-Core Processor", 2, memory)});
  const auto expected = nlohmann::ordered_json::parse(R"({
    "cuda": false, "torch_version": "1.13.1", "nccl": false, "gloo": true,
    "devices": [{"type": "cpu", "index": 0, "name": "AMD EPYC 7B13 64-Core Processor",
                 "cores": 2, "memory_bytes": 8589946937}]})");
  EXPECT_EQ(json, expected) << json.dump(2);
  // Integers stay integers (not 2.0) and booleans booleans, as a reader checking types needs.
  EXPECT_TRUE(json["cuda"].is_boolean());
  EXPECT_TRUE(json["devices"][0]["cores"].is_number_integer());
  EXPECT_TRUE(json["devices"][0]["memory_bytes"].is_number_unsigned());
  EXPECT_EQ(json["devices"][0]["memory_bytes"].get<std::uint64_t>(), memory);
  // Keys in the documented order.
  std::vector<std::string> keys;
  for (const auto& [key, value] : json.items())
    keys.push_back(key);
  EXPECT_EQ(keys, (std::vector<std::string>{"cuda", "torch_version", "nccl", "gloo", "devices"}));
}

TEST(DevicesJson, CudaDevices) {
  HostProbe probe = cpuOnlyProbe();
  probe.facts.cudaDevices = 2;
  probe.torchVersion = "2.11.0";
  probe.ncclAvailable = true;
  const nlohmann::ordered_json json = devicesJson(probe, {h100(0), h100(1)});
  EXPECT_EQ(json["cuda"], true);
  EXPECT_EQ(json["nccl"], true);
  ASSERT_EQ(json["devices"].size(), 2u);
  EXPECT_EQ(json["devices"][1], nlohmann::ordered_json::parse(R"(
    {"type": "cuda", "index": 1, "name": "NVIDIA H100 80GB HBM3", "memory_bytes": 85520809984,
     "capability": "9.0"})"));
}

TEST(DevicesText, OneLinePerDevice) {
  std::ostringstream cpuText;
  printDevices(cpuText, cpuOnlyProbe(), {cpu("Some CPU", 4, 3ull << 30)});
  EXPECT_EQ(cpuText.str(),
            "LibTorch 1.13.1, Gloo: yes, NCCL: no\n"
            "no CUDA device: training runs on the CPU\n"
            "cpu 0: Some CPU, 4 logical cores, 3.0 GiB\n");

  std::ostringstream cudaText;
  printDevices(cudaText, cpuOnlyProbe(), {h100(0)});
  // 85520809984 bytes / 2^30 = 79.647... GiB
  EXPECT_EQ(cudaText.str(),
            "LibTorch 1.13.1, Gloo: yes, NCCL: no\n"
            "cuda 0: NVIDIA H100 80GB HBM3, 79.6 GiB, compute capability 9.0\n");
}

TEST(CpuModelName, ReadsTheFirstModelName) {
  EXPECT_EQ(cpuModelName("processor\t: 0\n"
                         "vendor_id\t: GenuineIntel\n"
                         "model\t\t: 85\n"
                         "model name\t: Intel(R) Xeon(R) CPU @ 2.20GHz\n"
                         "\n"
                         "processor\t: 1\n"
                         "model name\t: Other\n"),
            "Intel(R) Xeon(R) CPU @ 2.20GHz");
}

TEST(CpuModelName, FallsBackToOtherArchitecturesKeys) {
  // Older ARM kernels: "Processor" (capital P; "processor" is the index), "model name" preferred.
  EXPECT_EQ(cpuModelName("processor : 0\nProcessor : AArch64 Processor rev 4 (aarch64)\n"),
            "AArch64 Processor rev 4 (aarch64)");
  EXPECT_EQ(cpuModelName("Processor : ARMv7\nprocessor : 0\nmodel name : ARMv7 Processor rev 3\n"),
            "ARMv7 Processor rev 3");
  EXPECT_EQ(cpuModelName("processor\t: 0\ncpu\t\t: POWER9 (raw), altivec supported\n"),
            "POWER9 (raw), altivec supported");
  EXPECT_EQ(cpuModelName("processor : 0\nBogoMIPS : 50.00\nCPU part : 0xd0c\n"), "");
  EXPECT_EQ(cpuModelName("model name :\nmodel name : second\n"), "second");
  EXPECT_EQ(cpuModelName(""), "");
}

TEST(CpuDevice, MatchesWhatTheSystemReports) {
  const DeviceInfo device = cpuDevice();
  EXPECT_EQ(device.type, "cpu");
  EXPECT_EQ(device.index, 0);
  EXPECT_FALSE(device.name.empty());
  EXPECT_EQ(device.cores, static_cast<int>(std::thread::hardware_concurrency()));
  EXPECT_EQ(device.memoryBytes, static_cast<std::uint64_t>(::sysconf(_SC_PHYS_PAGES)) *
                                    static_cast<std::uint64_t>(::sysconf(_SC_PAGE_SIZE)));
  EXPECT_TRUE(device.capability.empty());
}

TEST(ListDevices, WithoutCudaListsTheCpu) {
  const std::vector<DeviceInfo> devices = listDevices(cpuOnlyProbe());
  ASSERT_EQ(devices.size(), 1u);
  EXPECT_EQ(devices[0].type, "cpu");
}

TEST(ListDevicesCommand, JsonParsesAndMatchesTheProbe) {
  std::ostringstream out, err;
  EXPECT_EQ(listDevicesCommand(out, err, cpuOnlyProbe(), true), 0) << err.str();
  const auto json = nlohmann::json::parse(out.str());
  EXPECT_EQ(json["torch_version"], "1.13.1");
  EXPECT_EQ(json["devices"][0]["type"], "cpu");
  EXPECT_TRUE(err.str().empty());
}

}  // namespace
}  // namespace syncbn::engine
