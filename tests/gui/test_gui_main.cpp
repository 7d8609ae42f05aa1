// GUI tests need a QApplication, created once before the first test. Settings go to a scratch
// directory so the tests neither read nor overwrite the user's recent files and window layout.
#include <gtest/gtest.h>

#include <QApplication>
#include <QLocale>
#include <QSettings>
#include <QStandardPaths>
#include <QTemporaryDir>

#include "app/application.h"

int main(int argc, char* argv[]) {
  ::testing::InitGoogleTest(&argc, argv);
  // Also when ctest lists the tests at build time, where no display may exist.
  if (!qEnvironmentVariableIsSet("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
  QStandardPaths::setTestModeEnabled(true);

  QApplication app(argc, argv);
  studio::setApplicationIdentity();
  const QTemporaryDir settingsDir;
  if (!settingsDir.isValid()) return 1;
  QSettings::setPath(QSettings::NativeFormat, QSettings::UserScope, settingsDir.path());
  // English, whatever the machine's language: the tests read the texts the user would see.
  studio::installTranslations(app, QLocale(QLocale::English, QLocale::UnitedStates));
  return RUN_ALL_TESTS();
}
