#include "engine/verify_syncbn.h"

#include <torch/torch.h>

#include <ostream>

#include "dist/process_group.h"
#include "nn/sync_batch_norm.h"

namespace syncbn::engine {
namespace {

double relativeError(const torch::Tensor& actual, const torch::Tensor& expected) {
  const double scale = std::max(expected.abs().max().item<double>(), 1e-30);
  return (actual.cpu().to(torch::kDouble) - expected.cpu().to(torch::kDouble))
             .abs()
             .max()
             .item<double>() /
         scale;
}

}  // namespace

int verifySyncBnWorker(const VerifySyncBnOptions& options, std::ostream& out) {
  dist::Rendezvous rendezvous = dist::Rendezvous::fromEnvironment();
  rendezvous.timeout = options.timeout;
  const auto group = dist::ProcessGroup::create(dist::Store::tcp(rendezvous), rendezvous.rank,
                                                rendezvous.worldSize, Backend::Auto, options.cuda,
                                                rendezvous.timeout);
  const torch::Device device =
      options.cuda ? torch::Device(torch::kCUDA, rendezvous.localRank) : torch::Device(torch::kCPU);
  const int world = rendezvous.worldSize;
  const int64_t n = options.perRankBatch;
  const int64_t c = options.channels;

  // Every rank builds the same global data and its own oracle: BatchNorm2d on all of it.
  torch::manual_seed(1234);
  torch::nn::BatchNorm2d oracle{torch::nn::BatchNorm2dOptions(c)};
  nn::SyncBatchNorm2d sync(torch::nn::BatchNormOptions(c), group);
  oracle->to(device, torch::kDouble);
  sync->to(device, torch::kDouble);

  double worst = 0;
  for (int step = 0; step < options.steps; ++step) {
    const auto opts = torch::TensorOptions().dtype(torch::kDouble).device(device);
    const torch::Tensor x = torch::randn({n * world, c, 4, 4}, opts) * 3 + 1;
    const torch::Tensor dy = torch::randn({n * world, c, 4, 4}, opts);

    oracle->zero_grad();
    const torch::Tensor xAll = x.clone().requires_grad_(true);
    const torch::Tensor yAll = oracle->forward(xAll);
    (yAll * dy).sum().backward();

    sync->zero_grad();
    const int64_t begin = n * rendezvous.rank;
    const torch::Tensor xMine = x.slice(0, begin, begin + n).clone().requires_grad_(true);
    const torch::Tensor yMine = sync->forward(xMine);
    (yMine * dy.slice(0, begin, begin + n)).sum().backward();

    torch::Tensor weightGrad = sync->weight.grad().clone();
    group->allReduceSum(weightGrad);  // each rank holds its share
    worst = std::max({worst, relativeError(yMine, yAll.slice(0, begin, begin + n)),
                      relativeError(xMine.grad(), xAll.grad().slice(0, begin, begin + n)),
                      relativeError(weightGrad, oracle->weight.grad())});
  }
  worst = std::max({worst, relativeError(sync->running_mean, oracle->running_mean),
                    relativeError(sync->running_var, oracle->running_var)});

  torch::Tensor worstAll =
      torch::full({1}, worst, torch::TensorOptions().dtype(torch::kDouble).device(device));
  const auto gathered = group->allGather(worstAll);
  constexpr double kTolerance = 1e-10;  // float64
  double worstOfAll = 0;
  for (const auto& w : gathered)
    worstOfAll = std::max(worstOfAll, w.item<double>());
  if (rendezvous.rank == 0) {
    out << "verify-syncbn: " << world << " ranks x " << n << " images, " << c << " channels, "
        << options.steps << " steps on " << (options.cuda ? "CUDA" : "CPU") << " ("
        << toString(group->backend()) << "): max relative error " << worstOfAll << " against "
        << "BatchNorm over the global batch of " << n * world
        << " images: " << (worstOfAll <= kTolerance ? "OK" : "MISMATCH") << std::endl;
  }
  group->barrier();
  return worstOfAll <= kTolerance ? 0 : 1;
}

}  // namespace syncbn::engine
