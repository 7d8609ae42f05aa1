#include "widgets/deploy/predict_dialog.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QJsonArray>
#include <QJsonObject>
#include <QLabel>
#include <QListWidget>
#include <QMap>
#include <QPixmap>
#include <QProgressBar>
#include <QPushButton>
#include <QResizeEvent>
#include <QSplitter>
#include <QVBoxLayout>

#include "stores/engine_task.h"

namespace studio {

PredictDialog::PredictDialog(const QString& runDirectory, const QString& engine,
                             const QString& workingDirectory, EngineTask* task, QWidget* parent)
    : QDialog(parent), engine_(engine), workingDirectory_(workingDirectory), task_(task) {
  setObjectName(QStringLiteral("predictDialog"));
  setWindowTitle(tr("Predict Preview"));
  auto* column = new QVBoxLayout(this);
  auto* form = new QFormLayout;
  weights_ = new QComboBox(this);
  weights_->setObjectName(QStringLiteral("predictWeights"));
  for (const char* name : {"best.pt", "last.pt", "best.onnx", "best.torchscript"}) {
    const QString path =
        QDir(runDirectory).filePath(QStringLiteral("weights/%1").arg(QLatin1String(name)));
    if (QFileInfo(path).isFile()) weights_->addItem(QLatin1String(name), path);
  }
  weights_->setToolTip(tr("A checkpoint, or a file exported from it (ONNX runs in OpenCV DNN)"));
  conf_ = new QDoubleSpinBox(this);
  conf_->setObjectName(QStringLiteral("predictConf"));
  conf_->setRange(0.01, 0.99);
  conf_->setSingleStep(0.05);
  conf_->setValue(0.25);
  conf_->setToolTip(tr("Boxes scoring below this are not shown"));
  form->addRow(tr("&Weights:"), weights_);
  form->addRow(tr("&Confidence:"), conf_);
  column->addLayout(form);

  auto* splitter = new QSplitter(this);
  list_ = new QListWidget(splitter);
  list_->setObjectName(QStringLiteral("predictImages"));
  list_->setMinimumWidth(180);
  picture_ = new QLabel(splitter);
  picture_->setObjectName(QStringLiteral("predictPicture"));
  picture_->setAlignment(Qt::AlignCenter);
  picture_->setMinimumSize(420, 320);
  picture_->setText(tr("Choose images to see the boxes the weights find in them."));
  picture_->setWordWrap(true);
  splitter->setStretchFactor(1, 1);
  column->addWidget(splitter, 1);
  progress_ = new QProgressBar(this);
  progress_->setRange(0, 0);
  progress_->hide();
  column->addWidget(progress_);
  status_ = new QLabel(this);
  status_->setObjectName(QStringLiteral("predictStatus"));
  status_->setWordWrap(true);
  status_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  column->addWidget(status_);
  auto* buttons = new QDialogButtonBox(this);
  choose_ = buttons->addButton(tr("Choose &Images..."), QDialogButtonBox::ActionRole);
  predict_ = buttons->addButton(tr("&Predict"), QDialogButtonBox::AcceptRole);
  predict_->setEnabled(false);
  close_ = buttons->addButton(QDialogButtonBox::Close);
  column->addWidget(buttons);
  resize(860, 600);

  connect(choose_, &QPushButton::clicked, this, &PredictDialog::chooseImages);
  connect(predict_, &QPushButton::clicked, this, &PredictDialog::run);
  connect(list_, &QListWidget::currentRowChanged, this, &PredictDialog::showImage);
  connect(close_, &QPushButton::clicked, this, [this] {
    if (task_->isRunning()) {
      task_->cancel();
      return;
    }
    reject();
  });
  connect(task_, &EngineTask::finished, this, &PredictDialog::onFinished);
  if (weights_->count() == 0) {
    choose_->setEnabled(false);
    status_->setText(tr("%1 has no weights yet.").arg(QDir::toNativeSeparators(runDirectory)));
  }
}

void PredictDialog::chooseImages() {
  const QStringList chosen =
      QFileDialog::getOpenFileNames(this, tr("Choose Images"), workingDirectory_,
                                    tr("Images (*.jpg *.jpeg *.png *.bmp *.tif *.tiff *.webp)"));
  if (!chosen.isEmpty()) setImages(chosen);
}

void PredictDialog::setImages(const QStringList& images) {
  images_ = images;
  predict_->setEnabled(!images_.isEmpty() && weights_->count() > 0);
  run();
}

QStringList PredictDialog::arguments() const {
  QStringList args{QStringLiteral("predict"),
                   QStringLiteral("--weights"),
                   weights_->currentData().toString(),
                   QStringLiteral("--conf"),
                   QString::number(conf_->value()),
                   QStringLiteral("--project"),
                   output_.path(),
                   QStringLiteral("--name"),
                   QStringLiteral("preview%1").arg(runs_),
                   QStringLiteral("--json")};
  for (const QString& image : images_)
    args << QStringLiteral("--source") << image;
  return args;
}

QString PredictDialog::statusText() const {
  return status_->text();
}

void PredictDialog::run() {
  if (images_.isEmpty() || task_->isRunning()) return;
  ++runs_;
  QString error;
  if (!task_->start(engine_, arguments(), workingDirectory_, &error)) {
    status_->setText(error);
    return;
  }
  predict_->setEnabled(false);
  choose_->setEnabled(false);
  close_->setText(tr("Cancel"));
  progress_->show();
  status_->setStyleSheet(QString());
  status_->setText(
      tr("Predicting %n image(s) with %1...", nullptr, static_cast<int>(images_.size()))
          .arg(weights_->currentText()));
}

void PredictDialog::onFinished(int exitCode, const QString& message) {
  progress_->hide();
  predict_->setEnabled(true);
  choose_->setEnabled(true);
  close_->setText(tr("Close"));
  const QJsonObject report = task_->jsonReport();
  if (exitCode != 0 || report.isEmpty()) {
    const QString reason = message.isEmpty() ? tr("exit code %1").arg(exitCode) : message;
    status_->setStyleSheet(QStringLiteral("color: #c62828;"));
    status_->setText(tr("Prediction failed: %1").arg(reason));
    return;
  }
  list_->clear();
  annotated_.clear();
  captions_.clear();
  shownDetections_ = 0;
  for (const QJsonValue& entry : report.value(QStringLiteral("images")).toArray()) {
    const QJsonObject image = entry.toObject();
    const QJsonArray detections = image.value(QStringLiteral("detections")).toArray();
    shownDetections_ += static_cast<int>(detections.size());
    QMap<QString, int> counts;
    for (const QJsonValue& d : detections)
      ++counts[d.toObject().value(QStringLiteral("name")).toString()];
    QStringList parts;
    for (auto it = counts.cbegin(); it != counts.cend(); ++it)
      parts << QStringLiteral("%1 %2").arg(it.value()).arg(it.key());
    const QString name = QFileInfo(image.value(QStringLiteral("image")).toString()).fileName();
    captions_ << tr("%1: %2 (%3 ms)")
                     .arg(name,
                          parts.isEmpty() ? tr("no detections") : parts.join(QStringLiteral(", ")),
                          QString::number(image.value(QStringLiteral("milliseconds")).toDouble(),
                                          'f', 0));
    annotated_ << image.value(QStringLiteral("annotated")).toString();
    list_->addItem(name);
  }
  status_->setText(
      tr("%n detection(s) in %1 image(s).", nullptr, shownDetections_).arg(annotated_.size()));
  if (!annotated_.isEmpty()) list_->setCurrentRow(0);
}

void PredictDialog::showImage(int row) {
  if (row < 0 || row >= annotated_.size()) return;
  const QPixmap pixmap(annotated_.at(row));
  picture_->setPixmap(
      pixmap.scaled(picture_->size(), Qt::KeepAspectRatio, Qt::SmoothTransformation));
  status_->setText(captions_.at(row));
}

}  // namespace studio
