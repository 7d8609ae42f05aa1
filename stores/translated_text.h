// The engine's advice and BatchNorm diagnosis in the user's language. The engine keeps its own
// words English (logs, terminals, bug reports); its messages also carry their template and
// values (common/engine_text.h), which the studio renders through the installed translation
// (context "EngineText"). Validation errors have no template and read as the engine wrote them.
#pragma once

#include <QString>

#include "common/bn_diagnosis.h"
#include "common/diagnostics.h"
#include "common/engine_text.h"

namespace studio {

QString translatedText(const syncbn::Text& text);  // English where nothing is translated

// The message of a diagnostic, a finding or a verdict, translated where it has a template.
QString messageOf(const syncbn::Diagnostic& diagnostic);
QString messageOf(const syncbn::diagnosis::Finding& finding);
QString headlineOf(const syncbn::diagnosis::Verdict& verdict);

}  // namespace studio
