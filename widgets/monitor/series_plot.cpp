#include "widgets/monitor/series_plot.h"

#include <algorithm>
#include <cmath>

#include "stores/run_store.h"
#include "stores/series_buffer.h"

namespace studio {

QColor lossTermColor(LossTerm term) {
  switch (term) {
    case LossTerm::Box:
      return QColor(0x1f, 0x77, 0xb4);
    case LossTerm::Cls:
      return QColor(0xe0, 0x6c, 0x00);
    case LossTerm::Dfl:
      return QColor(0x2c, 0xa0, 0x2c);
    case LossTerm::Total:
      return QColor(0x30, 0x30, 0x30);
  }
  return Qt::black;
}

QColor rankColor(int rank) {
  static const QColor palette[] = {QColor(0xd6, 0x27, 0x28), QColor(0x94, 0x67, 0xbd),
                                   QColor(0x8c, 0x56, 0x4b), QColor(0xe3, 0x77, 0xc2),
                                   QColor(0x17, 0xbe, 0xcf), QColor(0xbc, 0xbd, 0x22),
                                   QColor(0x7f, 0x7f, 0x7f), QColor(0x1f, 0x77, 0xb4)};
  return palette[rank % 8];
}

QColor faint(const QColor& color) {
  constexpr double kWhite = 0.68;
  return QColor::fromRgbF(static_cast<float>(color.redF() + (1 - color.redF()) * kWhite),
                          static_cast<float>(color.greenF() + (1 - color.greenF()) * kWhite),
                          static_cast<float>(color.blueF() + (1 - color.blueF()) * kWhite));
}

struct SeriesPlot::Entry {
  Spec spec;
  std::optional<SeriesGraph> raw;
  std::optional<SeriesGraph> smoothed;
  bool visible = true;
};

SeriesPlot::SeriesPlot(ReplotScheduler* scheduler, QWidget* parent) : LivePlot(scheduler, parent) {
  legend->setVisible(false);
}

SeriesPlot::~SeriesPlot() = default;

int SeriesPlot::addSeries(const Spec& spec) {
  auto entry = std::make_unique<Entry>();
  entry->spec = spec;
  const bool both = spec.style == Style::RawAndSmoothed;
  if (spec.style != Style::Smoothed) {
    QCPGraph* g = addGraph();
    g->setName(both ? tr("%1 (raw)").arg(spec.name) : spec.name);
    g->setPen(QPen(both ? faint(spec.color) : spec.color, 1, both ? Qt::SolidLine : spec.penStyle));
    g->setAdaptiveSampling(true);
    if (both) g->removeFromLegend();
    entry->raw.emplace(g, false);
  }
  if (spec.style != Style::Raw) {
    QCPGraph* g = addGraph();
    g->setName(spec.name);
    g->setPen(QPen(spec.color, 1, spec.penStyle));
    g->setAdaptiveSampling(true);
    entry->smoothed.emplace(g, true);
    entry->smoothed->setSmoothingWeight(weight_);
  }
  entries_.push_back(std::move(entry));
  if (store()) {
    Entry& added = *entries_.back();
    const SeriesBuffer* source = added.spec.source(*store());
    if (added.raw) added.raw->setSource(source);
    if (added.smoothed) added.smoothed->setSource(source);
  }
  markDirty();
  return static_cast<int>(entries_.size()) - 1;
}

void SeriesPlot::clearSeries() {
  for (auto& entry : entries_) {
    if (entry->raw) removeGraph(entry->raw->graph());
    if (entry->smoothed) removeGraph(entry->smoothed->graph());
  }
  entries_.clear();
  markDirty();
}

void SeriesPlot::setValueLabel(const QString& label) {
  yAxis->setLabel(label);
}

QList<QCPGraph*> SeriesPlot::graphsOf(int index) const {
  QList<QCPGraph*> graphs;
  const Entry& entry = *entries_.at(static_cast<std::size_t>(index));
  if (entry.raw) graphs << entry.raw->graph();
  if (entry.smoothed) graphs << entry.smoothed->graph();
  return graphs;
}

void SeriesPlot::setSeriesVisible(int index, bool visible) {
  Entry& entry = *entries_.at(static_cast<std::size_t>(index));
  entry.visible = visible;
  for (QCPGraph* g : graphsOf(index))
    g->setVisible(visible);
  // A hidden series leaves the legend too; the smoothed curve (or the only one) stands for it.
  QCPGraph* named = entry.smoothed ? entry.smoothed->graph() : entry.raw->graph();
  if (visible)
    named->addToLegend();
  else
    named->removeFromLegend();
  markDirty();
}

bool SeriesPlot::isSeriesVisible(int index) const {
  return entries_.at(static_cast<std::size_t>(index))->visible;
}

void SeriesPlot::setSmoothingWeight(double weight) {
  if (weight == weight_) return;
  weight_ = weight;
  for (auto& entry : entries_)
    if (entry->smoothed) entry->smoothed->setSmoothingWeight(weight);
  markDirty();
}

void SeriesPlot::storeChanged() {
  for (auto& entry : entries_) {
    const SeriesBuffer* source = store() ? entry->spec.source(*store()) : nullptr;
    if (entry->raw) entry->raw->setSource(source);
    if (entry->smoothed) entry->smoothed->setSource(source);
  }
}

void SeriesPlot::syncData(bool rebuild) {
  const KeyMapper map = keyMapper();
  for (auto& entry : entries_) {
    // Hidden series are brought up to date when shown again (their graph is rebuilt then).
    if (!entry->visible) continue;
    // A series may appear after the plot was set up (a layer's first bn_stats).
    if (store() && !(entry->raw ? entry->raw->hasSource() : entry->smoothed->hasSource())) {
      const SeriesBuffer* source = entry->spec.source(*store());
      if (entry->raw) entry->raw->setSource(source);
      if (entry->smoothed) entry->smoothed->setSource(source);
    }
    if (entry->raw) entry->raw->sync(map, rebuild);
    if (entry->smoothed) entry->smoothed->sync(map, rebuild);
  }
}

LossPlot::LossPlot(ReplotScheduler* scheduler, QWidget* parent) : SeriesPlot(scheduler, parent) {
  for (const LossTerm term : kLossTerms)
    addSeries({lossTermName(term), lossTermColor(term),
               [term](const RunStore& store) { return &store.loss(term); }, Style::RawAndSmoothed});
  setValueLabel(tr("Loss"));
  placeLegendAbove();
}

void LossPlot::setRankOverlay(bool shown) {
  if (shown == rankOverlay_) return;
  rankOverlay_ = shown;
  for (int i = static_cast<int>(kLossTerms.size()); i < seriesCount(); ++i)
    setSeriesVisible(i, shown);
  requestRebuild();
}

void LossPlot::addRankSeries(int ranks) {
  for (int rank = ranksAdded_; rank < ranks; ++rank) {
    const int index =
        addSeries({tr("rank %1 total").arg(rank), rankColor(rank),
                   [rank](const RunStore& store) { return &store.rankLoss(rank, LossTerm::Total); },
                   Style::Smoothed, Qt::DashLine});
    setSeriesVisible(index, rankOverlay_);
  }
  ranksAdded_ = std::max(ranksAdded_, ranks);
}

void LossPlot::syncData(bool rebuild) {
  // Single-rank runs have nothing to overlay.
  if (store() && store()->worldSize() > 1 && store()->worldSize() > ranksAdded_)
    addRankSeries(store()->worldSize());
  SeriesPlot::syncData(rebuild);
}

OscillationPlot::OscillationPlot(ReplotScheduler* scheduler, QWidget* parent)
    : SeriesPlot(scheduler, parent), threshold_(syncbn::OscillationIndex::kDefaultThreshold) {
  addSeries({tr("oscillation index"), QColor(0x6a, 0x3d, 0x9a),
             [](const RunStore& store) { return &store.oscillation(); }, Style::Raw});
  setValueLabel(tr("Std / trend"));
  thresholdLine_ = new QCPItemStraightLine(this);
  thresholdLine_->point1->setCoords(0, threshold_);
  thresholdLine_->point2->setCoords(1, threshold_);
  thresholdLine_->setPen(QPen(QColor(0xc6, 0x28, 0x28), 1, Qt::DashLine));
  setEmptyText(tr("Needs %n step(s)", nullptr, syncbn::OscillationIndex::kMinimumPoints));
}

void OscillationPlot::rescaleToData() {
  rescaleAxes(true);
  // From zero, with the threshold always in view.
  yAxis->setRange(0, std::max(yAxis->range().upper * 1.1, threshold_ * 1.5));
}

ValidationPlot::ValidationPlot(ReplotScheduler* scheduler, QWidget* parent)
    : LivePlot(scheduler, parent) {
  const std::array<std::pair<QString, QColor>, 4> series{{
      {tr("P"), QColor(0x1f, 0x77, 0xb4)},
      {tr("R"), QColor(0xe0, 0x6c, 0x00)},
      {tr("mAP50"), QColor(0x2c, 0xa0, 0x2c)},
      {tr("mAP50-95"), QColor(0xd6, 0x27, 0x28)},
  }};
  for (std::size_t i = 0; i < series.size(); ++i) {
    QCPGraph* g = addGraph();
    g->setName(series[i].first);
    g->setPen(QPen(series[i].second, i == 3 ? 2 : 1));
    g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, 4));
    graphs_[i] = g;
  }
  placeLegendAbove();
  yAxis->setLabel(tr("Metric"));
  // Whole epochs on the axis.
  auto ticker = QSharedPointer<QCPAxisTickerFixed>::create();
  ticker->setTickStep(1);
  ticker->setScaleStrategy(QCPAxisTickerFixed::ssMultiples);
  xAxis->setTicker(ticker);
  bestLine_ = new QCPItemStraightLine(this);
  bestLine_->setPen(QPen(QColor(0x99, 0x99, 0x99), 1, Qt::DashLine));
  bestLine_->setVisible(false);
  bestLabel_ = new QCPItemText(this);
  bestLabel_->setPositionAlignment(Qt::AlignTop | Qt::AlignHCenter);
  bestLabel_->position->setTypeY(QCPItemPosition::ptAxisRectRatio);
  bestLabel_->setColor(QColor(0x55, 0x55, 0x55));
  bestLabel_->setPadding(QMargins(4, 0, 4, 0));
  bestLabel_->setVisible(false);
  setEmptyText(tr("Validated after each epoch"));
}

