// Not a check: renders docs/screenshots/ of every mode during a real training run, driven as a
// user would: open the configuration, press Start, watch, press Stop, press Resume, let it finish,
// open it again from Runs. Prints the run's median images/s, to compare with the same run
// headless (what watching costs). Run by scripts/screenshots.sh under Xvfb:
//   SYNCBN_SCREENSHOT_DIR=docs/screenshots QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0
//   1280x860x24"
//     build/tests/gui/test_gui --gtest_filter='MonitorScreenshots*'
// SYNCBN_SCREENSHOT_CONFIG picks the configuration (default configs/demo.yaml) and
// SYNCBN_SCREENSHOT_EPOCHS how many epochs to train (default: the configuration's).

#include <gtest/gtest.h>

#include <QAction>
#include <QApplication>
#include <QDir>
#include <QPixmap>
#include <QSettings>
#include <QSpinBox>
#include <QTabWidget>
#include <QTableView>
#include <QFileInfo>
#include <QTest>
#include <algorithm>
#include <iostream>
#include <vector>

#include "app/main_window.h"
#include "app/studio_actions.h"
#include "common/config_schema.h"
#include "stores/config_document.h"
#include "stores/engine_locator.h"
#include "stores/engine_session.h"
#include "stores/run_library.h"
#include "stores/run_store.h"
#include "tests/gui/gui_test_support.h"
#include "widgets/monitor/monitor_view.h"
#include "widgets/runs/runs_view.h"

namespace studio::test {
namespace {

using MonitorScreenshots = GuiTest;

void save(QWidget& widget, const QString& dir, const QString& name) {
  QTest::qWait(200);  // queued replots and layouts
  const QPixmap shot = widget.grab();
  ASSERT_FALSE(shot.isNull());
  ASSERT_TRUE(shot.save(QDir(dir).filePath(name), "PNG")) << name.toStdString();
}

TEST_F(MonitorScreenshots, EveryModeDuringARealRun) {
  const QString dir = qEnvironmentVariable("SYNCBN_SCREENSHOT_DIR");
  if (dir.isEmpty()) GTEST_SKIP() << "set SYNCBN_SCREENSHOT_DIR to the folder to write";
#ifndef SYNCBN_ENGINE_PATH
  GTEST_SKIP() << "built without syncbn-engine";
#else
  QSettings().setValue(QString::fromLatin1(kEngineProgramSetting),
                       QStringLiteral(SYNCBN_ENGINE_PATH));
  const QString config = qEnvironmentVariable(
      "SYNCBN_SCREENSHOT_CONFIG", QStringLiteral(SYNCBN_SOURCE_DIR "/configs/demo.yaml"));
  const int epochs = qEnvironmentVariableIntValue("SYNCBN_SCREENSHOT_EPOCHS");
  MainWindow window;
  window.session()->setWorkingDirectory(scratch_.path());
  ASSERT_TRUE(window.openFile(config));
  window.resize(1280, 820);
  window.show();
  if (epochs > 0)
    typeInto(editorOf<QSpinBox>(window, QStringLiteral("train.epochs")), QString::number(epochs));
  save(window, dir, QStringLiteral("configure.png"));

  window.actions()->start->trigger();
  RunStore* store = window.session()->store();
  ASSERT_NE(store, nullptr);
  // Two validations in: every plot has something to show.
  const bool validated = QTest::qWaitFor(
      [&] { return store->validation().size() >= 2 || isFinal(store->state()); }, 30 * 60 * 1000);
  ASSERT_TRUE(validated);
  ASSERT_FALSE(isFinal(store->state())) << store->failureMessage().toStdString();
  QTest::qWait(3000);  // a few steps of the next epoch
  MonitorView* monitor = window.monitor();
  monitor->setRankOverlay(true);
  save(window, dir, QStringLiteral("train.png"));
  monitor->detailTabs()->setCurrentIndex(2);
  save(window, dir, QStringLiteral("train-log.png"));
  monitor->detailTabs()->setCurrentIndex(1);
  save(window, dir, QStringLiteral("train-classes.png"));
  monitor->detailTabs()->setCurrentIndex(0);

  window.actions()->stop->trigger();
  ASSERT_TRUE(QTest::qWaitFor([&] { return !window.session()->isActive(); }, 120000));
  EXPECT_EQ(store->state(), RunState::Stopped);
  EXPECT_TRUE(QFileInfo::exists(store->runDirectory() + QStringLiteral("/weights/last.pt")));
  save(window, dir, QStringLiteral("train-stopped.png"));

  ASSERT_TRUE(window.actions()->resume->isEnabled());
  window.actions()->resume->trigger();
  ASSERT_TRUE(QTest::qWaitFor([&] { return !window.session()->isActive(); }, 60 * 60 * 1000));
  EXPECT_EQ(store->state(), RunState::Completed) << store->failureMessage().toStdString();
  save(window, dir, QStringLiteral("train-finished.png"));
  std::vector<double> rates;
  for (const SeriesPoint& p : store->imagesPerSecond().fullResolution())
    rates.push_back(p.value);
  std::nth_element(rates.begin(), rates.begin() + static_cast<std::ptrdiff_t>(rates.size() / 2),
                   rates.end());
  std::cout << "run " << store->runDirectory().toStdString() << ": " << rates.size()
            << " steps, median " << rates[rates.size() / 2] << " images/s with the studio live\n";

  window.showMode(MainWindow::Mode::Runs);
  window.runsView()->selectIfListed(store->runDirectory());
  save(window, dir, QStringLiteral("runs.png"));
#endif
}

}  // namespace
}  // namespace studio::test
