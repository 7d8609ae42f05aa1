#include "widgets/dataset/thumbnail_cache.h"

#include <QImageReader>
#include <QMetaObject>
#include <QMutexLocker>
#include <QThread>
#include <algorithm>

namespace studio {
namespace {

constexpr qsizetype kCacheBytes = 96ll << 20;  // ~2,000 thumbnails of 128 px
constexpr std::size_t kMaxBacklog = 256;       // about four screens of the grid

QImage decodeThumbnail(const QString& path, int side) {
  QImageReader reader(path);
  reader.setAutoTransform(true);  // EXIF orientation, as the engine's verification applies it
  const QSize full = reader.size();
  if (full.isValid() && (full.width() > side || full.height() > side))
    reader.setScaledSize(full.scaled(side, side, Qt::KeepAspectRatio));
  QImage image = reader.read();
  if (!image.isNull() && (image.width() > side || image.height() > side))
    image = image.scaled(side, side, Qt::KeepAspectRatio, Qt::SmoothTransformation);
  return image;
}

}  // namespace

ThumbnailCache::ThumbnailCache(int side, QObject* parent) : QObject(parent), side_(side) {
  cache_.setMaxCost(kCacheBytes);
  // Decoding competes with the GUI thread for the cores; two threads keep a small machine
  // responsive and are enough to fill a screen in well under a second.
  pool_.setMaxThreadCount(std::clamp(QThread::idealThreadCount() - 1, 1, 4));
}

ThumbnailCache::~ThumbnailCache() {
  {
    const QMutexLocker lock(&mutex_);
    queue_.clear();
  }
  pool_.waitForDone();
}

QImage ThumbnailCache::thumbnail(const QString& path) {
  if (const QImage* image = cache_.object(path)) return *image;
  if (failed_.contains(path)) return {};
  bool startWorker = false;
  {
    const QMutexLocker lock(&mutex_);
    if (!queued_.contains(path)) {
      queue_.push_back(path);
      queued_.insert(path);
      if (queue_.size() > kMaxBacklog) {
        // Scrolled past long ago; asked again if it comes back into view.
        queued_.remove(queue_.front());
        queue_.pop_front();
      }
      startWorker = true;
    }
  }
  if (startWorker) pool_.start([this] { decodeNext(); });
  return {};
}

void ThumbnailCache::decodeNext() {
  QString path;
  {
    const QMutexLocker lock(&mutex_);
    if (queue_.empty()) return;  // taken by another worker, or dropped
    path = queue_.back();
    queue_.pop_back();
  }
  const QImage image = decodeThumbnail(path, side_);
  // Delivered on the GUI thread; dropped by Qt if this object is gone by then.
  QMetaObject::invokeMethod(
      this, [this, path, image] { deliver(path, image); }, Qt::QueuedConnection);
}

void ThumbnailCache::deliver(const QString& path, const QImage& image) {
  {
    const QMutexLocker lock(&mutex_);
    queued_.remove(path);
  }
  ++decoded_;
  if (image.isNull())
    failed_.insert(path);
  else
    cache_.insert(path, new QImage(image), std::max<qsizetype>(1, image.sizeInBytes()));
  emit ready(path);
}

bool ThumbnailCache::failed(const QString& path) const {
  return failed_.contains(path);
}

void ThumbnailCache::clear() {
  cache_.clear();
  failed_.clear();
}

int ThumbnailCache::queued() const {
  const QMutexLocker lock(&mutex_);
  return static_cast<int>(queued_.size());
}

}  // namespace studio
