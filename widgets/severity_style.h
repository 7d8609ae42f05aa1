// How a diagnostic's severity looks wherever the GUI shows one, so the inline messages under the
// fields and the Problems view agree.
#pragma once

#include <QColor>
#include <QIcon>
#include <QString>

#include "common/diagnostics.h"

class QStyle;

namespace studio {

QIcon severityIcon(syncbn::Severity severity, const QStyle* style);
QColor severityColor(syncbn::Severity severity);  // readable on the light window background
QString severityName(syncbn::Severity severity);  // translated: "Error", "Warning", "Info"

// The diagnostic's message with where it came from when known ("line 4: unknown key").
QString diagnosticText(const syncbn::Diagnostic& diagnostic);

}  // namespace studio
