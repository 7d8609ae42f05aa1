#include "stores/severity_text.h"

#include <QCoreApplication>

#include "stores/qt_text.h"
#include "stores/translated_text.h"

namespace studio {

QString severityName(syncbn::Severity severity) {
  switch (severity) {
    case syncbn::Severity::Error:
      return QCoreApplication::translate("Severity", "Error");
    case syncbn::Severity::Warning:
      return QCoreApplication::translate("Severity", "Warning");
    case syncbn::Severity::Info:
      return QCoreApplication::translate("Severity", "Info");
  }
  return {};
}

QString diagnosticText(const syncbn::Diagnostic& diagnostic) {
  const QString message = messageOf(diagnostic);
  if (diagnostic.line <= 0) return message;
  return QCoreApplication::translate("Severity", "line %1: %2").arg(diagnostic.line).arg(message);
}

}  // namespace studio
