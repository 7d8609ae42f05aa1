// Not a check: renders docs/screenshots/main-window.png when SYNCBN_SCREENSHOT names the output,
// rendered by the real X11 platform under Xvfb:
//   SYNCBN_SCREENSHOT=$PWD/docs/screenshots/main-window.png QT_QPA_PLATFORM=xcb
//     xvfb-run -a -s "-screen 0 1280x800x24" build/tests/gui/test_gui --gtest_filter='Screenshot*'

#include <gtest/gtest.h>

#include <QApplication>
#include <QDockWidget>
#include <QPixmap>
#include <QTest>

#include "app/main_window.h"
#include "tests/gui/gui_test_support.h"

namespace studio::test {
namespace {

using Screenshot = GuiTest;

TEST_F(Screenshot, DistributedPageWithAdvice) {
  const QString output = qEnvironmentVariable("SYNCBN_SCREENSHOT");
  if (output.isEmpty()) GTEST_SKIP() << "set SYNCBN_SCREENSHOT to the PNG to write";

  // Plain BN on two CPU ranks with a global batch of 4: each rank's BatchNorm sees 2 images.
  const QString path = writeFile(scratch_, QStringLiteral("yolov8n-2cpu.yaml"),
                                 "data:\n  data: demo\n  imgsz: 320\n"
                                 "model:\n  model: yolov8n.yaml\n"
                                 "train:\n  epochs: 30\n  batch: 4\n"
                                 "distributed:\n  device: cpu\n  cpu_ranks: 2\n  norm: bn\n");
  MainWindow window;
  ASSERT_TRUE(window.openFile(path));
  window.resize(1200, 800);
  window.show();
  window.showPage(QStringLiteral("distributed"));
  auto* dock = window.findChild<QDockWidget*>(QStringLiteral("problemsDock"));
  window.resizeDocks({dock}, {190}, Qt::Vertical);
  QTest::qWait(50);  // let the layouts settle

  const QPixmap shot = window.grab();
  ASSERT_FALSE(shot.isNull());
  ASSERT_TRUE(shot.save(output, "PNG")) << output.toStdString();
}

}  // namespace
}  // namespace studio::test
