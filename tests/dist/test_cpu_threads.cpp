// The threads a rank's CPU kernels use: LibTorch's intra-op pool and OpenBLAS's own, read back
// from each library's getter.
#include <ATen/Parallel.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

#include "dist/cpu_threads.h"

namespace syncbn::dist {
namespace {

TEST(CpuThreads, EachRankGetsAnEqualShareOfTheCoresAndAtLeastOne) {
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  EXPECT_EQ(cpuThreadsPerRank(1), cores);
  EXPECT_EQ(cpuThreadsPerRank(0), cores);
  EXPECT_EQ(cpuThreadsPerRank(cores), 1);
  EXPECT_EQ(cpuThreadsPerRank(2 * cores), 1);
  EXPECT_EQ(cpuThreadsPerRank(2), std::max(1, cores / 2));
}

// A core counts as another program's when it keeps at least kTakenCoreShare of one busy.
TEST(CpuThreads, CoresOtherProgramsKeepBusyAreLeftToThem) {
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  EXPECT_EQ(cpuThreadsPerRank(1, 0.0), cores);
  EXPECT_EQ(cpuThreadsPerRank(1, 0.74), cores) << "a light neighbour leaves room for a thread";
  EXPECT_EQ(cpuThreadsPerRank(1, 0.75), std::max(1, cores - 1));
  EXPECT_EQ(cpuThreadsPerRank(1, 1.0), std::max(1, cores - 1)) << "a busy loop takes a core";
  EXPECT_EQ(cpuThreadsPerRank(1, 1.74), std::max(1, cores - 1));
  EXPECT_EQ(cpuThreadsPerRank(1, 1.8), std::max(1, cores - 2));
  EXPECT_EQ(cpuThreadsPerRank(2, 1.0), std::max(1, (cores - 1) / 2));
  EXPECT_EQ(cpuThreadsPerRank(1, cores + 3.0), 1) << "never fewer than one";
  EXPECT_EQ(cpuThreadsPerRank(1, -1.0), cores) << "a bad sample takes nothing";
}

TEST(CpuThreads, SetsLibTorchsAndOpenBlassThreadsTogether) {
  useCpuThreads(1);
  EXPECT_EQ(at::get_num_threads(), 1);
  const int blas = openBlasThreads();
  if (blas == 0) GTEST_SKIP() << "this LibTorch's BLAS is not OpenBLAS";
  EXPECT_EQ(blas, 1);

  useCpuThreads(2);
  EXPECT_EQ(at::get_num_threads(), 2);
  EXPECT_EQ(openBlasThreads(), 2);

  useCpuThreads(0);  // never fewer than one thread
  EXPECT_EQ(at::get_num_threads(), 1);
  EXPECT_EQ(openBlasThreads(), 1);
}

}  // namespace
}  // namespace syncbn::dist
