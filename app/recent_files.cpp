#include "app/recent_files.h"

#include <QFileInfo>
#include <QSettings>

namespace studio {
namespace {

const QString kSettingsKey = QStringLiteral("files/recent");

}  // namespace

RecentFiles::RecentFiles(QObject* parent) : QObject(parent) {}

QStringList RecentFiles::files() const {
  QStringList existing;
  for (const QString& path : QSettings().value(kSettingsKey).toStringList())
    if (QFileInfo(path).isFile()) existing << path;
  return existing.mid(0, kMaxEntries);
}

void RecentFiles::add(const QString& path) {
  const QString absolute = QFileInfo(path).absoluteFilePath();
  QStringList list = files();
  list.removeAll(absolute);
  list.prepend(absolute);
  store(list.mid(0, kMaxEntries));
}

void RecentFiles::remove(const QString& path) {
  QStringList list = files();
  list.removeAll(QFileInfo(path).absoluteFilePath());
  store(list);
}

void RecentFiles::clear() {
  store({});
}

void RecentFiles::store(const QStringList& files) {
  QSettings().setValue(kSettingsKey, files);
  emit changed();
}

}  // namespace studio
