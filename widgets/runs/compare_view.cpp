#include "widgets/runs/compare_view.h"

#include <qcustomplot.h>

#include <QGridLayout>
#include <QHeaderView>
#include <QLabel>
#include <QTableWidget>
#include <QVBoxLayout>
#include <cmath>

#include "common/smoothing.h"
#include "stores/qt_text.h"
#include "stores/run_library.h"
#include "stores/run_store.h"
#include "stores/translated_text.h"
#include "widgets/monitor/series_plot.h"

namespace studio {
namespace {

// The epoch a series key (an iteration) ends: iteration 99 of 100 per epoch is x = 1.
double epochOf(double iteration, const RunStore& run) {
  const int perEpoch = run.iterationsPerEpoch();
  return perEpoch > 0 ? (iteration + 1) / perEpoch : iteration;
}

void drawSeries(QCPGraph* graph, const SeriesBuffer& series, const RunStore& run,
                double smoothing) {
  QVector<double> x, y;
  syncbn::DebiasedEma ema(smoothing);
  for (const SeriesPoint& p : series.drawPoints()) {
    double value = p.value;
    if (smoothing > 0 && std::isfinite(value)) value = ema.add(value);
    x.push_back(epochOf(p.key, run));
    y.push_back(value);
  }
  graph->setData(x, y, true);
}

}  // namespace

CompareView::CompareView(QWidget* parent) : QWidget(parent) {
  setObjectName(QStringLiteral("compareView"));
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(8, 8, 8, 8);
  empty_ = new QLabel(tr("Select two or more runs in Runs and choose Compare (Ctrl+Shift+C), or "
                         "run Train > A/B: BN vs SyncBN."),
                      this);
  empty_->setObjectName(QStringLiteral("compareEmpty"));
  empty_->setAlignment(Qt::AlignCenter);
  empty_->setWordWrap(true);
  layout->addWidget(empty_);

  table_ = new QTableWidget(0, 6, this);
  table_->setObjectName(QStringLiteral("compareTable"));
  table_->setHorizontalHeaderLabels({tr("Run"), tr("Norm"), tr("Ranks x images"),
                                     tr("Best mAP50-95"), tr("Oscillation"), tr("Diagnosis")});
  table_->verticalHeader()->hide();
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table_->setSelectionMode(QAbstractItemView::NoSelection);
  table_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  table_->horizontalHeader()->setStretchLastSection(true);
  table_->setWordWrap(false);
  table_->setMaximumHeight(150);
  layout->addWidget(table_);

  auto* grid = new QGridLayout;
  layout->addLayout(grid, 1);
  const auto place = [&](QCustomPlot* p, int row, int column) {
    p->setMinimumSize(200, 120);
    grid->addWidget(p, row, column);
  };
  place(addPlot(QStringLiteral("loss"), tr("Loss (total, smoothed)"), tr("loss")), 0, 0);
  place(addPlot(QStringLiteral("oscillation"), tr("Oscillation index"), tr("index")), 0, 1);
  place(addPlot(QStringLiteral("map50"), tr("Validation mAP50"), tr("mAP50")), 0, 2);
  place(addPlot(QStringLiteral("noise"),
                tr("Normaliser noise: median over layers (worst layer dotted)"), tr("running std")),
        1, 0);
  place(addPlot(QStringLiteral("disagreement"),
                tr("Rank disagreement: worst layer (median dotted)"), tr("global std")),
        1, 1);
  auto* hint = new QLabel(
      tr("All curves over epochs, so runs with different batches line up. Noise: how far the "
         "statistics training normalises with are from the running statistics inference uses. "
         "Disagreement: how far apart the ranks' normalisers are (0 under SyncBN)."),
      this);
  hint->setWordWrap(true);
  hint->setAlignment(Qt::AlignTop | Qt::AlignLeft);
  grid->addWidget(hint, 1, 2);

  rebuildSoon_.setSingleShot(true);
  rebuildSoon_.setInterval(200);
  connect(&rebuildSoon_, &QTimer::timeout, this, &CompareView::rebuild);
  rebuild();
}

QCustomPlot* CompareView::addPlot(const QString& name, const QString& title,
                                  const QString& yLabel) {
  auto* p = new QCustomPlot(this);
  p->setObjectName(QStringLiteral("compare_") + name);
  p->plotLayout()->insertRow(0);
  auto* heading =
      new QCPTextElement(p, title, QFont(font().family(), font().pointSize(), QFont::Bold));
  p->plotLayout()->addElement(0, 0, heading);
  p->xAxis->setLabel(tr("epoch"));
  p->yAxis->setLabel(yLabel);
  p->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
  if (name == QLatin1String("loss")) {
    p->legend->setVisible(true);
    QFont small = font();
    small.setPointSizeF(small.pointSizeF() * 0.85);
    p->legend->setFont(small);
    p->legend->setBrush(QColor(255, 255, 255, 220));
  }
  plots_.append({name, p});
  return p;
}

QCustomPlot* CompareView::plot(const QString& name) const {
  for (const auto& [n, p] : plots_)
    if (n == name) return p;
  return nullptr;
}

void CompareView::setRuns(const QList<RunStore*>& runs) {
  for (const auto& run : runs_)
    if (run) run->disconnect(this);
  runs_.clear();
  for (RunStore* run : runs) {
    runs_.append(run);
    for (auto signal : {&RunStore::stepsAdded, &RunStore::validationAdded, &RunStore::bnStatsAdded,
                        &RunStore::runInfoChanged, &RunStore::diagnosisChanged})
      connect(run, signal, &rebuildSoon_, qOverload<>(&QTimer::start));
    connect(run, &QObject::destroyed, &rebuildSoon_, qOverload<>(&QTimer::start));
  }
  rebuild();
}

QList<RunStore*> CompareView::runs() const {
  QList<RunStore*> out;
  for (const auto& run : runs_)
    if (run) out.append(run.data());
  return out;
}

void CompareView::rebuild() {
  const QList<RunStore*> runs = this->runs();
  empty_->setVisible(runs.size() < 2);
  table_->setRowCount(static_cast<int>(runs.size()));
  for (const auto& [name, p] : plots_) {
    p->clearGraphs();
    p->clearItems();
  }
  for (int i = 0; i < runs.size(); ++i) {
    const RunStore& run = *runs[i];
    const QColor color = rankColor(i);
    const QString title = RunLibrary::title(&run);
    const QString norm = run.hasRunInfo() ? toQString(run.runInfo().norm) : QString();
    const QString label = norm.isEmpty() ? title : tr("%1 (%2)").arg(title, norm);
    const auto add = [&](const QString& plotName) {
      QCPGraph* g = plot(plotName)->addGraph();
      g->setPen(QPen(color, 1.6));
      g->setName(label);
      if (plotName != QLatin1String("loss")) g->removeFromLegend();
      return g;
    };
    drawSeries(add(QStringLiteral("loss")), run.loss(LossTerm::Total), run, kLossSmoothing);
    drawSeries(add(QStringLiteral("oscillation")), run.oscillation(), run, 0);
    // Solid: the figure the diagnosis judges (docs/syncbn.md); dotted: its companion.
    drawSeries(add(QStringLiteral("noise")), run.bnSummary(BnSummary::NoiseMedian), run, 0);
    drawSeries(add(QStringLiteral("disagreement")), run.bnSummary(BnSummary::DisagreementMax), run,
               0);
    const auto dotted = [&](const QString& plotName, BnSummary summary) {
      QCPGraph* g = add(plotName);
      g->setPen(QPen(color, 1, Qt::DotLine));
      drawSeries(g, run.bnSummary(summary), run, 0);
    };
    dotted(QStringLiteral("noise"), BnSummary::NoiseMax);
    dotted(QStringLiteral("disagreement"), BnSummary::DisagreementMedian);
    QCPGraph* map = add(QStringLiteral("map50"));
    map->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, 5));
    QVector<double> ex, ey;
    for (const ValidationPoint& v : run.validation()) {
      ex.push_back(v.epoch + 1);
      ey.push_back(v.map50);
    }
    map->setData(ex, ey, true);

