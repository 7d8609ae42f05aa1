#include "app/application.h"

#include <QApplication>
#include <QLibraryInfo>
#include <QTranslator>

#include "common/version.h"

namespace studio {

void setApplicationIdentity() {
  QCoreApplication::setOrganizationName(QString::fromLatin1(kOrganizationName));
  QCoreApplication::setApplicationName(QString::fromLatin1(kApplicationName));
  QCoreApplication::setApplicationVersion(QString::fromLatin1(syncbn::kVersion));
  QGuiApplication::setDesktopFileName(QStringLiteral("syncbn-studio"));
  QApplication::setWindowIcon(applicationIcon());
}

QIcon applicationIcon() {
  // PNG renderings of resources/icons/syncbn-studio.svg: Qt's SVG plugin is not a dependency.
  QIcon icon;
  for (const int size : {32, 64, 256})
    icon.addFile(QStringLiteral(":/icons/syncbn-studio-%1.png").arg(size), QSize(size, size));
  return icon;
}

bool loadTranslation(QTranslator& translator, const QLocale& locale) {
  return translator.load(locale, QStringLiteral("syncbn-studio"), QStringLiteral("_"),
                         QStringLiteral(":/i18n"));
}

bool installTranslations(QCoreApplication& app, const QLocale& locale) {
  auto* studio = new QTranslator(&app);
  const bool found = loadTranslation(*studio, locale);
  if (found || studio->load(QStringLiteral(":/i18n/syncbn-studio_en.qm")))
    QCoreApplication::installTranslator(studio);

  // Qt's own strings (standard dialog buttons), when the system has them for this language.
  auto* qt = new QTranslator(&app);
  if (qt->load(locale, QStringLiteral("qtbase"), QStringLiteral("_"),
               QLibraryInfo::path(QLibraryInfo::TranslationsPath)))
    QCoreApplication::installTranslator(qt);
  return found;
}

}  // namespace studio
