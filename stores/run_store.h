// Everything known about one training run, fed with its decoded progress events (live from the
// engine session, or replayed from its events.jsonl) and shown by every monitor view. Views
// subscribe to the signals; they never keep their own copy of the numbers.
//
// Per-iteration series are keyed by the iteration and bounded (SeriesBuffer); validation, the
// latest per-class table, checkpoints and per-rank timing summaries are small. A resumed run
// continues the same store: a `run_started` for the same run directory keeps what is there, and
// steps repeating iterations already seen replace them.
#pragma once

#include <QElapsedTimer>
#include <QObject>
#include <QString>
#include <array>
#include <deque>
#include <map>
#include <optional>
#include <vector>

#include "common/bn_diagnosis.h"
#include "common/protocol.h"
#include "common/smoothing.h"
#include "stores/series_buffer.h"

namespace studio {

class LogModel;

enum class LossTerm { Box, Cls, Dfl, Total };
inline constexpr std::array kLossTerms{LossTerm::Box, LossTerm::Cls, LossTerm::Dfl,
                                       LossTerm::Total};
QString lossTermName(LossTerm term);  // "box", "cls", "dfl", "total"

enum class RankTime { Data, Compute, Comm };
inline constexpr std::array kRankTimes{RankTime::Data, RankTime::Compute, RankTime::Comm};
QString rankTimeName(RankTime time);  // translated: "data", "compute", "comm"

enum class RunState {
  Empty,       // nothing received yet
  Starting,    // the engine is starting (verifying data, meeting its ranks)
  Running,     // steps are coming
  Stopping,    // a stop was asked for; the engine is saving
  Completed,   // all epochs done (or patience)
  Stopped,     // stopped on request, last.pt saved
  Failed,      // the engine or a rank failed; failureMessage() says how
  Incomplete,  // a replayed record that ends without `finished`
};
QString runStateName(RunState state);  // translated
bool isFinal(RunState state);

// The bn_stats figures over all layers, per probe (docs/syncbn.md).
enum class BnSummary { NoiseMedian, NoiseMax, DisagreementMedian, DisagreementMax };
inline constexpr std::array kBnSummaries{BnSummary::NoiseMedian, BnSummary::NoiseMax,
                                         BnSummary::DisagreementMedian,
                                         BnSummary::DisagreementMax};

// One layer's bn_stats over the probes, per rank: what it normalised with and its running
// statistics (channel means), and its noise and disagreement.
enum class BnRankValue { BatchMean, BatchVar, RunningMean, RunningVar, Noise };
inline constexpr std::array kBnRankValues{BnRankValue::BatchMean, BnRankValue::BatchVar,
                                          BnRankValue::RunningMean, BnRankValue::RunningVar,
                                          BnRankValue::Noise};
struct BnLayerHistory {
  std::vector<std::array<SeriesBuffer, 5>> ranks;  // by BnRankValue
  SeriesBuffer noise, disagreement;
  const SeriesBuffer& rankValue(int rank, BnRankValue value) const;
};

struct ValidationPoint {
  int epoch = 0;    // 0-based, as in the protocol
  double time = 0;  // seconds since the run started (0 when the record has none)
  double precision = 0, recall = 0, map50 = 0, map50_95 = 0, fitness = 0;
};

struct RankTimingSummary {
  int rank = 0;
  std::array<double, 3> latestMs{};  // data, compute, comm of the latest step
  std::array<double, 3> meanMs{};    // over every step received
  double latestTotalMs() const { return latestMs[0] + latestMs[1] + latestMs[2]; }
  double meanTotalMs() const { return meanMs[0] + meanMs[1] + meanMs[2]; }
  std::int64_t steps = 0;
};

struct RunProgress {
  int epoch = 0;             // 0-based epoch of the latest step
  long long iteration = -1;  // latest step's iteration; -1 before the first
  int stepInEpoch = 0;       // 1-based position of that step within its epoch
  double imagesPerSecond = 0;
  std::optional<double> etaSeconds;  // to the last iteration, at the recent pace
  std::optional<double> oscillation;
};

class RunStore : public QObject {
  Q_OBJECT

 public:
  explicit RunStore(QObject* parent = nullptr);
  ~RunStore() override;

  // ---- input ----
  void ingest(const syncbn::protocol::Message& message);
  // Several at once: the same as one by one, with one round of change signals at the end.
  void ingest(const std::vector<syncbn::protocol::Message>& messages);
  // A line that could not be used (malformed, oversized, truncated): counted and logged.
  void reportBadLine(const QString& reason);
  void setState(RunState state, const QString& failureMessage = {});
  // With the engine's console in the log (a live run), `log` events are not added again.
  void setConsoleAttached(bool attached) { consoleAttached_ = attached; }
  void setRunDirectory(const QString& absolutePath);
  // What the engine's relative run_dir is relative to (its working directory); default: this
  // process's current directory.
  void setWorkingDirectory(const QString& directory) { workingDirectory_ = directory; }

  // ---- what views show ----
  RunState state() const { return state_; }
  QString failureMessage() const { return failureMessage_; }
  bool hasRunInfo() const { return info_.has_value(); }
  const syncbn::protocol::RunStarted& runInfo() const;    // precondition: hasRunInfo()
  QString runDirectory() const { return runDirectory_; }  // absolute when known
  int worldSize() const;
  int epochs() const { return info_ ? info_->epochs : 0; }
  int iterationsPerEpoch() const { return info_ ? info_->iterations_per_epoch : 0; }

