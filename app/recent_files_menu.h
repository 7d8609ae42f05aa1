// File > Open Recent: one entry per recent file ("&1 name", full path as tooltip) and a Clear
// entry; rebuilt whenever the list changes or the menu opens, since files may vanish meanwhile.
#pragma once

#include <QMenu>

namespace studio {

class RecentFiles;

class RecentFilesMenu : public QMenu {
  Q_OBJECT

 public:
  RecentFilesMenu(RecentFiles* recentFiles, QWidget* parent = nullptr);

 signals:
  void fileChosen(const QString& path);

 private:
  void rebuild();

  RecentFiles* recentFiles_;
};

}  // namespace studio
