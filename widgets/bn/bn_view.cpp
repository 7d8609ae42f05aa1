#include "widgets/bn/bn_view.h"

#include <QComboBox>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QVBoxLayout>
#include <cmath>

#include "common/bn_diagnosis.h"
#include "stores/bn_layers_model.h"
#include "stores/qt_text.h"
#include "stores/run_store.h"
#include "widgets/common/titled_panel.h"
#include "widgets/monitor/series_plot.h"

namespace studio {
namespace {

QString valueName(BnRankValue value) {
  switch (value) {
    case BnRankValue::BatchMean:
      return QCoreApplication::translate("BnView", "Batch mean");
    case BnRankValue::BatchVar:
      return QCoreApplication::translate("BnView", "Batch variance");
    case BnRankValue::RunningMean:
      return QCoreApplication::translate("BnView", "Running mean");
    case BnRankValue::RunningVar:
      return QCoreApplication::translate("BnView", "Running variance");
    case BnRankValue::Noise:
      return QCoreApplication::translate("BnView", "Normaliser noise");
  }
  return {};
}

double rankValue(const syncbn::protocol::BnLayerStats& layer, BnRankValue value, int rank) {
  const std::vector<double>* values = nullptr;
  switch (value) {
    case BnRankValue::BatchMean:
      values = &layer.rank_mean;
      break;
    case BnRankValue::BatchVar:
      values = &layer.rank_var;
      break;
    case BnRankValue::RunningMean:
      values = &layer.rank_running_mean;
      break;
    case BnRankValue::RunningVar:
      values = &layer.rank_running_var;
      break;
    case BnRankValue::Noise:
      values = &layer.rank_noise;
      break;
  }
  const auto r = static_cast<std::size_t>(rank);
  return values && r < values->size() ? (*values)[r] : std::nan("");
}

void addThreshold(QCustomPlot* plot, double value, const QColor& colour) {
  auto* line = new QCPItemStraightLine(plot);
  line->point1->setCoords(0, value);
  line->point2->setCoords(1, value);
  line->setPen(QPen(colour, 1, Qt::DashLine));
}

}  // namespace

BnHeatmap::BnHeatmap(ReplotScheduler* scheduler, QWidget* parent)
    : LivePlot(scheduler, parent), value_(BnRankValue::Noise) {
  map_ = new QCPColorMap(xAxis, yAxis);
  scale_ = new QCPColorScale(this);
  plotLayout()->addElement(0, 1, scale_);
  scale_->setType(QCPAxis::atRight);
  map_->setColorScale(scale_);
  map_->setGradient(QCPColorGradient::gpThermal);
  map_->setInterpolate(false);
  auto* margins = new QCPMarginGroup(this);
  axisRect()->setMarginGroup(QCP::msBottom | QCP::msTop, margins);
  scale_->setMarginGroup(QCP::msBottom | QCP::msTop, margins);
  yAxis->setRangeReversed(true);
  yAxis->setLabel(tr("Layer (model order)"));
  setInteractions({});  // a picture of one probe: nothing to pan
  setEmptyText(tr("No BatchNorm statistics yet"));
}

void BnHeatmap::setValue(BnRankValue value) {
  value_ = value;
  scale_->axis()->setLabel(valueName(value));
  requestRebuild();
}

void BnHeatmap::resizeEvent(QResizeEvent* event) {
  LivePlot::resizeEvent(event);
  requestRebuild();  // how many layer names fit depends on the height
}

QString BnHeatmap::xTitle() const {
  return tr("Rank");
}

bool BnHeatmap::hasData() const {
  return rows_ > 0 && ranks_ > 0;
}

double BnHeatmap::cell(int rank, int row) const {
  if (!store() || !store()->latestBnStats()) return std::nan("");
  const auto& layers = store()->latestBnStats()->layers;
  if (row < 0 || row >= static_cast<int>(layers.size())) return std::nan("");
  return rankValue(layers[static_cast<std::size_t>(row)], value_, rank);
}

void BnHeatmap::syncData(bool) {
  const auto* stats = store() ? &store()->latestBnStats() : nullptr;
  if (!stats || !*stats || (*stats)->layers.empty()) {
    rows_ = ranks_ = 0;
    map_->data()->clear();
    return;
  }
  const auto& layers = (*stats)->layers;
  rows_ = static_cast<int>(layers.size());
  ranks_ = static_cast<int>(layers.front().rank_mean.size());
  // A single rank still needs two cells across for QCPColorMap; both show rank 0.
  const int columns = std::max(ranks_, 2);
  map_->data()->setSize(columns, rows_);
  map_->data()->setRange(QCPRange(ranks_ == 1 ? -0.5 : 0, ranks_ == 1 ? 0.5 : ranks_ - 1),
                         QCPRange(0, std::max(rows_ - 1, 1)));
  for (int row = 0; row < rows_; ++row)
    for (int column = 0; column < columns; ++column)
      map_->data()->setCell(column, row, cell(std::min(column, ranks_ - 1), row));
  map_->rescaleDataRange(true);
  // Every few layers by name, as many as fit the axis' height without overlapping; the tooltip
  // names each one.
  auto ticker = QSharedPointer<QCPAxisTickerText>::create();
  const int lineHeight = QFontMetrics(yAxis->tickLabelFont()).height() + 2;
  const int fitting = std::max(2, axisRect()->height() / std::max(1, lineHeight));
  const int every = std::max(1, (rows_ + fitting - 1) / fitting);
  for (int row = 0; row < rows_; row += every)
    ticker->addTick(row, toQString(layers[static_cast<std::size_t>(row)].layer));
  yAxis->setTicker(ticker);
  auto ranks = QSharedPointer<QCPAxisTickerText>::create();
  const int rankEvery = std::max(1, ranks_ / 16);
  for (int r = 0; r < ranks_; r += rankEvery)
    ranks->addTick(ranks_ == 1 ? 0 : r, QString::number(r));
  xAxis->setTicker(ranks);
}

void BnHeatmap::rescaleToData() {
  const double half = ranks_ == 1 ? 1.0 : 0.5;
  xAxis->setRange(ranks_ == 1 ? -half : -half, ranks_ == 1 ? half : ranks_ - 1 + half);
  yAxis->setRange(-0.5, std::max(rows_ - 1, 1) + 0.5);
}

QString BnHeatmap::valuesAt(double x, double y) const {
  if (!hasData()) return {};
  const int rank = ranks_ == 1 ? 0 : static_cast<int>(std::lround(x));
  const int row = static_cast<int>(std::lround(y));
  if (rank < 0 || rank >= ranks_ || row < 0 || row >= rows_) return {};
  const auto& layer = store()->latestBnStats()->layers[static_cast<std::size_t>(row)];
  return tr("%1, rank %2\n%3: %4")
      .arg(toQString(layer.layer))
      .arg(rank)
      .arg(valueName(value_))
      .arg(cell(rank, row), 0, 'g', 4);
}

BnView::BnView(ReplotScheduler* scheduler, QWidget* parent)
    : QWidget(parent), scheduler_(scheduler) {
  setObjectName(QStringLiteral("bnView"));
  auto* grid = new QGridLayout(this);
  grid->setContentsMargins(0, 0, 0, 0);
  grid->setSpacing(6);

  heatmap_ = new BnHeatmap(scheduler, this);
  heatmap_->setObjectName(QStringLiteral("bnHeatmap"));
  statistic_ = new QComboBox(this);
  statistic_->setObjectName(QStringLiteral("bnStatistic"));
  statistic_->setToolTip(tr("The statistic the heatmap shows, per layer and rank"));
  for (const BnRankValue value : kBnRankValues)
    statistic_->addItem(valueName(value), static_cast<int>(value));
  statistic_->setCurrentIndex(statistic_->findData(static_cast<int>(BnRankValue::Noise)));
  heatmap_->setValue(BnRankValue::Noise);
  connect(statistic_, &QComboBox::currentIndexChanged, this, [this] {
    heatmap_->setValue(static_cast<BnRankValue>(statistic_->currentData().toInt()));
  });

  model_ = new BnLayersModel(this);
  sorted_ = new QSortFilterProxyModel(this);
  sorted_->setSourceModel(model_);
  sorted_->setSortRole(BnLayersModel::SortRole);
  layers_ = new QTableView(this);
  layers_->setObjectName(QStringLiteral("bnLayers"));
  layers_->setModel(sorted_);
  layers_->setSortingEnabled(true);
  layers_->sortByColumn(BnLayersModel::NoiseColumn, Qt::DescendingOrder);
  layers_->setSelectionBehavior(QAbstractItemView::SelectRows);
  layers_->setSelectionMode(QAbstractItemView::SingleSelection);
  layers_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  layers_->verticalHeader()->hide();
  layers_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  layers_->horizontalHeader()->setSectionResizeMode(BnLayersModel::LayerColumn, QHeaderView::Stretch);
  layers_->setToolTip(tr("Click a layer to follow its statistics per rank; click a header to sort"));
  connect(layers_->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
          [this](const QModelIndex& current) {
            if (current.isValid())
              selectLayer(current.siblingAtColumn(0).data(BnLayersModel::LayerNameRole).toString());
          });

  layerMean_ = new SeriesPlot(scheduler, this);
  layerMean_->setObjectName(QStringLiteral("bnLayerMean"));
  layerMean_->setFeeds(LivePlot::BnStats);
  layerMean_->setValueLabel(tr("Mean"));
  layerMean_->setEmptyText(tr("Choose a layer"));
  layerVar_ = new SeriesPlot(scheduler, this);
  layerVar_->setObjectName(QStringLiteral("bnLayerVar"));
  layerVar_->setFeeds(LivePlot::BnStats);
  layerVar_->setValueLabel(tr("Variance"));
  layerVar_->setEmptyText(tr("Choose a layer"));

  summary_ = new SeriesPlot(scheduler, this);
  summary_->setObjectName(QStringLiteral("bnSummary"));
  summary_->setFeeds(LivePlot::BnStats);
  summary_->setValueLabel(tr("Std units"));
  summary_->setEmptyText(tr("No BatchNorm statistics yet"));
  const syncbn::diagnosis::Thresholds thresholds;
  const QColor noise(0xd6, 0x27, 0x28), disagreement(0x1f, 0x77, 0xb4);
  summary_->addSeries({tr("noise, median"), noise,
                       [](const RunStore& s) { return &s.bnSummary(BnSummary::NoiseMedian); }});
  summary_->addSeries({tr("noise, max"), noise,
                       [](const RunStore& s) { return &s.bnSummary(BnSummary::NoiseMax); },
                       SeriesPlot::Style::Raw, Qt::DotLine});
  summary_->addSeries({tr("disagreement, median"), disagreement,
                       [](const RunStore& s) { return &s.bnSummary(BnSummary::DisagreementMedian); }});
  summary_->addSeries({tr("disagreement, max"), disagreement,
                       [](const RunStore& s) { return &s.bnSummary(BnSummary::DisagreementMax); },
                       SeriesPlot::Style::Raw, Qt::DotLine});
  summary_->placeLegendAbove();
  summary_->legend->setWrap(2);  // two entries a row: the names stay whole in a narrow panel
  summary_->legend->setFillOrder(QCPLegend::foColumnsFirst, true);  // re-flows the entries
  addThreshold(summary_, thresholds.noise, noise);
  addThreshold(summary_, thresholds.disagreement, disagreement);

  grid->addWidget(new TitledPanel(tr("Per layer and rank"), heatmap_, statistic_), 0, 0);
  grid->addWidget(new TitledPanel(tr("Layers"), layers_), 0, 1);
  grid->addWidget(new TitledPanel(tr("Over all layers"), summary_), 0, 2);
  auto* layerPlots = new QWidget(this);
  auto* row = new QHBoxLayout(layerPlots);
  row->setContentsMargins(0, 0, 0, 0);
  row->addWidget(layerMean_);
  row->addWidget(layerVar_);
  auto* layerPanel = new TitledPanel(
      tr("Selected layer: batch statistics per rank (solid) and running statistics (dashed)"),
      layerPlots);
  layerTitle_ = layerPanel->titleLabel();
  grid->addWidget(layerPanel, 1, 0, 1, 3);
  grid->setColumnStretch(0, 3);
  grid->setColumnStretch(1, 2);
  grid->setColumnStretch(2, 3);
  grid->setRowStretch(0, 3);
  grid->setRowStretch(1, 2);
}

void BnView::setStore(RunStore* store) {
  if (store_) store_->disconnect(this);
  store_ = store;
  model_->setStore(store);
  for (LivePlot* plot : std::initializer_list<LivePlot*>{heatmap_, layerMean_, layerVar_, summary_})
    plot->setStore(store);
  layer_.clear();
  ranksShown_ = 0;
  rebuildLayerPlots();
  if (store_) connect(store_, &RunStore::bnStatsAdded, this, &BnView::onProbe);
  onProbe();
}

void BnView::onProbe() {
  if (!store_ || !store_->latestBnStats() || store_->latestBnStats()->layers.empty()) return;
  const auto& stats = *store_->latestBnStats();
  // Follow the worst layer until the user picks one.
  if (layer_.isEmpty()) {
    selectLayer(toQString(stats.worst_layer.empty() ? stats.layers.front().layer : stats.worst_layer));
  } else if (static_cast<int>(stats.layers.front().rank_mean.size()) != ranksShown_) {
    rebuildLayerPlots();
  }
}

void BnView::selectLayer(const QString& layer) {
  if (layer == layer_) return;
  layer_ = layer;
  rebuildLayerPlots();
}

void BnView::rebuildLayerPlots() {
  layerMean_->clearSeries();
  layerVar_->clearSeries();
  if (!store_ || layer_.isEmpty()) return;
  const std::string name = toStdString(layer_);
  const int ranks = store_->worldSize();
  ranksShown_ = store_->latestBnStats() && !store_->latestBnStats()->layers.empty()
                    ? static_cast<int>(store_->latestBnStats()->layers.front().rank_mean.size())
                    : ranks;
  const auto source = [name](int rank, BnRankValue value) {
    return [name, rank, value](const RunStore& s) -> const SeriesBuffer* {
      const BnLayerHistory* history = s.bnLayer(name);
      return history ? &history->rankValue(rank, value) : nullptr;
    };
  };
  for (int r = 0; r < ranksShown_; ++r) {
    layerMean_->addSeries({tr("rank %1").arg(r), rankColor(r), source(r, BnRankValue::BatchMean)});
    layerMean_->addSeries({tr("rank %1 running").arg(r), rankColor(r),
                           source(r, BnRankValue::RunningMean), SeriesPlot::Style::Raw,
                           Qt::DashLine});
    layerVar_->addSeries({tr("rank %1").arg(r), rankColor(r), source(r, BnRankValue::BatchVar)});
    layerVar_->addSeries({tr("rank %1 running").arg(r), rankColor(r),
                          source(r, BnRankValue::RunningVar), SeriesPlot::Style::Raw,
                          Qt::DashLine});
  }
  layerMean_->xAxis->setLabel(QString());
  layerMean_->setValueLabel(tr("Mean"));
  layerVar_->setValueLabel(tr("Variance"));
  if (layerTitle_)
    layerTitle_->setText(tr("Selected layer %1: batch statistics per rank (solid) and running "
                            "statistics (dashed)")
                             .arg(layer_));
  layerMean_->resetView();
  layerVar_->resetView();
}

}  // namespace studio
