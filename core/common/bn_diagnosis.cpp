#include "common/bn_diagnosis.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "common/advice.h"
#include "common/config_yaml.h"

namespace syncbn::diagnosis {
namespace {

std::string fixed(double value, int digits = 2) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", digits, value);
  return text;
}

double median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

// A finding's words: its template and values (common/engine_text.h), and the English message.
void say(Finding& f, Text text) {
  f.message = render(text);
  f.text = std::move(text);
}

// At or below this many images per step the loss of a step varies visibly with which images it
// holds (the demo's 4-image evidence runs: index 0.10-0.13 in the last epoch, mosaic off).
constexpr int kFewImagesPerStep = 8;

int rank(Severity s) {
  return static_cast<int>(s);
}

}  // namespace

std::string_view toString(Severity severity) {
  switch (severity) {
    case Severity::Info:
      return "info";
    case Severity::Warning:
      return "warning";
    case Severity::Problem:
      return "problem";
  }
  return "?";
}

RunDiagnosis::RunDiagnosis(Thresholds thresholds) : thresholds_(thresholds) {}

void RunDiagnosis::add(const protocol::Message& message) {
  if (const auto* started = std::get_if<protocol::RunStarted>(&message)) {
    run_ = *started;
    adviceRules_.clear();
    adviceText_ = {};
    LoadedConfig loaded = parseConfigYaml(started->config_yaml, "run_started.config_yaml");
    lr0_ = loaded.config.train.lr0;
    HostFacts host;
    if (started->device == "cuda") host.cudaDevices = started->world_size;
    for (const Diagnostic& advice : advise(loaded.config, host)) {
      if (advice.rule.empty() || advice.severity == syncbn::Severity::Info) continue;
      adviceRules_.push_back(advice.rule);
      if (adviceText_.empty()) adviceText_ = advice.text;
    }
  } else if (const auto* step = std::get_if<protocol::Step>(&message)) {
    // A resumed run repeats iterations: the index starts over with them.
    if (step->iteration <= iteration_) {
      oscillation_.reset();
      recentOscillation_.clear();
    }
    iteration_ = step->iteration;
    double total = 0;
    for (const char* term : {"box", "cls", "dfl"}) {
      const auto it = step->losses.find(term);
      total += it == step->losses.end() ? std::nan("") : it->second;
    }
    if (const auto index = oscillation_.add(total)) {
      recentOscillation_.push_back(*index);
      if (static_cast<int>(recentOscillation_.size()) > oscillation_.window())
        recentOscillation_.pop_front();
    }
  } else if (const auto* stats = std::get_if<protocol::BnStats>(&message)) {
    onProbe(*stats);
  } else if (const auto* val = std::get_if<protocol::Val>(&message)) {
    std::erase_if(map50_, [&](const auto& p) { return p.first >= val->epoch; });
    map50_.emplace_back(val->epoch, val->map50);
  }
}

void RunDiagnosis::onProbe(const protocol::BnStats& stats) {
  if (stats.layers.empty() && stats.layers_total == 0) return;  // no BatchNorm layers at all
  Probe probe;
  probe.iteration = stats.iteration;
  probe.rankImages = stats.rank_images;
  if (stats.layers_total > 0) {
    probe.noiseMedian = stats.noise_median;
    probe.noiseMax = stats.noise_max;
    probe.disagreementMedian = stats.disagreement_median;
    probe.disagreementMax = stats.disagreement_max;
    probe.worstLayer = stats.worst_layer;
  } else {  // a version-1/2 record: nothing that follows the normaliser
    return;
  }
  while (!probes_.empty() && probes_.back().iteration >= probe.iteration)
    probes_.pop_back();
  probes_.push_back(std::move(probe));
  while (static_cast<int>(probes_.size()) > thresholds_.probes)
    probes_.pop_front();
}

