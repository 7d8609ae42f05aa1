#include "stores/diagnostics_model.h"

#include <QFileInfo>
#include <algorithm>

#include "stores/config_document.h"
#include "stores/field_text.h"
#include "stores/qt_text.h"
#include "stores/severity_text.h"
#include "stores/translated_text.h"

namespace studio {

DiagnosticsModel::DiagnosticsModel(ConfigDocument* document, QObject* parent)
    : QAbstractTableModel(parent), document_(document) {
  reload();
  connect(document_, &ConfigDocument::diagnosticsChanged, this, &DiagnosticsModel::reload);
}

int DiagnosticsModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(rows_.size());
}

int DiagnosticsModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : ColumnCount;
}

QVariant DiagnosticsModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.row() >= rowCount()) return {};
  const syncbn::Diagnostic& d = diagnostic(index.row());
  switch (role) {
    case Qt::DisplayRole:
      return display(d, index.column());
    case Qt::ToolTipRole:
      return toQString(syncbn::format(d));
    case FieldPathRole:
      return toQString(d.field);
    case SeverityRole:
      return static_cast<int>(d.severity);
    default:
      return {};
  }
}

QVariant DiagnosticsModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
  switch (section) {
    case SeverityColumn:
      return tr("Severity");
    case FieldColumn:
      return tr("Field");
    case MessageColumn:
      return tr("Message");
    case LocationColumn:
      return tr("Location");
    default:
      return {};
  }
}

void DiagnosticsModel::reload() {
  beginResetModel();
  rows_ = document_->diagnostics();
  std::stable_sort(rows_.begin(), rows_.end(), [](const auto& a, const auto& b) {
    return static_cast<int>(a.severity) > static_cast<int>(b.severity);
  });
  endResetModel();
}

QVariant DiagnosticsModel::display(const syncbn::Diagnostic& d, int column) const {
  switch (column) {
    case SeverityColumn:
      return severityName(d.severity);
    case FieldColumn: {
      if (d.field.empty()) return tr("(file)");
      const QString path = toQString(d.field);
      // Unknown keys from a file have no label; their path is the best name there is.
      return hasFieldText(path) ? tr("%1 (%2)").arg(fieldText(path).label, path) : path;
    }
    case MessageColumn:
      return messageOf(d);
    case LocationColumn: {
      if (d.source.empty()) return {};
      const QString file = QFileInfo(toQString(d.source)).fileName();
      return d.line > 0 ? tr("%1:%2").arg(file).arg(d.line) : file;
    }
    default:
      return {};
  }
}

}  // namespace studio
