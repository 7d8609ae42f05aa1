#include "app/recent_files_menu.h"

#include <QFileInfo>

#include "app/recent_files.h"

namespace studio {

RecentFilesMenu::RecentFilesMenu(RecentFiles* recentFiles, QWidget* parent)
    : QMenu(tr("Open &Recent"), parent), recentFiles_(recentFiles) {
  setObjectName(QStringLiteral("recentFilesMenu"));
  menuAction()->setIcon(QIcon::fromTheme(QStringLiteral("document-open-recent")));
  rebuild();
  connect(recentFiles_, &RecentFiles::changed, this, &RecentFilesMenu::rebuild);
  connect(this, &QMenu::aboutToShow, this, &RecentFilesMenu::rebuild);
}

void RecentFilesMenu::rebuild() {
  clear();
  const QStringList files = recentFiles_->files();
  for (int i = 0; i < files.size(); ++i) {
    const QString path = files.at(i);
    // "&1".."&8" give keyboard accelerators; && keeps a literal & in a file name.
    QString name = QFileInfo(path).fileName();
    name.replace(QLatin1Char('&'), QStringLiteral("&&"));
    QAction* action = addAction(tr("&%1 %2").arg(i + 1).arg(name));
    action->setToolTip(path);
    action->setStatusTip(path);
    action->setData(path);
    // Queued: opening the file rebuilds this menu, which deletes the action still emitting.
    connect(
        action, &QAction::triggered, this, [this, path] { emit fileChosen(path); },
        Qt::QueuedConnection);
  }
  if (!files.isEmpty()) addSeparator();
  QAction* clearAction = addAction(tr("&Clear Menu"));
  clearAction->setObjectName(QStringLiteral("action.clearRecent"));
  clearAction->setEnabled(!files.isEmpty());
  connect(clearAction, &QAction::triggered, recentFiles_, &RecentFiles::clear,
          Qt::QueuedConnection);
  menuAction()->setEnabled(!files.isEmpty());
}

}  // namespace studio
