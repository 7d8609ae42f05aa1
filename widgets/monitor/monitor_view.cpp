#include "widgets/monitor/monitor_view.h"

#include <QCheckBox>
#include <QComboBox>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QScrollArea>
#include <QSettings>
#include <QSlider>
#include <QSplitter>
#include <QStyledItemDelegate>
#include <QTabWidget>
#include <QTableView>
#include <QVBoxLayout>

#include "stores/monitor_models.h"
#include "stores/qt_text.h"
#include "stores/run_store.h"
#include "stores/translated_text.h"
#include "widgets/bn/bn_view.h"
#include "widgets/bn/diagnosis_panel.h"
#include "widgets/common/titled_panel.h"
#include "widgets/monitor/log_view.h"
#include "widgets/monitor/replot_scheduler.h"
#include "widgets/monitor/run_status_line.h"
#include "widgets/monitor/series_plot.h"

namespace studio {
namespace {

const QString kXAxisKey = QStringLiteral("monitor/xAxis");
const QString kSmoothingKey = QStringLiteral("monitor/smoothing");
const QString kRankOverlayKey = QStringLiteral("monitor/rankOverlay");
constexpr double kDefaultSmoothing = 0.6;  // TensorBoard's default

// The slowest rank's row on a light amber background.
class SlowestRankDelegate : public QStyledItemDelegate {
 public:
  using QStyledItemDelegate::QStyledItemDelegate;

