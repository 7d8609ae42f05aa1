// What the editor's pages show: each page's title and icon, and its fields in titled groups.
// Every field of the schema appears on exactly one page (a test holds this).
#pragma once

#include <QString>
#include <QStyle>
#include <vector>

namespace studio {

struct FieldGroup {
  QString title;       // translated; empty for a page with a single, untitled group
  QStringList fields;  // dotted paths, in display order
};

struct PageSpec {
  QString id;           // stable, untranslated: "distributed"
  QString title;        // translated: "Distributed"
  QString description;  // one translated sentence under the title
  QStyle::StandardPixmap icon;
  std::vector<FieldGroup> groups;
  bool showsTopology = false;  // the resolved ranks and batch sizes, above the groups
};

// Dataset, Model, Training, Distributed: texts in the current language.
std::vector<PageSpec> configPageSpecs();

}  // namespace studio
