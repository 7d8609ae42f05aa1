#include "dist/cpu_threads.h"

#include <ATen/Parallel.h>
#include <dlfcn.h>

#include <algorithm>
#include <cmath>
#include <thread>

namespace syncbn::dist {
namespace {

// OpenBLAS is looked up at run time, not linked: LibTorch chose the BLAS when it was built
// (OpenBLAS in Debian's, MKL in the CUDA wheels, whose threads at::set_num_threads already sets),
// and the project must build against either.
template <typename Function>
Function* openBlasFunction(const char* name) {
  return reinterpret_cast<Function*>(dlsym(RTLD_DEFAULT, name));
}

}  // namespace

int cpuThreadsPerRank(int ranksPerNode, double othersBusyCores) {
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const double taken = std::floor(std::max(0.0, othersBusyCores) + (1 - kTakenCoreShare));
  const int free = cores - static_cast<int>(std::min(taken, static_cast<double>(cores)));
  return std::max(1, free / std::max(1, ranksPerNode));
}

void useCpuThreads(int threads) {
  threads = std::max(1, threads);
  at::set_num_threads(threads);
  if (auto* setThreads = openBlasFunction<void(int)>("openblas_set_num_threads"))
    setThreads(threads);
}

int openBlasThreads() {
  auto* getThreads = openBlasFunction<int()>("openblas_get_num_threads");
  return getThreads ? getThreads() : 0;
}

}  // namespace syncbn::dist
