#include "widgets/dataset/image_preview.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QImageReader>
#include <QLabel>
#include <QPainter>
#include <QPlainTextEdit>
#include <QSplitter>
#include <QVBoxLayout>

#include "stores/dataset_report.h"
#include "widgets/common/line_marker.h"
#include "widgets/dataset/box_painter.h"

namespace studio {
namespace {

constexpr qint64 kMaxLabelBytes = 1 << 20;  // a label file is a few hundred bytes

}  // namespace

ImageView::ImageView(QWidget* parent) : QWidget(parent) {
  setMinimumSize(160, 120);
  setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
}

void ImageView::setImage(const QString& path, const QVector<DatasetBox>& boxes,
                         const QStringList& names) {
  path_ = path;
  boxes_ = boxes;
  names_ = names;
  decode();
  update();
}

void ImageView::decode() {
  image_ = {};
  failure_.clear();
  if (path_.isEmpty()) return;
  QImageReader reader(path_);
  reader.setAutoTransform(true);
  const QSize full = reader.size();
  // Decoded at the size shown: a 6000 px inspection image costs what the pane shows.
  if (full.isValid() && (full.width() > width() || full.height() > height()))
    reader.setScaledSize(full.scaled(size(), Qt::KeepAspectRatio));
  image_ = reader.read();
  if (image_.isNull()) failure_ = reader.errorString();
}

void ImageView::resizeEvent(QResizeEvent* event) {
  QWidget::resizeEvent(event);
  decode();
}

void ImageView::paintEvent(QPaintEvent*) {
  QPainter painter(this);
  painter.fillRect(rect(), palette().color(QPalette::Window).darker(110));
  if (image_.isNull()) {
    painter.setPen(palette().color(QPalette::PlaceholderText));
    painter.drawText(rect().adjusted(8, 8, -8, -8), Qt::AlignCenter | Qt::TextWordWrap,
                     path_.isEmpty() ? tr("Double-click a problem or an image to see it here.")
                                     : tr("Cannot show this image: %1").arg(failure_));
    return;
  }
  const QSize shown = image_.size().scaled(size(), Qt::KeepAspectRatio);
  const QRect target((width() - shown.width()) / 2, (height() - shown.height()) / 2, shown.width(),
                     shown.height());
  painter.drawImage(target, image_);
  paintBoxes(painter, target, boxes_, names_, true);
}

ImagePreview::ImagePreview(QWidget* parent) : QWidget(parent) {
  auto* column = new QVBoxLayout(this);
  column->setContentsMargins(0, 0, 0, 0);
  title_ = new QLabel(this);
  title_->setObjectName(QStringLiteral("previewTitle"));
  title_->setWordWrap(true);
  title_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  image_ = new ImageView(this);
  labelTitle_ = new QLabel(tr("Label file"), this);
  label_ = new QPlainTextEdit(this);
  label_->setObjectName(QStringLiteral("labelText"));
  label_->setReadOnly(true);
  label_->setLineWrapMode(QPlainTextEdit::NoWrap);
  label_->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
  label_->setToolTip(
      tr("The label file as it is on disk now: class x_center y_center width "
         "height per line, normalised to the image"));
  auto* splitter = new QSplitter(Qt::Vertical, this);
  splitter->addWidget(image_);
  auto* labelPane = new QWidget(splitter);
  auto* labelColumn = new QVBoxLayout(labelPane);
  labelColumn->setContentsMargins(0, 4, 0, 0);
  labelColumn->addWidget(labelTitle_);
  label_->setMinimumHeight(72);
  labelColumn->addWidget(label_);
  splitter->addWidget(labelPane);
  splitter->setStretchFactor(0, 3);
  splitter->setStretchFactor(1, 1);
  column->addWidget(title_);
  column->addWidget(splitter, 1);
}

void ImagePreview::showImage(const QString& imagePath, const QString& labelPath,
                             const QVector<DatasetBox>& boxes, const QStringList& names, int line,
                             const QString& reason) {
  imagePath_ = imagePath;
  QString title = QStringLiteral("<b>%1</b>").arg(QFileInfo(imagePath).fileName().toHtmlEscaped());
  if (!reason.isEmpty()) title += QStringLiteral("<br>%1").arg(reason.toHtmlEscaped());
  title_->setText(title);
  title_->setToolTip(QDir::toNativeSeparators(imagePath));
  image_->setImage(imagePath, boxes, names);

  QFile file(labelPath);
  if (labelPath.isEmpty() || !file.exists()) {
    labelTitle_->setText(tr("No label file (%1): the image is a background.")
                             .arg(QDir::toNativeSeparators(labelPath)));
    label_->clear();
    return;
  }
  labelTitle_->setText(tr("Label file %1").arg(QDir::toNativeSeparators(labelPath)));
  if (!file.open(QIODevice::ReadOnly)) {
    label_->setPlainText(tr("Cannot read it: %1").arg(file.errorString()));
    return;
  }
  label_->setPlainText(QString::fromUtf8(file.read(kMaxLabelBytes)));
  markLine(label_, line);
}

QString ImagePreview::labelText() const {
  return label_->toPlainText();
}

}  // namespace studio
