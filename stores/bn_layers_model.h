// The latest bn_stats probe as a table: one row per BatchNorm layer listed, with its normaliser
// noise, the ranks' disagreement and the spread of the ranks' local batch means (the raw view).
// Sorted by a view's proxy (SortRole holds the numbers).
#pragma once

#include <QAbstractTableModel>
#include <QPointer>

namespace studio {

class RunStore;

class BnLayersModel : public QAbstractTableModel {
  Q_OBJECT

 public:
  enum Column { LayerColumn, NoiseColumn, DisagreementColumn, DivergenceColumn, ColumnCount };
  enum Role { SortRole = Qt::UserRole + 1, LayerNameRole };

  explicit BnLayersModel(QObject* parent = nullptr);
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
