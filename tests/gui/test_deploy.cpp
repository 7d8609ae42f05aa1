// The Export menu with the real engine: a tiny run trained for one epoch, then its best.pt
// exported to ONNX and TorchScript from the dialog (each with its check report), a failure shown
// with the engine's own message, and the predict preview drawing the boxes over chosen images.
#include <gtest/gtest.h>

#include <QAction>
#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QDirIterator>
#include <QDoubleSpinBox>
#include <QFile>
#include <QFileInfo>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QProcess>
#include <QPushButton>
#include <QSettings>
#include <QSpinBox>
#include <QTest>

#include "app/main_window.h"
#include "app/studio_actions.h"
#include "stores/engine_locator.h"
#include "stores/engine_session.h"
#include "stores/engine_task.h"
#include "stores/run_store.h"
#include "tests/gui/gui_test_support.h"
#include "widgets/deploy/export_dialog.h"
#include "widgets/deploy/predict_dialog.h"

#ifdef SYNCBN_ENGINE_PATH

namespace studio::test {
namespace {

// docs/images/ screenshots when SYNCBN_DEPLOY_SCREENSHOTS names a folder (scripts/screenshots.sh).
void screenshot(QWidget& widget, const QString& name) {
  const QString dir = qEnvironmentVariable("SYNCBN_DEPLOY_SCREENSHOTS");
  if (dir.isEmpty()) return;
  QTest::qWait(200);
  widget.grab().save(QDir(dir).filePath(name));
}

QPushButton* buttonNamed(const QWidget& dialog, const QString& text) {
  for (QPushButton* button : dialog.findChildren<QPushButton*>())
    if (button->text().remove(QLatin1Char('&')) == text) return button;
  return nullptr;
}

class StudioDeploy : public GuiTest {
 protected:
  void SetUp() override {
    GuiTest::SetUp();
    QSettings().setValue(QString::fromLatin1(kEngineProgramSetting),
                         QStringLiteral(SYNCBN_ENGINE_PATH));
    // scripts/screenshots.sh shows a real demo run instead of the tiny one trained here.
    if (const QString demo = qEnvironmentVariable("SYNCBN_DEPLOY_SCREENSHOTS_RUN");
        !demo.isEmpty()) {
      run_ = demo;
      const QDir val(qEnvironmentVariable("SYNCBN_DEPLOY_SCREENSHOTS_IMAGES"));
      for (const QString& image : val.entryList({QStringLiteral("*.jpg")}).mid(0, 6))
        images_ << val.filePath(image);
      return;
    }
    const QString data = scratch_.filePath(QStringLiteral("data"));
    ASSERT_EQ(engine({QStringLiteral("make-demo-data"), data, QStringLiteral("--train"),
                      QStringLiteral("16"), QStringLiteral("--val"), QStringLiteral("4"),
                      QStringLiteral("--imgsz"), QStringLiteral("64"), QStringLiteral("--seed"),
                      QStringLiteral("4")}),
              0);
    ASSERT_EQ(engine({QStringLiteral("train"), QStringLiteral("data=%1/data.yaml").arg(data),
                      QStringLiteral("imgsz=64"), QStringLiteral("epochs=1"),
                      QStringLiteral("batch=8"), QStringLiteral("workers=1"),
                      QStringLiteral("device=cpu"), QStringLiteral("cpu_ranks=1"),
                      QStringLiteral("project=%1").arg(scratch_.filePath(QStringLiteral("runs"))),
                      QStringLiteral("name=tiny")}),
              0);
    run_ = scratch_.filePath(QStringLiteral("runs/tiny"));
    images_ = QDir(data + QStringLiteral("/images/val")).entryList({QStringLiteral("*.jpg")});
    for (QString& image : images_)
      image = QDir(data + QStringLiteral("/images/val")).filePath(image);
    ASSERT_FALSE(images_.isEmpty());
  }

  int engine(const QStringList& arguments) {
    QProcess process;
    process.setWorkingDirectory(scratch_.path());
    process.start(QStringLiteral(SYNCBN_ENGINE_PATH), arguments);
    EXPECT_TRUE(process.waitForFinished(180000));
    if (process.exitCode() != 0) ADD_FAILURE() << process.readAllStandardError().toStdString();
    return process.exitCode();
  }

  // Clicks Export and waits for the result line.
  static QString exportWith(ExportDialog& dialog) {
    auto* result = dialog.findChild<QLabel*>(QStringLiteral("exportResult"));
    buttonNamed(dialog, QStringLiteral("Export"))->click();
    EXPECT_TRUE(QTest::qWaitFor(
        [&] {
          return result->text().startsWith(QLatin1String("Exported")) ||
                 result->text().startsWith(QLatin1String("Export failed"));
        },
        120000));
    return result->text();
  }

