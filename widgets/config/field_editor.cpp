#include "widgets/config/field_editor.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QSignalBlocker>
#include <QSpinBox>
#include <QToolButton>
#include <QVBoxLayout>
#include <algorithm>
#include <climits>
#include <cmath>

#include "stores/config_document.h"
#include "stores/field_text.h"
#include "stores/qt_text.h"
#include "widgets/config/inline_diagnostics.h"

namespace studio {
namespace {

// Enough for the smallest bound in the schema (lr0 >= 1e-8); the text below hides the zeros.
constexpr int kFloatDecimals = 10;
// Numbers are short; a full-width spin box would look like a text field.
constexpr int kNumberWidth = 180;

// Shows 0.937 as "0.937" rather than "0.9370000000": the shortest text that reads back to the
// value, while still accepting kFloatDecimals decimals when typed.
class CompactDoubleSpinBox : public QDoubleSpinBox {
 public:
  using QDoubleSpinBox::QDoubleSpinBox;

  QString textFromValue(double value) const override {
    QLocale numbers = locale();
    numbers.setNumberOptions(numbers.numberOptions() | QLocale::OmitGroupSeparator);
    return numbers.toString(value, 'f', QLocale::FloatingPointShortest);
  }
};

int clampToInt(double value) {
  return static_cast<int>(
      std::clamp(value, static_cast<double>(INT_MIN), static_cast<double>(INT_MAX)));
}

int clampToInt(long long value) {
  return static_cast<int>(std::clamp<long long>(value, INT_MIN, INT_MAX));
}

}  // namespace

FieldEditor::FieldEditor(ConfigDocument* document, const syncbn::FieldSpec& spec, QWidget* parent)
    : QWidget(parent),
      document_(document),
      spec_(spec),
      path_(toQString(spec.path())),
      label_(new QLabel(this)),
      input_(nullptr),
      messages_(new InlineDiagnostics(this)) {
  setObjectName(path_ + QStringLiteral(":editor"));
  messages_->setObjectName(path_ + QStringLiteral(":messages"));
  const FieldText text = fieldText(path_);

  input_ = createInput();
  input_->setObjectName(path_);
  input_->setToolTip(text.toolTip);
  input_->setAccessibleName(text.label);

  label_->setText(text.label);
  label_->setToolTip(text.toolTip);
  label_->setBuddy(input_);

  auto* inputRow = new QHBoxLayout;
  inputRow->setSpacing(4);
  inputRow->addWidget(input_, spec_.type == syncbn::FieldType::String ? 1 : 0);
  if (text.browse != BrowseKind::None) inputRow->addWidget(createBrowseButton());
  if (spec_.type != syncbn::FieldType::String) inputRow->addStretch(1);

  auto* column = new QVBoxLayout(this);
  column->setContentsMargins(0, 0, 0, 0);
  column->setSpacing(2);
  column->addLayout(inputRow);
  column->addWidget(messages_);

  refreshValue();
  refreshDiagnostics();
  connect(document_, &ConfigDocument::configChanged, this, &FieldEditor::refreshValue);
  connect(document_, &ConfigDocument::diagnosticsChanged, this, &FieldEditor::refreshDiagnostics);
}

void FieldEditor::focusInput() {
  input_->setFocus(Qt::OtherFocusReason);
  if (auto* line = qobject_cast<QLineEdit*>(input_)) line->selectAll();
  if (auto* spin = qobject_cast<QAbstractSpinBox*>(input_)) spin->selectAll();
}

QWidget* FieldEditor::createInput() {
  switch (spec_.type) {
    case syncbn::FieldType::Int:
      return createIntInput();
    case syncbn::FieldType::Float:
      return createFloatInput();
    case syncbn::FieldType::Bool:
      return createBoolInput();
    case syncbn::FieldType::Choice:
      return createChoiceInput();
    case syncbn::FieldType::String:
      break;
  }
  return createTextInput();
}

QWidget* FieldEditor::createIntInput() {
  auto* spin = new QSpinBox(this);
  spin->setRange(clampToInt(spec_.min), clampToInt(spec_.max));
  spin->setSuffix(fieldText(path_).unit);
  spin->setSpecialValueText(fieldText(path_).placeholder);  // e.g. "auto" for 0
  spin->setMinimumWidth(kNumberWidth);
  connect(spin, &QSpinBox::valueChanged, this,
          [this](int value) { write(static_cast<long long>(value)); });
  return spin;
}

QWidget* FieldEditor::createFloatInput() {
  auto* spin = new CompactDoubleSpinBox(this);
  spin->setDecimals(kFloatDecimals);
  spin->setRange(std::max(spec_.min, -1e12), std::min(spec_.max, 1e12));
  // Steps by a tenth of the value's leading digit: 0.01 -> 0.011, 0.0005 -> 0.0006.
  spin->setStepType(QAbstractSpinBox::AdaptiveDecimalStepType);
  spin->setSuffix(fieldText(path_).unit);
  spin->setMinimumWidth(kNumberWidth);
  connect(spin, &QDoubleSpinBox::valueChanged, this, [this](double value) { write(value); });
  return spin;
}

QWidget* FieldEditor::createBoolInput() {
  auto* check = new QCheckBox(this);
  connect(check, &QCheckBox::toggled, this, [this](bool checked) { write(checked); });
  return check;
}

QWidget* FieldEditor::createChoiceInput() {
  auto* combo = new QComboBox(this);
  // Choices are the configuration's own spellings (also what the YAML file holds), not prose.
  for (const auto choice : spec_.choices)
    combo->addItem(toQString(choice), toQString(choice));
  combo->setMinimumWidth(kNumberWidth);
  connect(combo, &QComboBox::activated, this,
          [this, combo](int index) { write(toStdString(combo->itemData(index).toString())); });
  return combo;
}

QWidget* FieldEditor::createTextInput() {
  auto* line = new QLineEdit(this);
  line->setPlaceholderText(fieldText(path_).placeholder);
  line->setClearButtonEnabled(true);
  // textChanged rather than textEdited: the clear button and Browse… change the text too.
  // refreshValue blocks signals, so the document's own updates do not echo back.
  connect(line, &QLineEdit::textChanged, this,
          [this](const QString& text) { write(toStdString(text)); });
  return line;
}

QWidget* FieldEditor::createBrowseButton() {
  auto* button = new QToolButton(this);
  button->setObjectName(path_ + QStringLiteral(":browse"));
  button->setText(tr("Browse…"));
  button->setToolTip(fieldText(path_).browse == BrowseKind::Directory ? tr("Choose a directory")
                                                                      : tr("Choose a file"));
  connect(button, &QToolButton::clicked, this, &FieldEditor::browse);
  return button;
}

void FieldEditor::browse() {
  const FieldText text = fieldText(path_);
  auto* line = qobject_cast<QLineEdit*>(input_);
  // Start where the current value points, when it names something on disk.
  const QString current = line->text();
  QString chosen;
  if (text.browse == BrowseKind::Directory) {
    chosen = QFileDialog::getExistingDirectory(this, tr("Choose %1").arg(text.label), current);
  } else {
    chosen = QFileDialog::getOpenFileName(this, tr("Choose %1").arg(text.label), current,
                                          text.fileFilter);
  }
  if (chosen.isEmpty()) return;  // cancelled
  line->setText(chosen);
}

void FieldEditor::write(const syncbn::FieldValue& value) {
  document_->setField(spec_, value);
}

void FieldEditor::refreshValue() {
  const QSignalBlocker blocker(input_);
  const syncbn::FieldValue value = spec_.get(document_->config());
  switch (spec_.type) {
    case syncbn::FieldType::Int: {
      auto* spin = static_cast<QSpinBox*>(input_);
      const int number = clampToInt(std::get<long long>(value));
      // A loaded file may hold a value outside the allowed range. Widen the range to show that
      // value as it is, beside its validation error, rather than a clamped one that is not saved.
      spin->setRange(std::min(clampToInt(spec_.min), number),
                     std::max(clampToInt(spec_.max), number));
      if (spin->value() != number) spin->setValue(number);
      break;
    }
    case syncbn::FieldType::Float: {
      auto* spin = static_cast<QDoubleSpinBox*>(input_);
      const double number = std::get<double>(value);
      spin->setRange(std::min(std::max(spec_.min, -1e12), number),
                     std::max(std::min(spec_.max, 1e12), number));
      if (spin->value() != number) spin->setValue(number);
      break;
    }
    case syncbn::FieldType::Bool: {
      auto* check = static_cast<QCheckBox*>(input_);
      check->setChecked(std::get<bool>(value));
      break;
    }
    case syncbn::FieldType::Choice: {
      auto* combo = static_cast<QComboBox*>(input_);
      combo->setCurrentIndex(combo->findData(toQString(std::get<std::string>(value))));
      break;
    }
    case syncbn::FieldType::String: {
      auto* line = static_cast<QLineEdit*>(input_);
      const QString text = toQString(std::get<std::string>(value));
      // Only on a real difference: setText would move the cursor while the user is typing.
      if (line->text() != text) line->setText(text);
      break;
    }
  }
}

void FieldEditor::refreshDiagnostics() {
  messages_->setDiagnostics(document_->diagnosticsFor(path_));
}

}  // namespace studio
