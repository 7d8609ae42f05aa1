#include "widgets/dataset/image_grid.h"

#include <QApplication>
#include <QPainter>

#include "stores/dataset_check.h"
#include "stores/dataset_models.h"
#include "widgets/dataset/box_painter.h"
#include "widgets/dataset/thumbnail_cache.h"

namespace studio {
namespace {

constexpr int kThumbnailSide = 128;
constexpr int kPadding = 6;

}  // namespace

ThumbnailDelegate::ThumbnailDelegate(const DatasetCheck* check, const DatasetImagesModel* model,
                                     ThumbnailCache* cache, QObject* parent)
    : QStyledItemDelegate(parent), check_(check), model_(model), cache_(cache) {}

QSize ThumbnailDelegate::sizeHint(const QStyleOptionViewItem& option, const QModelIndex&) const {
  const int side = cache_->side();
  return {side + 2 * kPadding, side + 2 * kPadding + option.fontMetrics.height() + 2};
}

void ThumbnailDelegate::paint(QPainter* painter, const QStyleOptionViewItem& option,
                              const QModelIndex& index) const {
  painter->save();
  const QPalette& palette = option.palette;
  const bool selected = option.state & QStyle::State_Selected;
  painter->fillRect(option.rect, selected ? palette.highlight() : palette.base());

  const QString path = index.data(DatasetImagesModel::ImagePathRole).toString();
  const bool skipped = index.data(DatasetImagesModel::SkippedRole).toBool();
  const bool problem = index.data(DatasetImagesModel::HasProblemRole).toBool();
  const QRect frame(option.rect.left() + kPadding, option.rect.top() + kPadding, cache_->side(),
                    cache_->side());

  const QImage image = skipped ? QImage() : cache_->thumbnail(path);
  if (!image.isNull()) {
    const QSize shown = image.size().scaled(frame.size(), Qt::KeepAspectRatio);
    const QRect target(frame.left() + (frame.width() - shown.width()) / 2,
                       frame.top() + (frame.height() - shown.height()) / 2, shown.width(),
                       shown.height());
    painter->drawImage(target, image);
    if (const DatasetImage* entry = model_->imageAt(index.row())) {
      QFont small = painter->font();
      small.setPointSizeF(std::max(6.0, small.pointSizeF() * 0.8));
      painter->setFont(small);
      paintBoxes(*painter, target, entry->boxes, check_->report().names, true);
      painter->setFont(option.font);
    }
  } else {
    painter->fillRect(frame, palette.alternateBase());
    painter->setPen(palette.color(QPalette::PlaceholderText));
    const QString text = skipped                ? tr("skipped")
                         : cache_->failed(path) ? tr("cannot decode")
                                                : tr("loading...");
    painter->drawText(frame, Qt::AlignCenter | Qt::TextWordWrap, text);
  }
  if (skipped || problem) {
    painter->setPen(QPen(skipped ? QColor(0xd0, 0x30, 0x30) : QColor(0xe0, 0x90, 0x20), 3));
    painter->setBrush(Qt::NoBrush);
    painter->drawRect(frame.adjusted(1, 1, -1, -1));
  }
  const QRect caption(option.rect.left() + 2, frame.bottom() + 3, option.rect.width() - 4,
                      option.fontMetrics.height());
  painter->setPen(selected ? palette.color(QPalette::HighlightedText)
                           : palette.color(QPalette::Text));
  painter->drawText(caption, Qt::AlignHCenter | Qt::AlignVCenter,
                    option.fontMetrics.elidedText(index.data(Qt::DisplayRole).toString(),
                                                  Qt::ElideMiddle, caption.width()));
  painter->restore();
}

ImageGrid::ImageGrid(const DatasetCheck* check, DatasetImagesModel* model, QWidget* parent)
    : QListView(parent), cache_(new ThumbnailCache(kThumbnailSide, this)) {
  setObjectName(QStringLiteral("datasetImageGrid"));
  setViewMode(QListView::IconMode);
  setResizeMode(QListView::Adjust);
  setMovement(QListView::Static);
  setUniformItemSizes(true);  // layout of 10,000 items without asking each for its size
  setLayoutMode(QListView::Batched);
  setBatchSize(500);
  setSelectionMode(QAbstractItemView::SingleSelection);
  setSpacing(2);
  setVerticalScrollMode(QAbstractItemView::ScrollPerPixel);
  setModel(model);
  setItemDelegate(new ThumbnailDelegate(check, model, cache_, this));
  setAccessibleName(tr("Dataset images"));
  // A decoded thumbnail repaints what is on screen; its row may have moved with a filter.
  connect(cache_, &ThumbnailCache::ready, viewport(), qOverload<>(&QWidget::update));
  connect(this, &QAbstractItemView::activated, this, [this](const QModelIndex& index) {
    emit imageActivated(index.data(DatasetImagesModel::ImagePathRole).toString(),
                        index.data(DatasetImagesModel::LabelPathRole).toString());
  });
}

}  // namespace studio
