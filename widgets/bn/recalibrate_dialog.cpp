#include "widgets/bn/recalibrate_dialog.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QFileInfo>
#include <QFormLayout>
#include <QJsonObject>
#include <QLabel>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

#include "stores/engine_task.h"

namespace studio {
namespace {

QString metricText(const QJsonObject& o, const char* key) {
  return o.contains(QLatin1String(key))
             ? QString::number(o.value(QLatin1String(key)).toDouble(), 'f', 3)
             : QStringLiteral("-");
}

}  // namespace

RecalibrateDialog::RecalibrateDialog(const QString& runDirectory, const QString& engine,
                                     const QString& workingDirectory, EngineTask* task,
                                     QWidget* parent)
    : QDialog(parent),
      runDirectory_(runDirectory),
      engine_(engine),
      workingDirectory_(workingDirectory),
      task_(task) {
  setObjectName(QStringLiteral("recalibrateDialog"));
  setWindowTitle(tr("Recalibrate with PreciseBN"));
  auto* column = new QVBoxLayout(this);
  auto* intro = new QLabel(
      tr("PreciseBN recomputes the running statistics of the checkpoint's BatchNorm layers (its "
         "EMA weights) over training batches, letterboxed and without augmentation, so that "
         "inference normalises with statistics of many images instead of the noisy average "
         "training left. It validates before and after and writes a new checkpoint; the run's "
         "own checkpoints stay as they are."),
      this);
  intro->setWordWrap(true);
  column->addWidget(intro);
  auto* form = new QFormLayout;
  checkpoint_ = new QComboBox(this);
  checkpoint_->setObjectName(QStringLiteral("recalibrateCheckpoint"));
  for (const char* name : {"last.pt", "best.pt"}) {
    const QString path =
        QDir(runDirectory).filePath(QStringLiteral("weights/%1").arg(QLatin1String(name)));
    if (QFileInfo(path).isFile()) checkpoint_->addItem(QLatin1String(name), path);
  }
  batches_ = new QSpinBox(this);
  batches_->setObjectName(QStringLiteral("recalibrateBatches"));
  batches_->setRange(1, 100000);
  batches_->setValue(kDefaultBatches);
  batches_->setToolTip(tr("Training batches the statistics are computed over"));
  output_ = new QLabel(this);
  output_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  form->addRow(tr("Checkpoint:"), checkpoint_);
  form->addRow(tr("Batches:"), batches_);
  form->addRow(tr("Writes:"), output_);
  column->addLayout(form);
  progress_ = new QProgressBar(this);
  progress_->setRange(0, 0);
  progress_->hide();
  column->addWidget(progress_);
  log_ = new QPlainTextEdit(this);
  log_->setReadOnly(true);
  log_->setMaximumBlockCount(500);
  log_->setMinimumHeight(120);
  log_->hide();
  column->addWidget(log_);
  result_ = new QLabel(this);
  result_->setObjectName(QStringLiteral("recalibrateResult"));
  result_->setWordWrap(true);
  result_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  column->addWidget(result_);
  auto* buttons = new QDialogButtonBox(this);
  start_ = buttons->addButton(tr("Recalibrate"), QDialogButtonBox::AcceptRole);
  close_ = buttons->addButton(QDialogButtonBox::Close);
  column->addWidget(buttons);
  resize(560, sizeHint().height());

  const auto updateOutput = [this] {
    const QFileInfo in(checkpoint_->currentData().toString());
    output_->setText(QDir::toNativeSeparators(
        in.dir().filePath(in.completeBaseName() + QStringLiteral("-precise.pt"))));
  };
  updateOutput();
  connect(checkpoint_, &QComboBox::currentIndexChanged, this, updateOutput);
  connect(start_, &QPushButton::clicked, this, &RecalibrateDialog::run);
  connect(close_, &QPushButton::clicked, this, [this] {
    if (task_->isRunning()) task_->cancel();
    reject();
  });
  connect(task_, &EngineTask::outputLine, log_, &QPlainTextEdit::appendPlainText);
  connect(task_, &EngineTask::finished, this, &RecalibrateDialog::onFinished);
  if (checkpoint_->count() == 0) {
    start_->setEnabled(false);
    result_->setText(tr("%1 has no weights/last.pt or best.pt yet.")
                         .arg(QDir::toNativeSeparators(runDirectory)));
  }
}

QStringList RecalibrateDialog::arguments() const {
  return {QStringLiteral("recalibrate"),         QStringLiteral("--weights"),
          checkpoint_->currentData().toString(), QStringLiteral("--batches"),
          QString::number(batches_->value()),    QStringLiteral("--json")};
}

QString RecalibrateDialog::resultText() const {
  return result_->text();
}

void RecalibrateDialog::run() {
  QString error;
  log_->clear();
  if (!task_->start(engine_, arguments(), workingDirectory_, &error)) {
    result_->setText(error);
    return;
  }
  start_->setEnabled(false);
  close_->setText(tr("Cancel"));
  progress_->show();
  log_->show();
  result_->setText(tr("Recalibrating over %n batch(es)...", nullptr, batches_->value()));
}

void RecalibrateDialog::onFinished(int exitCode, const QString& message) {
  progress_->hide();
  start_->setEnabled(true);
  close_->setText(tr("Close"));
  if (exitCode != 0) {
    result_->setText(tr("Recalibration failed: %1")
                         .arg(message.isEmpty() ? tr("exit code %1").arg(exitCode) : message));
    result_->setStyleSheet(QStringLiteral("color: #c62828;"));
    return;
  }
  const QJsonObject report = task_->jsonReport();
  const QJsonObject before = report.value(QStringLiteral("before")).toObject();
  const QJsonObject after = report.value(QStringLiteral("after")).toObject();
  result_->setStyleSheet(QString());
  result_->setText(
      tr("Validation before: mAP50 %1, mAP50-95 %2\nValidation after: mAP50 %3, "
         "mAP50-95 %4\nWritten: %5")
          .arg(metricText(before, "map50"), metricText(before, "map50_95"),
               metricText(after, "map50"), metricText(after, "map50_95"),
               QDir::toNativeSeparators(report.value(QStringLiteral("output")).toString())));
}

}  // namespace studio
