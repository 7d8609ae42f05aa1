#include "stores/run_store.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QDir>
#include <algorithm>
#include <cmath>
#include <limits>

#include "stores/log_model.h"
#include "stores/qt_text.h"

namespace studio {
namespace protocol = syncbn::protocol;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr std::size_t kPaceSteps = 30;  // steps the ETA's pace is measured over

double lossValue(const std::map<std::string, double>& losses, const char* name) {
  const auto it = losses.find(name);
  return it == losses.end() ? kNaN : it->second;
}

// Per-rank series share a budget, so that 64 ranks cost about what 4 do.
SeriesBuffer::Limits rankLimits(int ranks) {
  SeriesBuffer::Limits limits;
  const auto scale = static_cast<std::size_t>(std::max(1, ranks / 4));
  limits.fullResolution = std::max<std::size_t>(1000, limits.fullResolution / scale);
  limits.maxBuckets = std::max<std::size_t>(500, limits.maxBuckets / scale);
  return limits;
}

const SeriesBuffer& emptySeries() {
  static const SeriesBuffer empty;
  return empty;
}

}  // namespace

QString lossTermName(LossTerm term) {
  switch (term) {
    case LossTerm::Box:
      return QStringLiteral("box");
    case LossTerm::Cls:
      return QStringLiteral("cls");
    case LossTerm::Dfl:
      return QStringLiteral("dfl");
    case LossTerm::Total:
      return QCoreApplication::translate("RunStore", "total");
  }
  return {};
}

QString rankTimeName(RankTime time) {
  switch (time) {
    case RankTime::Data:
      return QCoreApplication::translate("RunStore", "data");
    case RankTime::Compute:
      return QCoreApplication::translate("RunStore", "compute");
    case RankTime::Comm:
      return QCoreApplication::translate("RunStore", "comm");
  }
  return {};
}

QString runStateName(RunState state) {
  switch (state) {
    case RunState::Empty:
      return QCoreApplication::translate("RunStore", "No run");
    case RunState::Starting:
      return QCoreApplication::translate("RunStore", "Starting");
    case RunState::Running:
      return QCoreApplication::translate("RunStore", "Running");
    case RunState::Stopping:
      return QCoreApplication::translate("RunStore", "Stopping...");
    case RunState::Completed:
      return QCoreApplication::translate("RunStore", "Completed");
    case RunState::Stopped:
      return QCoreApplication::translate("RunStore", "Stopped");
    case RunState::Failed:
      return QCoreApplication::translate("RunStore", "Failed");
    case RunState::Incomplete:
      return QCoreApplication::translate("RunStore", "Incomplete record");
  }
  return {};
}

bool isFinal(RunState state) {
  return state == RunState::Completed || state == RunState::Stopped || state == RunState::Failed ||
         state == RunState::Incomplete;
}

RunStore::RunStore(QObject* parent) : QObject(parent), log_(new LogModel(this)) {
  clock_.start();
}

RunStore::~RunStore() = default;

void RunStore::ingest(const protocol::Message& message) {
  Changes changes;
  apply(message, changes);
  emitChanges(changes);
}

void RunStore::ingest(const std::vector<protocol::Message>& messages) {
  Changes changes;
  for (const protocol::Message& message : messages)
    apply(message, changes);
  emitChanges(changes);
}

void RunStore::apply(const protocol::Message& message, Changes& changes) {
  diagnosis_.add(message);
  std::visit(
      [&](const auto& m) {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, protocol::RunStarted>) {
          onRunStarted(m, changes);
        } else if constexpr (std::is_same_v<T, protocol::Step>) {
          onStep(m, changes);
        } else if constexpr (std::is_same_v<T, protocol::Val>) {
          onVal(m, changes);
        } else if constexpr (std::is_same_v<T, protocol::BnStats>) {
          onBnStats(m, changes);
        } else if constexpr (std::is_same_v<T, protocol::Checkpoint>) {
          checkpoints_.push_back(m);
          changes.checkpoint = true;
        } else if constexpr (std::is_same_v<T, protocol::DatasetSummary>) {
          datasets_.push_back(m);
          changes.dataset = true;
        } else if constexpr (std::is_same_v<T, protocol::Log>) {
          if (consoleAttached_) return;
          LogLine line;
          line.msecsSinceEpoch = QDateTime::currentMSecsSinceEpoch();
          line.source = m.rank >= 0 ? m.rank : LogLine::kLauncher;
          line.level = m.level == "error"     ? LogLevel::Error
                       : m.level == "warning" ? LogLevel::Warning
                       : m.level == "debug"   ? LogLevel::Debug
                                              : LogLevel::Info;
          line.text = toQString(m.text);
          log_->append(line);
        } else if constexpr (std::is_same_v<T, protocol::RankExit>) {
          onRankExit(m, changes);
        } else if constexpr (std::is_same_v<T, protocol::Finished>) {
          onFinished(m, changes);
        }
        // hello is the server's business; stop and checkpoint_now go the other way.
      },
      message);
}

