#include "app/application.h"

#include <QApplication>
#include <QLibraryInfo>
#include <QPointer>
#include <QSettings>
#include <QTranslator>

#include "common/version.h"

namespace studio {
namespace {

const QString kLanguageKey = QStringLiteral("ui/language");

// The translators installTranslations put in place, so that a new language replaces them rather
// than stacking on top (the most recently installed translator wins in Qt).
struct InstalledTranslators {
  QPointer<QTranslator> studio;
  QPointer<QTranslator> qt;
  Language language = Language::English;
};

InstalledTranslators& installed() {
  static InstalledTranslators translators;
  return translators;
}

void uninstall(QPointer<QTranslator>& translator) {
  if (!translator) return;
  QCoreApplication::removeTranslator(translator);
  delete translator.data();
}

bool isChinese(const QLocale& locale) {
  return locale.language() == QLocale::Chinese;
}

}  // namespace

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
  InstalledTranslators& current = installed();
  uninstall(current.studio);
  uninstall(current.qt);

  auto* studio = new QTranslator(&app);
  const bool found = loadTranslation(*studio, locale);
  if (found || studio->load(QStringLiteral(":/i18n/syncbn-studio_en.qm"))) {
    QCoreApplication::installTranslator(studio);
    current.studio = studio;
  } else {
    delete studio;
  }
  current.language = found && isChinese(locale) ? Language::SimplifiedChinese : Language::English;
  // Dates and numbers (QLocale()) in the same language as the words.
  QLocale::setDefault(locale);

  // Qt's own strings (standard dialog buttons), when the system has them for this language.
  auto* qt = new QTranslator(&app);
  if (qt->load(locale, QStringLiteral("qtbase"), QStringLiteral("_"),
               QLibraryInfo::path(QLibraryInfo::TranslationsPath))) {
    QCoreApplication::installTranslator(qt);
    current.qt = qt;
  } else {
    delete qt;
  }
  return found;
}

Language savedLanguage() {
  const QString value = QSettings().value(kLanguageKey).toString();
  if (value == QLatin1String("en")) return Language::English;
  if (value == QLatin1String("zh_CN")) return Language::SimplifiedChinese;
  return Language::System;
}

void saveLanguage(Language language) {
  QSettings settings;
  switch (language) {
    case Language::System:
      settings.remove(kLanguageKey);
      break;
    case Language::English:
      settings.setValue(kLanguageKey, QStringLiteral("en"));
      break;
    case Language::SimplifiedChinese:
      settings.setValue(kLanguageKey, QStringLiteral("zh_CN"));
      break;
  }
}

QLocale localeOf(Language language) {
  switch (language) {
    case Language::English:
      return QLocale(QLocale::English, QLocale::UnitedStates);
    case Language::SimplifiedChinese:
      return QLocale(QLocale::Chinese, QLocale::SimplifiedChineseScript, QLocale::China);
    case Language::System:
      break;
  }
  return QLocale::system();
}

Language installedLanguage() {
  return installed().language;
}

}  // namespace studio
