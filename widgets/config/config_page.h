// One page of the configuration editor: a title, a sentence about the page, and its fields in
// titled groups with aligned labels; scrolls when the window is short.
#pragma once

#include <QMap>
#include <QScrollArea>

class QVBoxLayout;

#include "widgets/config/page_specs.h"

namespace studio {

class ConfigDocument;
class FieldEditor;

class ConfigPage : public QScrollArea {
  Q_OBJECT

 public:
  ConfigPage(ConfigDocument* document, const PageSpec& spec, QWidget* parent = nullptr);

  QString id() const { return id_; }
  QString title() const { return title_; }
  FieldEditor* editorFor(const QString& fieldPath) const { return editors_.value(fieldPath); }
  // Scrolls the field into view and gives its editor the keyboard focus; false if not here.
  bool focusField(const QString& fieldPath);
  // A feature's panel: below the fields, taking the page's remaining height (the dataset's
  // report, the model's layers), or right under the page's title (the machine's devices).
  enum class PanelPlace { BelowFields, UnderTitle };
  void addPanel(QWidget* panel, PanelPlace place = PanelPlace::BelowFields);

 private:
  QWidget* createHeader(const PageSpec& spec);
  QWidget* createGroup(ConfigDocument* document, const FieldGroup& group);
  void alignLabels();

  QString id_;
  QString title_;
  QVBoxLayout* column_ = nullptr;
  QMap<QString, FieldEditor*> editors_;
};

}  // namespace studio
