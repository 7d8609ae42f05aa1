// The diagnosis' one-click fixes, the A/B action and the Compare mode, driven through the shell
// with the scripted fake engine (tests/stores/fake_engine.cpp): each fix shows what will change,
// and the engine is then started with exactly that configuration (read back from the file the
// fake engine copies) or those resume overrides (its argv).
#include <gtest/gtest.h>
#include <qcustomplot.h>

#include <QAction>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QInputDialog>
#include <QLabel>
#include <QMessageBox>
#include <QPushButton>
#include <QSettings>
#include <QTableWidget>
#include <QTest>

#include "app/main_window.h"
#include "app/studio_actions.h"
#include "common/config.h"
#include "common/config_yaml.h"
#include "common/protocol.h"
#include "stores/engine_locator.h"
#include "stores/engine_session.h"
#include "stores/run_store.h"
#include "tests/gui/gui_test_support.h"
#include "widgets/runs/compare_view.h"

namespace studio::test {
namespace {

// A short BN run that ends stopped with weights/last.pt and args.yaml, so it can be resumed;
// every start copies its configuration to cfg.yaml and its arguments to argv.txt.
constexpr char kBnRun[] =
    "copy_config cfg.yaml\nargv argv.txt\nconnect\nhello\n"
    "run_started dir=runs/fixme epochs=1 iterations=4 world=4 norm=bn global_batch=4 "
    "per_rank_batch=1\n"
    "step iteration=0\ncheckpoint kind=last epoch=0 iteration=1\ntouch runs/fixme/args.yaml\n"
    "finished status=stopped epochs=0\nexit 0\n";

class StudioFixes : public GuiTest {
 protected:
  void SetUp() override {
    GuiTest::SetUp();
    QSettings().setValue(QString::fromLatin1(kEngineProgramSetting),
                         QStringLiteral(SYNCBN_FAKE_ENGINE_PATH));
    config_ = writeFile(scratch_, QStringLiteral("run.yaml"),
                        "train:\n  epochs: 5\n  batch: 4\n  lr0: 0.004\ndistributed:\n"
                        "  device: cpu\n  cpu_ranks: 4\n  norm: bn\noutput:\n  project: runs\n"
                        "  name: fixme\n");
    qputenv("FAKE_ENGINE_SCRIPT",
            writeFile(scratch_, QStringLiteral("script.txt"), kBnRun).toLocal8Bit());
  }
  void TearDown() override { qunsetenv("FAKE_ENGINE_SCRIPT"); }

  QString path(const QString& name) const { return QDir(scratch_.path()).filePath(name); }

  // Opens the configuration and runs it once to its end (stopped, resumable).
  void runOnce(MainWindow& window) {
    window.session()->setWorkingDirectory(scratch_.path());
    ASSERT_TRUE(window.openFile(config_));
    window.show();
    ASSERT_TRUE(window.startRun());
    RunStore* store = window.session()->store();
    ASSERT_TRUE(QTest::qWaitFor([&] { return store->state() == RunState::Stopped; }, 10000));
    ASSERT_TRUE(QTest::qWaitFor([&] { return !window.session()->isActive(); }, 10000));
    QFile::remove(path(QStringLiteral("cfg.yaml")));
    QFile::remove(path(QStringLiteral("argv.txt")));
  }

  // The configuration the fake engine was started with next.
  syncbn::Config nextStartedConfig() {
    const QString file = path(QStringLiteral("cfg.yaml"));
    EXPECT_TRUE(QTest::qWaitFor([&] { return QFile::exists(file); }, 10000));
    QTest::qWait(50);  // copied in one go, but give the fake time to close it
    QFile in(file);
    EXPECT_TRUE(in.open(QIODevice::ReadOnly));
    const auto loaded = syncbn::parseConfigYaml(in.readAll().toStdString(), "cfg.yaml");
    in.close();
    QFile::remove(file);
    return loaded.config;
  }

