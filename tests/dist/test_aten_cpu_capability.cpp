// ATen's AVX-512 kernels (dist/aten_cpu_capability.h): chosen where /proc/cpuinfo lists what they
// need, never where it does not, never over the user's own ATEN_CPU_CAPABILITY; and what ATen
// then runs, read back from ATen. Its own binary: ATen reads the variable once per process, at
// the first kernel, so this test must choose before anything else computes.
#include <ATen/Version.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "dist/aten_cpu_capability.h"

namespace syncbn::dist {
namespace {

// The feature flags of the first processor in /proc/cpuinfo: an oracle independent of the
// compiler's CPUID reading.
std::set<std::string> cpuFlags() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::set<std::string> flags;
  for (std::string line; std::getline(cpuinfo, line);) {
    if (line.rfind("flags", 0) != 0) continue;
    std::istringstream words(line.substr(line.find(':') + 1));
    for (std::string word; words >> word;)
      flags.insert(word);
    break;
  }
  return flags;
}

// What ATen says it runs: the "CPU capability usage" line of its build description.
std::string atenCapabilityInUse() {
  std::istringstream lines(at::show_config());
  const std::string key = "CPU capability usage: ";
  for (std::string line; std::getline(lines, line);)
    if (const auto at = line.find(key); at != std::string::npos)
      return line.substr(at + key.size());
  return {};
}

bool cpuinfoHasAvx512ForAten() {
  const std::set<std::string> flags = cpuFlags();
  for (const char* needed : {"avx512f", "avx512vl", "avx512bw", "avx512dq", "fma"})
    if (!flags.count(needed)) return false;
  return true;
}

TEST(AtenCpuCapability, RespectsTheUsersChoice) {
  const char* before = std::getenv(kAtenCpuCapabilityVariable);
  const std::string saved = before ? before : "";
  ::setenv(kAtenCpuCapabilityVariable, "avx2", 1);
  EXPECT_EQ(chooseAtenCpuCapability(), "avx2");
  EXPECT_STREQ(std::getenv(kAtenCpuCapabilityVariable), "avx2");
  if (before)
    ::setenv(kAtenCpuCapabilityVariable, saved.c_str(), 1);
  else
    ::unsetenv(kAtenCpuCapabilityVariable);
}

TEST(AtenCpuCapability, ChoosesAvx512ExactlyWhereTheCpuHasItAndAtenRunsIt) {
  if (std::getenv(kAtenCpuCapabilityVariable))
    GTEST_SKIP() << "ATEN_CPU_CAPABILITY is set in this test's environment";
  EXPECT_EQ(cpuRunsAtenAvx512(), cpuinfoHasAvx512ForAten());
  const std::string chosen = chooseAtenCpuCapability();
  if (cpuinfoHasAvx512ForAten()) {
    EXPECT_EQ(chosen, "avx512");
    EXPECT_EQ(atenCapabilityInUse(), "AVX512");
  } else {
    EXPECT_EQ(chosen, "");
    EXPECT_EQ(std::getenv(kAtenCpuCapabilityVariable), nullptr);
    EXPECT_NE(atenCapabilityInUse(), "AVX512");
  }
}

}  // namespace
}  // namespace syncbn::dist
