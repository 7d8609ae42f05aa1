#include "common/engine_text.h"

#include <utility>

namespace syncbn {
namespace {

// The English templates. A translator keeps every {placeholder}; the clauses (" Fix: ...",
// "{validation}") carry their own leading space, so a language without spaces between sentences
// drops it in the clause's translation. SYNCBN_ENGINE_TEXT is written out at each entry because
// lupdate reads the source as written and does not expand macros.
constexpr std::pair<std::string_view, std::string_view> kEnglish[] = {
    // Configuration advice (common/advice.cpp), by rule.
    {"advice.small-batch-bn",
     SYNCBN_ENGINE_TEXT(
         "EngineText",
         "each of the {world} ranks normalises over only {per_rank} image(s): BatchNorm statistics "
         "from so few images are noise, so the loss oscillates and the ranks' statistics drift "
         "apart. Use norm=syncbn to compute them over all {total} images{groupnorm}")},
    {"advice.small-batch-bn.groupnorm",
     SYNCBN_ENGINE_TEXT("EngineText",
                        ", or norm=groupnorm, which does not depend on the batch at all")},
    {"advice.syncbn-single-rank",
     SYNCBN_ENGINE_TEXT(
         "EngineText",
         "with a single rank SyncBN has nothing to synchronise: it behaves as plain BN and only "
         "adds cost; use norm=bn, or train on more ranks")},
    {"advice.accumulation-bn-batch",
     SYNCBN_ENGINE_TEXT(
         "EngineText",
         "nbs={nbs} accumulates gradients over {accumulate} iterations, which enlarges the "
         "optimizer's batch but not BatchNorm's: its statistics still come from {bn_batch} "
         "image(s)")},
    {"advice.amp-on-cpu",
     SYNCBN_ENGINE_TEXT(
         "EngineText",
         "mixed precision needs CUDA; on the CPU it is ignored and training runs in float32")},
    {"advice.nccl-without-cuda",
     SYNCBN_ENGINE_TEXT(
         "EngineText",
         "NCCL only moves CUDA tensors and this run has no CUDA device; use backend=gloo or auto")},
    {"advice.multi-node-loopback",
     SYNCBN_ENGINE_TEXT(
         "EngineText",
         "with nnodes={nnodes} the other machines cannot reach {address}; give node 0's network "
         "address")},
    {"advice.freeze-from-scratch",
     SYNCBN_ENGINE_TEXT(
         "EngineText",
         "freeze={layers} keeps the first {layers} layers at their random initialisation: "
         "freezing is for fine-tuning. Start from weights (model=yolov8n.pt, or a run's best.pt), "
         "or set freeze=0")},
    {"advice.precise-bn-without-bn",
     SYNCBN_ENGINE_TEXT(
         "EngineText",
         "PreciseBN recalibrates BatchNorm running statistics; with norm={norm} there are none to "
         "recalibrate")},

    // The BatchNorm diagnosis (common/bn_diagnosis.cpp), by rule, and its clauses.
    {"diagnosis.bn-problem",
     SYNCBN_ENGINE_TEXT("EngineText",
                        "Each of {world|rank|ranks} normalises over {per_rank|image|images}. "
                        "{evidence}.{validation}{oscillation}{fix}")},
    {"diagnosis.evidence.noise",
     SYNCBN_ENGINE_TEXT(
         "EngineText",
         "The statistics training normalises with are {noise} running-std away from the ones "
         "inference uses (median over layers; worst: {layer}, {noise_max})")},
    {"diagnosis.evidence.noise-disagreement",
     SYNCBN_ENGINE_TEXT(
         "EngineText",
         "The statistics training normalises with are {noise} running-std away from the ones "
         "inference uses (median over layers; worst: {layer}, {noise_max}), and the ranks disagree "
         "by {disagreement} ({disagreement_max} in the worst layer)")},
    {"diagnosis.evidence.disagreement-noise",
     SYNCBN_ENGINE_TEXT(
         "EngineText",
         "The ranks disagree by {disagreement} ({disagreement_max} in the worst layer), and the "
         "statistics training normalises with are {noise} running-std away from the ones inference "
         "uses (median over layers; worst: {layer}, {noise_max})")},
    {"diagnosis.oscillation",
     SYNCBN_ENGINE_TEXT("EngineText", " The loss oscillates (index {index}).")},
    {"diagnosis.fix.syncbn",
     SYNCBN_ENGINE_TEXT("EngineText",
                        " Fix: SyncBN, which normalises over all {total|image|images}.")},
    {"diagnosis.fix.groupnorm",
     SYNCBN_ENGINE_TEXT("EngineText",
                        " Fix: GroupNorm, which does not depend on the batch, or a larger batch.")},
    {"diagnosis.validation.at",
     SYNCBN_ENGINE_TEXT("EngineText", " Validation is at mAP50 {map50} after epoch {epoch}.")},
    {"diagnosis.validation.drop",
     SYNCBN_ENGINE_TEXT(
         "EngineText", " Validation jumps: mAP50 fell from {before} to {after} at epoch {epoch}.")},
    {"diagnosis.bn-rank-drift",
     SYNCBN_ENGINE_TEXT(
         "EngineText",
         "The ranks normalise apart in some layers: {disagreement_max} global-std in the worst "
         "layer ({disagreement} at the median), with {per_rank|image|images} per rank. The "
         "statistics are {noise} running-std from the running ones.{validation} SyncBN would make "
         "every rank normalise over all {total|image|images}.")},
    {"diagnosis.syncbn-noise",
     SYNCBN_ENGINE_TEXT(
         "EngineText",
         "Even synchronized over all {total|image|images}, the statistics training normalises "
         "with are {noise} running-std away from the ones inference uses (worst: {layer})."
         "{validation} Fix: GroupNorm, or PreciseBN to recompute the running statistics at the "
         "end.")},
    {"diagnosis.loss-oscillation",
     SYNCBN_ENGINE_TEXT(
         "EngineText",
         "The loss oscillates (index {index}, threshold {threshold}), but BatchNorm is not the "
         "cause: {cause}. Likely the learning rate (lr0 {lr0}) or the data; try a lower lr0 or a "
         "longer warmup.{few}")},
    {"diagnosis.cause.bn-sound",
     SYNCBN_ENGINE_TEXT(
         "EngineText",
         "the statistics training normalises with are within {noise} running-std of the running "
         "ones")},
    {"diagnosis.cause.bn-sound-ranks-agree",
     SYNCBN_ENGINE_TEXT(
         "EngineText",
         "the statistics training normalises with are within {noise} running-std of the running "
         "ones and the ranks agree to {disagreement}")},
    {"diagnosis.cause.no-batch-statistics",
     SYNCBN_ENGINE_TEXT("EngineText", "this run's norm ({norm}) uses no batch statistics")},
    {"diagnosis.cause.no-bn-statistics",
     SYNCBN_ENGINE_TEXT("EngineText", "no BatchNorm statistics were recorded")},
    {"diagnosis.few-images",
     SYNCBN_ENGINE_TEXT(
         "EngineText",
         " With only {images|image|images} per step, each step's loss also varies with its "
         "images; a larger batch (or nbs accumulation) steadies it.")},
    {"diagnosis.validation-drop",
     SYNCBN_ENGINE_TEXT("EngineText",
                        "Validation jumps: mAP50 fell from {before} to {after} at epoch {epoch}.")},
    {"diagnosis.advice", SYNCBN_ENGINE_TEXT("EngineText", "Configuration advice [{rule}]{advice}")},
    {"diagnosis.advice.text", SYNCBN_ENGINE_TEXT("EngineText", ": {text}")},
    {"diagnosis.not-enough-data",
     SYNCBN_ENGINE_TEXT("EngineText", "Not enough data yet for a verdict.")},
    {"diagnosis.healthy",
     SYNCBN_ENGINE_TEXT(
         "EngineText",
         "Healthy: BatchNorm normalises over {batch}{statistics}{steady}.{validation}")},
    {"diagnosis.batch.syncbn",
     SYNCBN_ENGINE_TEXT("EngineText", "all {images|image|images} (SyncBN)")},
    {"diagnosis.batch.per-rank",
     SYNCBN_ENGINE_TEXT("EngineText", "{images|image|images} per rank")},
    {"diagnosis.batch.one-rank", SYNCBN_ENGINE_TEXT("EngineText", "{images|image|images}")},
    {"diagnosis.statistics",
     SYNCBN_ENGINE_TEXT("EngineText", ", {noise} running-std from the running statistics")},
    {"diagnosis.statistics.ranks-agree",
     SYNCBN_ENGINE_TEXT("EngineText",
                        ", {noise} running-std from the running statistics, and the ranks agree to "
                        "{disagreement}")},
    {"diagnosis.steady", SYNCBN_ENGINE_TEXT("EngineText", "; the loss is steady (index {index})")},
};

const Text* partFor(const Text& text, std::string_view slot) {
  for (const Text& part : text.parts)
    if (part.slot == slot) return &part;
  return nullptr;
}

// "{count|one|other}": the count and its noun.
std::string countAndNoun(const std::string& count, std::string_view forms) {
  const std::size_t bar = forms.find('|');
  const std::string_view one = forms.substr(0, bar);
  const std::string_view other = bar == std::string_view::npos ? one : forms.substr(bar + 1);
  return count + " " + std::string(count == "1" ? one : other);
}

}  // namespace

Text clause(std::string slot, Text text) {
  text.slot = std::move(slot);
  return text;
}

std::string_view englishTemplate(std::string_view id) {
  for (const auto& [key, english] : kEnglish)
    if (key == id) return english;
  return {};
}

std::vector<std::string_view> templateIds() {
  std::vector<std::string_view> ids;
  for (const auto& entry : kEnglish)
    ids.push_back(entry.first);
  return ids;
}

std::string render(const Text& text, const Catalogue& catalogue) {
  if (text.empty()) return {};
  std::string pattern = catalogue ? catalogue(text.id) : std::string();
  if (pattern.empty()) pattern = std::string(englishTemplate(text.id));
  if (pattern.empty()) return text.id;  // no template: at least say which text it was

  std::string out;
  std::size_t at = 0;
  while (at < pattern.size()) {
    const std::size_t open = pattern.find('{', at);
    const std::size_t close = open == std::string::npos ? open : pattern.find('}', open);
    if (close == std::string::npos) {
      out.append(pattern, at, std::string::npos);
      break;
    }
    out.append(pattern, at, open - at);
    const std::string_view inside(pattern.data() + open + 1, close - open - 1);
    const std::size_t bar = inside.find('|');
    const std::string name(inside.substr(0, bar));
    if (const auto value = text.values.find(name); value != text.values.end()) {
      out += bar == std::string_view::npos ? value->second
                                           : countAndNoun(value->second, inside.substr(bar + 1));
    } else if (const Text* part = partFor(text, name)) {
      out += render(*part, catalogue);
    }  // else an absent clause: nothing
    at = close + 1;
  }
  return out;
}

}  // namespace syncbn