void RunStore::onRunStarted(const protocol::RunStarted& m, Changes& changes) {
  if (info_ && info_->run_dir != m.run_dir)
    log_->append(LogLine{
        QDateTime::currentMSecsSinceEpoch(), LogLine::kStudio, LogLevel::Warning,
        tr("This record continues with another run directory: %1").arg(toQString(m.run_dir))});
  info_ = m;
  if (runDirectory_.isEmpty())
    runDirectory_ =
        QDir::cleanPath(QDir(workingDirectory_.isEmpty() ? QDir::currentPath() : workingDirectory_)
                            .absoluteFilePath(toQString(m.run_dir)));
  ensureRanks(m.world_size);
  finished_.reset();
  if (state_ != RunState::Stopping) changeState(RunState::Running, {}, changes);
  changes.info = true;
}

void RunStore::ensureRanks(int ranks) {
  if (ranks <= static_cast<int>(rankLoss_.size())) return;
  const SeriesBuffer::Limits limits = rankLimits(ranks);
  const auto n = static_cast<std::size_t>(ranks);
  while (rankLoss_.size() < n) {
    std::array<SeriesBuffer, 4> losses;
    for (auto& s : losses)
      s = SeriesBuffer(limits);
    rankLoss_.push_back(std::move(losses));
    std::array<SeriesBuffer, 3> times;
    for (auto& s : times)
      s = SeriesBuffer(limits);
    rankTime_.push_back(std::move(times));
    rankTimings_.push_back(RankTimingSummary{static_cast<int>(rankTimings_.size())});
  }
}

void RunStore::truncateFrom(long long iteration) {
  const auto key = static_cast<double>(iteration);
  for (auto& s : loss_)
    s.truncateFrom(key);
  for (auto& ranks : rankLoss_)
    for (auto& s : ranks)
      s.truncateFrom(key);
  for (auto& ranks : rankTime_)
    for (auto& s : ranks)
      s.truncateFrom(key);
  lr_.truncateFrom(key);
  imagesPerSecond_.truncateFrom(key);
  oscillation_.truncateFrom(key);
  wallTime_.truncateFrom(key);
  for (auto& s : bnSummaries_)
    s.truncateFrom(key);
  for (auto& [name, layer] : bnLayers_) {
    layer.noise.truncateFrom(key);
    layer.disagreement.truncateFrom(key);
    for (auto& rank : layer.ranks)
      for (auto& s : rank)
        s.truncateFrom(key);
  }
  // The index's window cannot be rewound; it warms up again over the next iterations.
  oscillationIndex_.reset();
  latestOscillation_.reset();
  recentPace_.clear();
}