QString ValidationPlot::xTitle() const {
  return tr("Epoch");
}

void ValidationPlot::syncData(bool rebuild) {
  const auto* points = store() ? &store()->validation() : nullptr;
  if (!points || points->empty()) {
    for (QCPGraph* g : graphs_)
      g->data()->clear();
    bestLine_->setVisible(false);
    bestLabel_->setVisible(false);
    shown_ = 0;
    return;
  }
  // A handful of points per run: rebuilt when they change, which is once per epoch.
  if (!rebuild && points->size() == shown_) return;
  std::array<QVector<QCPGraphData>, 4> data;
  for (const ValidationPoint& p : *points) {
    const double epoch = p.epoch + 1;
    data[0].append({epoch, p.precision});
    data[1].append({epoch, p.recall});
    data[2].append({epoch, p.map50});
    data[3].append({epoch, p.map50_95});
  }
  const QCPScatterStyle marker = points->size() <= kMarkedEpochs
                                     ? QCPScatterStyle(QCPScatterStyle::ssCircle, 4)
                                     : QCPScatterStyle(QCPScatterStyle::ssNone);
  for (std::size_t i = 0; i < graphs_.size(); ++i) {
    graphs_[i]->data()->set(data[i], true);
    graphs_[i]->setScatterStyle(marker);
  }
  shown_ = points->size();
  if (const auto best = markedBestEpoch()) {
    bestLine_->point1->setCoords(*best, 0);
    bestLine_->point2->setCoords(*best, 1);
    bestLine_->setVisible(true);
    bestLabel_->position->setCoords(*best, 0.02);
    // Beside the line, on the side with room: the last epoch's label would leave the plot.
    const bool late = *best > (points->front().epoch + points->back().epoch + 2) / 2.0;
    bestLabel_->setPositionAlignment(Qt::AlignTop | (late ? Qt::AlignRight : Qt::AlignLeft));
    bestLabel_->setText(tr("best %1").arg(*best));
    bestLabel_->setVisible(true);
  }
}

std::optional<int> ValidationPlot::markedBestEpoch() const {
  if (!store()) return std::nullopt;
  const auto best = store()->bestValidationIndex();
  if (!best) return std::nullopt;
  return store()->validation()[static_cast<std::size_t>(*best)].epoch + 1;
}

void ValidationPlot::rescaleToData() {
  rescaleAxes(true);
  const QCPRange x = xAxis->range();
  xAxis->setRange(std::min(0.5, x.lower - 0.5), x.upper + 0.5);
  yAxis->setRange(0, std::max(0.1, std::min(1.0, yAxis->range().upper * 1.15)));
}

}  // namespace studio
