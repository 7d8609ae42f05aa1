// The main window's file handling: title and modified marker, recent files, unsaved-changes
// prompts, reporting of save and load failures, remembered layout, shared actions.
#include <gtest/gtest.h>

#include <QDockWidget>
#include <QFile>
#include <QLabel>
#include <QMenu>
#include <QMenuBar>
#include <QToolBar>

#include "app/main_window.h"
#include "app/recent_files.h"
#include "common/config_yaml.h"
#include "tests/gui/gui_test_support.h"
#include "stores/diagnostics_model.h"
#include "widgets/problems/problems_view.h"

namespace studio::test {
namespace {

using MainWindowTest = GuiTest;

TEST_F(MainWindowTest, TitleNamesTheFileAndMarksUnsavedChanges) {
  MainWindow window;
  EXPECT_EQ(window.windowTitle(), QStringLiteral("Untitled[*] — SyncBN Studio"));
  EXPECT_FALSE(window.isWindowModified());

  typeInto(editorOf<QSpinBox>(window, QStringLiteral("train.epochs")), QStringLiteral("12"));
  EXPECT_TRUE(window.isWindowModified());

  ASSERT_TRUE(window.saveFileAs(scratch_.filePath(QStringLiteral("run.yaml"))));
  EXPECT_EQ(window.windowTitle(), QStringLiteral("run.yaml[*] — SyncBN Studio"));
  EXPECT_FALSE(window.isWindowModified());
}

TEST_F(MainWindowTest, RecentFilesFollowSavesAndOpens) {
  MainWindow window;
  const QString a = scratch_.filePath(QStringLiteral("a.yaml"));
  const QString b = scratch_.filePath(QStringLiteral("b.yaml"));
  ASSERT_TRUE(window.saveFileAs(a));
  ASSERT_TRUE(window.saveFileAs(b));
  EXPECT_EQ(window.recentFiles()->files(), (QStringList{b, a}));

  ASSERT_TRUE(window.openFile(a));
  EXPECT_EQ(window.recentFiles()->files(), (QStringList{a, b}));

  // The File menu offers them, newest first.
  auto* menu = window.findChild<QMenu*>(QStringLiteral("recentFilesMenu"));
  ASSERT_NE(menu, nullptr);
  emit menu->aboutToShow();
  ASSERT_GE(menu->actions().size(), 2);
  EXPECT_EQ(menu->actions().at(0)->data().toString(), a);
  EXPECT_EQ(menu->actions().at(1)->data().toString(), b);

  // A file deleted meanwhile is no longer offered.
  ASSERT_TRUE(QFile::remove(b));
  EXPECT_EQ(window.recentFiles()->files(), (QStringList{a}));

  // At most eight, the newest kept.
  for (int i = 0; i < 10; ++i)
    ASSERT_TRUE(window.saveFileAs(scratch_.filePath(QStringLiteral("%1.yaml").arg(i))));
  const QStringList files = window.recentFiles()->files();
  ASSERT_EQ(files.size(), RecentFiles::kMaxEntries);
  EXPECT_EQ(files.front(), scratch_.filePath(QStringLiteral("9.yaml")));

  window.recentFiles()->clear();
  EXPECT_TRUE(window.recentFiles()->files().isEmpty());
  // Remembered across windows: the list lives in the settings, not in the window.
  ASSERT_TRUE(window.saveFileAs(a));
  EXPECT_EQ(MainWindow().recentFiles()->files(), QStringList{a});
}

TEST_F(MainWindowTest, SaveFailureIsReportedAndTheChangesAreKept) {
  MainWindow window;
  typeInto(editorOf<QSpinBox>(window, QStringLiteral("train.epochs")), QStringLiteral("12"));

  const MessageBoxAnswer answer(QMessageBox::Ok);
  EXPECT_FALSE(window.saveFileAs(scratch_.path()));  // a directory, not a file
  ASSERT_TRUE(answer.answered());
  EXPECT_EQ(answer.objectName(), QStringLiteral("saveFailedBox"));
  EXPECT_TRUE(answer.informativeText().contains(scratch_.path()))
      << answer.informativeText().toStdString();
  EXPECT_TRUE(window.document()->isModified());
  EXPECT_TRUE(window.isWindowModified());
  EXPECT_EQ(window.document()->config().train.epochs, 12);
  EXPECT_TRUE(window.recentFiles()->files().isEmpty());
}

TEST_F(MainWindowTest, OpeningAFileWithAnUnknownKeyListsTheProblem) {
  const QString path =
      writeFile(scratch_, QStringLiteral("typo.yaml"), "train:\n  epochs: 7\n  epochz: 5\n");
  MainWindow window;
  ASSERT_TRUE(window.openFile(path));
  EXPECT_EQ(window.document()->config().train.epochs, 7);

  const DiagnosticsModel* model = window.problemsView()->diagnostics();
  int row = 0;
  while (row < model->rowCount() && model->index(row, 0).data(DiagnosticsModel::FieldPathRole) !=
                                        QStringLiteral("train.epochz"))
    ++row;
  ASSERT_LT(row, model->rowCount());
  EXPECT_TRUE(model->index(row, DiagnosticsModel::MessageColumn)
                  .data()
                  .toString()
                  .startsWith(QStringLiteral("unknown key")));
  EXPECT_EQ(model->index(row, DiagnosticsModel::LocationColumn).data().toString(),
            QStringLiteral("typo.yaml:3"));
  EXPECT_FALSE(window.findChild<QDockWidget*>(QStringLiteral("problemsDock"))->isHidden());
}

TEST_F(MainWindowTest, AFileThatCannotBeReadIsReportedAndNothingChanges) {
  const QString path = writeFile(scratch_, QStringLiteral("broken.yaml"), "train: [\n");
  MainWindow window;
  typeInto(editorOf<QSpinBox>(window, QStringLiteral("train.epochs")), QStringLiteral("12"));
  ASSERT_TRUE(window.saveFileAs(scratch_.filePath(QStringLiteral("mine.yaml"))));

  const MessageBoxAnswer answer(QMessageBox::Ok);
  EXPECT_FALSE(window.openFile(path));
  ASSERT_TRUE(answer.answered());
  EXPECT_EQ(answer.objectName(), QStringLiteral("openFailedBox"));
  EXPECT_TRUE(answer.informativeText().contains(QStringLiteral("YAML syntax")));
  EXPECT_EQ(window.document()->displayName(), QStringLiteral("mine.yaml"));
  EXPECT_EQ(window.document()->config().train.epochs, 12);
}

TEST_F(MainWindowTest, NewAsksBeforeDiscardingUnsavedChanges) {
  MainWindow window;
  typeInto(editorOf<QSpinBox>(window, QStringLiteral("train.epochs")), QStringLiteral("12"));
  {
    const MessageBoxAnswer cancel(QMessageBox::Cancel);
    window.newDocument();
    ASSERT_TRUE(cancel.answered());
    EXPECT_EQ(cancel.objectName(), QStringLiteral("unsavedChangesBox"));
    EXPECT_EQ(window.document()->config().train.epochs, 12);
  }
  {
    const MessageBoxAnswer discard(QMessageBox::Discard);
    window.newDocument();
    ASSERT_TRUE(discard.answered());
    EXPECT_EQ(window.document()->config().train.epochs, syncbn::TrainConfig{}.epochs);
    EXPECT_FALSE(window.document()->isModified());
  }
}

TEST_F(MainWindowTest, SavingFromThePromptWritesTheChangesFirst) {
  MainWindow window;
  const QString path = scratch_.filePath(QStringLiteral("kept.yaml"));
  ASSERT_TRUE(window.saveFileAs(path));
  typeInto(editorOf<QSpinBox>(window, QStringLiteral("train.epochs")), QStringLiteral("12"));

  const MessageBoxAnswer save(QMessageBox::Save);
  window.newDocument();
  ASSERT_TRUE(save.answered());
  EXPECT_EQ(syncbn::loadConfigFile(path.toStdString()).config.train.epochs, 12);
  EXPECT_TRUE(window.document()->filePath().isEmpty());
}

TEST_F(MainWindowTest, ClosingWithUnsavedChangesCanBeCancelled) {
  MainWindow window;
  window.show();
  typeInto(editorOf<QSpinBox>(window, QStringLiteral("train.epochs")), QStringLiteral("12"));
  const MessageBoxAnswer cancel(QMessageBox::Cancel);
  EXPECT_FALSE(window.close());
  ASSERT_TRUE(cancel.answered());
  EXPECT_TRUE(window.isVisible());
}

TEST_F(MainWindowTest, RemembersTheLastPageAndWindowSize) {
  {
    MainWindow window;
    window.show();
    window.showPage(QStringLiteral("distributed"));
    window.resize(1000, 700);
    ASSERT_TRUE(window.close());
  }
  const MainWindow reopened;
  EXPECT_EQ(reopened.currentPageId(), QStringLiteral("distributed"));
  EXPECT_EQ(reopened.size(), QSize(1000, 700));
}

TEST_F(MainWindowTest, MenuAndToolBarShareTheFileActions) {
  const MainWindow window;
  auto* toolBar = window.findChild<QToolBar*>(QStringLiteral("fileToolBar"));
  auto* fileMenu = window.findChild<QMenu*>(QStringLiteral("fileMenu"));
  ASSERT_TRUE(toolBar && fileMenu);
  for (const char* name : {"action.new", "action.open", "action.save"}) {
    auto* action = window.findChild<QAction*>(QString::fromLatin1(name));
    ASSERT_NE(action, nullptr) << name;
    EXPECT_TRUE(toolBar->actions().contains(action)) << name;
    EXPECT_TRUE(fileMenu->actions().contains(action)) << name;
    EXPECT_FALSE(action->shortcut().isEmpty()) << name;
  }
  for (const char* name : {"action.saveAs", "action.quit"}) {
    auto* action = window.findChild<QAction*>(QString::fromLatin1(name));
    ASSERT_NE(action, nullptr) << name;
    EXPECT_TRUE(fileMenu->actions().contains(action)) << name;
    EXPECT_FALSE(action->shortcut().isEmpty()) << name;
  }
}

}  // namespace
}  // namespace studio::test
