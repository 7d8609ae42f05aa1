// Problems reach the user: beside the field, in the Problems view, in the status bar, and the
// Distributed page's summary shows what the settings resolve to.
#include <gtest/gtest.h>

#include <QApplication>
#include <QLabel>
#include <QTest>

#include "app/main_window.h"
#include "tests/gui/gui_test_support.h"
#include "stores/diagnostics_model.h"
#include "widgets/config/inline_diagnostics.h"
#include "widgets/problems/problems_view.h"

namespace studio::test {
namespace {

// Rows of the Problems view naming `fieldPath`, as (severity, message) pairs.
std::vector<std::pair<syncbn::Severity, QString>> problemsFor(const MainWindow& window,
                                                              const QString& fieldPath) {
  const DiagnosticsModel* model = window.problemsView()->diagnostics();
  std::vector<std::pair<syncbn::Severity, QString>> rows;
  for (int row = 0; row < model->rowCount(); ++row) {
    const QModelIndex index = model->index(row, DiagnosticsModel::MessageColumn);
    if (index.data(DiagnosticsModel::FieldPathRole).toString() != fieldPath) continue;
    rows.emplace_back(
        static_cast<syncbn::Severity>(index.data(DiagnosticsModel::SeverityRole).toInt()),
        index.data().toString());
  }
  return rows;
}

const InlineDiagnostics* messagesOf(const MainWindow& window, const QString& fieldPath) {
  const auto* messages = window.findChild<InlineDiagnostics*>(fieldPath + ":messages");
  EXPECT_NE(messages, nullptr) << fieldPath.toStdString();
  return messages;
}

QString statusSummary(const MainWindow& window) {
  return window.findChild<QLabel*>(QStringLiteral("diagnosticsSummary"))->text();
}

// Two CPU ranks, set through the editors.
void useTwoCpuRanks(MainWindow& window) {
  window.showPage(QStringLiteral("distributed"));
  typeInto(editorOf<QLineEdit>(window, QStringLiteral("distributed.device")),
           QStringLiteral("cpu"));
  typeInto(editorOf<QSpinBox>(window, QStringLiteral("distributed.cpu_ranks")),
           QStringLiteral("2"));
}

using DiagnosticsDisplayTest = GuiTest;

TEST_F(DiagnosticsDisplayTest, IndivisibleBatchIsAnErrorBesideTheFieldUntilFixed) {
  MainWindow window;
  window.show();
  useTwoCpuRanks(window);
  window.showPage(QStringLiteral("training"));
  auto* batch = editorOf<QSpinBox>(window, QStringLiteral("train.batch"));
  typeInto(batch, QStringLiteral("3"));

  const InlineDiagnostics* messages = messagesOf(window, QStringLiteral("train.batch"));
  EXPECT_TRUE(messages->isVisible());
  EXPECT_TRUE(messages->text().contains(QStringLiteral("divide")))
      << messages->text().toStdString();
  const auto rows = problemsFor(window, QStringLiteral("train.batch"));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows.front().first, syncbn::Severity::Error);
  EXPECT_TRUE(rows.front().second.contains(QStringLiteral("divide")));
  EXPECT_TRUE(statusSummary(window).startsWith(QStringLiteral("1 error,")))
      << statusSummary(window).toStdString();

  typeInto(batch, QStringLiteral("4"));
  EXPECT_FALSE(messages->isVisible());
  EXPECT_TRUE(problemsFor(window, QStringLiteral("train.batch")).empty());
  EXPECT_TRUE(statusSummary(window).startsWith(QStringLiteral("0 errors,")));
}

TEST_F(DiagnosticsDisplayTest, PlainBatchNormOnTinyPerRankBatchesWarnsOnTheNormField) {
  MainWindow window;
  window.show();
  useTwoCpuRanks(window);
  // Away from bn first, so that choosing bn is an edit whatever the default is.
  chooseItem(editorOf<QComboBox>(window, QStringLiteral("distributed.norm")),
             QStringLiteral("syncbn"));
  typeInto(editorOf<QSpinBox>(window, QStringLiteral("train.batch")), QStringLiteral("4"));
  EXPECT_FALSE(messagesOf(window, QStringLiteral("distributed.norm"))->isVisible());
  chooseItem(editorOf<QComboBox>(window, QStringLiteral("distributed.norm")), QStringLiteral("bn"));

  const InlineDiagnostics* messages = messagesOf(window, QStringLiteral("distributed.norm"));
  EXPECT_TRUE(messages->isVisible());
  ASSERT_EQ(messages->diagnostics().size(), 1u);
  EXPECT_EQ(messages->diagnostics().front().severity, syncbn::Severity::Warning);
  EXPECT_EQ(messages->diagnostics().front().rule, "small-batch-bn");
  const auto rows = problemsFor(window, QStringLiteral("distributed.norm"));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows.front().first, syncbn::Severity::Warning);
  EXPECT_TRUE(statusSummary(window).contains(QStringLiteral("1 warning")));

