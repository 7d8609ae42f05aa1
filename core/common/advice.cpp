#include "common/advice.h"

#include <string>

#include "common/engine_text.h"

namespace syncbn {
namespace {

bool isLoopback(const std::string& address) {
  return address == "localhost" || address == "::1" || address.rfind("127.", 0) == 0;
}

}  // namespace

Diagnostics advise(const Config& config, const HostFacts& host) {
  Diagnostics out;
  // Each rule's words are a template (common/engine_text.cpp), so the studio can translate them.
  const auto say = [&](Severity severity, std::string field, const std::string& rule,
                       std::map<std::string, std::string> values = {},
                       std::vector<Text> parts = {}) {
    Text text("advice." + rule, std::move(values), std::move(parts));
    std::string message = render(text);
    out.push_back({severity, std::move(field), std::move(message), rule, {}, 0, std::move(text)});
  };
  const Topology t = resolveTopology(config, host);
  const auto& dist = config.distributed;

  if (dist.norm == NormKind::BatchNorm && t.worldSize >= 2 && t.perRankBatch > 0 &&
      t.perRankBatch <= kNoisyBnBatch) {
    std::vector<Text> parts;
    if (t.perRankBatch <= 2)
      parts.push_back(clause("groupnorm", {"advice.small-batch-bn.groupnorm"}));
    say(Severity::Warning, "distributed.norm", "small-batch-bn",
        {{"world", std::to_string(t.worldSize)},
         {"per_rank", std::to_string(t.perRankBatch)},
         {"total", std::to_string(t.perRankBatch * t.worldSize)}},
        std::move(parts));
  }

  if (dist.norm == NormKind::SyncBatchNorm && t.worldSize == 1)
    say(Severity::Info, "distributed.norm", "syncbn-single-rank");

  if ((dist.norm == NormKind::BatchNorm || dist.norm == NormKind::SyncBatchNorm) &&
      t.accumulate > 1 && t.bnBatch > 0 && t.bnBatch <= kSmallBnBatch)
    say(Severity::Info, "train.nbs", "accumulation-bn-batch",
        {{"nbs", std::to_string(config.train.nbs)},
         {"accumulate", std::to_string(t.accumulate)},
         {"bn_batch", std::to_string(t.bnBatch)}});

  if (config.train.amp && !t.cuda) say(Severity::Info, "train.amp", "amp-on-cpu");

  if (dist.backend == Backend::Nccl && !t.cuda)
    say(Severity::Error, "distributed.backend", "nccl-without-cuda");

  if (dist.nnodes > 1 && isLoopback(dist.master_addr))
    say(Severity::Warning, "distributed.master_addr", "multi-node-loopback",
        {{"nnodes", std::to_string(dist.nnodes)}, {"address", dist.master_addr}});

  if (config.train.freeze > 0 && !isWeightsFile(config.model.model))
    say(Severity::Warning, "train.freeze", "freeze-from-scratch",
        {{"layers", std::to_string(config.train.freeze)}});

  if (dist.precise_bn > 0 &&
      (dist.norm == NormKind::GroupNorm || dist.norm == NormKind::FrozenBatchNorm))
    say(Severity::Info, "distributed.precise_bn", "precise-bn-without-bn",
        {{"norm", std::string(toString(dist.norm))}});
  return out;
}

}  // namespace syncbn
