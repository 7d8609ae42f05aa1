// Process-wide set-up shared by syncbn-studio's main() and the GUI tests: the names QSettings
// files are stored under, the window icon, and the user interface language.
#pragma once

#include <QIcon>
#include <QLocale>
#include <QString>

class QCoreApplication;
class QTranslator;

namespace studio {

inline constexpr char kOrganizationName[] = "SyncBN";
inline constexpr char kApplicationName[] = "SyncBN Studio";

// Organization, application name and version; the application icon for every window.
void setApplicationIdentity();
QIcon applicationIcon();

// Loads the embedded translation for `locale` into `translator`; false when there is none.
bool loadTranslation(QTranslator& translator, const QLocale& locale);

// Installs the embedded translation for `locale` (":/i18n/syncbn-studio_<locale>.qm"), in place
// of the one installed before: Qt then sends every widget QEvent::LanguageChange. Without one it
// installs the English file, which holds the English plural forms ("1 rank", "2 ranks"). Returns
// true when a translation for `locale` itself was found.
bool installTranslations(QCoreApplication& app, const QLocale& locale);

// The user's choice in View > Language, remembered in QSettings ("ui/language").
enum class Language { System, English, SimplifiedChinese };
Language savedLanguage();
void saveLanguage(Language language);
QLocale localeOf(Language language);  // System: the machine's locale
// The language the interface shows now (the last installTranslations), as a Language; System
// is never returned.
Language installedLanguage();

}  // namespace studio
