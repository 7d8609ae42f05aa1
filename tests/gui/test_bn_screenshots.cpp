// Not a check: renders the BatchNorm screenshots of docs/screenshots/ from recorded runs (the
// evidence runs of docs/syncbn.md), as a user would look at them: open the BN run, its BatchNorm
// tab with the diagnosis, then Compare with the others. Run by scripts/bn-screenshots.sh:
//   SYNCBN_SCREENSHOT_DIR=docs/screenshots SYNCBN_SCREENSHOT_RUNS=RUN_BN:RUN_SYNCBN[:...]
//   xvfb-run ... build/tests/gui/test_gui --gtest_filter='BnScreenshots*'
// With SYNCBN_SCREENSHOT_LANGUAGE=zh_CN the window is switched to Chinese first (View > Language)
// and the files are named zh_CN-*.png.
#include <gtest/gtest.h>

#include <QDir>
#include <QPixmap>
#include <QTabWidget>
#include <QTableView>
#include <QTest>

#include "app/main_window.h"
#include "app/studio_actions.h"
#include "stores/run_library.h"
#include "stores/run_store.h"
#include "tests/gui/gui_test_support.h"
#include "widgets/bn/bn_view.h"
#include "widgets/monitor/monitor_view.h"

namespace studio::test {
namespace {

using BnScreenshots = GuiTest;

void save(QWidget& widget, const QString& dir, const QString& name) {
  QTest::qWait(300);  // queued replots and layouts
  const QPixmap shot = widget.grab();
  ASSERT_FALSE(shot.isNull());
  ASSERT_TRUE(shot.save(QDir(dir).filePath(name), "PNG")) << name.toStdString();
}

TEST_F(BnScreenshots, OfRecordedRuns) {
  const QString dir = qEnvironmentVariable("SYNCBN_SCREENSHOT_DIR");
  const QStringList runs =
      qEnvironmentVariable("SYNCBN_SCREENSHOT_RUNS").split(QLatin1Char(':'), Qt::SkipEmptyParts);
  if (dir.isEmpty() || runs.size() < 2)
    GTEST_SKIP() << "set SYNCBN_SCREENSHOT_DIR and SYNCBN_SCREENSHOT_RUNS (two or more runs)";
  MainWindow window;
  window.resize(1280, 820);
  window.show();
  QString prefix;
  if (qEnvironmentVariable("SYNCBN_SCREENSHOT_LANGUAGE") == QLatin1String("zh_CN")) {
    window.actions()->languageChinese->trigger();
    prefix = QStringLiteral("zh_CN-");
  }
  ASSERT_TRUE(window.openRun(runs.first()));
  RunStore* store = window.runs()->current();
  ASSERT_TRUE(QTest::qWaitFor([&] { return isFinal(store->state()); }, 30000));
  save(window, dir,
       prefix + QStringLiteral("train-diagnosis.png"));  // the banner over the overview
  window.monitor()->showBatchNorm();
  auto* layers = window.findChild<QTableView*>(QStringLiteral("bnLayers"));
  ASSERT_NE(layers, nullptr);
  layers->selectRow(0);  // the noisiest layer
  save(window, dir, prefix + QStringLiteral("bn-view.png"));
  ASSERT_TRUE(window.compareRuns(runs));
  QTest::qWait(1500);  // the records replay, the view redraws
  save(window, dir, prefix + QStringLiteral("compare.png"));
  if (!prefix.isEmpty()) window.actions()->languageEnglish->trigger();
}

}  // namespace
}  // namespace studio::test
