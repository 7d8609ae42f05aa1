// Problems found in a configuration: validation errors and advice share one shape so that the
// CLI prints them and the GUI shows them beside the field they name.
#pragma once

#include <string>
#include <vector>

#include "common/engine_text.h"

namespace syncbn {

enum class Severity { Info, Warning, Error };

struct Diagnostic {
  Severity severity = Severity::Error;
  std::string field;    // dotted path, e.g. "train.batch"; empty for file-level problems
  std::string message;  // what is wrong and why, in the user's words
  std::string rule;     // stable id of an advice rule ("small-batch-bn"); empty for validation
  std::string source;   // file the value came from, when known
  int line = 0;         // 1-based line in source; 0 when unknown
  // An advice rule's message as a template and its values (common/engine_text.h), so the studio
  // shows it in the user's language; empty for validation errors, which stay in English.
  Text text;
  bool operator==(const Diagnostic&) const = default;
};

using Diagnostics = std::vector<Diagnostic>;

std::string_view toString(Severity severity);

// "file:line: error: train.batch: message [rule]"
std::string format(const Diagnostic& diagnostic);

bool hasErrors(const Diagnostics& diagnostics);
std::size_t countSeverity(const Diagnostics& diagnostics, Severity severity);

}  // namespace syncbn
