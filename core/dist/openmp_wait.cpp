#include "dist/openmp_wait.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <numeric>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace syncbn::dist {
namespace {

// The "cpu" line of /proc/stat: busy and total jiffies over all cores since boot.
bool readCpuTimes(long long& busy, long long& total) {
  std::ifstream stat("/proc/stat");
  std::string line;
  if (!std::getline(stat, line) || line.rfind("cpu ", 0) != 0) return false;
  std::istringstream fields(line.substr(4));
  std::vector<long long> values;
  for (long long v; fields >> v;)
    values.push_back(v);
  if (values.size() < 4) return false;
  total = std::accumulate(values.begin(), values.end(), 0LL);
  const long long idle = values[3] + (values.size() > 4 ? values[4] : 0);  // idle + iowait
  busy = total - idle;
  return true;
}

}  // namespace

bool shouldWaitPassively(bool withStudio, double othersBusyCores) {
  return withStudio || othersBusyCores >= kSharedCpuCores;
}

double busyCoresNow(int sampleMs) {
  long long busy0 = 0, total0 = 0, busy1 = 0, total1 = 0;
  if (!readCpuTimes(busy0, total0)) return 0;
  std::this_thread::sleep_for(std::chrono::milliseconds(sampleMs));
  if (!readCpuTimes(busy1, total1) || total1 <= total0) return 0;
  const long cores = std::max(1L, ::sysconf(_SC_NPROCESSORS_ONLN));
  // Over the sample this process slept, so the busy share is the others'.
  return static_cast<double>(busy1 - busy0) / static_cast<double>(total1 - total0) *
         static_cast<double>(cores);
}

double othersBusyCoresAtStart() {
  if (const char* recorded = std::getenv(kOthersBusyVariable)) {
    char* end = nullptr;
    const double cores = std::strtod(recorded, &end);
    if (end != recorded && *end == '\0' && cores >= 0) return cores;
  }
  const char* localWorld = std::getenv("LOCAL_WORLD_SIZE");
  if (localWorld != nullptr && std::atoi(localWorld) > 1) return 0;
  const double cores = busyCoresNow();
  char text[32];
  std::snprintf(text, sizeof text, "%.2f", cores);
  ::setenv(kOthersBusyVariable, text, 1);
  return cores;
}

void chooseOpenMpWaiting(char** argv, bool withStudio) {
  // Sampled even when the policy is given: the thread count uses it too (cpu_threads.h).
  const double othersBusy = othersBusyCoresAtStart();
  if (std::getenv(kOpenMpWaitPolicyVariable) || std::getenv(kOpenMpWaitChoiceVariable)) return;
  const bool passive = shouldWaitPassively(withStudio, othersBusy);
  // Recorded before the exec: the new image and the ranks it launches see the choice made, so
  // neither a failed exec nor a rank can choose again.
  ::setenv(kOpenMpWaitChoiceVariable, passive ? "passive" : "default", 1);
  if (!passive) return;
  if (::setenv(kOpenMpWaitPolicyVariable, "PASSIVE", 1) != 0) return;
  ::execv("/proc/self/exe", argv);
  std::fprintf(stderr,
               "warning: cannot restart with OMP_WAIT_POLICY=PASSIVE (%s); OpenMP threads keep "
               "spinning, which is slow while other programs share the cores\n",
               std::strerror(errno));
}

}  // namespace syncbn::dist
