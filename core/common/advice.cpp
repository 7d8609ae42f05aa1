#include "common/advice.h"

#include <string>

namespace syncbn {
namespace {

bool isLoopback(const std::string& address) {
  return address == "localhost" || address == "::1" || address.rfind("127.", 0) == 0;
}

}  // namespace

Diagnostics advise(const Config& config, const HostFacts& host) {
  Diagnostics out;
  const auto say = [&](Severity severity, std::string field, std::string rule,
                       std::string message) {
    out.push_back({severity, std::move(field), std::move(message), std::move(rule), {}, 0});
  };
  const Topology t = resolveTopology(config, host);
  const auto& dist = config.distributed;
  const std::string b = std::to_string(t.perRankBatch);
  const std::string w = std::to_string(t.worldSize);

  if (dist.norm == NormKind::BatchNorm && t.worldSize >= 2 && t.perRankBatch > 0 &&
      t.perRankBatch <= kNoisyBnBatch) {
    std::string message = "each of the " + w + " ranks normalises over only " + b +
                          " image(s): BatchNorm statistics from so few images are noise, so the "
                          "loss oscillates and the ranks' statistics drift apart. Use norm=syncbn "
                          "to compute them over all " +
                          std::to_string(t.perRankBatch * t.worldSize) + " images";
    if (t.perRankBatch <= 2)
      message += ", or norm=groupnorm, which does not depend on the batch at all";
    say(Severity::Warning, "distributed.norm", "small-batch-bn", message);
  }

  if (dist.norm == NormKind::SyncBatchNorm && t.worldSize == 1)
    say(Severity::Info, "distributed.norm", "syncbn-single-rank",
        "with a single rank SyncBN has nothing to synchronise: it behaves as plain BN and only "
        "adds cost; use norm=bn, or train on more ranks");

  if ((dist.norm == NormKind::BatchNorm || dist.norm == NormKind::SyncBatchNorm) &&
      t.accumulate > 1 && t.bnBatch > 0 && t.bnBatch <= kSmallBnBatch)
    say(Severity::Info, "train.nbs", "accumulation-bn-batch",
        "nbs=" + std::to_string(config.train.nbs) + " accumulates gradients over " +
            std::to_string(t.accumulate) +
            " iterations, which enlarges the optimizer's batch but not BatchNorm's: its "
            "statistics still come from " +
            std::to_string(t.bnBatch) + " image(s)");

  if (config.train.amp && !t.cuda)
    say(Severity::Info, "train.amp", "amp-on-cpu",
        "mixed precision needs CUDA; on the CPU it is ignored and training runs in float32");

  if (dist.backend == Backend::Nccl && !t.cuda)
    say(Severity::Error, "distributed.backend", "nccl-without-cuda",
        "NCCL only moves CUDA tensors and this run has no CUDA device; use backend=gloo or auto");

  if (dist.nnodes > 1 && isLoopback(dist.master_addr))
    say(Severity::Warning, "distributed.master_addr", "multi-node-loopback",
        "with nnodes=" + std::to_string(dist.nnodes) + " the other machines cannot reach " +
            dist.master_addr + "; give node 0's network address");

  if (dist.precise_bn > 0 &&
      (dist.norm == NormKind::GroupNorm || dist.norm == NormKind::FrozenBatchNorm))
    say(Severity::Info, "distributed.precise_bn", "precise-bn-without-bn",
        "PreciseBN recalibrates BatchNorm running statistics; with norm=" +
            std::string(toString(dist.norm)) + " there are none to recalibrate");
  return out;
}

}  // namespace syncbn
