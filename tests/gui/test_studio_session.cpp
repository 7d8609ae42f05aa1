// The shell's handling of a run, with the scripted fake engine (tests/stores/fake_engine.cpp):
// quitting during a run asks, and each answer does what it says; Start refuses a configuration
// with errors and a missing engine with messages that say why.
#include <gtest/gtest.h>
#include <signal.h>

#include <QAction>
#include <QDockWidget>
#include <QMessageBox>
#include <QPushButton>
#include <QSettings>
#include <QSpinBox>
#include <QTest>

#include "app/main_window.h"
#include "app/studio_actions.h"
#include "stores/engine_locator.h"
#include "stores/engine_session.h"
#include "stores/run_store.h"
#include "tests/gui/gui_test_support.h"

namespace studio::test {
namespace {

class StudioSession : public GuiTest {
 protected:
  void SetUp() override {
    GuiTest::SetUp();
    QSettings().setValue(QString::fromLatin1(kEngineProgramSetting),
                         QStringLiteral(SYNCBN_FAKE_ENGINE_PATH));
    config_ = writeFile(scratch_, QStringLiteral("run.yaml"),
                        "train:\n  epochs: 1\n  batch: 4\ndistributed:\n  device: cpu\n"
                        "  cpu_ranks: 2\n  norm: syncbn\noutput:\n  project: runs\n");
  }
  void TearDown() override { qunsetenv("FAKE_ENGINE_SCRIPT"); }

  // A fake engine that connects, starts a run and then waits for `stop` (or is killed).
  void script(const QByteArray& commands) {
    qputenv("FAKE_ENGINE_SCRIPT",
            writeFile(scratch_, QStringLiteral("script.txt"), commands).toLocal8Bit());
  }

  void open(MainWindow& window) {
    window.session()->setWorkingDirectory(scratch_.path());
    ASSERT_TRUE(window.openFile(config_));
    window.show();
  }

  QString config_;
};

constexpr char kWaitsForStop[] =
    "connect\nhello\nrun_started dir=runs/fake epochs=1 iterations=100\nstep iteration=0\n"
    "wait_command stop timeout=20000\n"
    "checkpoint kind=last epoch=0 iteration=1\ntouch runs/fake/args.yaml\n"
    "finished status=stopped epochs=0\nexit 0\n";

TEST_F(StudioSession, QuittingDuringARunCanStopItFirst) {
  script(kWaitsForStop);
  MainWindow window;
  open(window);
  window.actions()->start->trigger();
  RunStore* store = window.session()->store();
  ASSERT_TRUE(QTest::qWaitFor([&] { return store->stepsReceived() == 1; }, 10000));
  {
    const ClickButton stop(QStringLiteral("Stop the Run"));
    EXPECT_FALSE(window.close());  // not yet: it closes once the engine has saved and exited
    EXPECT_EQ(stop.boxName(), QStringLiteral("activeRunBox"));
  }
  ASSERT_TRUE(QTest::qWaitFor([&] { return !window.isVisible(); }, 20000));
  EXPECT_EQ(store->state(), RunState::Stopped);
  EXPECT_FALSE(window.session()->isActive());
}

TEST_F(StudioSession, QuittingDuringARunCanLeaveItRunning) {
  script(kWaitsForStop);
  qint64 pid = 0;
  {
    MainWindow window;
    open(window);
    window.actions()->start->trigger();
    RunStore* store = window.session()->store();
    ASSERT_TRUE(QTest::qWaitFor([&] { return store->stepsReceived() == 1; }, 10000));
    pid = window.session()->processId();
    const ClickButton leave(QStringLiteral("Leave It Running"));
    EXPECT_TRUE(window.close());
    EXPECT_FALSE(window.session()->isActive());
  }
  // The window is gone; the engine is not.
  ASSERT_GT(pid, 0);
  EXPECT_EQ(::kill(static_cast<pid_t>(pid), 0), 0);
  ::kill(static_cast<pid_t>(pid), SIGKILL);
}

TEST_F(StudioSession, QuittingDuringARunCanBeCancelled) {
  script(kWaitsForStop);
  MainWindow window;
  open(window);
  window.actions()->start->trigger();
  ASSERT_TRUE(
      QTest::qWaitFor([&] { return window.session()->store()->stepsReceived() == 1; }, 10000));
  {
    const ClickButton cancel(QStringLiteral("Cancel"));
    EXPECT_FALSE(window.close());
  }
  EXPECT_TRUE(window.isVisible());
  EXPECT_TRUE(window.session()->isActive());
  EXPECT_EQ(window.session()->store()->state(), RunState::Running);
  window.actions()->stop->trigger();
  ASSERT_TRUE(QTest::qWaitFor([&] { return !window.session()->isActive(); }, 20000));
}

TEST_F(StudioSession, StartRefusesAConfigurationWithErrorsAndShowsThem) {
  script("exit 0\n");
  MainWindow window;
  open(window);
  window.showMode(MainWindow::Mode::Train);
  typeInto(editorOf<QSpinBox>(window, QStringLiteral("train.batch")), QStringLiteral("3"));
  const MessageBoxAnswer answer(QMessageBox::Ok);
  window.actions()->start->trigger();
  ASSERT_TRUE(answer.answered());
  EXPECT_EQ(answer.objectName(), QStringLiteral("cannotStartBox"));
  EXPECT_FALSE(window.session()->isActive());
  EXPECT_TRUE(window.findChild<QDockWidget*>(QStringLiteral("problemsDock"))->isVisible());
}

TEST_F(StudioSession, AMissingEngineIsReportedWithWhereItWasLookedFor) {
  QSettings().setValue(QString::fromLatin1(kEngineProgramSetting),
                       scratch_.filePath(QStringLiteral("no-such-engine")));
  MainWindow window;
  open(window);
  const MessageBoxAnswer answer(QMessageBox::Cancel);
  window.actions()->start->trigger();
  ASSERT_TRUE(answer.answered());
  EXPECT_EQ(answer.objectName(), QStringLiteral("engineNotFoundBox"));
  EXPECT_TRUE(answer.text().contains(QStringLiteral("no-such-engine")))
      << answer.text().toStdString();
  EXPECT_FALSE(window.session()->isActive());
}

TEST_F(StudioSession, ActionsFollowTheSession) {
  script(kWaitsForStop);
  MainWindow window;
  open(window);
  StudioActions* actions = window.actions();
  EXPECT_TRUE(actions->start->isEnabled());
  EXPECT_FALSE(actions->stop->isEnabled());
  actions->start->trigger();
  ASSERT_TRUE(QTest::qWaitFor([&] { return window.session()->isConnected(); }, 10000));
  EXPECT_FALSE(actions->start->isEnabled());
  EXPECT_TRUE(actions->stop->isEnabled());
  EXPECT_TRUE(actions->checkpointNow->isEnabled());
  EXPECT_FALSE(actions->kill->isEnabled());
  EXPECT_EQ(window.mode(), MainWindow::Mode::Train);
  actions->stop->trigger();
  EXPECT_FALSE(actions->stop->isEnabled());
  ASSERT_TRUE(QTest::qWaitFor([&] { return !window.session()->isActive(); }, 20000));
  EXPECT_TRUE(actions->start->isEnabled());
  // Stopped with weights/last.pt and args.yaml: it can be resumed.
  EXPECT_EQ(window.session()->store()->state(), RunState::Stopped);
  EXPECT_TRUE(actions->resume->isEnabled());
}

}  // namespace
}  // namespace studio::test
