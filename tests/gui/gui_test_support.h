// Helpers that drive the GUI the way a user does: typing into editors, picking combo box items
// with the keyboard, answering message boxes.
#pragma once

#include <gtest/gtest.h>

#include <QCheckBox>
#include <QComboBox>
#include <QLineEdit>
#include <QMessageBox>
#include <QSettings>
#include <QSpinBox>
#include <QTemporaryDir>
#include <QTimer>

#include "stores/config_document.h"

class QAbstractSpinBox;

// Readable QStrings in GoogleTest failure messages (found by argument-dependent lookup).
inline void PrintTo(const QString& text, std::ostream* out) {
  *out << '"' << text.toStdString() << '"';
}

namespace studio::test {

// The editor of `fieldPath` under `root` (editors are named by their field path).
template <typename Editor>
Editor* editorOf(const QWidget& root, const QString& fieldPath) {
  auto* editor = root.findChild<Editor*>(fieldPath);
  EXPECT_NE(editor, nullptr) << "no " << Editor::staticMetaObject.className() << " named "
                             << fieldPath.toStdString();
  return editor;
}

// Replaces the spin box's text by `text` and presses Enter.
void typeInto(QAbstractSpinBox* spin, const QString& text);
// Replaces the line edit's text by `text`, key by key.
void typeInto(QLineEdit* line, const QString& text);
// Moves the combo box to the item `text` with the arrow keys.
void chooseItem(QComboBox* combo, const QString& text);
// Toggles the check box with the space bar.
void toggle(QCheckBox* check);

// Writes a demo dataset (make-demo-data) of `train` and `val` images of `imgsz` px into `dir`
// with the engine at `engine`; empty on success, else the engine's stderr.
QString makeDemoData(const QString& engine, const QString& dir, int train, int val, int imgsz,
                     int seed);

// Writes `contents` to `name` inside `dir`; returns the path.
QString writeFile(const QTemporaryDir& dir, const QString& name, const QByteArray& contents);

// Answers the next modal message box with `button` and remembers what it said.
class MessageBoxAnswer {
 public:
  explicit MessageBoxAnswer(QMessageBox::StandardButton button);

  bool answered() const { return answered_; }
  QString objectName() const { return objectName_; }
  QString text() const { return text_; }
  QString informativeText() const { return informativeText_; }

 private:
  void poll();

  QMessageBox::StandardButton button_;
  QTimer timer_;
  bool answered_ = false;
  QString objectName_;
  QString text_;
  QString informativeText_;
};

// Answers the next modal message box by clicking the button with `text` (for custom buttons
// such as "Stop the Run"), and remembers what the box said.
class ClickButton {
 public:
  explicit ClickButton(QString text);

  QString boxName() const { return name_; }
  QString informativeText() const { return informativeText_; }

 private:
  void poll();

  QString text_;
  QString name_;
  QString informativeText_;
  QTimer timer_;
};

// Each GUI test starts with empty settings (no recent files, default window geometry).
class GuiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    QSettings().clear();
    ASSERT_TRUE(scratch_.isValid());
  }

  QTemporaryDir scratch_;
};

}  // namespace studio::test
