// Per-layer cost of SyncBatchNorm2d against plain BatchNorm2d, both on W=2 ranks (threads, Gloo,
// CPU), for YOLOv8n's BatchNorm shapes at 640 px, batch 2 per rank, and the communication per layer
// and step against torch.nn.SyncBatchNorm's. Prints a Markdown table (docs/benchmarks.md).
// Usage: bench_syncbn [repetitions]
#include <malloc.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>

#include "dist/process_group.h"
#include "nn/sync_batch_norm.h"

namespace {

using Clock = std::chrono::steady_clock;
using syncbn::dist::ProcessGroup;

struct Shape {
  int64_t channels;
  int64_t size;  // H = W
  int count;     // layers of this shape in yolov8n
};

// YOLOv8n (width 0.25) at 640: every BatchNorm's channels and feature-map size.
const std::vector<Shape> kYolov8nBatchNorms{
    {16, 320, 1}, {32, 160, 3}, {16, 160, 2}, {64, 80, 7}, {32, 80, 6}, {128, 40, 7}, {64, 40, 11},
    {256, 20, 6}, {128, 20, 6}, {80, 80, 2},  {80, 40, 2}, {80, 20, 2}, {64, 20, 2},
};

// Best of N: on this shared 2-core machine the noise (page faults on first touch of freshly
// allocated tensors, the other rank's work) only ever adds time.
double best(const std::vector<double>& v) {
  return *std::min_element(v.begin(), v.end());
}

template <class Layer>
double timeForwardBackward(Layer& layer, const torch::Tensor& x, int reps) {
  std::vector<double> ms;
  for (int i = 0; i < reps + 2; ++i) {
    const torch::Tensor input = x.clone().requires_grad_(true);
    const auto start = Clock::now();
    layer->forward(input).sum().backward();
    const double elapsed = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    if (i >= 2) ms.push_back(elapsed);  // first two warm up allocators and Gloo buffers
  }
  return best(ms);
}

// Runs `rankBody(rank)` on `world` threads at once; returns the slowest rank's milliseconds.
template <class Body>
double slowestRank(int world, Body rankBody) {
  std::vector<double> ms(static_cast<std::size_t>(world));
  std::vector<std::thread> ranks;
  for (int r = 0; r < world; ++r)
    ranks.emplace_back([&, r] {
      // OpenMP's thread count is per calling thread: without this each rank would run as many
      // OpenMP threads as cores, and their spinning starves the other rank while Gloo waits.
      torch::set_num_threads(1);
      ms[r] = rankBody(r);
    });
  for (auto& t : ranks)
    t.join();
  return *std::max_element(ms.begin(), ms.end());
}

}  // namespace

int main(int argc, char** argv) {
  const int reps = argc > 1 ? std::max(1, std::atoi(argv[1])) : 31;
  // Keep freed tensors in the heap: glibc otherwise returns every multi-MB block to the kernel
  // and each iteration pays page faults that a caching allocator (as on CUDA) never would.
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  constexpr int kWorld = 2;
  constexpr int64_t kPerRank = 2;
  torch::set_num_threads(1);  // one core per rank, as one process per rank would have here

  const auto store = syncbn::dist::Store::inProcess();
  std::vector<std::shared_ptr<ProcessGroup>> groups(kWorld);
  {
    std::vector<std::thread> joining;
    for (int r = 0; r < kWorld; ++r)
      joining.emplace_back([&, r] {
        groups[r] = ProcessGroup::create(store, r, kWorld, syncbn::Backend::Gloo, false,
                                         std::chrono::seconds(60));
      });
    for (auto& t : joining)
      t.join();
  }

  std::printf("Best of %d repetitions per layer, 2 ranks x %lld images.\n\n", reps,
              static_cast<long long>(kPerRank));
  std::printf(
      "| C | H=W | layers | BN fwd+bwd ms | SyncBN fwd+bwd ms | overhead | "
      "collectives/step (ours, torch) | bytes sent/step (ours, torch) |\n");
  std::printf("|---|---|---|---|---|---|---|---|\n");
  double totalLocal = 0, totalSync = 0, totalOursBytes = 0, totalTorchBytes = 0;
  int layers = 0;
  for (const auto& shape : kYolov8nBatchNorms) {
    layers += shape.count;
    const torch::Tensor x = torch::randn({kPerRank, shape.channels, shape.size, shape.size});
    // Both variants run as 2 concurrent ranks: the choice users make is norm=bn vs norm=syncbn
    // on the same ranks, which share the machine's cores and memory bandwidth either way.
    const double localMs = slowestRank(kWorld, [&](int) {
      torch::nn::BatchNorm2d local(shape.channels);
      return timeForwardBackward(local, x, reps);
    });
    const double syncTime = slowestRank(kWorld, [&](int r) {
      syncbn::nn::SyncBatchNorm2d sync(torch::nn::BatchNormOptions(shape.channels), groups[r]);
      return timeForwardBackward(sync, x, reps);
    });

    // Ours (up to ProcessGroup::kGatherSumMaxRanks ranks): all-gather of 2C+2 doubles per rank
    // forward and of 2C doubles backward, each rank receiving W of each. torch.nn.SyncBatchNorm:
    // all-gather of (2C+1) float32 per rank forward (W*(2C+1) received), all-reduce of 2C float32
    // backward. Bytes counted as the payload each rank receives.
    const double ours = kWorld * (8.0 * (2 * shape.channels + 2) + 8.0 * 2 * shape.channels);
    const double torchBytes = 4.0 * kWorld * (2 * shape.channels + 1) + 4.0 * 2 * shape.channels;
    std::printf("| %lld | %lld | %d | %.3f | %.3f | %+.0f%% | 2, 2 | %.0f, %.0f |\n",
                static_cast<long long>(shape.channels), static_cast<long long>(shape.size),
                shape.count, localMs, syncTime, 100.0 * (syncTime / localMs - 1), ours, torchBytes);
    totalLocal += localMs * shape.count;
    totalSync += syncTime * shape.count;
    totalOursBytes += ours * shape.count;
    totalTorchBytes += torchBytes * shape.count;
  }
  std::printf("| **all** | | %d | %.2f | %.2f | %+.0f%% | %d, %d | %.0f, %.0f |\n", layers,
              totalLocal, totalSync, 100.0 * (totalSync / totalLocal - 1), 2 * layers, 2 * layers,
              totalOursBytes, totalTorchBytes);
  return 0;
}
