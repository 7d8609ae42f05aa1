// Reads a run's events.jsonl into a RunStore: first everything the file holds, a slice per turn
// of the event loop so the window stays responsive on a long record, then, when following, what
// the engine appends (polled twice a second). A run started from a terminal is watched this way.
//
// Lines that do not decode are counted and logged with their line number, never fatal; a last
// line still being written is held until it is complete, and reported as truncated when reading
// stops without it.
#pragma once

#include <QByteArray>
#include <QFile>
#include <QObject>
#include <QString>
#include <QTimer>

namespace studio {

class RunStore;

class EventFileReader : public QObject {
  Q_OBJECT

 public:
  static constexpr qint64 kSliceBytes = 1 << 20;
  static constexpr int kPollMs = 500;
  // A record not written to for this long, without `finished`, is taken as interrupted.
  static constexpr int kStaleSeconds = 60;

  EventFileReader(const QString& path, RunStore* store, QObject* parent = nullptr);

  // Reads the file from its start. With `follow`, keeps reading what is appended until stop()
  // or the record's `finished`. False (error() says why) when the file cannot be opened.
  bool start(bool follow);
  void stop();
  // Reads the rest of the file now, then stops following (the run is about to be fed from
  // elsewhere, e.g. resumed by the engine session).
  void readToEndAndStop();
  bool isCaughtUp() const { return caughtUp_; }
  bool isFollowing() const { return follow_ && timer_.isActive(); }
  qint64 bytesRead() const { return offset_; }
  QString path() const { return file_.fileName(); }
  QString error() const { return error_; }

 signals:
  void progress(qint64 bytesRead, qint64 bytesTotal);
  void caughtUp();  // once, when the end of the file is first reached
  void failed(const QString& error);

 private:
  void readSlice();
  void finish();

  QFile file_;
  RunStore* store_;
  QTimer timer_;
  QByteArray partial_;
  bool dropping_ = false;  // inside a line over the protocol's limit, until its end
  qint64 offset_ = 0;
  qint64 lineNumber_ = 0;
  bool follow_ = false;
  bool caughtUp_ = false;
  QString error_;
};

}  // namespace studio
