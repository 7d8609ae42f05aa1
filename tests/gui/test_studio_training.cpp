// The studio with the real engine, as a user runs it: open a configuration, press Start, watch,
// press Stop, press Resume, open the finished run again from Runs; and a rank killed mid-run.
// Tiny data (16 images of 64 px), 2 CPU ranks.
#include <gtest/gtest.h>
#include <signal.h>

#include <QAction>
#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QMessageBox>
#include <QProcess>
#include <QSettings>
#include <QTest>
#include <chrono>
#include <iostream>

#include "app/main_window.h"
#include "app/studio_actions.h"
#include "stores/engine_locator.h"
#include "stores/engine_session.h"
#include "stores/run_history.h"
#include "stores/run_library.h"
#include "stores/run_store.h"
#include "tests/gui/gui_test_support.h"
#include "widgets/monitor/monitor_view.h"
#include "widgets/monitor/run_status_line.h"
#include "widgets/runs/runs_view.h"

#ifdef SYNCBN_ENGINE_PATH

namespace studio::test {
namespace {

class StudioTraining : public GuiTest {
 protected:
  void SetUp() override {
    GuiTest::SetUp();
    QSettings().setValue(QString::fromLatin1(kEngineProgramSetting),
                         QStringLiteral(SYNCBN_ENGINE_PATH));
    data_ = scratch_.filePath(QStringLiteral("data"));
    const QString made = makeDemoData(QStringLiteral(SYNCBN_ENGINE_PATH), data_, 16, 8, 64, 4);
    ASSERT_TRUE(made.isEmpty()) << made.toStdString();
  }

  // 16 images / batch 4: 4 iterations an epoch.
  void open(MainWindow& window, int epochs) {
    config_ = writeFile(scratch_, QStringLiteral("tiny.yaml"),
                        QStringLiteral("data:\n  data: %1/data.yaml\n  imgsz: 64\n"
                                       "train:\n  epochs: %2\n  batch: 4\n  workers: 1\n"
                                       "distributed:\n  device: cpu\n  cpu_ranks: 2\n"
                                       "  norm: syncbn\n"
                                       "output:\n  project: runs\n  name: tiny\n")
                            .arg(data_)
                            .arg(epochs)
                            .toUtf8());
    window.session()->setWorkingDirectory(scratch_.path());
    ASSERT_TRUE(window.openFile(config_));
    window.show();
  }

  // Start as the user does; a message box instead of a run fails the test, not hangs it.
  RunStore* start(MainWindow& window) {
    const MessageBoxAnswer refusal(QMessageBox::Ok);
    window.actions()->start->trigger();
    EXPECT_FALSE(refusal.answered()) << refusal.text().toStdString() << "\n"
                                     << refusal.informativeText().toStdString();
    return window.session()->isActive() ? window.session()->store() : nullptr;
  }

