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

std::string images(int n) {
  return std::to_string(n) + (n == 1 ? " image" : " images");
}

std::string capitalised(std::string text) {
  if (!text.empty() && text[0] >= 'a' && text[0] <= 'z') text[0] = static_cast<char>(text[0] - 'a' + 'A');
  return text;
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
    adviceText_.clear();
    LoadedConfig loaded = parseConfigYaml(started->config_yaml, "run_started.config_yaml");
    lr0_ = loaded.config.train.lr0;
    HostFacts host;
    if (started->device == "cuda") host.cudaDevices = started->world_size;
    for (const Diagnostic& advice : advise(loaded.config, host)) {
      if (advice.rule.empty() || advice.severity == syncbn::Severity::Info) continue;
      adviceRules_.push_back(advice.rule);
      if (adviceText_.empty()) adviceText_ = advice.message;
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
  const std::optional<double> oscillation =
      recentOscillation_.empty()
          ? std::nullopt
          : std::optional(median({recentOscillation_.begin(), recentOscillation_.end()}));
  const bool oscillating = oscillation && *oscillation >= thresholds_.oscillation;

  // Validation: the largest relative fall of mAP50 from one epoch to the next.
  std::optional<std::pair<int, std::pair<double, double>>> drop;
  for (std::size_t i = 1; i < map50_.size(); ++i) {
    const double before = map50_[i - 1].second, after = map50_[i].second;
    if (before >= 0.05 && after < before * (1 - thresholds_.validationDrop) &&
        (!drop || after / before < drop->second.second / drop->second.first))
      drop = {{map50_[i].first, {before, after}}};
  }
  std::string validationClause;
  if (!map50_.empty()) {
    const auto& [epoch, map50] = map50_.back();
    validationClause = drop ? " Validation jumps: mAP50 fell from " + fixed(drop->second.first, 3) +
                                  " to " + fixed(drop->second.second, 3) + " at epoch " +
                                  std::to_string(drop->first + 1) + "."
                            : " Validation is at mAP50 " + fixed(map50, 3) + " after epoch " +
                                  std::to_string(epoch + 1) + ".";
  }

  const bool noisy = bn && bn->noiseMedian > thresholds_.noise;
  const bool disagree = bn && (bn->disagreementMedian > thresholds_.disagreement ||
                               bn->disagreementMax > thresholds_.worstDisagreement);
  if (bn && batchNorm && (noisy || disagree)) {
    Finding f;
    f.rule = noisy ? "bn-normaliser-noise" : "bn-rank-disagreement";
    f.severity = Severity::Problem;
    const int total = world * perRank;
    const std::string noiseClause =
        "the statistics training normalises with are " + fixed(bn->noiseMedian) +
        " running-std away from the ones inference uses (median over layers; worst: " +
        bn->worstLayer + ", " + fixed(bn->noiseMax) + ")";
    const std::string disagreementClause =
        "the ranks disagree by " + fixed(bn->disagreementMedian) + " (" +
        fixed(bn->disagreementMax) + " in the worst layer)";
    // The figure that fired comes first.
    const std::string evidence =
        noisy || world == 1
            ? capitalised(noiseClause) + (world > 1 ? ", and " + disagreementClause : "")
            : capitalised(disagreementClause) + ", and " + noiseClause;
    f.message = "Each of " + std::to_string(world) + (world == 1 ? " rank" : " ranks") +
                " normalises over " + images(perRank) + ". " + evidence + "." + validationClause +
                (oscillating ? " The loss oscillates (index " + fixed(*oscillation, 3) + ")." : "") +
                (world > 1 ? " Fix: SyncBN, which normalises over all " + images(total) + "."
                           : " Fix: GroupNorm, which does not depend on the batch, or a larger "
                             "batch.");
    f.numbers = {{"noise_median", bn->noiseMedian},
                 {"noise_max", bn->noiseMax},
                 {"disagreement_median", bn->disagreementMedian},
                 {"disagreement_max", bn->disagreementMax},
                 {"per_rank_batch", perRank},
                 {"world_size", world}};
    if (oscillation) f.numbers["oscillation"] = *oscillation;
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
    f.message = "The ranks normalise apart in some layers: " + fixed(bn->disagreementMax) +
                " global-std in the worst layer (" + fixed(bn->disagreementMedian) +
                " at the median), with " + images(perRank) + " per rank. The statistics are " +
                fixed(bn->noiseMedian) + " running-std from the running ones." + validationClause +
                " SyncBN would make every rank normalise over all " + images(world * perRank) +
                ".";
    f.numbers = {{"noise_median", bn->noiseMedian},
                 {"disagreement_median", bn->disagreementMedian},
                 {"disagreement_max", bn->disagreementMax},
                 {"per_rank_batch", perRank},
                 {"world_size", world}};
    if (oscillation) f.numbers["oscillation"] = *oscillation;
    f.layers = {bn->worstLayer};
    f.fixes = {kFixSyncBnResume, kFixPreciseBn};
    v.findings.push_back(std::move(f));
  } else if (bn && syncBn && noisy) {
    Finding f;
    f.rule = "syncbn-noise";
    f.severity = Severity::Warning;
    f.message = "Even synchronized over all " + images(world * perRank) +
                ", the statistics training normalises with are " + fixed(bn->noiseMedian) +
                " running-std away from the ones inference uses (worst: " + bn->worstLayer +
                ")." + validationClause +
                " Fix: GroupNorm, or PreciseBN to recompute the running statistics at the end.";
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
    f.message = "The loss oscillates (index " + fixed(*oscillation, 3) + ", threshold " +
                fixed(thresholds_.oscillation) + "), but BatchNorm is not the cause: " +
                (bn ? "the statistics training normalises with are within " +
                          fixed(bn->noiseMedian) + " running-std of the running ones" +
                          (world > 1 && !syncBn
                               ? " and the ranks agree to " + fixed(bn->disagreementMedian)
                               : std::string())
                    : std::string(norm == "groupnorm" || norm == "frozen"
                                      ? "this run's norm (" + norm + ") uses no batch statistics"
                                      : "no BatchNorm statistics were recorded")) +
                ". Likely the learning rate (lr0 " + fixed(lr0_, 4) +
                ") or the data; try a lower lr0 or a longer warmup." +
                // A step's loss is a mean over its images: over few, it moves with them.
                (world * perRank > 0 && world * perRank <= kFewImagesPerStep
                     ? " With only " + images(world * perRank) +
                           " per step, each step's loss also varies with its images; a larger "
                           "batch (or nbs accumulation) steadies it."
                     : std::string());
    f.numbers = {{"oscillation", *oscillation}, {"lr0", lr0_}};
    if (bn) f.numbers["noise_median"] = bn->noiseMedian;
    f.fixes = {kFixLowerLr};
    v.findings.push_back(std::move(f));
  }
  if (drop && !blamedBn) {
    Finding f;
    f.rule = "validation-drop";
    f.severity = Severity::Warning;
    f.message = "Validation jumps: mAP50 fell from " + fixed(drop->second.first, 3) + " to " +
                fixed(drop->second.second, 3) + " at epoch " + std::to_string(drop->first + 1) +
                ".";
    f.numbers = {{"map50_before", drop->second.first}, {"map50_after", drop->second.second}};
    v.findings.push_back(std::move(f));
  }
  for (const std::string& rule : adviceRules_) {
    Finding f;
    f.rule = "advice:" + rule;
    f.severity = Severity::Info;
    f.message = "Configuration advice [" + rule + "]" +
                (rule == adviceRules_.front() ? ": " + adviceText_ : std::string());
    v.findings.push_back(std::move(f));
  }

  std::stable_sort(v.findings.begin(), v.findings.end(),
                   [](const Finding& a, const Finding& b) { return rank(a.severity) > rank(b.severity); });
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
    f.message = "Not enough data yet for a verdict.";
  } else {
    const std::string batch = syncBn ? "all " + images(world * perRank) + " (SyncBN)"
                                     : images(perRank) + (world > 1 ? " per rank" : "");
    f.message = "Healthy: BatchNorm normalises over " + batch +
                (bn ? ", " + fixed(bn->noiseMedian) + " running-std from the running statistics" +
                          (world > 1 && !syncBn
                               ? ", and the ranks agree to " + fixed(bn->disagreementMedian)
                               : std::string())
                    : std::string()) +
                (oscillation ? "; the loss is steady (index " + fixed(*oscillation, 3) + ")" : "") +
                "." + validationClause;
    if (bn) f.numbers = {{"noise_median", bn->noiseMedian}, {"disagreement_median", bn->disagreementMedian}};
    if (oscillation) f.numbers["oscillation"] = *oscillation;
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
