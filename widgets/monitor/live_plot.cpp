#include "widgets/monitor/live_plot.h"

#include <QToolTip>
#include <algorithm>
#include <cmath>

#include "stores/run_store.h"
#include "stores/series_buffer.h"
#include "widgets/monitor/replot_scheduler.h"

namespace studio {

QString xAxisLabel(XAxisMode mode) {
  switch (mode) {
    case XAxisMode::Iteration:
      return QCoreApplication::translate("LivePlot", "Iteration");
    case XAxisMode::Epoch:
      return QCoreApplication::translate("LivePlot", "Epoch");
    case XAxisMode::Time:
      return QCoreApplication::translate("LivePlot", "Time since start (s)");
  }
  return {};
}

KeyMapper::KeyMapper(const RunStore* store, XAxisMode mode) : store_(store), mode_(mode) {
  if (mode_ == XAxisMode::Time && (store_ == nullptr || store_->wallTime().empty()))
    mode_ = XAxisMode::Iteration;
  if (store_ && store_->iterationsPerEpoch() > 0)
    iterationsPerEpoch_ = store_->iterationsPerEpoch();
}

double KeyMapper::operator()(double iteration) const {
  switch (mode_) {
    case XAxisMode::Iteration:
      return iteration;
    case XAxisMode::Epoch:
      return (iteration + 1) / iterationsPerEpoch_;
    case XAxisMode::Time:
      return store_->timeAt(iteration).value_or(0.0);
  }
  return iteration;
}

SeriesGraph::SeriesGraph(QCPGraph* graph, bool smoothed) : graph_(graph), smoothed_(smoothed) {}

void SeriesGraph::setSource(const SeriesBuffer* source) {
  source_ = source;
  dirty_ = true;
}

void SeriesGraph::setSmoothingWeight(double weight) {
  if (weight == ema_.weight()) return;
  ema_ = syncbn::DebiasedEma(weight);
  dirty_ = true;
}

void SeriesGraph::sync(const KeyMapper& map, bool rebuild) {
  if (source_ == nullptr) {
    if (!graph_->data()->isEmpty()) graph_->data()->clear();
    return;
  }
  if (rebuild || dirty_ || source_->generation() != generation_) {
    rebuildFrom(map);
    return;
  }
  // New points are at the end of the full-resolution part: walk back to the last one shown.
  const std::deque<SeriesPoint>& full = source_->fullResolution();
  std::size_t first = full.size();
  while (first > 0 && full[first - 1].key > lastKey_)
    --first;
  if (first == full.size()) return;
  QVector<QCPGraphData> added;
  added.reserve(static_cast<qsizetype>(full.size() - first));
  for (std::size_t i = first; i < full.size(); ++i) {
    const SeriesPoint& p = full[i];
    added.append(QCPGraphData(map(p.key), smoothed_ ? ema_.add(p.value) : p.value));
  }
  lastKey_ = full.back().key;
  graph_->data()->add(added, true);
}

void SeriesGraph::rebuildFrom(const KeyMapper& map) {
  QVector<QCPGraphData> points;
  if (smoothed_) {
    ema_.reset();
    points.reserve(
        static_cast<qsizetype>(source_->buckets().size() + source_->fullResolution().size()));
    source_->forEachRun([&](double key, double mean, std::int64_t count) {
      points.append(QCPGraphData(map(key), ema_.addRun(mean, count)));
    });
  } else {
    const std::vector<SeriesPoint> draw = source_->drawPoints();
    points.reserve(static_cast<qsizetype>(draw.size()));
    for (const SeriesPoint& p : draw)
      points.append(QCPGraphData(map(p.key), p.value));
  }
  graph_->data()->set(points, true);
  generation_ = source_->generation();
  const SeriesPoint* last = source_->last();
  lastKey_ = last ? last->key : -std::numeric_limits<double>::infinity();
  dirty_ = false;
}

LivePlot::LivePlot(ReplotScheduler* scheduler, QWidget* parent)
    : QCustomPlot(parent), scheduler_(scheduler) {
  // Dense series: 1-pixel pens, no antialiasing (a wider pen costs ~60x on 10^6 points).
  setNotAntialiasedElements(QCP::aeAll);
  setAntialiasedElements(QCP::aeLegend | QCP::aeLegendItems | QCP::aeItems);
  setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
  setNoAntialiasingOnDrag(true);
  setMouseTracking(true);
  axisRect()->setRangeDrag(Qt::Horizontal | Qt::Vertical);
  axisRect()->setRangeZoom(Qt::Horizontal | Qt::Vertical);
  QFont small = font();
  small.setPointSizeF(small.pointSizeF() * 0.9);
  xAxis->setTickLabelFont(small);
  yAxis->setTickLabelFont(small);
  xAxis->setLabelFont(small);
  yAxis->setLabelFont(small);
  legend->setFont(small);
  legend->setBrush(QColor(255, 255, 255, 220));
  legend->setBorderPen(QPen(QColor(200, 200, 200)));
  axisRect()->setAutoMargins(QCP::msAll);
  // Small enough that two rows of plots fit a 768-pixel-high screen with the rest of the window.
  setMinimumSize(160, 80);
  yAxis->ticker()->setTickCount(4);
  xAxis->ticker()->setTickCount(6);

  emptyLabel_ = new QCPItemText(this);
  emptyLabel_->setPositionAlignment(Qt::AlignCenter);
  emptyLabel_->position->setType(QCPItemPosition::ptAxisRectRatio);
  emptyLabel_->position->setCoords(0.5, 0.5);
  emptyLabel_->setColor(QColor(120, 120, 120));
  emptyLabel_->setClipToAxisRect(false);
  setEmptyText(tr("Waiting for the first step"));
}

LivePlot::~LivePlot() = default;

RunStore* LivePlot::store() const {
  return store_;
}

void LivePlot::setStore(RunStore* store) {
  if (store_ == store) return;
  if (store_) store_->disconnect(this);
  store_ = store;
  if (store_) {
    if (feeds() & Steps) connect(store_, &RunStore::stepsAdded, this, &LivePlot::markDirty);
    if (feeds() & Validation)
      connect(store_, &RunStore::validationAdded, this, &LivePlot::markDirty);
    if (feeds() & BnStats) connect(store_, &RunStore::bnStatsAdded, this, &LivePlot::markDirty);
    connect(store_, &RunStore::runInfoChanged, this, &LivePlot::requestRebuild);
    // Graphs point into the store's series: let go of them before they are gone.
    connect(store_, &QObject::destroyed, this, [this] {
      storeChanged();
      requestRebuild();
    });
  }
  storeChanged();
  following_ = true;
  requestRebuild();
}

void LivePlot::setXAxisMode(XAxisMode mode) {
  if (mode == mode_) return;
  mode_ = mode;
  xAxis->setLabel(xTitle());
  following_ = true;
  requestRebuild();
}

QString LivePlot::xTitle() const {
  return xAxisLabel(keyMapper().effectiveMode());
}

void LivePlot::placeLegendAbove() {
  plotLayout()->insertRow(0);
  plotLayout()->addElement(0, 0, legend);
  plotLayout()->setRowStretchFactor(0, 0.001);
  legend->setFillOrder(QCPLegend::foColumnsFirst);
  legend->setWrap(8);
  legend->setBorderPen(Qt::NoPen);
  legend->setBrush(Qt::NoBrush);
  legend->setMargins(QMargins(0, 0, 0, 0));
  legend->setColumnSpacing(10);
  legend->setIconSize(16, 8);
  legend->setVisible(true);
}

void LivePlot::setEmptyText(const QString& text) {
  emptyLabel_->setText(text);
}

void LivePlot::markDirty() {
  dirty_ = true;
  if (scheduler_) scheduler_->request(this);
}

void LivePlot::refresh() {
  syncData(rebuild_);
  rebuild_ = false;
  dirty_ = false;
  const bool empty = !hasData();
  emptyLabel_->setVisible(empty);
  if (xAxis->label() != xTitle()) xAxis->setLabel(xTitle());
  if (following_ && !empty) rescaleToData();
  replot(QCustomPlot::rpQueuedReplot);
}

bool LivePlot::hasData() const {
  for (int i = 0; i < graphCount(); ++i)
    if (graph(i)->visible() && !graph(i)->data()->isEmpty()) return true;
  return false;
}

void LivePlot::rescaleToData() {
  rescaleAxes(true);
  const QCPRange y = yAxis->range();
  const double pad = std::max(y.size() * 0.05, std::abs(y.upper) * 1e-3 + 1e-12);
  yAxis->setRange(y.lower - pad, y.upper + pad);
}

void LivePlot::resetView() {
  following_ = true;
  emit followingChanged(true);
  markDirty();
}

void LivePlot::stopFollowing() {
  if (!following_) return;
  following_ = false;
  emit followingChanged(false);
}

void LivePlot::mouseDoubleClickEvent(QMouseEvent* event) {
  QCustomPlot::mouseDoubleClickEvent(event);
  resetView();
}

void LivePlot::wheelEvent(QWheelEvent* event) {
  stopFollowing();
  QCustomPlot::wheelEvent(event);
}

void LivePlot::mouseMoveEvent(QMouseEvent* event) {
  if (event->buttons() & Qt::LeftButton) stopFollowing();
  QCustomPlot::mouseMoveEvent(event);
  if (event->buttons() != Qt::NoButton || !axisRect()->rect().contains(event->pos())) {
    QToolTip::hideText();
    return;
  }
  const QString text =
      valuesAt(xAxis->pixelToCoord(event->pos().x()), yAxis->pixelToCoord(event->pos().y()));
  if (text.isEmpty())
    QToolTip::hideText();
  else
    QToolTip::showText(event->globalPosition().toPoint(), text, this);
}

void LivePlot::showEvent(QShowEvent* event) {
  QCustomPlot::showEvent(event);
  if (dirty_) markDirty();
}

QString LivePlot::valuesAt(double x, double) const {
  QStringList lines;
  double shownKey = std::numeric_limits<double>::quiet_NaN();
  for (int i = 0; i < graphCount(); ++i) {
    QCPGraph* g = graph(i);
    if (!g->visible() || g->data()->isEmpty() || g->name().isEmpty()) continue;
    auto it = g->data()->findBegin(x, false);
    if (it == g->data()->constEnd()) --it;
    // The nearer of the two neighbours.
    if (it != g->data()->constBegin()) {
      const auto before = it - 1;
      if (std::abs(before->key - x) < std::abs(it->key - x)) it = before;
    }
    if (std::isnan(shownKey)) shownKey = it->key;
    lines << QStringLiteral("%1: %2").arg(g->name(), QString::number(it->value, 'g', 5));
  }
  if (lines.isEmpty()) return {};
  lines.prepend(QStringLiteral("%1 %2").arg(xTitle(), QString::number(shownKey, 'g', 6)));
  return lines.join(QLatin1Char('\n'));
}

}  // namespace studio
