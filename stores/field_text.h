// The GUI's words for each configuration field. The field table in core/common is English-only and
// shared with the engine's CLI; these are the translatable labels and tooltips the forms show.
#pragma once

#include <QString>

namespace studio {

// What the editor offers beside a text field to pick its value.
enum class BrowseKind { None, File, Directory };

struct FieldText {
  QString label;        // "Global batch"
  QString toolTip;      // a sentence or two, ending with the YAML key
  QString placeholder;  // shown in an empty text field, or by a whole-number field at its minimum
                        // (what 0 means); may be empty
  QString unit;         // spin box suffix such as " px"; may be empty
  BrowseKind browse = BrowseKind::None;
  QString fileFilter;  // QFileDialog filter for BrowseKind::File
};

// Texts for a dotted field path ("train.batch"), translated for the current language. A path
// without an entry (a field added to the schema but not here yet) gets the path as its label
// and the schema's English help as its tooltip.
FieldText fieldText(const QString& path);

// Whether `path` has its own entry; lets a test catch fields that fell back to the path.
bool hasFieldText(const QString& path);

}  // namespace studio