void RunStore::onStep(const protocol::Step& m, Changes& changes) {
  if (m.iteration <= lastIteration_) truncateFrom(m.iteration);
  lastIteration_ = m.iteration;
  lastEpoch_ = m.epoch;
  lastImagesPerSecond_ = m.images_per_second;
  ++stepsReceived_;
  const auto key = static_cast<double>(m.iteration);

  const double box = lossValue(m.losses, "box");
  const double cls = lossValue(m.losses, "cls");
  const double dfl = lossValue(m.losses, "dfl");
  const double total = box + cls + dfl;
  loss_[index(LossTerm::Box)].append(key, box);
  loss_[index(LossTerm::Cls)].append(key, cls);
  loss_[index(LossTerm::Dfl)].append(key, dfl);
  loss_[index(LossTerm::Total)].append(key, total);

  ensureRanks(std::max(static_cast<int>(m.rank_losses.size()), static_cast<int>(m.ranks.size())));
  for (std::size_t r = 0; r < m.rank_losses.size(); ++r) {
    const auto& losses = m.rank_losses[r];
    const double rb = lossValue(losses, "box"), rc = lossValue(losses, "cls"),
                 rd = lossValue(losses, "dfl");
    auto& series = rankLoss_[r];
    series[index(LossTerm::Box)].append(key, rb);
    series[index(LossTerm::Cls)].append(key, rc);
    series[index(LossTerm::Dfl)].append(key, rd);
    series[index(LossTerm::Total)].append(key, rb + rc + rd);
  }
  for (const protocol::RankTiming& t : m.ranks) {
    if (t.rank < 0 || t.rank >= static_cast<int>(rankTime_.size())) continue;
    const std::array<double, 3> ms{t.data_ms, t.compute_ms, t.comm_ms};
    auto& series = rankTime_[static_cast<std::size_t>(t.rank)];
    RankTimingSummary& summary = rankTimings_[static_cast<std::size_t>(t.rank)];
    ++summary.steps;
    for (std::size_t i = 0; i < 3; ++i) {
      series[i].append(key, ms[i]);
      summary.latestMs[i] = ms[i];
      if (std::isfinite(ms[i]))
        summary.meanMs[i] += (ms[i] - summary.meanMs[i]) / static_cast<double>(summary.steps);
    }
  }
  lr_.append(key, m.lr);
  imagesPerSecond_.append(key, m.images_per_second);
  if (m.time > 0) wallTime_.append(key, m.time);

  latestOscillation_ = oscillationIndex_.add(total);
  if (latestOscillation_) oscillation_.append(key, *latestOscillation_);

  const double now = m.time > 0 ? m.time : static_cast<double>(clock_.elapsed()) / 1000.0;
  recentPace_.emplace_back(m.iteration, now);
  if (recentPace_.size() > kPaceSteps) recentPace_.pop_front();
  changes.steps = true;
}

void RunStore::onBnStats(const protocol::BnStats& m, Changes& changes) {
  bnStats_ = m;
  changes.bn = true;
  if (m.layers_total == 0) return;  // a version-1/2 record: no figures that follow the normaliser
  const auto key = static_cast<double>(m.iteration);
  const std::array values{m.noise_median, m.noise_max, m.disagreement_median, m.disagreement_max};
  for (std::size_t i = 0; i < values.size(); ++i)
    bnSummaries_[i].append(key, values[i]);
  for (const protocol::BnLayerStats& layer : m.layers) {
    // Probes come every few iterations: a small history per layer and rank is plenty, and it
    // shrinks with the world size so that yolov8x's 130 layers x 64 ranks x 5 series stay
    // near 60 MB (512 newest points per series up to 8 ranks, 64 at 64 ranks).
    const std::size_t full =
        std::clamp<std::size_t>(4096 / std::max<std::size_t>(1, layer.rank_mean.size()), 32, 512);
    const SeriesBuffer::Limits limits{full, full / 2};
    BnLayerHistory& history = bnLayers_[layer.layer];
    if (history.ranks.empty()) {
      history.noise = SeriesBuffer(limits);
      history.disagreement = SeriesBuffer(limits);
    }
    const std::size_t ranks = layer.rank_mean.size();
    while (history.ranks.size() < ranks) {
      std::array<SeriesBuffer, 5> series;
      for (auto& s : series)
        s = SeriesBuffer(limits);
      history.ranks.push_back(std::move(series));
    }
    const auto at = [](const std::vector<double>& v, std::size_t r) {
      return r < v.size() ? v[r] : std::numeric_limits<double>::quiet_NaN();
    };
    for (std::size_t r = 0; r < ranks; ++r) {
      auto& series = history.ranks[r];
      series[0].append(key, at(layer.rank_mean, r));
      series[1].append(key, at(layer.rank_var, r));
      series[2].append(key, at(layer.rank_running_mean, r));
      series[3].append(key, at(layer.rank_running_var, r));
      series[4].append(key, at(layer.rank_noise, r));
    }
    history.noise.append(key, layer.noise);
    history.disagreement.append(key, layer.disagreement);
  }
}

