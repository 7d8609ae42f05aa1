#include "stores/engine_locator.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QStandardPaths>

namespace studio {
namespace {

bool isExecutableFile(const QString& path) {
  const QFileInfo info(path);
  return info.isFile() && info.isExecutable();
}

}  // namespace

EngineLocation EngineLocator::locate(const QString& configured) {
  EngineLocation location;
  if (!configured.trimmed().isEmpty()) {
    const QString path = QDir::cleanPath(configured.trimmed());
    location.searched << path;
    if (isExecutableFile(path))
      location.program = QFileInfo(path).absoluteFilePath();
    else
      location.error = tr("The engine set in Preferences, %1, is not an executable file.")
                           .arg(QDir::toNativeSeparators(path));
    return location;
  }
  const QString beside =
      QDir(QCoreApplication::applicationDirPath()).filePath(QStringLiteral("syncbn-engine"));
  location.searched << beside;
  if (isExecutableFile(beside)) {
    location.program = beside;
    return location;
  }
  location.searched << tr("PATH (%1)").arg(qEnvironmentVariable("PATH"));
  const QString onPath = QStandardPaths::findExecutable(QStringLiteral("syncbn-engine"));
  if (!onPath.isEmpty()) {
    location.program = onPath;
    return location;
  }
  location.error = tr("syncbn-engine was not found. Looked in:\n%1\nSet its location in "
                      "Preferences.")
                       .arg(location.searched.join(QLatin1Char('\n')));
  return location;
}

}  // namespace studio
