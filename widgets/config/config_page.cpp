#include "widgets/config/config_page.h"

#include <QFormLayout>
#include <QGroupBox>
#include <QLabel>
#include <QVBoxLayout>
#include <algorithm>

#include "common/config_schema.h"
#include "stores/config_document.h"
#include "stores/qt_text.h"
#include "widgets/config/field_editor.h"
#include "widgets/config/topology_summary.h"

namespace studio {
namespace {

// Wider lines are hard to read and make the labels drift far from their editors.
constexpr int kMaxContentWidth = 860;

}  // namespace

ConfigPage::ConfigPage(ConfigDocument* document, const PageSpec& spec, QWidget* parent)
    : QScrollArea(parent), id_(spec.id), title_(spec.title) {
  setObjectName(QStringLiteral("page.") + spec.id);
  setWidgetResizable(true);
  setFrameShape(QFrame::NoFrame);

  // The fields keep to a readable width; a feature panel below them (a table, a grid of
  // images) takes the page's whole width.
  auto* content = new QWidget(this);
  auto* column = column_ = new QVBoxLayout(content);
  column->setContentsMargins(24, 18, 24, 18);
  column->setSpacing(14);
  const auto addNarrow = [column](QWidget* widget) {
    widget->setMaximumWidth(kMaxContentWidth);
    column->addWidget(widget);
  };
  addNarrow(createHeader(spec));
  if (spec.showsTopology) addNarrow(new TopologySummary(document, content));
  for (const FieldGroup& group : spec.groups)
    addNarrow(createGroup(document, group));
  column->addStretch(1);
  alignLabels();

  setWidget(content);
  setAlignment(Qt::AlignLeft | Qt::AlignTop);
}

void ConfigPage::addPanel(QWidget* panel, PanelPlace place) {
  panel->setParent(widget());
  if (place == PanelPlace::UnderTitle) {
    panel->setMaximumWidth(kMaxContentWidth);
    column_->insertWidget(1, panel);  // 0 is the header
    return;
  }
  // The trailing stretch gives way to the panel, which then takes what height is left.
  if (QLayoutItem* last = column_->itemAt(column_->count() - 1); last && last->spacerItem())
    delete column_->takeAt(column_->count() - 1);
  column_->addWidget(panel, 1);
}

bool ConfigPage::focusField(const QString& fieldPath) {
  FieldEditor* editor = editorFor(fieldPath);
  if (!editor) return false;
  ensureWidgetVisible(editor, 0, 40);
  editor->focusInput();
  return true;
}

void ConfigPage::alignLabels() {
  // Each group box has its own form layout; one label width for the page lines the editors of
  // all groups up in a single column.
  int width = 0;
  for (const FieldEditor* editor : std::as_const(editors_))
    width = std::max(width, editor->label()->sizeHint().width());
  for (FieldEditor* editor : std::as_const(editors_))
    editor->label()->setMinimumWidth(width);
}

QWidget* ConfigPage::createHeader(const PageSpec& spec) {
  auto* header = new QWidget(this);
  auto* layout = new QVBoxLayout(header);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->setSpacing(4);

  auto* title = new QLabel(spec.title, header);
  title->setObjectName(QStringLiteral("pageTitle"));
  QFont titleFont = title->font();
  titleFont.setPointSizeF(titleFont.pointSizeF() * 1.5);
  titleFont.setBold(true);
  title->setFont(titleFont);

  auto* description = new QLabel(spec.description, header);
  description->setWordWrap(true);
  description->setForegroundRole(QPalette::PlaceholderText);

  layout->addWidget(title);
  layout->addWidget(description);
  return header;
}

QWidget* ConfigPage::createGroup(ConfigDocument* document, const FieldGroup& group) {
  auto* box = new QGroupBox(group.title, this);
  auto* form = new QFormLayout(box);
  form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
  form->setLabelAlignment(Qt::AlignLeft | Qt::AlignVCenter);
  form->setRowWrapPolicy(QFormLayout::DontWrapRows);
  form->setHorizontalSpacing(18);
  for (const QString& path : group.fields) {
    const syncbn::FieldSpec* spec = syncbn::findField(toStdString(path));
    // The page lists are written by hand; a path the schema lacks is a programming error that the
    // page test reports. Skipping it keeps the rest of the page usable.
    if (!spec) continue;
    auto* editor = new FieldEditor(document, *spec, box);
    form->addRow(editor->label(), editor);
    editors_.insert(path, editor);
  }
  return box;
}

}  // namespace studio