  const SeriesBuffer& loss(LossTerm term) const { return loss_[index(term)]; }
  const SeriesBuffer& rankLoss(int rank, LossTerm term) const;  // empty for an unknown rank
  const SeriesBuffer& learningRate() const { return lr_; }
  const SeriesBuffer& imagesPerSecond() const { return imagesPerSecond_; }
  const SeriesBuffer& rankTime(int rank, RankTime time) const;
  const SeriesBuffer& oscillation() const { return oscillation_; }
  // Seconds since the run started at each iteration (empty for a version-1 record).
  const SeriesBuffer& wallTime() const { return wallTime_; }
  // Seconds since the start at `iteration`, interpolated; nullopt without wall times.
  std::optional<double> timeAt(double iteration) const;

  const std::vector<ValidationPoint>& validation() const { return validation_; }
  std::optional<int> bestValidationIndex() const;  // by fitness, as the engine picks best.pt
  const std::vector<syncbn::protocol::ClassMetrics>& latestClasses() const { return classes_; }
  const std::vector<syncbn::protocol::Checkpoint>& checkpoints() const { return checkpoints_; }
  const std::vector<RankTimingSummary>& rankTimings() const { return rankTimings_; }
  const std::vector<syncbn::protocol::DatasetSummary>& datasets() const { return datasets_; }
  const std::optional<syncbn::protocol::Finished>& finished() const { return finished_; }
  const std::vector<syncbn::protocol::RankExit>& rankExits() const { return rankExits_; }
  const std::optional<syncbn::protocol::BnStats>& latestBnStats() const { return bnStats_; }
  const SeriesBuffer& bnSummary(BnSummary summary) const {
    return bnSummaries_[static_cast<std::size_t>(summary)];
  }
  // The history of a layer that bn_stats has listed; nullptr for any other.
  const BnLayerHistory* bnLayer(const std::string& layer) const;
  // What the BatchNorm diagnosis (common/bn_diagnosis.h) says of the run so far.
  const syncbn::diagnosis::Verdict& verdict() const { return verdict_; }
  RunProgress progress() const;
  std::optional<double> bestMap50_95() const;
  qint64 badLines() const { return badLines_; }
  qint64 stepsReceived() const { return stepsReceived_; }
  LogModel* log() const { return log_; }
  std::size_t memoryBytes() const;

 signals:
  void runInfoChanged();
  void stepsAdded();  // new points in the per-iteration series (once per ingest call)
  void validationAdded();
  void checkpointAdded();
  void bnStatsAdded();
  void diagnosisChanged();
  void datasetAdded();
  void stateChanged(studio::RunState state);
  void progressChanged();
  void badLineReported(qint64 total);

 private:
  struct Changes {
    bool info = false, steps = false, validation = false, checkpoint = false, bn = false,
         dataset = false, state = false;
    bool diagnosis() const { return info || steps || validation || bn; }
  };
  static std::size_t index(LossTerm term) { return static_cast<std::size_t>(term); }
  void apply(const syncbn::protocol::Message& message, Changes& changes);
  void onRunStarted(const syncbn::protocol::RunStarted& m, Changes& changes);
  void onStep(const syncbn::protocol::Step& m, Changes& changes);
  void onVal(const syncbn::protocol::Val& m, Changes& changes);
  void onFinished(const syncbn::protocol::Finished& m, Changes& changes);
  void onRankExit(const syncbn::protocol::RankExit& m, Changes& changes);
  void onBnStats(const syncbn::protocol::BnStats& m, Changes& changes);
  void ensureRanks(int ranks);
  void truncateFrom(long long iteration);
  void changeState(RunState state, const QString& failureMessage, Changes& changes);
  void emitChanges(const Changes& changes);

  RunState state_ = RunState::Empty;
  QString failureMessage_;
  std::optional<syncbn::protocol::RunStarted> info_;
  QString runDirectory_;
  QString workingDirectory_;
  bool consoleAttached_ = false;

  std::array<SeriesBuffer, 4> loss_;
  std::vector<std::array<SeriesBuffer, 4>> rankLoss_;
  std::vector<std::array<SeriesBuffer, 3>> rankTime_;
  SeriesBuffer lr_, imagesPerSecond_, oscillation_, wallTime_;
  syncbn::OscillationIndex oscillationIndex_;
  std::optional<double> latestOscillation_;

  std::vector<ValidationPoint> validation_;
  std::vector<syncbn::protocol::ClassMetrics> classes_;
  std::vector<syncbn::protocol::Checkpoint> checkpoints_;
  std::vector<RankTimingSummary> rankTimings_;
  std::vector<syncbn::protocol::DatasetSummary> datasets_;
  std::vector<syncbn::protocol::RankExit> rankExits_;
  std::optional<syncbn::protocol::Finished> finished_;
  std::optional<syncbn::protocol::BnStats> bnStats_;
  std::array<SeriesBuffer, 4> bnSummaries_;
  std::map<std::string, BnLayerHistory> bnLayers_;
  syncbn::diagnosis::RunDiagnosis diagnosis_;
  syncbn::diagnosis::Verdict verdict_;

  long long lastIteration_ = -1;
  int lastEpoch_ = 0;
  double lastImagesPerSecond_ = 0;
  // Arrival times of recent steps, for the ETA of records without wall times.
  QElapsedTimer clock_;
  std::deque<std::pair<long long, double>> recentPace_;  // (iteration, seconds)
  qint64 badLines_ = 0;
  qint64 stepsReceived_ = 0;
  LogModel* log_;
};

}  // namespace studio