  QString run_;
  QStringList images_;
};

TEST_F(StudioDeploy, ExportsOnnxAndTorchScriptFromTheMenuAndShowsTheirCheckReports) {
  MainWindow window;
  window.session()->setWorkingDirectory(scratch_.path());
  window.show();
  ASSERT_TRUE(window.openRun(run_));
  ASSERT_EQ(window.exportableRun(), run_);
  EXPECT_TRUE(window.actions()->exportWeights->isEnabled());
  EXPECT_EQ(window.actions()->exportWeights->shortcut().toString(), QStringLiteral("Ctrl+E"));

  EngineTask task;
  ExportDialog dialog(run_, QStringLiteral(SYNCBN_ENGINE_PATH), scratch_.path(), &task);
  dialog.show();
  auto* format = dialog.findChild<QComboBox*>(QStringLiteral("exportFormat"));
  auto* output = dialog.findChild<QLineEdit*>(QStringLiteral("exportOutput"));
  auto* report = dialog.findChild<QPlainTextEdit*>(QStringLiteral("exportReport"));
  EXPECT_EQ(QDir::fromNativeSeparators(output->text()),
            run_ + QStringLiteral("/weights/best.onnx"));

  const QString onnx = exportWith(dialog);
  EXPECT_TRUE(onnx.endsWith(QLatin1String("The check passed."))) << onnx.toStdString();
  EXPECT_TRUE(report->toPlainText().contains(QLatin1String("OpenCV")))
      << report->toPlainText().toStdString();
  EXPECT_TRUE(report->toPlainText().contains(QLatin1String("PASSED")));
  EXPECT_TRUE(QFileInfo(run_ + QStringLiteral("/weights/best.onnx")).size() > 1000000);
  EXPECT_TRUE(buttonNamed(dialog, QStringLiteral("Show in Folder"))->isEnabled());

  format->setCurrentIndex(format->findData(QStringLiteral("torchscript")));
  EXPECT_EQ(QDir::fromNativeSeparators(output->text()),
            run_ + QStringLiteral("/weights/best.torchscript"))
      << "the output follows the format until the user edits it";
  EXPECT_FALSE(dialog.findChild<QSpinBox*>(QStringLiteral("exportOpset"))->isEnabled());
  const QString torchscript = exportWith(dialog);
  EXPECT_TRUE(torchscript.endsWith(QLatin1String("The check passed.")))
      << torchscript.toStdString();
  EXPECT_TRUE(report->toPlainText().contains(QLatin1String("torch::jit::load")));
  EXPECT_TRUE(QFileInfo::exists(run_ + QStringLiteral("/weights/best.torchscript")));
  screenshot(dialog, QStringLiteral("export-dialog.png"));
}

TEST_F(StudioDeploy, AFailedExportShowsTheEnginesMessage) {
  const QString best = run_ + QStringLiteral("/weights/best.pt");
  QFile file(best);
  ASSERT_TRUE(file.open(QIODevice::ReadWrite));
  ASSERT_TRUE(file.resize(file.size() / 2));
  file.close();
  EngineTask task;
  ExportDialog dialog(run_, QStringLiteral(SYNCBN_ENGINE_PATH), scratch_.path(), &task);
  const QString result = exportWith(dialog);
  EXPECT_TRUE(
      result.startsWith(QLatin1String("Export failed: ") + best + QLatin1String(": truncated")))
      << result.toStdString();
  EXPECT_FALSE(QFileInfo::exists(run_ + QStringLiteral("/weights/best.onnx")));
}

TEST_F(StudioDeploy, ThePredictPreviewDrawsTheCheckpointsBoxesOverTheChosenImages) {
  EngineTask task;
  PredictDialog dialog(run_, QStringLiteral(SYNCBN_ENGINE_PATH), scratch_.path(), &task);
  dialog.show();
  const bool demo = !qEnvironmentVariable("SYNCBN_DEPLOY_SCREENSHOTS_RUN").isEmpty();
  dialog.findChild<QDoubleSpinBox*>(QStringLiteral("predictConf"))->setValue(demo ? 0.25 : 0.01);
  dialog.setImages(images_);
  auto* list = dialog.findChild<QListWidget*>(QStringLiteral("predictImages"));
  ASSERT_TRUE(QTest::qWaitFor([&] { return list->count() == images_.size(); }, 60000))
      << dialog.statusText().toStdString();
  auto* picture = dialog.findChild<QLabel*>(QStringLiteral("predictPicture"));
  EXPECT_FALSE(picture->pixmap().isNull());
  EXPECT_TRUE(
      dialog.statusText().startsWith(QFileInfo(images_.first()).fileName() + QLatin1String(": ")))
      << dialog.statusText().toStdString();
  EXPECT_TRUE(dialog.arguments().contains(QStringLiteral("--source")));
  EXPECT_FALSE(QDir(run_).exists(QStringLiteral("predict"))) << "nothing is written to the run";
  screenshot(dialog, QStringLiteral("predict-preview.png"));
}

}  // namespace
}  // namespace studio::test

#endif  // SYNCBN_ENGINE_PATH
