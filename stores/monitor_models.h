// Table models over a RunStore for the monitor's two tables: the ranks' timings and the latest
// validation's per-class metrics.
#pragma once

#include <QAbstractTableModel>
#include <QPointer>

namespace studio {

class RunStore;

// Per rank: the latest and mean data/compute/comm milliseconds of a step, each one's share of
// the mean step, and the images per second the mean step gives. The slowest rank (largest mean
// step) is marked with SlowestRole, so the view can highlight it.
class RankTimingModel : public QAbstractTableModel {
  Q_OBJECT

 public:
  enum Column {
    RankColumn,
    DataColumn,
    ComputeColumn,
    CommColumn,
    DataShareColumn,
    ComputeShareColumn,
    CommShareColumn,
    ImagesPerSecondColumn,
    ColumnCount
  };
  enum Role { SlowestRole = Qt::UserRole + 1 };

  explicit RankTimingModel(QObject* parent = nullptr);
  void setStore(RunStore* store);

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation,
                      int role = Qt::DisplayRole) const override;
  int slowestRank() const;  // -1 before the first step

 private:
  void onStepsAdded();
  QPointer<RunStore> store_;
  int rows_ = 0;
};

class ClassMetricsModel : public QAbstractTableModel {
  Q_OBJECT

 public:
  enum Column {
    ClassColumn,
    ImagesColumn,
    InstancesColumn,
    PrecisionColumn,
    RecallColumn,
    Map50Column,
    Map50_95Column,
    ColumnCount
  };

  explicit ClassMetricsModel(QObject* parent = nullptr);
  void setStore(RunStore* store);

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation,
                      int role = Qt::DisplayRole) const override;

 private:
  QPointer<RunStore> store_;
};

}  // namespace studio
