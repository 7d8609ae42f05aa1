// One field of the configuration: its label, an editor suited to its type, and the diagnostics
// that name it. Writes each user edit to the document and follows the document's changes.
#pragma once

#include <QWidget>

#include "common/config_schema.h"

class QLabel;

namespace studio {

class ConfigDocument;
class InlineDiagnostics;

class FieldEditor : public QWidget {
  Q_OBJECT

 public:
  FieldEditor(ConfigDocument* document, const syncbn::FieldSpec& spec, QWidget* parent = nullptr);

  QString fieldPath() const { return path_; }
  // The page puts the label in its form's label column so labels align across rows.
  QLabel* label() const { return label_; }
  // QSpinBox, QDoubleSpinBox, QCheckBox, QComboBox or QLineEdit; its objectName is the field path.
  QWidget* input() const { return input_; }
  InlineDiagnostics* messages() const { return messages_; }

  void focusInput();

 private:
  QWidget* createInput();
  QWidget* createIntInput();
  QWidget* createFloatInput();
  QWidget* createBoolInput();
  QWidget* createChoiceInput();
  QWidget* createTextInput();
  QWidget* createBrowseButton();
  void browse();

  void write(const syncbn::FieldValue& value);
  void refreshValue();
  void refreshDiagnostics();

  ConfigDocument* document_;
  const syncbn::FieldSpec& spec_;  // an entry of configFields(), which lives for the program
  QString path_;
  QLabel* label_;
  QWidget* input_;
  InlineDiagnostics* messages_;
};

}  // namespace studio
