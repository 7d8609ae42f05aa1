// One image of the dataset at the size of the pane, with its boxes, beside its label file's text
// (the problem's line highlighted): what the user checks before fixing a label outside the
// studio. It reads the files when asked, so a fixed label file shows as it now is.
#pragma once

#include <QStringList>
#include <QVector>
#include <QWidget>

#include "stores/dataset_report.h"

class QLabel;
class QPlainTextEdit;

namespace studio {

class ImageView : public QWidget {
  Q_OBJECT

 public:
  explicit ImageView(QWidget* parent = nullptr);
  void setImage(const QString& path, const QVector<DatasetBox>& boxes, const QStringList& names);
  QSize sizeHint() const override { return {360, 300}; }

 protected:
  void paintEvent(QPaintEvent* event) override;
  void resizeEvent(QResizeEvent* event) override;

 private:
  void decode();

  QString path_;
  QVector<DatasetBox> boxes_;
  QStringList names_;
  QImage image_;
  QString failure_;
};

class ImagePreview : public QWidget {
  Q_OBJECT

 public:
  explicit ImagePreview(QWidget* parent = nullptr);

  // `line`: 1-based line of the label file to highlight; 0: none.
  void showImage(const QString& imagePath, const QString& labelPath,
                 const QVector<DatasetBox>& boxes, const QStringList& names, int line,
                 const QString& reason);
  QString imagePath() const { return imagePath_; }
  QString labelText() const;

 private:
  QLabel* title_;
  ImageView* image_;
  QLabel* labelTitle_;
  QPlainTextEdit* label_;
  QString imagePath_;
};

}  // namespace studio
