// The configurations opened or saved most recently, newest first, remembered in QSettings.
// Files that no longer exist are never offered and are forgotten on the next change.
#pragma once

#include <QObject>
#include <QStringList>

namespace studio {

class RecentFiles : public QObject {
  Q_OBJECT

 public:
  static constexpr int kMaxEntries = 8;

  explicit RecentFiles(QObject* parent = nullptr);

  QStringList files() const;
  void add(const QString& path);
  void remove(const QString& path);
  void clear();

 signals:
  void changed();

 private:
  void store(const QStringList& files);
};

}  // namespace studio
