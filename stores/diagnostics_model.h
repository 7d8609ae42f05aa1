// The document's diagnostics as a table for item views: severity, field, message, location.
// Errors come first, then warnings, then information, each in the order they were found. How a
// severity looks (icon, colour) is the view's business: it reads SeverityRole.
#pragma once

#include <QAbstractTableModel>

#include "common/diagnostics.h"

namespace studio {

class ConfigDocument;

class DiagnosticsModel : public QAbstractTableModel {
  Q_OBJECT

 public:
  enum Column { SeverityColumn, FieldColumn, MessageColumn, LocationColumn, ColumnCount };
  enum Role { FieldPathRole = Qt::UserRole + 1, SeverityRole };

  explicit DiagnosticsModel(ConfigDocument* document, QObject* parent = nullptr);

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation,
                      int role = Qt::DisplayRole) const override;

  const syncbn::Diagnostic& diagnostic(int row) const { return rows_.at(static_cast<size_t>(row)); }

 private:
  void reload();
  QVariant display(const syncbn::Diagnostic& diagnostic, int column) const;

  ConfigDocument* document_;
  syncbn::Diagnostics rows_;
};

}  // namespace studio
