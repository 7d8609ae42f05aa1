// Help: the About box's versions, the documentation found where it is installed, and the problem
// report on the clipboard.
#include <QApplication>
#include <QClipboard>
#include <QDir>
#include <QFile>
#include <QMenu>
#include <QMenuBar>
#include <QTest>

#include "app/main_window.h"
#include "app/studio_actions.h"
#include "app/support_info.h"
#include "common/version.h"
#include "stores/engine_locator.h"
#include "stores/log_model.h"
#include "stores/model_info.h"
#include "tests/gui/gui_test_support.h"

namespace studio::test {
namespace {

using Help = GuiTest;

TEST_F(Help, TheMenuOffersDocumentationAProblemReportAndAbout) {
  MainWindow window;
  auto* help = window.findChild<QMenu*>(QStringLiteral("helpMenu"));
  ASSERT_NE(help, nullptr);
  QStringList texts;
  for (QAction* action : help->actions())
    if (!action->isSeparator()) texts << action->text().remove(QLatin1Char('&'));
  EXPECT_EQ(texts, (QStringList{"Documentation", "Report a Problem...", "About SyncBN Studio",
                                "About Qt"}));
  EXPECT_EQ(window.actions()->documentation->shortcut(), QKeySequence(QKeySequence::HelpContents));
}

TEST_F(Help, DocumentationIsTheInstalledReadmeElseTheSourceTrees) {
  // An installed layout: bin/ beside share/doc/syncbn-studio/README.md.
  QDir(scratch_.path()).mkpath(QStringLiteral("usr/bin"));
  QDir(scratch_.path()).mkpath(QStringLiteral("usr/share/doc/syncbn-studio"));
  const QString readme =
      writeFile(scratch_, QStringLiteral("usr/share/doc/syncbn-studio/README.md"), "# installed\n");
  EXPECT_EQ(documentationFile(scratch_.filePath(QStringLiteral("usr/bin"))),
            QFileInfo(readme).canonicalFilePath());
  // The build tree: the sources' README.
  EXPECT_EQ(documentationFile(scratch_.filePath(QStringLiteral("nowhere"))),
            QFileInfo(QStringLiteral(SYNCBN_SOURCE_DIR "/README.md")).canonicalFilePath());
}

TEST_F(Help, TheProblemReportHasTheVersionsTheSystemAndTheLastLogLines) {
  LogModel log;
  for (int i = 0; i < 60; ++i) {
    LogLine line;
    line.source = 0;
    line.text = QStringLiteral("line %1").arg(i);
    log.append(line);
  }
  const SupportInfo info =
      gatherSupportInfo(QStringLiteral("/opt/engine"), nullptr, &log, QStringLiteral("/a.yaml"), 5);
  ASSERT_EQ(info.logLines.size(), 5);
  EXPECT_TRUE(info.logLines.back().endsWith(QStringLiteral("line 59")))
      << info.logLines.back().toStdString();
  const QString report = problemReport(info);
  EXPECT_TRUE(
      report.startsWith(QStringLiteral("SyncBN Studio ") + QString::fromLatin1(syncbn::kVersion)));
  for (const QString& part :
       {QStringLiteral("engine: /opt/engine"), QStringLiteral("configuration: /a.yaml"),
        QStringLiteral("Qt: built"), QStringLiteral("system: "), QStringLiteral("line 55"),
        QStringLiteral("LibTorch: unknown")})
    EXPECT_TRUE(report.contains(part)) << part.toStdString() << "\n" << report.toStdString();
  EXPECT_FALSE(report.contains(QStringLiteral("line 54")));
}

#ifdef SYNCBN_ENGINE_PATH
TEST_F(Help, AboutAndTheReportNameTheEnginesLibTorchAndDevices) {
  QSettings().setValue(QString::fromLatin1(kEngineProgramSetting),
                       QStringLiteral(SYNCBN_ENGINE_PATH));
  MainWindow window;
  ASSERT_TRUE(QTest::qWaitFor([&] { return window.deviceList()->isKnown(); }, 60000));
  const SupportInfo info = window.supportInfo();
  EXPECT_EQ(info.torch, window.deviceList()->torchVersion());
  EXPECT_FALSE(info.torch.isEmpty());
  EXPECT_TRUE(aboutText(info).contains(info.torch));
  EXPECT_TRUE(aboutText(info).contains(QStringLiteral(SYNCBN_ENGINE_PATH)));
  window.actions()->reportProblem->trigger();
  EXPECT_TRUE(
      QApplication::clipboard()->text().contains(QStringLiteral("LibTorch: ") + info.torch));
}
#endif

}  // namespace
}  // namespace studio::test
