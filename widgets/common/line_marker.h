// The line a problem is about, marked in a read-only text pane (a label file, a model YAML) and
// scrolled into view.
#pragma once

class QPlainTextEdit;

namespace studio {

// `line` is 1-based; 0, or a line past the end, clears the mark. False when nothing was marked.
bool markLine(QPlainTextEdit* text, int line);

}  // namespace studio