 protected:
  void initStyleOption(QStyleOptionViewItem* option, const QModelIndex& index) const override {
    QStyledItemDelegate::initStyleOption(option, index);
    if (index.data(RankTimingModel::SlowestRole).toBool()) {
      option->backgroundBrush = QColor(0xff, 0xec, 0xb3);
      option->font.setBold(true);
    }
  }
};

QTableView* createTable(QWidget* parent, QAbstractItemModel* model, const QString& name) {
  auto* table = new QTableView(parent);
  table->setObjectName(name);
  table->setModel(model);
  table->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table->setSelectionBehavior(QAbstractItemView::SelectRows);
  table->setAlternatingRowColors(true);
  table->verticalHeader()->hide();
  table->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
  return table;
}

}  // namespace

MonitorView::MonitorView(QWidget* parent) : QWidget(parent), scheduler_(new ReplotScheduler(this)) {
  setObjectName(QStringLiteral("monitorView"));
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(8, 8, 8, 8);
  status_ = new RunStatusLine(this);
  layout->addWidget(status_);
  banner_ = new QLabel(this);
  banner_->setObjectName(QStringLiteral("diagnosisBanner"));
  banner_->setWordWrap(true);
  banner_->setTextFormat(Qt::RichText);
  banner_->hide();
  connect(banner_, &QLabel::linkActivated, this, &MonitorView::showBatchNorm);
  layout->addWidget(banner_);
  layout->addWidget(createControls());

  views_ = new QTabWidget(this);
  views_->setObjectName(QStringLiteral("monitorViews"));
  views_->setDocumentMode(true);
  views_->addTab(createPlots(), tr("Overview"));
  views_->addTab(createBatchNorm(), tr("BatchNorm"));
  connect(views_, &QTabWidget::currentChanged, this, &MonitorView::updateBanner);
  auto* split = new QSplitter(Qt::Vertical, this);
  split->setObjectName(QStringLiteral("monitorSplitter"));
  split->addWidget(views_);
  split->addWidget(createDetails());
  split->setStretchFactor(0, 3);
  split->setStretchFactor(1, 1);
  split->setChildrenCollapsible(false);
  split->setSizes({640, 160});  // the plots first; the tables keep a few rows
  layout->addWidget(split, 1);
  readSettings();
}

QWidget* MonitorView::createControls() {
  auto* bar = new QWidget(this);
  auto* row = new QHBoxLayout(bar);
  row->setContentsMargins(0, 0, 0, 0);
  row->addWidget(new QLabel(tr("X axis:"), bar));
  xAxis_ = new QComboBox(bar);
  xAxis_->setObjectName(QStringLiteral("xAxisMode"));
  xAxis_->setToolTip(tr("Plot against iterations, epochs or the wall time since the run started"));
  xAxis_->addItem(tr("Iteration"), static_cast<int>(XAxisMode::Iteration));
  xAxis_->addItem(tr("Epoch"), static_cast<int>(XAxisMode::Epoch));
  xAxis_->addItem(tr("Wall time"), static_cast<int>(XAxisMode::Time));
  row->addWidget(xAxis_);
  row->addSpacing(16);
  auto* smoothingLabel = new QLabel(tr("Smoothing:"), bar);
  row->addWidget(smoothingLabel);
  smoothing_ = new QSlider(Qt::Horizontal, bar);
  smoothing_->setObjectName(QStringLiteral("smoothing"));
  smoothing_->setRange(0, 99);
  smoothing_->setFixedWidth(140);
  smoothing_->setToolTip(
      tr("Weight of TensorBoard's debiased exponential moving average over the raw values: 0 "
         "follows the data, 0.99 smooths heavily. The raw values stay drawn, faint."));
  smoothingLabel->setBuddy(smoothing_);
  row->addWidget(smoothing_);
  smoothingValue_ = new QLabel(bar);
  smoothingValue_->setMinimumWidth(
      smoothingValue_->fontMetrics().horizontalAdvance(QStringLiteral("0.00")) + 4);
  row->addWidget(smoothingValue_);
  row->addSpacing(16);
  rankOverlay_ = new QCheckBox(tr("Per-rank losses"), bar);
  rankOverlay_->setObjectName(QStringLiteral("rankOverlay"));
  rankOverlay_->setToolTip(
      tr("Overlay each rank's total loss (smoothed, dashed). With plain BatchNorm and few images "
         "per rank the ranks' losses part."));
  row->addWidget(rankOverlay_);
  row->addStretch(1);
  auto* hint = new QLabel(tr("Wheel: zoom · drag: pan · double-click: follow"), bar);
  hint->setStyleSheet(QStringLiteral("color: palette(mid);"));
  row->addWidget(hint);

  connect(xAxis_, &QComboBox::currentIndexChanged, this, [this] {
    const auto mode = static_cast<XAxisMode>(xAxis_->currentData().toInt());
    for (LivePlot* plot : std::initializer_list<LivePlot*>{loss_, oscillation_, lr_, throughput_})
      plot->setXAxisMode(mode);
    QSettings().setValue(kXAxisKey, static_cast<int>(mode));
  });
  connect(smoothing_, &QSlider::valueChanged, this, [this](int value) {
    const double weight = value / 100.0;
    smoothingValue_->setText(QString::number(weight, 'f', 2));
    loss_->setSmoothingWeight(weight);
    throughput_->setSmoothingWeight(weight);
    QSettings().setValue(kSmoothingKey, weight);
  });
  connect(rankOverlay_, &QCheckBox::toggled, this, [this](bool shown) {
    loss_->setRankOverlay(shown);
    QSettings().setValue(kRankOverlayKey, shown);
  });
  return bar;
}

QWidget* MonitorView::createPlots() {
  auto* area = new QWidget(this);
  auto* grid = new QGridLayout(area);
  grid->setContentsMargins(0, 0, 0, 0);
  grid->setSpacing(6);

  loss_ = new LossPlot(scheduler_, area);
  loss_->setObjectName(QStringLiteral("lossPlot"));
  oscillation_ = new OscillationPlot(scheduler_, area);
  oscillation_->setObjectName(QStringLiteral("oscillationPlot"));
  lr_ = new SeriesPlot(scheduler_, area);
  lr_->setObjectName(QStringLiteral("learningRatePlot"));
  lr_->addSeries({tr("lr"), QColor(0x55, 0x55, 0x55),
                  [](const RunStore& store) { return &store.learningRate(); }});
  lr_->setValueLabel(tr("Learning rate"));
  throughput_ = new SeriesPlot(scheduler_, area);
  throughput_->setObjectName(QStringLiteral("throughputPlot"));
  throughput_->addSeries({tr("images/s"), QColor(0x00, 0x79, 0x6b),
                          [](const RunStore& store) { return &store.imagesPerSecond(); },
                          SeriesPlot::Style::RawAndSmoothed});
  throughput_->setValueLabel(tr("Images/s"));
  validation_ = new ValidationPlot(scheduler_, area);
  validation_->setObjectName(QStringLiteral("validationPlot"));

  badge_ = new QLabel(area);
  badge_->setObjectName(QStringLiteral("oscillationBadge"));
  badge_->setToolTip(tr("Rolling standard deviation of the total loss around its smoothed trend, "
                        "divided by the trend, over the last %1 iterations. Above the dashed "
                        "line the loss oscillates.")
                         .arg(syncbn::OscillationIndex::kDefaultWindow));

  grid->addWidget(new TitledPanel(tr("Loss"), loss_), 0, 0, 1, 2);
  grid->addWidget(new TitledPanel(tr("Validation"), validation_), 0, 2);
  grid->addWidget(new TitledPanel(tr("Oscillation"), oscillation_, badge_), 1, 0);
  grid->addWidget(new TitledPanel(tr("Learning rate"), lr_), 1, 1);
  grid->addWidget(new TitledPanel(tr("Throughput"), throughput_), 1, 2);
  grid->setRowStretch(0, 3);
  grid->setRowStretch(1, 2);
  grid->setColumnStretch(0, 1);
  grid->setColumnStretch(1, 1);
  grid->setColumnStretch(2, 1);
  updateBadge();
  return area;
}

QWidget* MonitorView::createDetails() {
  tabs_ = new QTabWidget(this);
  tabs_->setObjectName(QStringLiteral("monitorDetails"));
  rankModel_ = new RankTimingModel(this);
  ranks_ = createTable(tabs_, rankModel_, QStringLiteral("ranksTable"));
  ranks_->setItemDelegate(new SlowestRankDelegate(ranks_));
  ranks_->setToolTip(tr("The slowest rank (longest mean step) is highlighted"));
  classModel_ = new ClassMetricsModel(this);
  classes_ = createTable(tabs_, classModel_, QStringLiteral("classesTable"));
  log_ = new LogView(tabs_);
  tabs_->addTab(ranks_, tr("Ranks"));
  tabs_->addTab(classes_, tr("Classes"));
  tabs_->addTab(log_, tr("Log"));
  return tabs_;
}

QWidget* MonitorView::createBatchNorm() {
  // A splitter of two scrolling panes, the verdict and the plots: a long verdict must not push
  // the plots away, and neither may raise the window's minimum height on a small screen.
  auto* page = new QSplitter(Qt::Vertical, this);
  page->setObjectName(QStringLiteral("batchNormSplitter"));
  page->setChildrenCollapsible(false);
  auto* verdict = new QScrollArea(page);
  verdict->setFrameShape(QFrame::NoFrame);
  verdict->setWidgetResizable(true);
  verdict->setMinimumHeight(48);
  diagnosis_ = new DiagnosisPanel(verdict);
  diagnosis_->setAutoFillBackground(true);
  verdict->setWidget(diagnosis_);
  auto* plots = new QScrollArea(page);
  plots->setFrameShape(QFrame::NoFrame);
  plots->setWidgetResizable(true);
  bn_ = new BnView(scheduler_, plots);
  plots->setWidget(bn_);
  page->addWidget(verdict);
  page->addWidget(plots);
  page->setStretchFactor(0, 0);
  page->setStretchFactor(1, 1);
  page->setSizes({120, 600});
  return page;
}

void MonitorView::showBatchNorm() {
  views_->setCurrentIndex(1);
}

void MonitorView::updateBanner() {
  const auto* verdict = store_ ? &store_->verdict() : nullptr;
  // The BatchNorm tab shows the whole diagnosis itself.
  if (!verdict || verdict->healthy || views_->currentIndex() == 1) {
    banner_->hide();
    return;
  }
  const QString colour = verdict->problem ? QStringLiteral("#fdecea") : QStringLiteral("#fff4e0");
  const QString border = verdict->problem ? QStringLiteral("#f5c2c0") : QStringLiteral("#f0d8a8");
  banner_->setStyleSheet(QStringLiteral("QLabel { background: %1; border: 1px solid %2; "
                                        "border-radius: 3px; padding: 4px; }")
                             .arg(colour, border));
  banner_->setText(tr("<b>%1</b> %2 <a href=\"#batchnorm\">Diagnosis and fixes</a>")
                       .arg(verdict->problem ? tr("Problem:") : tr("Warning:"),
                            headlineOf(*verdict).toHtmlEscaped()));
  banner_->show();
}

void MonitorView::setStore(RunStore* store) {
  if (store_) store_->disconnect(this);
  store_ = store;
  bn_->setStore(store);
  diagnosis_->setStore(store);
  for (LivePlot* plot :
       std::initializer_list<LivePlot*>{loss_, oscillation_, lr_, throughput_, validation_})
    plot->setStore(store);
  status_->setStore(store);
  rankModel_->setStore(store);
  classModel_->setStore(store);
  log_->setModel(store ? store->log() : nullptr);
  if (store_) {
    connect(store_, &RunStore::progressChanged, this, &MonitorView::updateBadge);
    connect(store_, &RunStore::diagnosisChanged, this, &MonitorView::updateBanner);
  }
  updateBadge();
  updateBanner();
}

void MonitorView::updateBadge() {
  const std::optional<double> index = store_ ? store_->progress().oscillation : std::nullopt;
  QString text = tr("warming up");
  QString colour = QStringLiteral("#9e9e9e");
  if (index) {
    const bool oscillating = *index >= oscillation_->threshold();
    text = (oscillating ? tr("oscillating %1") : tr("steady %1")).arg(*index, 0, 'f', 3);
    colour = oscillating ? QStringLiteral("#c77700") : QStringLiteral("#2e7d32");
  }
  if (badge_->text() == text) return;
  badge_->setText(text);
  badge_->setStyleSheet(
      QStringLiteral("QLabel { color: white; background: %1; border-radius: 3px; padding: 0 6px; }")
          .arg(colour));
}

void MonitorView::setXAxisMode(XAxisMode mode) {
  xAxis_->setCurrentIndex(xAxis_->findData(static_cast<int>(mode)));
}

void MonitorView::setSmoothingWeight(double weight) {
  smoothing_->setValue(static_cast<int>(std::lround(weight * 100)));
}

void MonitorView::setRankOverlay(bool shown) {
  rankOverlay_->setChecked(shown);
}

void MonitorView::readSettings() {
  const QSettings settings;
  setXAxisMode(static_cast<XAxisMode>(settings.value(kXAxisKey, 0).toInt()));
  const double weight = settings.value(kSmoothingKey, kDefaultSmoothing).toDouble();
  setSmoothingWeight(weight);
  // valueChanged does not fire when the slider already holds the value.
  smoothingValue_->setText(QString::number(smoothing_->value() / 100.0, 'f', 2));
  loss_->setSmoothingWeight(smoothing_->value() / 100.0);
  throughput_->setSmoothingWeight(smoothing_->value() / 100.0);
  setRankOverlay(settings.value(kRankOverlayKey, false).toBool());
}

}  // namespace studio
