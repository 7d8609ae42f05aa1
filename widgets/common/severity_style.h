// How a diagnostic's severity looks wherever the GUI shows one, so the inline messages under the
// fields and the Problems view agree. Its words are in stores/severity_text.h.
#pragma once

#include <QColor>
#include <QIcon>

#include "common/diagnostics.h"
#include "stores/severity_text.h"

class QStyle;

namespace studio {

QIcon severityIcon(syncbn::Severity severity, const QStyle* style);
QColor severityColor(syncbn::Severity severity);  // readable on the light window background

}  // namespace studio
