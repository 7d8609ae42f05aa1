// Thumbnails for the dataset grid, decoded on worker threads at the size they are shown (Qt's
// QImageReader scales while decoding JPEGs, so a 4000 px image never lives in memory whole) and
// kept in a bounded LRU cache. Only what the grid paints is asked for; the newest request is
// served first and a long backlog (the user flung the scroll bar) drops its oldest entries, so
// paging through thousands of images stays responsive.
#pragma once

#include <QCache>
#include <QImage>
#include <QMutex>
#include <QObject>
#include <QSet>
#include <QString>
#include <QThreadPool>
#include <deque>

namespace studio {

class ThumbnailCache : public QObject {
  Q_OBJECT

 public:
  // `side`: the longest side of a thumbnail in pixels.
  explicit ThumbnailCache(int side, QObject* parent = nullptr);
  ~ThumbnailCache() override;  // waits for the decodes in flight

  int side() const { return side_; }
  // The thumbnail when it is ready; otherwise a null image, and the file is queued for
  // decoding (`ready` follows). A file that cannot be decoded stays null and is not retried.
  QImage thumbnail(const QString& path);
  bool failed(const QString& path) const;
  void clear();  // forget everything (the files may have changed)
  int queued() const;
  int decoded() const { return decoded_; }  // files decoded so far (what paging cost)

 signals:
  void ready(const QString& path);

 private:
  void decodeNext();
  void deliver(const QString& path, const QImage& image);

  const int side_;
  QThreadPool pool_;
  QCache<QString, QImage> cache_;  // GUI thread only
  QSet<QString> failed_;           // GUI thread only
  mutable QMutex mutex_;           // guards queue_ and queued_
  std::deque<QString> queue_;      // newest at the back
  QSet<QString> queued_;           // in queue_ or being decoded
  int decoded_ = 0;                // GUI thread only
};

}  // namespace studio
