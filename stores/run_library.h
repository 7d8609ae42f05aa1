// The runs open in the studio: the one the engine session is training (live) and those opened
// from disk (replayed from events.jsonl and followed while they grow, or rebuilt from an older
// run's results.csv). One of them is current: the one the Train mode shows.
#pragma once

#include <QList>
#include <QObject>
#include <QPointer>
#include <QString>

namespace studio {

class EventFileReader;
class RunStore;

class RunLibrary : public QObject {
  Q_OBJECT

 public:
  static constexpr int kMaxOpenRuns = 8;

  explicit RunLibrary(QObject* parent = nullptr);

  // A fresh store for a run about to start; becomes current.
  RunStore* newRun();
  // The store of the run in `directory`: already open (live or not), or opened now from its
  // events.jsonl (followed until it finishes) or results.csv. Becomes current. nullptr with
  // `error` set when the directory holds neither.
  RunStore* open(const QString& directory, QString* error);

  RunStore* current() const { return current_; }
  void setCurrent(RunStore* store);
  QList<RunStore*> runs() const;
  RunStore* find(const QString& directory) const;
  // "demo3", or "new run" before the engine has named its directory.
  static QString title(const RunStore* store);
  EventFileReader* readerOf(const RunStore* store) const;

 signals:
  void currentChanged(studio::RunStore* store);
  void runsChanged();
  void readProgress(qint64 bytesRead, qint64 bytesTotal);  // while opening a long record

 private:
  struct Entry {
    QPointer<RunStore> store;
    QPointer<EventFileReader> reader;
  };
  void add(RunStore* store, EventFileReader* reader);

  QList<Entry> entries_;
  QPointer<RunStore> current_;
};

}  // namespace studio
