#include "stores/run_library.h"

#include <QDir>
#include <QFileInfo>

#include "stores/event_file_reader.h"
#include "stores/run_record.h"
#include "stores/run_store.h"

namespace studio {

RunLibrary::RunLibrary(QObject* parent) : QObject(parent) {}

RunStore* RunLibrary::newRun() {
  auto* store = new RunStore(this);
  add(store, nullptr);
  setCurrent(store);
  return store;
}

RunStore* RunLibrary::open(const QString& directory, QString* error) {
  const QString absolute = QFileInfo(directory).absoluteFilePath();
  if (RunStore* open = find(absolute)) {
    setCurrent(open);
    return open;
  }
  const QString events = QDir(absolute).filePath(QStringLiteral("events.jsonl"));
  const QString results = QDir(absolute).filePath(QStringLiteral("results.csv"));
  if (QFileInfo(events).isFile()) {
    auto* store = new RunStore(this);
    store->setRunDirectory(absolute);
    auto* reader = new EventFileReader(events, store, store);
    connect(reader, &EventFileReader::progress, this, &RunLibrary::readProgress);
    if (!reader->start(/*follow=*/true)) {
      if (error) *error = reader->error();
      delete store;
      return nullptr;
    }
    add(store, reader);
    setCurrent(store);
    return store;
  }
  if (QFileInfo(results).isFile()) {
    QString why;
    const auto rows = RunRecord::readResultsCsv(results, &why);
    if (!rows) {
      if (error) *error = why;
      return nullptr;
    }
    auto* store = new RunStore(this);
    store->setRunDirectory(absolute);
    store->ingest(RunRecord::eventsFromResults(absolute, *rows));
    store->setState(RunState::Incomplete);
    add(store, nullptr);
    setCurrent(store);
    return store;
  }
  if (error)
    *error = tr("%1 holds no events.jsonl or results.csv: it is not a training run.")
                 .arg(QDir::toNativeSeparators(absolute));
  return nullptr;
}

void RunLibrary::add(RunStore* store, EventFileReader* reader) {
  entries_.append(Entry{store, reader});
  // Let go of the oldest runs that nobody is watching.
  for (int i = 0; entries_.size() > kMaxOpenRuns && i < entries_.size();) {
    RunStore* old = entries_[i].store;
    const bool active = old && !isFinal(old->state()) && old->state() != RunState::Empty;
    if (old == store || old == current_ || active) {
      ++i;
      continue;
    }
    entries_.removeAt(i);
    delete old;
  }
  connect(store, &RunStore::runInfoChanged, this, &RunLibrary::runsChanged);
  emit runsChanged();
}

void RunLibrary::setCurrent(RunStore* store) {
  if (store == current_) return;
  current_ = store;
  emit currentChanged(store);
}

QList<RunStore*> RunLibrary::runs() const {
  QList<RunStore*> stores;
  for (const Entry& entry : entries_)
    if (entry.store) stores << entry.store;
  return stores;
}

RunStore* RunLibrary::find(const QString& directory) const {
  const QString cleaned = QDir::cleanPath(QFileInfo(directory).absoluteFilePath());
  for (const Entry& entry : entries_)
    if (entry.store && QDir::cleanPath(entry.store->runDirectory()) == cleaned) return entry.store;
  return nullptr;
}

QString RunLibrary::title(const RunStore* store) {
  if (store == nullptr) return {};
  if (store->runDirectory().isEmpty()) return tr("new run");
  return QFileInfo(store->runDirectory()).fileName();
}

EventFileReader* RunLibrary::readerOf(const RunStore* store) const {
  for (const Entry& entry : entries_)
    if (entry.store == store) return entry.reader;
  return nullptr;
}

}  // namespace studio
