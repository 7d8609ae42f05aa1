#include "widgets/severity_style.h"

#include <QCoreApplication>
#include <QStyle>

#include "widgets/qt_text.h"

namespace studio {

QIcon severityIcon(syncbn::Severity severity, const QStyle* style) {
  switch (severity) {
    case syncbn::Severity::Error:
      return style->standardIcon(QStyle::SP_MessageBoxCritical);
    case syncbn::Severity::Warning:
      return style->standardIcon(QStyle::SP_MessageBoxWarning);
    case syncbn::Severity::Info:
      return style->standardIcon(QStyle::SP_MessageBoxInformation);
  }
  return {};
}

QColor severityColor(syncbn::Severity severity) {
  switch (severity) {
    case syncbn::Severity::Error:
      return QColor(0xc6, 0x28, 0x28);  // red
    case syncbn::Severity::Warning:
      return QColor(0xa8, 0x5f, 0x00);  // amber, dark enough to read
    case syncbn::Severity::Info:
      return QColor(0x15, 0x65, 0xc0);  // blue
  }
  return {};
}

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
  const QString message = toQString(diagnostic.message);
  if (diagnostic.line <= 0) return message;
  return QCoreApplication::translate("Severity", "line %1: %2").arg(diagnostic.line).arg(message);
}

}  // namespace studio