const SeriesBuffer& BnLayerHistory::rankValue(int rank, BnRankValue value) const {
  if (rank < 0 || rank >= static_cast<int>(ranks.size())) return emptySeries();
  return ranks[static_cast<std::size_t>(rank)][static_cast<std::size_t>(value)];
}

const BnLayerHistory* RunStore::bnLayer(const std::string& layer) const {
  const auto it = bnLayers_.find(layer);
  return it == bnLayers_.end() ? nullptr : &it->second;
}

void RunStore::onVal(const protocol::Val& m, Changes& changes) {
  // A resumed run validates an epoch again when it stopped before that epoch's end.
  std::erase_if(validation_, [&](const ValidationPoint& p) { return p.epoch >= m.epoch; });
  validation_.push_back(
      ValidationPoint{m.epoch, m.time, m.precision, m.recall, m.map50, m.map50_95, m.fitness});
  classes_ = m.classes;
  changes.validation = true;
}

void RunStore::onRankExit(const protocol::RankExit& m, Changes& changes) {
  rankExits_.push_back(m);
  // The launcher follows with `finished`; the cause is the rank's exit, not the finish record.
  failureMessage_ = tr("Rank %1 %2").arg(m.rank).arg(toQString(m.reason));
  log_->append(LogLine{QDateTime::currentMSecsSinceEpoch(), LogLine::kStudio, LogLevel::Error,
                       failureMessage_});
  changes.state = true;
}

void RunStore::onFinished(const protocol::Finished& m, Changes& changes) {
  finished_ = m;
  if (m.status == "completed") {
    changeState(RunState::Completed, {}, changes);
  } else if (m.status == "stopped") {
    changeState(RunState::Stopped, {}, changes);
  } else {
    const QString cause =
        rankExits_.empty() || failureMessage_.isEmpty() ? toQString(m.error) : failureMessage_;
    changeState(RunState::Failed, cause, changes);
  }
}

void RunStore::reportBadLine(const QString& reason) {
  ++badLines_;
  log_->append(LogLine{QDateTime::currentMSecsSinceEpoch(), LogLine::kStudio, LogLevel::Warning,
                       tr("Ignored a progress line: %1").arg(reason)});
  emit badLineReported(badLines_);
}

void RunStore::setState(RunState state, const QString& failureMessage) {
  Changes changes;
  changeState(state, failureMessage, changes);
  emitChanges(changes);
}

void RunStore::changeState(RunState state, const QString& failureMessage, Changes& changes) {
  if (state == state_ && failureMessage.isEmpty()) return;
  state_ = state;
  if (!failureMessage.isEmpty()) failureMessage_ = failureMessage;
  changes.state = true;
}

void RunStore::setRunDirectory(const QString& absolutePath) {
  runDirectory_ = absolutePath;
  emit runInfoChanged();
}

void RunStore::emitChanges(const Changes& changes) {
  if (changes.diagnosis()) {
    syncbn::diagnosis::Verdict verdict = diagnosis_.verdict();
    if (verdict != verdict_) {
      verdict_ = std::move(verdict);
      emit diagnosisChanged();
    }
  }
  if (changes.info) emit runInfoChanged();
  if (changes.steps) emit stepsAdded();
  if (changes.validation) emit validationAdded();
  if (changes.checkpoint) emit checkpointAdded();
  if (changes.bn) emit bnStatsAdded();
  if (changes.dataset) emit datasetAdded();
  if (changes.state) emit stateChanged(state_);
  if (changes.steps || changes.validation || changes.state || changes.info) emit progressChanged();
}

const protocol::RunStarted& RunStore::runInfo() const {
  return *info_;
}

int RunStore::worldSize() const {
  if (info_) return info_->world_size;
  return static_cast<int>(rankLoss_.size());
}

const SeriesBuffer& RunStore::rankLoss(int rank, LossTerm term) const {
  if (rank < 0 || rank >= static_cast<int>(rankLoss_.size())) return emptySeries();
  return rankLoss_[static_cast<std::size_t>(rank)][index(term)];
}

