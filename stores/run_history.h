// The runs under a project folder (output.project, e.g. runs/train), one row each, newest
// first: what the Runs mode lists. Refreshed when asked and when the folder gains or loses a run.
#pragma once

#include <QAbstractTableModel>
#include <QFileSystemWatcher>
#include <QTimer>
#include <vector>

#include "stores/run_record.h"

namespace studio {

class RunHistory : public QAbstractTableModel {
  Q_OBJECT

 public:
  enum Column {
    NameColumn,
    StartedColumn,
    NormColumn,
    RanksColumn,
    EpochsColumn,
    BestMapColumn,
    StatusColumn,
    ColumnCount
  };
  enum Role { DirectoryRole = Qt::UserRole + 1, ResumableRole, StatusRole, SortRole };

  explicit RunHistory(QObject* parent = nullptr);

  void setProjectDirectory(const QString& directory);  // absolute
  QString projectDirectory() const { return project_; }
  void refresh();

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation,
                      int role = Qt::DisplayRole) const override;

  const RunSummary& run(int row) const { return runs_.at(static_cast<std::size_t>(row)); }
  int rowOf(const QString& directory) const;  // -1 when not listed

  static QString statusName(const QString& status);  // translated

 private:
  QString project_;
  std::vector<RunSummary> runs_;
  QFileSystemWatcher watcher_;
  QTimer refreshSoon_;  // folds a burst of file-system changes into one refresh
};

}  // namespace studio