    const auto cell = [&](int column, const QString& text, const QString& tip = {}) {
      auto* item = new QTableWidgetItem(text);
      item->setToolTip(tip.isEmpty() ? text : tip);
      if (column == 0) item->setForeground(color);
      table_->setItem(i, column, item);
    };
    cell(0, title, run.runDirectory());
    cell(1, norm);
    cell(2, run.hasRunInfo()
                ? tr("%1 x %2").arg(run.runInfo().world_size).arg(run.runInfo().per_rank_batch)
                : QString());
    const auto best = run.bestMap50_95();
    cell(3, best ? QString::number(*best, 'f', 3) : tr("-"));
    const SeriesPoint* osc = run.oscillation().last();
    cell(4, osc ? QString::number(osc->value, 'f', 3) : tr("-"));
    cell(5, headlineOf(run.verdict()));
  }
  // The oscillation plot's threshold, the same line the monitor draws.
  if (QCustomPlot* p = plot(QStringLiteral("oscillation"))) {
    auto* line = new QCPItemStraightLine(p);
    line->setPen(QPen(QColor(200, 60, 60), 1, Qt::DashLine));
    line->point1->setCoords(0, syncbn::OscillationIndex::kDefaultThreshold);
    line->point2->setCoords(1, syncbn::OscillationIndex::kDefaultThreshold);
  }
  for (const auto& [name, p] : plots_) {
    p->rescaleAxes();
    if (name == QLatin1String("map50"))
      p->yAxis->setRange(0, 1);
    else if (name == QLatin1String("oscillation"))
      p->yAxis->setRange(
          0, std::max(p->yAxis->range().upper, syncbn::OscillationIndex::kDefaultThreshold * 1.5));
    else  // a little below 0, so a SyncBN run's line at exactly 0 stays in sight
      p->yAxis->setRange(-0.03 * std::max(p->yAxis->range().upper, 0.1),
                         std::max(p->yAxis->range().upper, 0.1) * 1.05);
    p->replot(QCustomPlot::rpQueuedReplot);
  }
}

}  // namespace studio
