// syncbn-studio: the configuration editor. --version and --help are answered before QApplication
// exists, so they work without a display (packaging checks, headless CI).
#include <QApplication>
#include <QCommandLineParser>
#include <cstdio>
#include <string_view>

#include "app/application.h"
#include "app/main_window.h"
#include "common/version.h"

namespace {

constexpr const char* kUsage =
    "Usage: syncbn-studio [options] [config.yaml]\n"
    "\n"
    "Edit SyncBN Studio training configurations: multi-GPU YOLO training with synchronized\n"
    "BatchNorm.\n"
    "\n"
    "Arguments:\n"
    "  config.yaml    a configuration file to open\n"
    "\n"
    "Options:\n"
    "  -h, --help     show this help and exit\n"
    "  --version      show the version and exit\n"
    "\n"
    "Qt's own options (-platform, -style, ...) are accepted as well.\n";

}  // namespace

int main(int argc, char* argv[]) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view argument = argv[i];
    if (argument == "--") break;
    if (argument == "--version") {
      std::printf("syncbn-studio %s\n", syncbn::kVersion);
      return 0;
    }
    if (argument == "--help" || argument == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
  }

  QApplication app(argc, argv);
  studio::setApplicationIdentity();
  studio::installTranslations(app, studio::localeOf(studio::savedLanguage()));

  // QApplication has removed its own options; anything left but one file name is a mistake.
  QCommandLineParser parser;
  parser.addPositionalArgument(QStringLiteral("config"),
                               QApplication::translate("main", "A configuration file to open."));
  parser.process(app);
  const QStringList files = parser.positionalArguments();
  if (files.size() > 1) {
    std::fputs("syncbn-studio: at most one configuration file may be given\n", stderr);
    return 2;
  }

  studio::MainWindow window;
  window.show();
  if (!files.isEmpty()) window.openFile(files.constFirst());
  return QApplication::exec();
}