  QString data_;
  QString config_;
};

// The launcher's children, by the RANK in their environment.
qint64 rankProcess(qint64 launcher, int rank) {
  QDirIterator proc(QStringLiteral("/proc"), QDir::Dirs | QDir::NoDotAndDotDot);
  while (proc.hasNext()) {
    const QString dir = proc.next();
    QFile stat(dir + QStringLiteral("/stat"));
    if (!stat.open(QIODevice::ReadOnly)) continue;
    const QList<QByteArray> fields = stat.readAll().split(')').value(1).trimmed().split(' ');
    if (fields.size() < 2 || fields[1].toLongLong() != launcher) continue;
    QFile environ(dir + QStringLiteral("/environ"));
    if (environ.open(QIODevice::ReadOnly) &&
        environ.readAll().split('\0').contains("RANK=" + QByteArray::number(rank)))
      return QFileInfo(dir).fileName().toLongLong();
  }
  return 0;
}

TEST_F(StudioTraining, StopResumeAndTheSameCurvesFromRuns) {
  MainWindow window;
  open(window, 4);
  RunStore* store = start(window);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(QTest::qWaitFor(
      [&] { return store->stepsReceived() >= 3 || isFinal(store->state()); }, 120000));
  ASSERT_FALSE(isFinal(store->state())) << store->failureMessage().toStdString();

  window.actions()->stop->trigger();
  EXPECT_EQ(store->state(), RunState::Stopping);
  ASSERT_TRUE(QTest::qWaitFor([&] { return !window.session()->isActive(); }, 120000));
  EXPECT_EQ(store->state(), RunState::Stopped) << store->failureMessage().toStdString();
  const QString run = store->runDirectory();
  EXPECT_TRUE(QFileInfo::exists(run + QStringLiteral("/weights/last.pt")));
  const long long stoppedAt = store->progress().iteration;
  EXPECT_LT(stoppedAt, 15);

  ASSERT_TRUE(window.actions()->resume->isEnabled());
  window.actions()->resume->trigger();
  ASSERT_TRUE(QTest::qWaitFor([&] { return !window.session()->isActive(); }, 180000));
  ASSERT_EQ(store->state(), RunState::Completed) << store->failureMessage().toStdString();
  EXPECT_EQ(store->progress().iteration, 15);
  EXPECT_EQ(store->loss(LossTerm::Total).count(), 16);  // every iteration once
  EXPECT_EQ(store->validation().size(), 4u);

  // A new window, as after a restart: the run is listed and replays to the same curves.
  MainWindow later;
  later.session()->setWorkingDirectory(scratch_.path());
  ASSERT_TRUE(later.openFile(config_));
  later.showMode(MainWindow::Mode::Runs);
  const int row = later.history()->rowOf(run);
  ASSERT_GE(row, 0);
  EXPECT_EQ(later.history()->run(row).status, QStringLiteral("completed"));
  ASSERT_TRUE(later.runsView()->selectIfListed(run));
  emit later.runsView()->openRequested(later.runsView()->selectedDirectory());
  RunStore* replayed = later.runs()->current();
  ASSERT_NE(replayed, nullptr);
  ASSERT_TRUE(QTest::qWaitFor([&] { return replayed->state() == RunState::Completed; }, 10000));
  const auto& live = store->loss(LossTerm::Total).fullResolution();
  const auto& again = replayed->loss(LossTerm::Total).fullResolution();
  ASSERT_EQ(again.size(), live.size());
  for (std::size_t i = 0; i < live.size(); ++i)
    EXPECT_NEAR(again[i].value, live[i].value, 1e-9 * std::abs(live[i].value)) << i;
  EXPECT_EQ(later.mode(), MainWindow::Mode::Train);
}

TEST_F(StudioTraining, AKilledRankIsNamedWithinTenSecondsAndTheCurvesStay) {
  MainWindow window;
  open(window, 50);
  RunStore* store = start(window);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(QTest::qWaitFor(
      [&] { return store->stepsReceived() >= 3 || isFinal(store->state()); }, 120000));
  ASSERT_FALSE(isFinal(store->state())) << store->failureMessage().toStdString();
  const qint64 rank1 = rankProcess(window.session()->processId(), 1);
  ASSERT_GT(rank1, 0);
  const qint64 steps = store->stepsReceived();

  ASSERT_EQ(::kill(static_cast<pid_t>(rank1), SIGKILL), 0);
  const auto killed = std::chrono::steady_clock::now();
  ASSERT_TRUE(QTest::qWaitFor([&] { return store->state() == RunState::Failed; }, 10000));
  const auto seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - killed).count();
  EXPECT_LT(seconds, 10.0);
  std::cout << "the failure was named " << seconds << " s after the kill\n";
  QTest::qWait(300);
  const QString banner = window.monitor()->statusLine()->failureText();
  EXPECT_TRUE(banner.contains(QStringLiteral("Rank 1"))) << banner.toStdString();
  EXPECT_TRUE(banner.contains(QStringLiteral("SIGKILL"))) << banner.toStdString();
  EXPECT_GE(store->stepsReceived(), steps);
  EXPECT_GE(store->loss(LossTerm::Total).count(), steps);
  ASSERT_TRUE(QTest::qWaitFor([&] { return !window.session()->isActive(); }, 20000));
  auto* box = window.findChild<QMessageBox*>(QStringLiteral("runFailedBox"));
  ASSERT_NE(box, nullptr);
  EXPECT_TRUE(box->text().contains(QStringLiteral("Rank 1"))) << box->text().toStdString();
  box->close();
}

}  // namespace
}  // namespace studio::test

#endif
