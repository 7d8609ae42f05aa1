// Process-wide set-up shared by syncbn-studio's main() and the GUI tests: the names QSettings
// files are stored under, the window icon, and the user interface language.
#pragma once

#include <QIcon>
#include <QLocale>

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

// Installs the embedded translation for `locale` (":/i18n/syncbn-studio_<locale>.qm"). Without
// one it installs the English file, which holds the English plural forms ("1 rank", "2 ranks").
// Returns true when a translation for `locale` itself was found.
bool installTranslations(QCoreApplication& app, const QLocale& locale);

}  // namespace studio
