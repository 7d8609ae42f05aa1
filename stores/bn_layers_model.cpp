#include "stores/bn_layers_model.h"

#include <cmath>

#include "stores/qt_text.h"
#include "stores/run_store.h"

namespace studio {

BnLayersModel::BnLayersModel(QObject* parent) : QAbstractTableModel(parent) {}

void BnLayersModel::setStore(RunStore* store) {
  if (store_) store_->disconnect(this);
  beginResetModel();
  store_ = store;
  endResetModel();
  if (store_)
    connect(store_, &RunStore::bnStatsAdded, this, [this] {
      // A probe replaces every row; the proxy keeps the user's sort.
      beginResetModel();
      endResetModel();
    });
}

int BnLayersModel::rowCount(const QModelIndex& parent) const {
  if (parent.isValid() || !store_ || !store_->latestBnStats()) return 0;
  return static_cast<int>(store_->latestBnStats()->layers.size());
}

int BnLayersModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : ColumnCount;
}

QVariant BnLayersModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.row() >= rowCount()) return {};
  const auto& layer = store_->latestBnStats()->layers[static_cast<std::size_t>(index.row())];
  const auto number = [&](double value) -> QVariant {
    if (role == SortRole) return std::isfinite(value) ? value : -1.0;
    return std::isfinite(value) ? QString::number(value, 'f', 3) : QStringLiteral("-");
  };
  if (role == LayerNameRole) return toQString(layer.layer);
  if (role == Qt::TextAlignmentRole && index.column() != LayerColumn)
    return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
  if (role != Qt::DisplayRole && role != SortRole) return {};
  switch (index.column()) {
    case LayerColumn:
      return role == SortRole ? QVariant(index.row()) : QVariant(toQString(layer.layer));
    case NoiseColumn:
      return number(layer.noise);
    case DisagreementColumn:
      return number(layer.disagreement);
    case DivergenceColumn:
      return number(layer.divergence);
    default:
      return {};
  }
}

QVariant BnLayersModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal) return {};
  if (role == Qt::ToolTipRole) {
    switch (section) {
      case NoiseColumn:
        return tr("How far the statistics this step normalised with are from the running "
                  "statistics inference uses, in running standard deviations");
      case DisagreementColumn:
        return tr("How far apart the statistics the ranks normalised with are, in global "
                  "standard deviations: 0 under SyncBN");
      case DivergenceColumn:
        return tr("The spread of the ranks' local batch means (they differ whenever the ranks "
                  "see different images, under BN and SyncBN alike)");
      default:
        return {};
    }
  }
  if (role != Qt::DisplayRole) return {};
  switch (section) {
    case LayerColumn:
      return tr("Layer");
    case NoiseColumn:
      return tr("Noise");
    case DisagreementColumn:
      return tr("Disagreement");
    case DivergenceColumn:
      return tr("Batch-mean spread");
    default:
      return {};
  }
}

}  // namespace studio