std::optional<RunDiagnosis::Probe> RunDiagnosis::recent() const {
  if (probes_.empty()) return std::nullopt;
  Probe summary = probes_.back();
  std::vector<double> noise, disagreement, noiseMax, disagreementMax;
  for (const Probe& p : probes_) {
    noise.push_back(p.noiseMedian);
    disagreement.push_back(p.disagreementMedian);
    noiseMax.push_back(p.noiseMax);
    disagreementMax.push_back(p.disagreementMax);
  }
  summary.noiseMedian = median(noise);
  summary.disagreementMedian = median(disagreement);
  summary.noiseMax = median(noiseMax);
  summary.disagreementMax = median(disagreementMax);
  return summary;
}

Verdict RunDiagnosis::verdict() const {
  Verdict v;
  v.iteration = iteration_;
  v.epochs = static_cast<int>(map50_.size());
  const std::optional<Probe> bn = recent();
  v.enoughData = bn.has_value() || !recentOscillation_.empty();
  const int world = run_ ? run_->world_size : 1;
  const int perRank = run_ ? run_->per_rank_batch : 0;
  const std::string norm = run_ ? run_->norm : "";
  const bool batchNorm = norm == "bn";
  const bool syncBn = norm == "syncbn";
  // A bool and a double rather than an optional: GCC 12 warns falsely of its use uninitialized.
  const bool hasOscillation = !recentOscillation_.empty();
  const double oscillationIndex =
      hasOscillation ? median({recentOscillation_.begin(), recentOscillation_.end()}) : 0.0;
  const bool oscillating = hasOscillation && oscillationIndex >= thresholds_.oscillation;

  // Validation: the largest relative fall of mAP50 from one epoch to the next.
  std::optional<std::pair<int, std::pair<double, double>>> drop;
  for (std::size_t i = 1; i < map50_.size(); ++i) {
    const double before = map50_[i - 1].second, after = map50_[i].second;
    if (before >= 0.05 && after < before * (1 - thresholds_.validationDrop) &&
        (!drop || after / before < drop->second.second / drop->second.first))
      drop = {{map50_[i].first, {before, after}}};
  }
  const Text dropText{
      "",
      drop ? std::map<std::string, std::string>{{"before", fixed(drop->second.first, 3)},
                                                {"after", fixed(drop->second.second, 3)},
                                                {"epoch", std::to_string(drop->first + 1)}}
           : std::map<std::string, std::string>{},
      {}};
  Text validationClause;
  if (drop) {
    validationClause = dropText;
    validationClause.id = "diagnosis.validation.drop";
  } else if (!map50_.empty()) {
    const auto& [epoch, map50] = map50_.back();
    validationClause = Text{"diagnosis.validation.at",
                            {{"map50", fixed(map50, 3)}, {"epoch", std::to_string(epoch + 1)}},
                            {}};
  }
  validationClause.slot = "validation";
  const std::string oscillationText = hasOscillation ? fixed(oscillationIndex, 3) : std::string();

  const bool noisy = bn && bn->noiseMedian > thresholds_.noise;
  const bool disagree = bn && (bn->disagreementMedian > thresholds_.disagreement ||
                               bn->disagreementMax > thresholds_.worstDisagreement);
  if (bn && batchNorm && (noisy || disagree)) {
    Finding f;
    f.rule = noisy ? "bn-normaliser-noise" : "bn-rank-disagreement";
    f.severity = Severity::Problem;
    const int total = world * perRank;
    // The figure that fired comes first.
    const char* evidence = world == 1 ? "diagnosis.evidence.noise"
                           : noisy    ? "diagnosis.evidence.noise-disagreement"
                                      : "diagnosis.evidence.disagreement-noise";
    Text text{"diagnosis.bn-problem",
              {{"world", std::to_string(world)}, {"per_rank", std::to_string(perRank)}},
              {clause("evidence", {evidence,
                                   {{"noise", fixed(bn->noiseMedian)},
                                    {"noise_max", fixed(bn->noiseMax)},
                                    {"layer", bn->worstLayer},
                                    {"disagreement", fixed(bn->disagreementMedian)},
                                    {"disagreement_max", fixed(bn->disagreementMax)}},
                                   {}}),
               validationClause}};
    if (oscillating)
      text.parts.push_back(
          clause("oscillation", {"diagnosis.oscillation", {{"index", oscillationText}}, {}}));
    text.parts.push_back(clause(
        "fix", world > 1 ? Text{"diagnosis.fix.syncbn", {{"total", std::to_string(total)}}, {}}
                         : Text{"diagnosis.fix.groupnorm"}));
    say(f, std::move(text));
    f.numbers = {{"noise_median", bn->noiseMedian},
                 {"noise_max", bn->noiseMax},
                 {"disagreement_median", bn->disagreementMedian},
                 {"disagreement_max", bn->disagreementMax},
                 {"per_rank_batch", perRank},
                 {"world_size", world}};
    if (hasOscillation) f.numbers["oscillation"] = oscillationIndex;
    if (!map50_.empty()) f.numbers["map50"] = map50_.back().second;
    f.layers = {bn->worstLayer};
    f.fixes = world > 1 ? std::vector<std::string>{kFixSyncBnResume, kFixPreciseBn, kFixGroupNorm}
                        : std::vector<std::string>{kFixGroupNorm, kFixPreciseBn};
    v.findings.push_back(std::move(f));
  } else if (bn && batchNorm && world > 1 &&
             bn->disagreementMax > thresholds_.worstDisagreementWarning) {
    Finding f;
    f.rule = "bn-rank-drift";
    f.severity = Severity::Warning;
    say(f, {"diagnosis.bn-rank-drift",
            {{"disagreement_max", fixed(bn->disagreementMax)},
             {"disagreement", fixed(bn->disagreementMedian)},
             {"per_rank", std::to_string(perRank)},
             {"noise", fixed(bn->noiseMedian)},
             {"total", std::to_string(world * perRank)}},
            {validationClause}});
    f.numbers = {{"noise_median", bn->noiseMedian},
                 {"disagreement_median", bn->disagreementMedian},
                 {"disagreement_max", bn->disagreementMax},
                 {"per_rank_batch", perRank},
                 {"world_size", world}};
    if (hasOscillation) f.numbers["oscillation"] = oscillationIndex;
    f.layers = {bn->worstLayer};
    f.fixes = {kFixSyncBnResume, kFixPreciseBn};
    v.findings.push_back(std::move(f));
  } else if (bn && syncBn && noisy) {
    Finding f;
    f.rule = "syncbn-noise";
    f.severity = Severity::Warning;
    say(f, {"diagnosis.syncbn-noise",
            {{"total", std::to_string(world * perRank)},
             {"noise", fixed(bn->noiseMedian)},
             {"layer", bn->worstLayer}},
            {validationClause}});
    f.numbers = {{"noise_median", bn->noiseMedian}, {"noise_max", bn->noiseMax}};
    f.layers = {bn->worstLayer};
    f.fixes = {kFixGroupNorm, kFixPreciseBn};
    v.findings.push_back(std::move(f));
  }

  const bool blamedBn = !v.findings.empty() && v.findings.front().severity == Severity::Problem;
  if (oscillating && !blamedBn) {
    Finding f;
    f.rule = "loss-oscillation";
    f.severity = Severity::Problem;
    Text cause;
    if (bn)
      cause =
          Text{world > 1 && !syncBn ? "diagnosis.cause.bn-sound-ranks-agree"
                                    : "diagnosis.cause.bn-sound",
               {{"noise", fixed(bn->noiseMedian)}, {"disagreement", fixed(bn->disagreementMedian)}},
               {}};
    else if (norm == "groupnorm" || norm == "frozen")
      cause = Text{"diagnosis.cause.no-batch-statistics", {{"norm", norm}}, {}};
    else
      cause = Text{"diagnosis.cause.no-bn-statistics"};
    Text text{"diagnosis.loss-oscillation",
              {{"index", oscillationText},
               {"threshold", fixed(thresholds_.oscillation)},
               {"lr0", fixed(lr0_, 4)}},
              {clause("cause", std::move(cause))}};
    // A step's loss is a mean over its images: over few, it moves with them.
    if (world * perRank > 0 && world * perRank <= kFewImagesPerStep)
      text.parts.push_back(clause(
          "few", {"diagnosis.few-images", {{"images", std::to_string(world * perRank)}}, {}}));
    say(f, std::move(text));
    f.numbers = {{"oscillation", oscillationIndex}, {"lr0", lr0_}};
    if (bn) f.numbers["noise_median"] = bn->noiseMedian;
    f.fixes = {kFixLowerLr};
    v.findings.push_back(std::move(f));
  }
  if (drop && !blamedBn) {
    Finding f;
    f.rule = "validation-drop";
    f.severity = Severity::Warning;
    Text text = dropText;
    text.id = "diagnosis.validation-drop";
    say(f, std::move(text));
    f.numbers = {{"map50_before", drop->second.first}, {"map50_after", drop->second.second}};
    v.findings.push_back(std::move(f));
  }
  for (const std::string& rule : adviceRules_) {
    Finding f;
    f.rule = "advice:" + rule;
    f.severity = Severity::Info;
    Text text{"diagnosis.advice", {{"rule", rule}}, {}};
    if (rule == adviceRules_.front())
      text.parts.push_back(
          clause("advice", {"diagnosis.advice.text", {}, {clause("text", adviceText_)}}));
    say(f, std::move(text));
    v.findings.push_back(std::move(f));
  }

  std::stable_sort(v.findings.begin(), v.findings.end(), [](const Finding& a, const Finding& b) {
    return rank(a.severity) > rank(b.severity);
  });
  v.problem = std::any_of(v.findings.begin(), v.findings.end(),
                          [](const Finding& f) { return f.severity == Severity::Problem; });
  v.healthy = std::none_of(v.findings.begin(), v.findings.end(),
                           [](const Finding& f) { return f.severity != Severity::Info; });
  if (!v.healthy) {
    v.headline = v.findings.front().message;
    return v;
  }
  Finding f;
  f.rule = "healthy";
  f.severity = Severity::Info;
  if (!v.enoughData) {
    say(f, Text{"diagnosis.not-enough-data"});
  } else {
    Text batch =
        syncBn ? Text{"diagnosis.batch.syncbn", {{"images", std::to_string(world * perRank)}}, {}}
        : world > 1 ? Text{"diagnosis.batch.per-rank", {{"images", std::to_string(perRank)}}, {}}
                    : Text{"diagnosis.batch.one-rank", {{"images", std::to_string(perRank)}}, {}};
    Text text{"diagnosis.healthy", {}, {clause("batch", std::move(batch)), validationClause}};
    if (bn)
      text.parts.push_back(clause(
          "statistics",
          {world > 1 && !syncBn ? "diagnosis.statistics.ranks-agree" : "diagnosis.statistics",
           {{"noise", fixed(bn->noiseMedian)}, {"disagreement", fixed(bn->disagreementMedian)}},
           {}}));
    if (bn)
      f.numbers = {{"noise_median", bn->noiseMedian},
                   {"disagreement_median", bn->disagreementMedian}};
    if (hasOscillation) {
      f.numbers["oscillation"] = oscillationIndex;
      text.parts.push_back(
          clause("steady", {"diagnosis.steady", {{"index", oscillationText}}, {}}));
    }
    say(f, std::move(text));
  }
  v.headline = f.message;
  v.findings.insert(v.findings.begin(), std::move(f));
  return v;
}

std::string format(const Verdict& verdict) {
  std::string text = verdict.headline + "\n";
  for (const Finding& f : verdict.findings) {
    if (f.message == verdict.headline) continue;
    text += "  " + std::string(toString(f.severity)) + " [" + f.rule + "]: " + f.message + "\n";
  }
  return text;
}

std::string toJson(const Verdict& verdict) {
  nlohmann::ordered_json out;
  out["healthy"] = verdict.healthy;
  out["problem"] = verdict.problem;
  out["headline"] = verdict.headline;
  out["iteration"] = verdict.iteration;
  out["epochs"] = verdict.epochs;
  out["findings"] = nlohmann::ordered_json::array();
  for (const Finding& f : verdict.findings) {
    nlohmann::ordered_json item;
    item["rule"] = f.rule;
    item["severity"] = std::string(toString(f.severity));
    item["message"] = f.message;
    item["numbers"] = f.numbers;
    item["layers"] = f.layers;
    item["fixes"] = f.fixes;
    out["findings"].push_back(std::move(item));
  }
  return out.dump(2);
}

}  // namespace syncbn::diagnosis
