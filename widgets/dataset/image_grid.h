// The dataset's images as a grid of thumbnails with their boxes and class names, over a
// DatasetImagesModel. Only visible cells are painted (uniform item sizes), and each asks the
// ThumbnailCache for its image, so ten thousand images page as fast as ten.
#pragma once

#include <QListView>
#include <QStyledItemDelegate>

namespace studio {

class DatasetCheck;
class DatasetImagesModel;
class ThumbnailCache;

class ThumbnailDelegate : public QStyledItemDelegate {
  Q_OBJECT

 public:
  ThumbnailDelegate(const DatasetCheck* check, const DatasetImagesModel* model,
                    ThumbnailCache* cache, QObject* parent = nullptr);

  void paint(QPainter* painter, const QStyleOptionViewItem& option,
             const QModelIndex& index) const override;
  QSize sizeHint(const QStyleOptionViewItem& option, const QModelIndex& index) const override;

 private:
  const DatasetCheck* check_;
  const DatasetImagesModel* model_;
  ThumbnailCache* cache_;
};

class ImageGrid : public QListView {
  Q_OBJECT

 public:
  ImageGrid(const DatasetCheck* check, DatasetImagesModel* model, QWidget* parent = nullptr);

  ThumbnailCache* thumbnails() const { return cache_; }

 signals:
  void imageActivated(const QString& imagePath, const QString& labelPath);

 private:
  ThumbnailCache* cache_;
};

}  // namespace studio
