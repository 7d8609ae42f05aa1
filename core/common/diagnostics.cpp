#include "common/diagnostics.h"

#include <algorithm>

namespace syncbn {

std::string_view toString(Severity severity) {
  switch (severity) {
    case Severity::Info:
      return "info";
    case Severity::Warning:
      return "warning";
    case Severity::Error:
      return "error";
  }
  return "error";
}

std::string format(const Diagnostic& d) {
  std::string out;
  if (!d.source.empty()) {
    out += d.source;
    if (d.line > 0) out += ":" + std::to_string(d.line);
    out += ": ";
  }
  out += toString(d.severity);
  out += ": ";
  if (!d.field.empty()) out += d.field + ": ";
  out += d.message;
  if (!d.rule.empty()) out += " [" + d.rule + "]";
  return out;
}

std::size_t countSeverity(const Diagnostics& diagnostics, Severity severity) {
  return static_cast<std::size_t>(
      std::count_if(diagnostics.begin(), diagnostics.end(),
                    [severity](const Diagnostic& d) { return d.severity == severity; }));
}

bool hasErrors(const Diagnostics& diagnostics) {
  return countSeverity(diagnostics, Severity::Error) > 0;
}

}  // namespace syncbn
