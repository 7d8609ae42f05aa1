#include "dist/aten_cpu_capability.h"

#include <cstdlib>

namespace syncbn::dist {

bool cpuRunsAtenAvx512() {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  // libgcc's feature bits also check, through XGETBV, that the operating system saves the AVX-512
  // registers, so a CPU whose kernel has AVX-512 turned off answers no.
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
         __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
         __builtin_cpu_supports("fma");
#else
  return false;
#endif
}

std::string chooseAtenCpuCapability() {
  if (const char* chosen = std::getenv(kAtenCpuCapabilityVariable)) return chosen;
  if (!cpuRunsAtenAvx512()) return {};
  ::setenv(kAtenCpuCapabilityVariable, "avx512", 1);
  return "avx512";
}

}  // namespace syncbn::dist