  chooseItem(editorOf<QComboBox>(window, QStringLiteral("distributed.norm")),
             QStringLiteral("syncbn"));
  EXPECT_FALSE(messages->isVisible());
  EXPECT_TRUE(problemsFor(window, QStringLiteral("distributed.norm")).empty());
}

TEST_F(DiagnosticsDisplayTest, ActivatingAProblemShowsItsFieldEditor) {
  MainWindow window;
  window.show();
  useTwoCpuRanks(window);
  typeInto(editorOf<QSpinBox>(window, QStringLiteral("train.batch")), QStringLiteral("3"));
  window.showPage(QStringLiteral("dataset"));

  const DiagnosticsModel* model = window.problemsView()->diagnostics();
  int row = 0;
  while (row < model->rowCount() && model->index(row, 0).data(DiagnosticsModel::FieldPathRole) !=
                                        QStringLiteral("train.batch"))
    ++row;
  ASSERT_LT(row, model->rowCount());
  window.problemsView()->activateRow(row);

  EXPECT_EQ(window.currentPageId(), QStringLiteral("training"));
  auto* batch = editorOf<QSpinBox>(window, QStringLiteral("train.batch"));
  // A spin box hands its focus to its line edit.
  QWidget* focused = window.focusWidget();
  EXPECT_TRUE(focused == batch || (focused && focused->parentWidget() == batch))
      << (focused ? focused->metaObject()->className() : "nothing");
}

TEST_F(DiagnosticsDisplayTest, DistributedSummaryShowsThePerRankBatch) {
  MainWindow window;
  window.show();
  useTwoCpuRanks(window);
  chooseItem(editorOf<QComboBox>(window, QStringLiteral("distributed.norm")),
             QStringLiteral("syncbn"));
  typeInto(editorOf<QSpinBox>(window, QStringLiteral("train.batch")), QStringLiteral("16"));

  const auto* perRank = window.findChild<QLabel*>(QStringLiteral("topology.perRankBatch"));
  const auto* worldSize = window.findChild<QLabel*>(QStringLiteral("topology.worldSize"));
  const auto* bnBatch = window.findChild<QLabel*>(QStringLiteral("topology.bnBatch"));
  ASSERT_TRUE(perRank && worldSize && bnBatch);
  EXPECT_TRUE(perRank->isVisible());
  EXPECT_EQ(perRank->text(), QStringLiteral("8 images"));
  EXPECT_TRUE(worldSize->text().startsWith(QStringLiteral("2 ranks")))
      << worldSize->text().toStdString();
  EXPECT_TRUE(bnBatch->text().startsWith(QStringLiteral("16 images")))
      << bnBatch->text().toStdString();

  chooseItem(editorOf<QComboBox>(window, QStringLiteral("distributed.norm")), QStringLiteral("bn"));
  EXPECT_TRUE(bnBatch->text().startsWith(QStringLiteral("8 images")))
      << bnBatch->text().toStdString();

  typeInto(editorOf<QSpinBox>(window, QStringLiteral("distributed.cpu_ranks")),
           QStringLiteral("4"));
  EXPECT_EQ(perRank->text(), QStringLiteral("4 images"));

  typeInto(editorOf<QSpinBox>(window, QStringLiteral("train.batch")), QStringLiteral("6"));
  EXPECT_TRUE(perRank->text().startsWith(QStringLiteral("none"))) << perRank->text().toStdString();
}

}  // namespace
}  // namespace studio::test
