// Where syncbn-engine is: the path set in Preferences, else beside this program (an installed
// package, or the build tree's bin/), else on PATH.
#pragma once

#include <QCoreApplication>
#include <QString>
#include <QStringList>

namespace studio {

inline constexpr char kEngineProgramSetting[] = "engine/program";

struct EngineLocation {
  QString program;       // empty when not found
  QStringList searched;  // where it looked, for the message
  QString error;         // translated; empty when found
};

class EngineLocator {
  Q_DECLARE_TR_FUNCTIONS(EngineLocator)

 public:
  // `configured`: the user's choice (QSettings kEngineProgramSetting); when set, it is the only
  // place looked at, so a typo is reported rather than silently replaced by another engine.
  static EngineLocation locate(const QString& configured);
};

}  // namespace studio
