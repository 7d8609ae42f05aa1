// The stores run under QCoreApplication: no display, no widgets. Standard paths are in test mode
// and settings go to a scratch directory, so the tests neither read nor overwrite the user's.
#include <gtest/gtest.h>

#include <QCoreApplication>
#include <QSettings>
#include <QStandardPaths>
#include <QTemporaryDir>

int main(int argc, char* argv[]) {
  ::testing::InitGoogleTest(&argc, argv);
  QStandardPaths::setTestModeEnabled(true);
  QCoreApplication app(argc, argv);
  QCoreApplication::setOrganizationName(QStringLiteral("SyncBN Studio tests"));
  QCoreApplication::setApplicationName(QStringLiteral("test_stores"));
  const QTemporaryDir settingsDir;
  if (!settingsDir.isValid()) return 1;
  QSettings::setPath(QSettings::NativeFormat, QSettings::UserScope, settingsDir.path());
  QSettings::setPath(QSettings::IniFormat, QSettings::UserScope, settingsDir.path());
  return RUN_ALL_TESTS();
}