  QString config_;
};

TEST_F(StudioFixes, SyncBnFixShowsWhatCarriesOverAndResumesTheRunWithNormSyncBn) {
  MainWindow window;
  runOnce(window);
  const QString run = window.session()->store()->runDirectory();
  {
    const ClickButton answer(QStringLiteral("Switch and Resume"));
    window.applyFix(QStringLiteral("syncbn-resume"));
    EXPECT_EQ(answer.boxName(), QStringLiteral("fixBox"));
    EXPECT_TRUE(answer.informativeText().contains(QStringLiteral("distributed.norm bn -> syncbn")))
        << answer.informativeText().toStdString();
    EXPECT_TRUE(answer.informativeText().contains(QStringLiteral("over all 4 images")))
        << answer.informativeText().toStdString();
    EXPECT_TRUE(answer.informativeText().contains(QStringLiteral("optimizer state")))
        << answer.informativeText().toStdString();
  }
  const QString argv = path(QStringLiteral("argv.txt"));
  ASSERT_TRUE(QTest::qWaitFor([&] { return QFile::exists(argv); }, 10000));
  QTest::qWait(50);
  QFile in(argv);
  ASSERT_TRUE(in.open(QIODevice::ReadOnly));
  const QStringList args = QString::fromUtf8(in.readAll()).split(QLatin1Char('\n'));
  EXPECT_TRUE(args.contains(QStringLiteral("norm=syncbn")))
      << args.join(QLatin1Char(' ')).toStdString();
  EXPECT_TRUE(args.contains(QStringLiteral("resume=true")) ||
              args.contains(QStringLiteral("output.resume=true")) ||
              args.contains(QStringLiteral("--resume")))
      << args.join(QLatin1Char(' ')).toStdString();
  // The same run continues, and the user's configuration is untouched.
  EXPECT_EQ(window.session()->store()->runDirectory(), run);
  EXPECT_EQ(window.document()->config().distributed.norm, syncbn::NormKind::BatchNorm);
  ASSERT_TRUE(QTest::qWaitFor([&] { return !window.session()->isActive(); }, 10000));
}

TEST_F(StudioFixes, FineTuneFromARunStartsANewRunFromItsBestPt) {
  MainWindow window;
  runOnce(window);
  const RunStore* finished = window.session()->store();
  const QString run = finished->runDirectory();
  const QString best = QDir(run).filePath(QStringLiteral("weights/best.pt"));
  ASSERT_TRUE(QDir().mkpath(QFileInfo(best).path()));
  writeFile(scratch_, QDir(scratch_.path()).relativeFilePath(best), "weights");
  {
    const ClickButton answer(QStringLiteral("Start"));
    EXPECT_TRUE(window.fineTuneFrom(run));
    EXPECT_EQ(answer.boxName(), QStringLiteral("fixBox"));
    EXPECT_TRUE(answer.informativeText().contains(QStringLiteral("model.model")))
        << answer.informativeText().toStdString();
  }
  const syncbn::Config started = nextStartedConfig();
  EXPECT_EQ(QFileInfo(QString::fromStdString(started.model.model)).canonicalFilePath(),
            QFileInfo(best).canonicalFilePath());
  EXPECT_EQ(started.output.name, "fixme-ft");
  EXPECT_FALSE(started.output.resume);
  // A new run, not a resume of the one it started from (which the fake names the same).
  EXPECT_NE(window.session()->store(), finished);
  ASSERT_TRUE(QTest::qWaitFor([&] { return !window.session()->isActive(); }, 10000));
}

TEST_F(StudioFixes, SyncBnFixCancelledChangesNothing) {
  MainWindow window;
  runOnce(window);
  {
    const ClickButton answer(QStringLiteral("Cancel"));
    window.applyFix(QStringLiteral("syncbn-resume"));
  }
  QTest::qWait(200);
  EXPECT_FALSE(window.session()->isActive());
  EXPECT_FALSE(QFile::exists(path(QStringLiteral("argv.txt"))));
}

TEST_F(StudioFixes, PreciseBnFixRunsRecalibrateOnTheRunsCheckpointAndShowsBeforeAndAfter) {
  MainWindow window;
  runOnce(window);
  const QString run = window.session()->store()->runDirectory();
  // The engine's `recalibrate --json` report, as the fake prints it.
  qputenv("FAKE_ENGINE_SCRIPT",
          writeFile(scratch_, QStringLiteral("recalibrate.txt"),
                    "argv argv.txt\nout \"{\\\"before\\\":{\\\"map50\\\":0.493,\\\"map50_95\\\":"
                    "0.372},\\\"after\\\":{\\\"map50\\\":0.57,\\\"map50_95\\\":0.434},"
                    "\\\"output\\\":\\\"runs/fixme/weights/last-precise.pt\\\"}\"\nexit 0\n")
              .toLocal8Bit());
  QString shown;
  QTimer driver;
  driver.setInterval(20);
  QObject::connect(&driver, &QTimer::timeout, [&] {
    auto* dialog = qobject_cast<QDialog*>(QApplication::activeModalWidget());
    if (!dialog || dialog->objectName() != QLatin1String("recalibrateDialog")) return;
    auto* result = dialog->findChild<QLabel*>(QStringLiteral("recalibrateResult"));
    for (QPushButton* button : dialog->findChildren<QPushButton*>())
      if (button->text() == QLatin1String("Recalibrate") && button->isEnabled() &&
          !QFile::exists(path(QStringLiteral("argv.txt"))) && shown.isEmpty() &&
          !result->text().startsWith(QLatin1String("Recalibrating")))
        button->click();
    if (result->text().startsWith(QLatin1String("Validation before"))) {
      shown = result->text();
      driver.stop();
      dialog->reject();
    }
  });
  driver.start();
  window.applyFix(QStringLiteral("precise-bn"));
  EXPECT_EQ(shown,
            QStringLiteral("Validation before: mAP50 0.493, mAP50-95 0.372\nValidation after: "
                           "mAP50 0.570, mAP50-95 0.434\nWritten: ") +
                QDir::toNativeSeparators(QStringLiteral("runs/fixme/weights/last-precise.pt")))
      << shown.toStdString();
  QFile in(path(QStringLiteral("argv.txt")));
  ASSERT_TRUE(in.open(QIODevice::ReadOnly));
  const QStringList args = QString::fromUtf8(in.readAll()).split(QLatin1Char('\n'));
  const QStringList expected{QStringLiteral("recalibrate"),
                             QStringLiteral("--weights"),
                             QDir(run).filePath(QStringLiteral("weights/last.pt")),
                             QStringLiteral("--batches"),
                             QStringLiteral("100"),
                             QStringLiteral("--json")};
  ASSERT_GE(args.size(), expected.size() + 1);
  EXPECT_EQ(args.mid(1, expected.size()), expected) << args.join(QLatin1Char(' ')).toStdString();
}

struct RestartCase {
  const char* fix;
  const char* shownChange;  // a line of the box's list of changes
  syncbn::NormKind norm;
  double lr0;
  const char* name;
};

class RestartFix : public StudioFixes, public ::testing::WithParamInterface<RestartCase> {};

TEST_P(RestartFix, ShowsTheChangesAndStartsANewRunWithThem) {
  const RestartCase c = GetParam();
  MainWindow window;
  runOnce(window);
  {
    const ClickButton answer(QStringLiteral("Start"));
    window.applyFix(QString::fromLatin1(c.fix));
    EXPECT_EQ(answer.boxName(), QStringLiteral("fixBox"));
    EXPECT_TRUE(answer.informativeText().contains(QString::fromUtf8(c.shownChange)))
        << answer.informativeText().toStdString();
    EXPECT_TRUE(answer.informativeText().contains(QStringLiteral("output.name: fixme -> ")))
        << answer.informativeText().toStdString();
  }
  const syncbn::Config started = nextStartedConfig();
  EXPECT_EQ(started.distributed.norm, c.norm);
  EXPECT_DOUBLE_EQ(started.train.lr0, c.lr0);
  EXPECT_EQ(started.output.name, c.name);
  EXPECT_EQ(started.train.epochs, 5);  // everything else as configured
  EXPECT_EQ(started.distributed.cpu_ranks, 4);
  ASSERT_TRUE(QTest::qWaitFor([&] { return !window.session()->isActive(); }, 10000));
}

INSTANTIATE_TEST_SUITE_P(
    Fixes, RestartFix,
    ::testing::Values(RestartCase{"groupnorm", "distributed.norm: bn -> groupnorm",
                                  syncbn::NormKind::GroupNorm, 0.004, "fixme-groupnorm"},
                      RestartCase{"frozen-bn", "distributed.norm: bn -> frozen",
                                  syncbn::NormKind::FrozenBatchNorm, 0.004, "fixme-frozen"},
                      RestartCase{"lower-lr", "train.lr0: 0.004 -> 0.002",
                                  syncbn::NormKind::BatchNorm, 0.002, "fixme-lr"}),
    [](const auto& info) {
      std::string name = info.param.fix;
      std::erase(name, '-');
      return name;
    });

TEST_F(StudioFixes, AbTestTrainsBnThenSyncBnForTheEpochsAskedAndComparesThem) {
  // Each run completes (the second starts only after the first did).
  QByteArray completing(kBnRun);
  completing.replace("finished status=stopped epochs=0",
                     "wait_file go.txt timeout=10000\nfinished status=completed epochs=1");
  qputenv("FAKE_ENGINE_SCRIPT",
          writeFile(scratch_, QStringLiteral("script.txt"), completing).toLocal8Bit());
  MainWindow window;
  window.session()->setWorkingDirectory(scratch_.path());
  ASSERT_TRUE(window.openFile(config_));
  window.show();
  ASSERT_TRUE(window.startAbTest(2));
  const syncbn::Config first = nextStartedConfig();
  writeFile(scratch_, QStringLiteral("go.txt"), "go");  // lets the first run finish
  EXPECT_EQ(first.distributed.norm, syncbn::NormKind::BatchNorm);
  EXPECT_EQ(first.train.epochs, 2);
  EXPECT_EQ(first.output.name, "fixme-ab-bn");
  const syncbn::Config second = nextStartedConfig();
  EXPECT_EQ(second.distributed.norm, syncbn::NormKind::SyncBatchNorm);
  EXPECT_EQ(second.train.epochs, 2);
  EXPECT_EQ(second.output.name, "fixme-ab-syncbn");
  EXPECT_EQ(second.train.seed, first.train.seed);
  EXPECT_EQ(window.mode(), MainWindow::Mode::Compare);
  EXPECT_EQ(window.compareView()->runs().size(), 2);
  // The user's configuration is not changed by the A/B test.
  EXPECT_EQ(window.document()->config().distributed.norm, syncbn::NormKind::BatchNorm);
  EXPECT_EQ(window.document()->config().train.epochs, 5);
  ASSERT_TRUE(QTest::qWaitFor([&] { return !window.session()->isActive(); }, 10000));
  EXPECT_EQ(window.pendingAbRuns(), 0);
}

// A finished run's events.jsonl: `norm`, a falling loss, one validation per epoch, BN summaries.
void writeRecord(const QString& dir, const std::string& norm, double map50) {
  namespace protocol = syncbn::protocol;
  ASSERT_TRUE(QDir().mkpath(dir));
  QFile out(QDir(dir).filePath(QStringLiteral("events.jsonl")));
  ASSERT_TRUE(out.open(QIODevice::WriteOnly));
  std::string text;
  protocol::RunStarted started;
  started.run_dir = QDir(dir).absolutePath().toStdString();
  started.world_size = 4;
  started.device = "cpu";
  started.norm = norm;
  started.epochs = 2;
  started.iterations_per_epoch = 20;
  started.global_batch = 4;
  started.per_rank_batch = 1;
  text += protocol::encode(started);
  for (int i = 0; i < 40; ++i) {
    protocol::Step s;
    s.epoch = i / 20;
    s.iteration = i;
    const double loss = 3.0 - i * 0.02;
    s.losses = {{"box", loss}, {"cls", loss}, {"dfl", loss}};
    text += protocol::encode(s);
    if (i % 10 == 0) {
      protocol::BnStats b;
      b.iteration = i;
      b.layers_total = 1;
      b.rank_images = {1, 1, 1, 1};
      b.noise_median = b.noise_max = 0.3;
      b.disagreement_median = b.disagreement_max = norm == "bn" ? 0.6 : 0.0;
      b.worst_layer = "model.0.bn";
      text += protocol::encode(b);
    }
    if (i % 20 == 19) {
      protocol::Val v;
      v.epoch = i / 20;
      v.map50 = map50 * (i / 20 + 1) / 2;
      text += protocol::encode(v);
    }
  }
  protocol::Finished f;
  f.status = "completed";
  f.epochs_completed = 2;
  text += protocol::encode(f);
  out.write(text.data(), static_cast<qint64>(text.size()));
}

TEST_F(StudioFixes, CompareOverlaysTheSelectedRunsOnSharedAxes) {
  const QString bn = path(QStringLiteral("runs/a-bn")), sync = path(QStringLiteral("runs/a-sync"));
  writeRecord(bn, "bn", 0.4);
  writeRecord(sync, "syncbn", 0.6);
  MainWindow window;
  window.show();
  ASSERT_TRUE(window.compareRuns({bn, sync}));
  EXPECT_EQ(window.mode(), MainWindow::Mode::Compare);
  CompareView* view = window.compareView();
  QTableWidget* table = view->table();
  // The records are read in the background; the view follows as they arrive.
  ASSERT_TRUE(QTest::qWaitFor(
      [&] {
        return table->rowCount() == 2 && table->item(1, 4) &&
               table->item(1, 4)->text() != QStringLiteral("-") &&
               view->plot(QStringLiteral("map50"))->graph(1)->dataCount() == 2;
      },
      5000));
  EXPECT_EQ(table->item(0, 1)->text(), QStringLiteral("bn"));
  EXPECT_EQ(table->item(1, 1)->text(), QStringLiteral("syncbn"));
  EXPECT_EQ(table->item(0, 2)->text(), QStringLiteral("4 x 1"));
  // The BN run's verdict names the cause; the SyncBN run's is healthy.
  EXPECT_TRUE(table->item(0, 5)->text().startsWith(QStringLiteral("Each of 4 ranks")))
      << table->item(0, 5)->text().toStdString();
  EXPECT_TRUE(table->item(1, 5)->text().startsWith(QStringLiteral("Healthy")))
      << table->item(1, 5)->text().toStdString();
  for (const char* name : {"loss", "oscillation", "map50", "noise", "disagreement"}) {
    SCOPED_TRACE(name);
    QCustomPlot* plot = view->plot(QString::fromLatin1(name));
    ASSERT_NE(plot, nullptr);
    ASSERT_GE(plot->graphCount(), 2);
  }
  // Shared axes in epochs: both runs' validation sits at x = 1 and 2, the values they sent.
  QCustomPlot* map = view->plot(QStringLiteral("map50"));
  ASSERT_EQ(map->graph(1)->dataCount(), 2);
  EXPECT_DOUBLE_EQ(map->graph(1)->data()->at(1)->key, 2.0);
  EXPECT_DOUBLE_EQ(map->graph(1)->data()->at(1)->value, 0.6);
  EXPECT_DOUBLE_EQ(map->graph(0)->data()->at(1)->value, 0.4);
  // The last loss point of the 40-iteration runs is at the end of epoch 2.
  QCustomPlot* loss = view->plot(QStringLiteral("loss"));
  ASSERT_GT(loss->graph(0)->dataCount(), 0);
  EXPECT_DOUBLE_EQ((loss->graph(0)->data()->constEnd() - 1)->key, 2.0);
  QCustomPlot* disagreement = view->plot(QStringLiteral("disagreement"));
  // Per run: the worst layer solid, then the median dotted.
  EXPECT_DOUBLE_EQ(disagreement->graph(0)->data()->at(0)->value, 0.6);
  EXPECT_DOUBLE_EQ(disagreement->graph(2)->data()->at(0)->value, 0.0);
}

TEST_F(StudioFixes, CompareReportsARunThatCannotBeOpened) {
  const QString bn = path(QStringLiteral("runs/a-bn"));
  writeRecord(bn, "bn", 0.4);
  MainWindow window;
  window.show();
  const MessageBoxAnswer answer(QMessageBox::Ok);
  EXPECT_FALSE(window.compareRuns({bn, path(QStringLiteral("runs/missing"))}));
  ASSERT_TRUE(answer.answered());
  EXPECT_EQ(answer.objectName(), QStringLiteral("compareProblemsBox"));
  EXPECT_TRUE(answer.informativeText().contains(QStringLiteral("missing")))
      << answer.informativeText().toStdString();
}

}  // namespace
}  // namespace studio::test
