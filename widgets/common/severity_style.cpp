#include "widgets/common/severity_style.h"

#include <QStyle>

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

}  // namespace studio
