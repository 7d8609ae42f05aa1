// How a diagnostic reads wherever the GUI shows one (inline under a field, in Problems): the
// severity's translated name and the message with its line.
#pragma once

#include <QString>

#include "common/diagnostics.h"

namespace studio {

QString severityName(syncbn::Severity severity);  // translated: "Error", "Warning", "Info"

// The diagnostic's message with where it came from when known ("line 4: unknown key").
QString diagnosticText(const syncbn::Diagnostic& diagnostic);

}  // namespace studio
