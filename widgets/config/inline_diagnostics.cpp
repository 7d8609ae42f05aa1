#include "widgets/config/inline_diagnostics.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QStyle>
#include <QVBoxLayout>

#include "widgets/common/severity_style.h"

namespace studio {
namespace {

constexpr int kIconSize = 16;

}  // namespace

InlineDiagnostics::InlineDiagnostics(QWidget* parent)
    : QWidget(parent), rows_(new QVBoxLayout(this)) {
  rows_->setContentsMargins(0, 2, 0, 2);
  rows_->setSpacing(2);
  hide();
}

void InlineDiagnostics::setDiagnostics(const syncbn::Diagnostics& diagnostics) {
  // Rebuilding on every document change would reset selection in the labels and flicker; most
  // changes leave a given field's messages as they were.
  if (diagnostics == shown_) return;
  shown_ = diagnostics;
  // The rows are this widget's only child widgets; a deleted widget leaves its layout by itself.
  qDeleteAll(findChildren<QWidget*>(Qt::FindDirectChildrenOnly));
  for (const auto& diagnostic : shown_)
    rows_->addWidget(createRow(diagnostic));
  setVisible(!shown_.empty());
  setAccessibleDescription(text());
}

QString InlineDiagnostics::text() const {
  QStringList lines;
  for (const auto& diagnostic : shown_)
    lines << diagnosticText(diagnostic);
  return lines.join(QLatin1Char('\n'));
}

QWidget* InlineDiagnostics::createRow(const syncbn::Diagnostic& diagnostic) {
  auto* row = new QWidget(this);
  auto* layout = new QHBoxLayout(row);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->setSpacing(6);

  auto* icon = new QLabel(row);
  icon->setPixmap(severityIcon(diagnostic.severity, style()).pixmap(kIconSize, kIconSize));
  icon->setAlignment(Qt::AlignTop);
  icon->setToolTip(severityName(diagnostic.severity));

  auto* message = new QLabel(diagnosticText(diagnostic), row);
  message->setWordWrap(true);
  message->setTextInteractionFlags(Qt::TextSelectableByMouse);
  QPalette palette = message->palette();
  palette.setColor(QPalette::WindowText, severityColor(diagnostic.severity));
  message->setPalette(palette);

  layout->addWidget(icon, 0, Qt::AlignTop);
  layout->addWidget(message, 1);
  return row;
}

}  // namespace studio
