// Why does the loss oscillate? A verdict on a run from its progress events (run_started, step,
// bn_stats, val), the same for the studio's Diagnosis panel, `syncbn-engine diagnose` and the
// line `train` prints at an epoch's end. Plain C++: no Qt, no LibTorch.
//
// It weighs what BatchNorm does to a run, not only how the loss looks: the normaliser noise (how
// far the statistics a step normalises with are from the running statistics inference uses) and
// the ranks' disagreement (bn_stats, docs/syncbn.md), the images behind those statistics (per
// rank under BN, all ranks' under SyncBN), the oscillation index of the loss (docs/monitor.md),
// validation jumps, and the configuration's advice. Each rule, its thresholds and the runs that
// chose them are in docs/syncbn.md ("Diagnosis").
#pragma once

#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/engine_text.h"
#include "common/protocol.h"
#include "common/smoothing.h"

namespace syncbn::diagnosis {

// Fixed before the evidence runs that test them (docs/syncbn.md), the same for every run.
struct Thresholds {
  // Median over layers of the normaliser noise, in running standard deviations: above this the
  // statistics a step normalises with are too far from inference's.
  double noise = 0.5;
  // Median over layers of the ranks' disagreement, in global standard deviations.
  double disagreement = 0.25;
  // The worst layer's disagreement (max over layers): a problem above `worstDisagreement`, a
  // warning above `worstDisagreementWarning`. Added after the first evidence runs showed the
  // harm of 4 x 1 BN in the worst layers, not at the median (docs/syncbn.md, "Diagnosis").
  double worstDisagreement = 0.5;
  double worstDisagreementWarning = 0.25;
  double oscillation = OscillationIndex::kDefaultThreshold;
  // mAP50 falling by more than this share of the previous epoch's (when that was >= 0.05).
  double validationDrop = 0.3;
  // The figures judged are medians over the latest probes, so one odd batch decides nothing.
  int probes = 5;
};

enum class Severity { Info, Warning, Problem };
std::string_view toString(Severity severity);

// Ids of the one-click fixes a finding suggests.
inline constexpr char kFixSyncBnResume[] = "syncbn-resume";
inline constexpr char kFixPreciseBn[] = "precise-bn";
inline constexpr char kFixGroupNorm[] = "groupnorm";
inline constexpr char kFixFrozenBn[] = "frozen-bn";
inline constexpr char kFixLowerLr[] = "lower-lr";

struct Finding {
  std::string rule;  // "bn-normaliser-noise", "bn-rank-disagreement", "bn-rank-drift",
                     // "syncbn-noise",
                     // "loss-oscillation", "validation-drop", "advice:<rule>", "healthy"
  Severity severity = Severity::Info;
  std::string message;  // plain words, with the numbers behind them
  Text text;            // the message as a template and its values, for the studio's translation
  std::map<std::string, double> numbers;  // the same numbers, by name, for --json and the GUI
  std::vector<std::string> layers;        // the layers involved, worst first
  std::vector<std::string> fixes;         // kFix... ids, most fitting first
  bool operator==(const Finding&) const = default;
};

struct Verdict {
  bool healthy = true;            // no warning or problem
  bool problem = false;           // a problem (diagnose exits 1)
  std::string headline;           // the first warning or problem's message, or the healthy one
  std::vector<Finding> findings;  // problems first, then warnings, then information
  long long iteration = -1;       // the latest step seen
  int epochs = 0;                 // validated epochs seen
  bool enoughData = false;        // at least one bn_stats probe or `probes` steps
  bool operator==(const Verdict&) const = default;
};

class RunDiagnosis {
 public:
  explicit RunDiagnosis(Thresholds thresholds = {});

  // Feed every event of the run in order; other message types are ignored.
  void add(const protocol::Message& message);
  Verdict verdict() const;
  const Thresholds& thresholds() const { return thresholds_; }

 private:
  struct Probe {
    long long iteration = 0;
    double noiseMedian = 0, noiseMax = 0, disagreementMedian = 0, disagreementMax = 0;
    std::string worstLayer;
    std::vector<int> rankImages;
  };
  void onProbe(const protocol::BnStats& stats);
  std::optional<Probe> recent() const;  // medians over the latest probes

  Thresholds thresholds_;
  std::optional<protocol::RunStarted> run_;
  std::vector<std::string> adviceRules_;
  Text adviceText_;  // the first advice's
  double lr0_ = 0;
  OscillationIndex oscillation_;
  std::deque<double> recentOscillation_;  // the index over the last window
  long long iteration_ = -1;
  std::deque<Probe> probes_;
  std::vector<std::pair<int, double>> map50_;  // (epoch, mAP50)
};

// The verdict as text: the headline, then one line per finding with its numbers and fixes.
std::string format(const Verdict& verdict);
// As JSON: {"healthy", "problem", "headline", "iteration", "epochs", "findings": [...]}.
std::string toJson(const Verdict& verdict);

}  // namespace syncbn::diagnosis