const SeriesBuffer& RunStore::rankTime(int rank, RankTime time) const {
  if (rank < 0 || rank >= static_cast<int>(rankTime_.size())) return emptySeries();
  return rankTime_[static_cast<std::size_t>(rank)][static_cast<std::size_t>(time)];
}

std::optional<double> RunStore::timeAt(double iteration) const {
  if (wallTime_.empty()) return std::nullopt;
  const std::deque<SeriesPoint>& full = wallTime_.fullResolution();
  if (!full.empty() && iteration >= full.front().key) {
    const auto it = std::lower_bound(full.begin(), full.end(), iteration,
                                     [](const SeriesPoint& p, double k) { return p.key < k; });
    if (it == full.end()) return full.back().value;
    if (it == full.begin() || it->key == iteration) return it->value;
    const SeriesPoint& a = *(it - 1);
    const SeriesPoint& b = *it;
    return a.value + (b.value - a.value) * (iteration - a.key) / (b.key - a.key);
  }
  // Bucketed: time only grows, so a bucket's minimum is its first time and its maximum its last.
  const std::vector<SeriesBucket>& buckets = wallTime_.buckets();
  if (buckets.empty()) return full.empty() ? std::nullopt : std::optional(full.front().value);
  const auto it = std::lower_bound(buckets.begin(), buckets.end(), iteration,
                                   [](const SeriesBucket& b, double k) { return b.lastKey < k; });
  if (it == buckets.end()) return buckets.back().maxValue;
  if (it->lastKey == it->firstKey) return it->minValue;
  const double f = std::clamp((iteration - it->firstKey) / (it->lastKey - it->firstKey), 0.0, 1.0);
  return it->minValue + f * (it->maxValue - it->minValue);
}

std::optional<int> RunStore::bestValidationIndex() const {
  if (validation_.empty()) return std::nullopt;
  const auto best = std::max_element(
      validation_.begin(), validation_.end(),
      [](const ValidationPoint& a, const ValidationPoint& b) { return a.fitness < b.fitness; });
  return static_cast<int>(best - validation_.begin());
}

std::optional<double> RunStore::bestMap50_95() const {
  if (validation_.empty()) return std::nullopt;
  double best = 0;
  for (const ValidationPoint& p : validation_)
    best = std::max(best, p.map50_95);
  return best;
}

RunProgress RunStore::progress() const {
  RunProgress p;
  p.epoch = lastEpoch_;
  p.iteration = lastIteration_;
  p.imagesPerSecond = lastImagesPerSecond_;
  p.oscillation = latestOscillation_;
  const int perEpoch = iterationsPerEpoch();
  if (perEpoch > 0 && lastIteration_ >= 0)
    p.stepInEpoch =
        static_cast<int>(lastIteration_ - static_cast<long long>(lastEpoch_) * perEpoch) + 1;
  if (recentPace_.size() >= 2 && perEpoch > 0 && !isFinal(state_)) {
    const auto& [firstIteration, firstTime] = recentPace_.front();
    const auto& [lastIteration, lastTime] = recentPace_.back();
    if (lastIteration > firstIteration && lastTime > firstTime) {
      const double perIteration =
          (lastTime - firstTime) / static_cast<double>(lastIteration - firstIteration);
      const long long remaining = static_cast<long long>(epochs()) * perEpoch - 1 - lastIteration_;
      p.etaSeconds = std::max(0.0, static_cast<double>(remaining) * perIteration);
    }
  }
  return p;
}

std::size_t RunStore::memoryBytes() const {
  std::size_t bytes = sizeof(*this);
  for (const auto& s : loss_)
    bytes += s.memoryBytes();
  for (const auto& ranks : rankLoss_)
    for (const auto& s : ranks)
      bytes += s.memoryBytes();
  for (const auto& ranks : rankTime_)
    for (const auto& s : ranks)
      bytes += s.memoryBytes();
  bytes += lr_.memoryBytes() + imagesPerSecond_.memoryBytes() + oscillation_.memoryBytes() +
           wallTime_.memoryBytes();
  return bytes;
}

}  // namespace studio
