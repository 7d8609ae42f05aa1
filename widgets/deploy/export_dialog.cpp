#include "widgets/deploy/export_dialog.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDesktopServices>
#include <QDialogButtonBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QFontDatabase>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QToolButton>
#include <QUrl>
#include <QVBoxLayout>

#include "stores/engine_task.h"

namespace studio {

ExportDialog::ExportDialog(const QString& runDirectory, const QString& engine,
                           const QString& workingDirectory, EngineTask* task, QWidget* parent)
    : QDialog(parent),
      runDirectory_(runDirectory),
      engine_(engine),
      workingDirectory_(workingDirectory),
      task_(task) {
  setObjectName(QStringLiteral("exportDialog"));
  setWindowTitle(tr("Export Weights"));
  auto* column = new QVBoxLayout(this);
  auto* intro = new QLabel(
      tr("Writes the checkpoint's EMA weights, BatchNorm folded into the convolutions, as a file "
         "deployment runtimes load, then runs it in its own runtime on a validation image and "
         "compares it with the engine."),
      this);
  intro->setWordWrap(true);
  column->addWidget(intro);

  auto* form = new QFormLayout;
  weights_ = new QComboBox(this);
  weights_->setObjectName(QStringLiteral("exportWeights"));
  for (const char* name : {"best.pt", "last.pt"}) {
    const QString path =
        QDir(runDirectory).filePath(QStringLiteral("weights/%1").arg(QLatin1String(name)));
    if (QFileInfo(path).isFile()) weights_->addItem(QLatin1String(name), path);
  }
  weights_->setToolTip(
      tr("best.pt: the epoch with the best validation fitness; last.pt: the latest"));
  format_ = new QComboBox(this);
  format_->setObjectName(QStringLiteral("exportFormat"));
  format_->addItem(tr("ONNX (OpenCV DNN, ONNX Runtime, TensorRT)"), QStringLiteral("onnx"));
  format_->addItem(tr("TorchScript (LibTorch, PyTorch)"), QStringLiteral("torchscript"));
  imgsz_ = new QSpinBox(this);
  imgsz_->setObjectName(QStringLiteral("exportImgsz"));
  imgsz_->setRange(0, 8192);
  imgsz_->setSingleStep(32);
  imgsz_->setSpecialValueText(tr("as trained"));
  imgsz_->setSuffix(tr(" px"));
  imgsz_->setToolTip(
      tr("Input height and width, a multiple of the stride (32); 0: the size the run trained at"));
  dynamic_ = new QCheckBox(tr("Dynamic batch and image size"), this);
  dynamic_->setObjectName(QStringLiteral("exportDynamic"));
  dynamic_->setToolTip(
      tr("ONNX only (TorchScript always is). OpenCV 4.6 DNN cannot run dynamic graphs"));
  half_ = new QCheckBox(tr("Float16 weights (half the file)"), this);
  half_->setObjectName(QStringLiteral("exportHalf"));
  half_->setToolTip(tr("Weights stored as float16; the CPU still computes in float32"));
  opset_ = new QSpinBox(this);
  opset_->setObjectName(QStringLiteral("exportOpset"));
  opset_->setRange(12, 17);
  opset_->setValue(12);
  opset_->setToolTip(
      tr("12 suits OpenCV 4.6 DNN, the loader Debian ships; up to 17 for newer runtimes"));
  output_ = new QLineEdit(this);
  output_->setObjectName(QStringLiteral("exportOutput"));
  auto* browse = new QToolButton(this);
  browse->setText(tr("Browse..."));
  auto* outputRow = new QHBoxLayout;
  outputRow->addWidget(output_, 1);
  outputRow->addWidget(browse);
  form->addRow(tr("&Weights:"), weights_);
  form->addRow(tr("&Format:"), format_);
  form->addRow(tr("&Image size:"), imgsz_);
  form->addRow(QString(), dynamic_);
  form->addRow(QString(), half_);
  form->addRow(tr("ONNX &opset:"), opset_);
  auto* saveAs = new QLabel(tr("&Save as:"), this);
  saveAs->setBuddy(output_);
  form->addRow(saveAs, outputRow);
  column->addLayout(form);

  progress_ = new QProgressBar(this);
  progress_->setRange(0, 0);
  progress_->hide();
  column->addWidget(progress_);
  log_ = new QPlainTextEdit(this);
  log_->setReadOnly(true);
  log_->setMaximumBlockCount(200);
  log_->setMaximumHeight(70);
  log_->hide();
  column->addWidget(log_);
  result_ = new QLabel(this);
  result_->setObjectName(QStringLiteral("exportResult"));
  result_->setWordWrap(true);
  result_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  column->addWidget(result_);
  report_ = new QPlainTextEdit(this);
  report_->setObjectName(QStringLiteral("exportReport"));
  report_->setReadOnly(true);
  report_->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
  report_->setLineWrapMode(QPlainTextEdit::WidgetWidth);
  report_->setMinimumHeight(150);
  report_->hide();
  column->addWidget(report_, 1);

  auto* buttons = new QDialogButtonBox(this);
  start_ = buttons->addButton(tr("&Export"), QDialogButtonBox::AcceptRole);
  start_->setObjectName(QStringLiteral("exportStart"));
  reveal_ = buttons->addButton(tr("Show in &Folder"), QDialogButtonBox::ActionRole);
  reveal_->setObjectName(QStringLiteral("exportReveal"));
  reveal_->setEnabled(false);
  close_ = buttons->addButton(QDialogButtonBox::Close);
  column->addWidget(buttons);
  resize(640, sizeHint().height());

  updateChoices();
  connect(weights_, &QComboBox::currentIndexChanged, this, &ExportDialog::updateChoices);
  connect(format_, &QComboBox::currentIndexChanged, this, &ExportDialog::updateChoices);
  connect(output_, &QLineEdit::textEdited, this, [this] { outputEdited_ = true; });
  connect(browse, &QToolButton::clicked, this, [this] {
    const bool onnx = format_->currentData().toString() == QLatin1String("onnx");
    const QString chosen = QFileDialog::getSaveFileName(
        this, tr("Export As"), output_->text(),
        onnx ? tr("ONNX models (*.onnx)") : tr("TorchScript archives (*.torchscript *.pt)"));
    if (chosen.isEmpty()) return;
    output_->setText(QDir::toNativeSeparators(chosen));
    outputEdited_ = true;
  });
  connect(start_, &QPushButton::clicked, this, &ExportDialog::run);
  connect(reveal_, &QPushButton::clicked, this, [this] {
    QDesktopServices::openUrl(QUrl::fromLocalFile(QFileInfo(outputPath()).absolutePath()));
  });
  connect(close_, &QPushButton::clicked, this, [this] {
    if (task_->isRunning()) {
      task_->cancel();
      return;
    }
    reject();
  });
  connect(task_, &EngineTask::outputLine, log_, &QPlainTextEdit::appendPlainText);
  connect(task_, &EngineTask::finished, this, &ExportDialog::onFinished);
  if (weights_->count() == 0) {
    start_->setEnabled(false);
    result_->setText(tr("%1 has no weights/best.pt or last.pt yet.")
                         .arg(QDir::toNativeSeparators(runDirectory)));
  }
}

void ExportDialog::updateChoices() {
  const bool onnx = format_->currentData().toString() == QLatin1String("onnx");
  opset_->setEnabled(onnx);
  dynamic_->setEnabled(onnx);
  if (!onnx) dynamic_->setChecked(false);
  if (!outputEdited_ && weights_->count() > 0) {
    const QFileInfo in(weights_->currentData().toString());
    output_->setText(QDir::toNativeSeparators(
        in.dir().filePath(in.completeBaseName() +
                          (onnx ? QStringLiteral(".onnx") : QStringLiteral(".torchscript")))));
  }
}

QString ExportDialog::outputPath() const {
  return QDir::fromNativeSeparators(output_->text().trimmed());
}

QStringList ExportDialog::arguments() const {
  QStringList args{QStringLiteral("export"),
                   QStringLiteral("--weights"),
                   weights_->currentData().toString(),
                   QStringLiteral("--format"),
                   format_->currentData().toString(),
                   QStringLiteral("--output"),
                   outputPath(),
                   QStringLiteral("--json")};
  if (imgsz_->value() > 0) args << QStringLiteral("--imgsz") << QString::number(imgsz_->value());
  if (format_->currentData().toString() == QLatin1String("onnx"))
    args << QStringLiteral("--opset") << QString::number(opset_->value());
  if (dynamic_->isChecked()) args << QStringLiteral("--dynamic");
  if (half_->isChecked()) args << QStringLiteral("--half");
  return args;
}

QString ExportDialog::resultText() const {
  return result_->text() + QLatin1Char('\n') + report_->toPlainText();
}

void ExportDialog::run() {
  if (imgsz_->value() % 32 != 0) {
    result_->setText(tr("The image size must be a multiple of 32 (or \"as trained\")."));
    return;
  }
  QString error;
  log_->clear();
  report_->hide();
  reveal_->setEnabled(false);
  if (!task_->start(engine_, arguments(), workingDirectory_, &error)) {
    result_->setText(error);
    return;
  }
  start_->setEnabled(false);
  close_->setText(tr("Cancel"));
  progress_->show();
  log_->show();
  result_->setStyleSheet(QString());
  result_->setText(tr("Exporting %1...").arg(weights_->currentText()));
}

void ExportDialog::onFinished(int exitCode, const QString& message) {
  progress_->hide();
  start_->setEnabled(true);
  close_->setText(tr("Close"));
  const QJsonObject report = task_->jsonReport();
  if (report.isEmpty()) {
    // The engine's own words (EngineTask hands over its last "error:" line).
    const QString reason = message.isEmpty() ? tr("exit code %1").arg(exitCode) : message;
    result_->setStyleSheet(QStringLiteral("color: #c62828;"));
    result_->setText(tr("Export failed: %1").arg(reason));
    return;
  }
  log_->hide();
  const QJsonObject check = report.value(QStringLiteral("check")).toObject();
  const bool passed = check.value(QStringLiteral("passed")).toBool();
  const bool skipped = !check.value(QStringLiteral("skipped")).toString().isEmpty();
  const QString size = QLocale().formattedDataSize(
      static_cast<qint64>(report.value(QStringLiteral("bytes")).toDouble()));
  const QString file = QDir::toNativeSeparators(report.value(QStringLiteral("output")).toString());
  result_->setStyleSheet(passed || skipped ? QString() : QStringLiteral("color: #c62828;"));
  result_->setText(
      passed    ? tr("Exported %1 (%2). The check passed.").arg(file, size)
      : skipped ? tr("Exported %1 (%2). Not checked here (see below).").arg(file, size)
                : tr("Exported %1 (%2), but the check FAILED: see the report.").arg(file, size));
  report_->setPlainText(check.value(QStringLiteral("report")).toString());
  if (skipped) report_->setPlainText(check.value(QStringLiteral("skipped")).toString());
  report_->show();
  reveal_->setEnabled(true);
}

}  // namespace studio
