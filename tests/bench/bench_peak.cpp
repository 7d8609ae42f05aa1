// This CPU's measured peak for the training step's two kinds of work (issue 16, "physical
// limit"): a plain SGEMM through LibTorch's BLAS (OpenBLAS in Debian's build) and a 3x3
// convolution through its CPU convolution path (oneDNN where the build has it), forward only.
//   bench_peak [--threads cores] [--repetitions 5]
// GFLOP/s = 2 x multiply-adds / best time: SGEMM n^3, the convolution
// batch x out x in x 9 x H x W (stride 1, padding 1).
#include <torch/torch.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <thread>

#include "dist/cpu_threads.h"

namespace {

using Clock = std::chrono::steady_clock;

double bestSeconds(const std::function<void()>& work, int repetitions) {
  work();  // warm-up: thread pool, packing buffers, oneDNN primitive creation
  double best = 1e30;
  for (int r = 0; r < repetitions; ++r) {
    const auto start = Clock::now();
    work();
    best = std::min(best, std::chrono::duration<double>(Clock::now() - start).count());
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  int repetitions = 5;
  CLI::App app("SGEMM and 3x3 convolution GFLOP/s");
  app.add_option("--threads", threads, "Intra-op threads (default: the cores)");
  app.add_option("--repetitions", repetitions, "Repetitions (the best is shown)");
  CLI11_PARSE(app, argc, argv);
  syncbn::dist::useCpuThreads(threads);  // OpenBLAS's SGEMM, too
  const torch::NoGradGuard noGrad;
  std::printf("%d intra-op thread(s), best of %d; mkldnn (oneDNN) %s\n\n", torch::get_num_threads(),
              repetitions, at::hasMKLDNN() ? "available" : "not built in");
  std::printf("| kernel | shape | ms | GFLOP/s |\n|---|---|---|---|\n");
  for (const int64_t n : {1024, 2048}) {
    const torch::Tensor a = torch::rand({n, n}), b = torch::rand({n, n});
    const double seconds = bestSeconds([&] { (void)torch::mm(a, b); }, repetitions);
    const double flops =
        2.0 * static_cast<double>(n) * static_cast<double>(n) * static_cast<double>(n);
    std::printf("| SGEMM | %lld x %lld x %lld | %.1f | %.0f |\n", static_cast<long long>(n),
                static_cast<long long>(n), static_cast<long long>(n), seconds * 1e3,
                flops / seconds / 1e9);
  }
  struct Conv {
    int64_t batch, channels, side;
  };
  for (const Conv c : {Conv{16, 128, 40}, Conv{16, 64, 80}, Conv{16, 32, 160}}) {
    const torch::Tensor input = torch::rand({c.batch, c.channels, c.side, c.side});
    const torch::Tensor weight = torch::rand({c.channels, c.channels, 3, 3});
    const double seconds =
        bestSeconds([&] { (void)torch::conv2d(input, weight, {}, 1, 1); }, repetitions);
    const double flops =
        2.0 * static_cast<double>(c.batch * c.channels * c.channels * 9 * c.side * c.side);
    std::printf("| conv 3x3 | batch %lld, %lld -> %lld channels, %lld x %lld | %.1f | %.0f |\n",
                static_cast<long long>(c.batch), static_cast<long long>(c.channels),
                static_cast<long long>(c.channels), static_cast<long long>(c.side),
                static_cast<long long>(c.side), seconds * 1e3, flops / seconds / 1e9);
  }
  return 0;
}
