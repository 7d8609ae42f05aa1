// The configuration pages: every field has an editor of the right kind, edits made through the
// editors reach the document and survive a save and reopen.
#include <gtest/gtest.h>

#include <QDoubleSpinBox>
#include <QLabel>
#include <climits>
#include <map>

#include "app/main_window.h"
#include "common/config_schema.h"
#include "tests/gui/gui_test_support.h"
#include "stores/field_text.h"
#include "widgets/config/inline_diagnostics.h"
#include "widgets/config/page_specs.h"
#include "stores/qt_text.h"

namespace studio::test {
namespace {

using ConfigPagesTest = GuiTest;

TEST_F(ConfigPagesTest, EveryFieldIsOnExactlyOnePage) {
  std::map<QString, int> pagesPerField;
  for (const PageSpec& page : configPageSpecs())
    for (const FieldGroup& group : page.groups)
      for (const QString& path : group.fields) {
        EXPECT_NE(syncbn::findField(path.toStdString()), nullptr)
            << page.id.toStdString() << " lists unknown field " << path.toStdString();
        ++pagesPerField[path];
      }
  for (const auto& field : syncbn::configFields())
    EXPECT_EQ(pagesPerField[toQString(field.path())], 1) << field.path();
}

TEST_F(ConfigPagesTest, EveryFieldHasItsOwnTranslatableText) {
  for (const auto& field : syncbn::configFields()) {
    const QString path = toQString(field.path());
    EXPECT_TRUE(hasFieldText(path)) << field.path();
    EXPECT_FALSE(fieldText(path).label.isEmpty()) << field.path();
    EXPECT_TRUE(fieldText(path).toolTip.contains(path)) << field.path();
  }
}

TEST_F(ConfigPagesTest, EachFieldGetsAnEditorForItsType) {
  const MainWindow window;
  for (const auto& field : syncbn::configFields()) {
    const QString path = toQString(field.path());
    QWidget* editor = window.findChild<QWidget*>(path);
    ASSERT_NE(editor, nullptr) << field.path();
    const char* expected = nullptr;
    switch (field.type) {
      case syncbn::FieldType::Int:
        expected = "QSpinBox";
        break;
      case syncbn::FieldType::Float:
        expected = "QDoubleSpinBox";
        break;
      case syncbn::FieldType::Bool:
        expected = "QCheckBox";
        break;
      case syncbn::FieldType::Choice:
        expected = "QComboBox";
        break;
      case syncbn::FieldType::String:
        expected = "QLineEdit";
        break;
    }
    EXPECT_TRUE(editor->inherits(expected))
        << field.path() << " is a " << editor->metaObject()->className();
    EXPECT_FALSE(editor->toolTip().isEmpty()) << field.path();
  }
  EXPECT_EQ(editorOf<QSpinBox>(window, QStringLiteral("train.epochs"))->minimum(), 1);
  EXPECT_EQ(editorOf<QSpinBox>(window, QStringLiteral("train.epochs"))->maximum(), 100000);
  // An unbounded field is clamped to what a spin box can hold.
  EXPECT_EQ(editorOf<QSpinBox>(window, QStringLiteral("output.checkpoint_interval"))->maximum(),
            INT_MAX);
  EXPECT_EQ(editorOf<QComboBox>(window, QStringLiteral("distributed.norm"))->count(), 4);
  EXPECT_NE(window.findChild<QWidget*>(QStringLiteral("data.data:browse")), nullptr);
  EXPECT_NE(window.findChild<QWidget*>(QStringLiteral("model.model:browse")), nullptr);
  EXPECT_NE(window.findChild<QWidget*>(QStringLiteral("output.project:browse")), nullptr);
}

TEST_F(ConfigPagesTest, EditsThroughTheEditorsSurviveSaveAndReopen) {
  const syncbn::Config defaults;
  ASSERT_NE(defaults.distributed.norm, syncbn::NormKind::GroupNorm);  // else no edit below
  MainWindow window;
  typeInto(editorOf<QSpinBox>(window, QStringLiteral("train.epochs")), QStringLiteral("50"));
  typeInto(editorOf<QDoubleSpinBox>(window, QStringLiteral("train.lr0")), QStringLiteral("0.02"));
  toggle(editorOf<QCheckBox>(window, QStringLiteral("train.amp")));
  chooseItem(editorOf<QComboBox>(window, QStringLiteral("distributed.norm")),
             QStringLiteral("groupnorm"));
  typeInto(editorOf<QLineEdit>(window, QStringLiteral("output.name")), QStringLiteral("ablation"));

  const syncbn::Config& edited = window.document()->config();
  EXPECT_EQ(edited.train.epochs, 50);
  EXPECT_DOUBLE_EQ(edited.train.lr0, 0.02);
  EXPECT_EQ(edited.train.amp, !defaults.train.amp);
  EXPECT_EQ(edited.distributed.norm, syncbn::NormKind::GroupNorm);
  EXPECT_EQ(edited.output.name, "ablation");
  EXPECT_TRUE(window.document()->isModified());

  const QString path = scratch_.filePath(QStringLiteral("edited.yaml"));
  ASSERT_TRUE(window.saveFileAs(path));

  MainWindow reopened;
  ASSERT_TRUE(reopened.openFile(path));
  EXPECT_EQ(reopened.document()->config(), edited);
  EXPECT_FALSE(reopened.document()->isModified());
  EXPECT_EQ(editorOf<QSpinBox>(reopened, QStringLiteral("train.epochs"))->value(), 50);
  EXPECT_DOUBLE_EQ(editorOf<QDoubleSpinBox>(reopened, QStringLiteral("train.lr0"))->value(), 0.02);
  EXPECT_EQ(editorOf<QCheckBox>(reopened, QStringLiteral("train.amp"))->isChecked(),
            !defaults.train.amp);
  EXPECT_EQ(editorOf<QComboBox>(reopened, QStringLiteral("distributed.norm"))->currentText(),
            QStringLiteral("groupnorm"));
  EXPECT_EQ(editorOf<QLineEdit>(reopened, QStringLiteral("output.name"))->text(),
            QStringLiteral("ablation"));
}

TEST_F(ConfigPagesTest, ShowingALoadedFileDoesNotWriteBackOrMarkModified) {
  // More digits than a spin box keeps: an editor that echoed its (rounded) value back to the
  // document would change the configuration merely by showing it.
  const QString path = writeFile(scratch_, QStringLiteral("tuned.yaml"),
                                 "train:\n  lr0: 0.012345678901234\n  weight_decay: 0.00025\n"
                                 "distributed:\n  device: cpu\n  norm: groupnorm\n");
  MainWindow window;
  ASSERT_TRUE(window.openFile(path));
  EXPECT_FALSE(window.document()->isModified());
  EXPECT_DOUBLE_EQ(window.document()->config().train.lr0, 0.012345678901234);
  EXPECT_DOUBLE_EQ(window.document()->config().train.weight_decay, 0.00025);
  EXPECT_EQ(editorOf<QLineEdit>(window, QStringLiteral("distributed.device"))->text(),
            QStringLiteral("cpu"));
  EXPECT_EQ(editorOf<QComboBox>(window, QStringLiteral("distributed.norm"))->currentText(),
            QStringLiteral("groupnorm"));
}

TEST_F(ConfigPagesTest, NumbersShowWithoutTrailingZeros) {
  const MainWindow window;
  EXPECT_EQ(editorOf<QDoubleSpinBox>(window, QStringLiteral("train.lr0"))->text(),
            QStringLiteral("0.01"));
  EXPECT_EQ(editorOf<QDoubleSpinBox>(window, QStringLiteral("train.momentum"))->text(),
            QStringLiteral("0.937"));
  EXPECT_EQ(editorOf<QDoubleSpinBox>(window, QStringLiteral("train.weight_decay"))->text(),
            QStringLiteral("0.0005"));
}

TEST_F(ConfigPagesTest, AnOutOfRangeValueFromAFileIsShownAsItIsWithItsError) {
  const QString path = writeFile(scratch_, QStringLiteral("zero.yaml"), "train:\n  epochs: 0\n");
  MainWindow window;
  ASSERT_TRUE(window.openFile(path));
  EXPECT_EQ(editorOf<QSpinBox>(window, QStringLiteral("train.epochs"))->value(), 0);
  const auto* messages =
      window.findChild<InlineDiagnostics*>(QStringLiteral("train.epochs:messages"));
  ASSERT_NE(messages, nullptr);
  EXPECT_FALSE(messages->isHidden());
  EXPECT_TRUE(messages->text().contains(QStringLiteral("between 1")))
      << messages->text().toStdString();
}

}  // namespace
}  // namespace studio::test
