// The monitor's views fed through a RunStore as the engine would feed it, offscreen. Expected
// values come from the events the test sends (and TensorBoard's formula for the smoothing), not
// from the code under test.
#include <gtest/gtest.h>

#include <QApplication>
#include <QClipboard>
#include <QLabel>
#include <QLineEdit>
#include <QSignalSpy>
#include <QTableView>
#include <QTest>
#include <cmath>

#include "common/protocol.h"
#include "stores/log_model.h"
#include "stores/monitor_models.h"
#include "stores/run_history.h"
#include "stores/run_store.h"
#include "tests/gui/gui_test_support.h"
#include "widgets/monitor/log_view.h"
#include "widgets/monitor/monitor_view.h"
#include "widgets/monitor/replot_scheduler.h"
#include "widgets/monitor/run_status_line.h"
#include "widgets/monitor/series_plot.h"
#include "widgets/runs/runs_view.h"

namespace studio::test {
namespace {

namespace protocol = syncbn::protocol;
using MonitorTest = GuiTest;

protocol::RunStarted started(int world, int epochs, int perEpoch) {
  protocol::RunStarted m;
  m.run_dir = "runs/train/m";
  m.world_size = world;
  m.device = "cpu";
  m.norm = "bn";
  m.epochs = epochs;
  m.iterations_per_epoch = perEpoch;
  m.global_batch = 2 * world;
  m.per_rank_batch = 2;
  m.start_time = 1.7e9;
  return m;
}

// box_i = 1 + 0.5 sin(i), cls_i = 2, dfl_i = 0.1 i; rank r adds r to every term.
protocol::Step step(long long i, int world, int perEpoch, double computeMsOfRank1 = 300) {
  protocol::Step m;
  m.iteration = i;
  m.epoch = static_cast<int>(i / perEpoch);
  const double box = 1 + 0.5 * std::sin(static_cast<double>(i)), dfl = 0.1 * static_cast<double>(i);
  for (int r = 0; r < world; ++r) {
    m.rank_losses.push_back({{"box", box + r}, {"cls", 2.0 + r}, {"dfl", dfl + r}});
    m.ranks.push_back({r, 1.0, r == 1 ? computeMsOfRank1 : 200.0, 10.0});
  }
  const double offset = (world - 1) / 2.0;  // mean of r over the ranks
  m.losses = {{"box", box + offset}, {"cls", 2.0 + offset}, {"dfl", dfl + offset}};
  m.lr = 0.001 * static_cast<double>(i);
  m.images_per_second = 10;
  m.time = 100 + 2.0 * static_cast<double>(i);
  return m;
}

struct Monitor {
  RunStore store;
  MonitorView view;
  Monitor() {
    view.resize(1200, 800);
    view.setSmoothingWeight(0.6);
    view.setXAxisMode(XAxisMode::Iteration);
    view.setRankOverlay(false);
    view.setStore(&store);
    view.show();
  }
  void feed(long long from, long long to, int world = 2, int perEpoch = 10) {
    for (long long i = from; i < to; ++i)
      store.ingest(step(i, world, perEpoch));
    view.scheduler()->flush();
  }
};

QCPGraph* graphNamed(const QCustomPlot& plot, const QString& name) {
  for (int i = 0; i < plot.graphCount(); ++i)
    if (plot.graph(i)->name() == name) return plot.graph(i);
  ADD_FAILURE() << "no graph " << name.toStdString();
  return nullptr;
}

TEST_F(MonitorTest, LossPlotAppendsRawAndSmoothedCurves) {
  Monitor m;
  m.store.ingest(started(2, 3, 10));
  m.feed(0, 20);
  LossPlot* plot = m.view.lossPlot();
  QCPGraph* raw = graphNamed(*plot, QStringLiteral("box (raw)"));
  QCPGraph* smoothed = graphNamed(*plot, QStringLiteral("box"));
  ASSERT_TRUE(raw && smoothed);
  m.feed(20, 30);
  ASSERT_EQ(raw->dataCount(), 30);
  ASSERT_EQ(smoothed->dataCount(), 30);
  double last = 0;
  for (int i = 0; i < 30; ++i) {
    const double box = 1 + 0.5 * std::sin(i) + 0.5;
    EXPECT_DOUBLE_EQ(raw->data()->at(i)->key, i);
    EXPECT_NEAR(raw->data()->at(i)->value, box, 1e-12);
    last = last * 0.6 + 0.4 * box;
    EXPECT_NEAR(smoothed->data()->at(i)->value, last / (1 - std::pow(0.6, i + 1)), 1e-9) << i;
  }
  // A heavier weight recomputes the smoothed curve from the raw values.
  m.view.setSmoothingWeight(0.9);
  m.view.scheduler()->flush();
  last = 0;
  for (int i = 0; i < 30; ++i) {
    last = last * 0.9 + 0.1 * (1 + 0.5 * std::sin(i) + 0.5);
    EXPECT_NEAR(smoothed->data()->at(i)->value, last / (1 - std::pow(0.9, i + 1)), 1e-9) << i;
  }
}

TEST_F(MonitorTest, EpochAndWallTimeAxesMapTheIteration) {
  Monitor m;
  m.store.ingest(started(1, 3, 10));
  m.feed(0, 15, 1);
  QCPGraph* raw = graphNamed(*m.view.lossPlot(), QStringLiteral("cls (raw)"));
  m.view.setXAxisMode(XAxisMode::Epoch);
  m.view.scheduler()->flush();
  EXPECT_DOUBLE_EQ(raw->data()->at(9)->key, 1.0);  // the 10th iteration ends epoch 1
  EXPECT_DOUBLE_EQ(raw->data()->at(14)->key, 1.5);
  m.view.setXAxisMode(XAxisMode::Time);
  m.view.scheduler()->flush();
  EXPECT_DOUBLE_EQ(raw->data()->at(14)->key, 128.0);
  EXPECT_EQ(m.view.lossPlot()->xAxis->label(), xAxisLabel(XAxisMode::Time));
}

TEST_F(MonitorTest, FollowsNewDataUntilTheUserZoomsAndAgainAfterADoubleClick) {
  Monitor m;
  m.store.ingest(started(2, 10, 10));
  m.feed(0, 20);
  LossPlot* plot = m.view.lossPlot();
  EXPECT_TRUE(plot->isFollowing());
  EXPECT_NEAR(plot->xAxis->range().upper, 19, 1e-9);
  const QPoint centre = plot->axisRect()->rect().center();
  QWheelEvent wheel(centre, plot->mapToGlobal(centre), QPoint(), QPoint(0, 120), Qt::NoButton,
                    Qt::NoModifier, Qt::NoScrollPhase, false);
  QApplication::sendEvent(plot, &wheel);
  EXPECT_FALSE(plot->isFollowing());
  const QCPRange zoomed = plot->xAxis->range();
  m.feed(20, 40);
  EXPECT_EQ(plot->xAxis->range(), zoomed);
  QTest::mouseDClick(plot, Qt::LeftButton, Qt::NoModifier, centre);
  m.view.scheduler()->flush();
  EXPECT_TRUE(plot->isFollowing());
  EXPECT_NEAR(plot->xAxis->range().upper, 39, 1e-9);
  // Hovering names the values under the cursor.
  EXPECT_TRUE(plot->valuesAt(10.2).contains(QStringLiteral("cls: ")));
  EXPECT_TRUE(plot->valuesAt(10.2).contains(QStringLiteral("Iteration 10")));
}

TEST_F(MonitorTest, PerRankOverlayDrawsEachRanksTotal) {
  Monitor m;
  m.store.ingest(started(3, 1, 10));
  m.feed(0, 5, 3);
  m.view.setRankOverlay(true);
  m.view.scheduler()->flush();
  for (int r = 0; r < 3; ++r) {
    QCPGraph* g = graphNamed(*m.view.lossPlot(), QStringLiteral("rank %1 total").arg(r));
    ASSERT_TRUE(g);
    EXPECT_TRUE(g->visible());
    EXPECT_EQ(g->dataCount(), 5);
    // Smoothed from rank r's total, whose first value is 1 + 2 + 0 + 3r.
    EXPECT_NEAR(g->data()->at(0)->value, 3.0 + 3 * r, 1e-9);
  }
  m.view.setRankOverlay(false);
  EXPECT_FALSE(graphNamed(*m.view.lossPlot(), QStringLiteral("rank 0 total"))->visible());
}

TEST_F(MonitorTest, OscillationBadgeTellsSteadyFromOscillating) {
  Monitor steady;
  steady.store.ingest(started(1, 1, 200));
  for (int i = 0; i < 100; ++i) {
    protocol::Step s = step(i, 1, 200);
    s.losses = {{"box", 1.0 - 0.001 * i}, {"cls", 1.0}, {"dfl", 1.0}};
    steady.store.ingest(s);
  }
  EXPECT_TRUE(steady.view.oscillationBadge()->text().startsWith(QStringLiteral("steady")))
      << steady.view.oscillationBadge()->text().toStdString();

  Monitor swinging;
  swinging.store.ingest(started(1, 1, 200));
  for (int i = 0; i < 100; ++i) {
    protocol::Step s = step(i, 1, 200);
    s.losses = {{"box", i % 2 ? 0.5 : 2.5}, {"cls", 1.0}, {"dfl", 1.0}};
    swinging.store.ingest(s);
  }
  EXPECT_TRUE(swinging.view.oscillationBadge()->text().startsWith(QStringLiteral("oscillating")))
      << swinging.view.oscillationBadge()->text().toStdString();
  swinging.view.scheduler()->flush();
  EXPECT_EQ(swinging.view.oscillationPlot()->graph(0)->dataCount(),
            100 - syncbn::OscillationIndex::kMinimumPoints + 1);
}

TEST_F(MonitorTest, ValidationMarksTheBestEpochAndTheTablesFill) {
  Monitor m;
  m.store.ingest(started(2, 3, 10));
  m.feed(0, 10, 2, 10);
  for (const auto& [epoch, map, fitness] :
       {std::tuple{0, 0.2, 0.21}, {1, 0.5, 0.52}, {2, 0.4, 0.43}}) {
    protocol::Val v;
    v.epoch = epoch;
    v.map50_95 = map;
    v.map50 = map + 0.1;
    v.fitness = fitness;
    v.classes = {{"circle", 5, 7, 0.5, 0.5, map + 0.1, map},
                 {"square", 4, 6, 0.4, 0.4, map, map - 0.1}};
    m.store.ingest(v);
  }
  m.view.scheduler()->flush();
  EXPECT_EQ(m.view.validationPlot()->markedBestEpoch(), 2);  // epoch index 1, shown 1-based
  EXPECT_EQ(m.view.validationPlot()->graph(3)->dataCount(), 3);
  QTableView* classes = m.view.classesTable();
  ASSERT_EQ(classes->model()->rowCount(), 2);
  EXPECT_EQ(classes->model()->index(1, ClassMetricsModel::ClassColumn).data().toString(),
            QStringLiteral("square"));
  EXPECT_EQ(classes->model()->index(1, ClassMetricsModel::Map50_95Column).data().toString(),
            QStringLiteral("0.300"));
}

TEST_F(MonitorTest, RanksTableFlagsTheSlowestRank) {
  Monitor m;
  m.store.ingest(started(3, 1, 100));
  for (int i = 0; i < 4; ++i)
    m.store.ingest(step(i, 3, 100, /*rank 1's compute ms*/ 400));
  QAbstractItemModel* ranks = m.view.ranksTable()->model();
  ASSERT_EQ(ranks->rowCount(), 3);
  for (int r = 0; r < 3; ++r)
    EXPECT_EQ(ranks->index(r, 0).data(RankTimingModel::SlowestRole).toBool(), r == 1) << r;
  // Rank 1's step: 1 + 400 + 10 ms for 2 images.
  EXPECT_EQ(ranks->index(1, RankTimingModel::ImagesPerSecondColumn).data().toString(),
            QString::number(2 * 1000.0 / 411, 'f', 1));
  EXPECT_EQ(ranks->index(1, RankTimingModel::ComputeShareColumn).data().toString(),
            QStringLiteral("%1%").arg(400.0 / 411 * 100, 0, 'f', 1));
}

TEST_F(MonitorTest, StatusLineSaysWhereTheRunIsAndWhyItFailed) {
  Monitor m;
  m.store.ingest(started(2, 3, 10));
  m.feed(0, 15);
  QTest::qWait(300);  // the line updates at most four times a second
  const QString text = m.view.statusLine()->text();
  EXPECT_TRUE(text.contains(QStringLiteral("epoch 2/3"))) << text.toStdString();
  EXPECT_TRUE(text.contains(QStringLiteral("iteration 15/30"))) << text.toStdString();
  // 2 s per iteration, 15 to go.
  EXPECT_TRUE(text.contains(QStringLiteral("ETA 0:30"))) << text.toStdString();
  m.store.ingest(protocol::RankExit{1, -9, 9, "killed by SIGKILL"});
  protocol::Finished failed;
  failed.status = "failed";
  m.store.ingest(failed);
  EXPECT_TRUE(
      m.view.statusLine()->failureText().contains(QStringLiteral("Rank 1 killed by SIGKILL")))
      << m.view.statusLine()->failureText().toStdString();
  EXPECT_EQ(m.view.lossPlot()->graph(0)->dataCount(), 15);  // every curve stays
}

TEST_F(MonitorTest, LogViewFiltersSearchesAndCopies) {
  LogModel model;
  model.append({LogLine{0, 0, LogLevel::Info, QStringLiteral("epoch 1 done")},
                LogLine{0, 1, LogLevel::Warning, QStringLiteral("warning: slow loader")},
                LogLine{0, LogLine::kLauncher, LogLevel::Error, QStringLiteral("rank 1 died")}});
  LogView view;
  view.setModel(&model);
  view.show();
  EXPECT_EQ(view.filter()->rowCount(), 3);
  view.filter()->setSource(1);
  EXPECT_EQ(view.filter()->rowCount(), 1);
  view.filter()->setSource(LogFilter::kAllSources);
  view.filter()->setMinimumLevel(static_cast<int>(LogLevel::Warning));
  EXPECT_EQ(view.filter()->rowCount(), 2);
  view.filter()->setMinimumLevel(0);
  typeInto(view.searchField(), QStringLiteral("EPOCH"));
  ASSERT_EQ(view.filter()->rowCount(), 1);
  view.copyAll();
  EXPECT_TRUE(QApplication::clipboard()->text().endsWith(QStringLiteral("rank 0 | epoch 1 done")))
      << QApplication::clipboard()->text().toStdString();
}

}  // namespace
}  // namespace studio::test
