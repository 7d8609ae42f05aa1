#include "tests/gui/gui_test_support.h"

#include <QAbstractButton>
#include <QAbstractSpinBox>
#include <QApplication>
#include <QFile>
#include <QProcess>
#include <QTest>

namespace studio::test {

void typeInto(QAbstractSpinBox* spin, const QString& text) {
  ASSERT_NE(spin, nullptr);
  spin->selectAll();
  QTest::keyClicks(spin, text);
  QTest::keyClick(spin, Qt::Key_Enter);
}

void typeInto(QLineEdit* line, const QString& text) {
  ASSERT_NE(line, nullptr);
  line->selectAll();
  QTest::keyClick(line, Qt::Key_Delete);
  QTest::keyClicks(line, text);
}

void chooseItem(QComboBox* combo, const QString& text) {
  ASSERT_NE(combo, nullptr);
  const int target = combo->findText(text);
  ASSERT_GE(target, 0) << "no item " << text.toStdString();
  while (combo->currentIndex() < target)
    QTest::keyClick(combo, Qt::Key_Down);
  while (combo->currentIndex() > target)
    QTest::keyClick(combo, Qt::Key_Up);
}

void toggle(QCheckBox* check) {
  ASSERT_NE(check, nullptr);
  QTest::keyClick(check, Qt::Key_Space);
}

QString makeDemoData(const QString& engine, const QString& dir, int train, int val, int imgsz,
                     int seed) {
  QProcess make;
  make.start(engine, {QStringLiteral("make-demo-data"), dir, QStringLiteral("--train"),
                      QString::number(train), QStringLiteral("--val"), QString::number(val),
                      QStringLiteral("--imgsz"), QString::number(imgsz), QStringLiteral("--seed"),
                      QString::number(seed)});
  if (!make.waitForFinished(120000)) return QStringLiteral("make-demo-data did not finish");
  return make.exitCode() == 0 ? QString() : QString::fromUtf8(make.readAllStandardError());
}

QString writeFile(const QTemporaryDir& dir, const QString& name, const QByteArray& contents) {
  const QString path = dir.filePath(name);
  QFile file(path);
  EXPECT_TRUE(file.open(QIODevice::WriteOnly | QIODevice::Truncate));
  file.write(contents);
  return path;
}

MessageBoxAnswer::MessageBoxAnswer(QMessageBox::StandardButton button) : button_(button) {
  // Polled, because the box only exists once the code under test has called exec().
  timer_.setInterval(10);
  QObject::connect(&timer_, &QTimer::timeout, [this] { poll(); });
  timer_.start();
}

void MessageBoxAnswer::poll() {
  auto* box = qobject_cast<QMessageBox*>(QApplication::activeModalWidget());
  if (!box) return;
  timer_.stop();
  answered_ = true;
  objectName_ = box->objectName();
  text_ = box->text();
  informativeText_ = box->informativeText();
  box->done(button_);
}

ClickButton::ClickButton(QString text) : text_(std::move(text)) {
  timer_.setInterval(10);
  QObject::connect(&timer_, &QTimer::timeout, [this] { poll(); });
  timer_.start();
}

void ClickButton::poll() {
  auto* box = qobject_cast<QMessageBox*>(QApplication::activeModalWidget());
  if (!box) return;
  timer_.stop();
  name_ = box->objectName();
  informativeText_ = box->informativeText();
  for (QAbstractButton* button : box->buttons())
    if (button->text() == text_) {
      button->click();
      return;
    }
  ADD_FAILURE() << "no button " << text_.toStdString() << " in " << name_.toStdString();
  box->reject();
}

}  // namespace studio::test
