#include "stores/monitor_models.h"

#include <algorithm>
#include <cmath>

#include "stores/qt_text.h"
#include "stores/run_store.h"

namespace studio {
namespace {

QString milliseconds(double value) {
  return std::isfinite(value) ? QString::number(value, 'f', value < 100 ? 1 : 0)
                              : QStringLiteral("-");
}

QString percent(double share) {
  return std::isfinite(share) ? QStringLiteral("%1%").arg(share * 100, 0, 'f', 1)
                              : QStringLiteral("-");
}

QString metric(double value) {
  return std::isfinite(value) ? QString::number(value, 'f', 3) : QStringLiteral("-");
}

QVariant rightAligned() {
  return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
}

}  // namespace

RankTimingModel::RankTimingModel(QObject* parent) : QAbstractTableModel(parent) {}

void RankTimingModel::setStore(RunStore* store) {
  if (store_) store_->disconnect(this);
  beginResetModel();
  store_ = store;
  rows_ = store_ ? static_cast<int>(store_->rankTimings().size()) : 0;
  endResetModel();
  if (store_) connect(store_, &RunStore::stepsAdded, this, &RankTimingModel::onStepsAdded);
}

void RankTimingModel::onStepsAdded() {
  const int rows = static_cast<int>(store_->rankTimings().size());
  if (rows != rows_) {
    beginResetModel();
    rows_ = rows;
    endResetModel();
    return;
  }
  if (rows_ > 0) emit dataChanged(index(0, 0), index(rows_ - 1, ColumnCount - 1));
}

int RankTimingModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : rows_;
}

int RankTimingModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : ColumnCount;
}

int RankTimingModel::slowestRank() const {
  if (!store_ || rows_ == 0) return -1;
  const auto& timings = store_->rankTimings();
  const auto slowest = std::max_element(
      timings.begin(), timings.end(),
      [](const auto& a, const auto& b) { return a.meanTotalMs() < b.meanTotalMs(); });
  return slowest->steps > 0 ? slowest->rank : -1;
}

QVariant RankTimingModel::data(const QModelIndex& index, int role) const {
  if (!store_ || !index.isValid() || index.row() >= rows_) return {};
  const RankTimingSummary& t = store_->rankTimings()[static_cast<std::size_t>(index.row())];
  if (role == SlowestRole) return rows_ > 1 && t.rank == slowestRank();
  if (role == Qt::TextAlignmentRole)
    return index.column() == RankColumn ? QVariant() : rightAligned();
  if (role == Qt::ToolTipRole && index.column() >= DataColumn && index.column() <= CommColumn)
    return tr("latest / mean over %n step(s), in milliseconds", nullptr, static_cast<int>(t.steps));
  if (role != Qt::DisplayRole) return {};
  const double total = t.meanTotalMs();
  const auto part = [&](int i) {
    return tr("%1 / %2").arg(milliseconds(t.latestMs[static_cast<std::size_t>(i)]),
                             milliseconds(t.meanMs[static_cast<std::size_t>(i)]));
  };
  switch (index.column()) {
    case RankColumn:
      return t.rank;
    case DataColumn:
    case ComputeColumn:
    case CommColumn:
      return t.steps > 0 ? part(index.column() - DataColumn) : QString();
    case DataShareColumn:
    case ComputeShareColumn:
    case CommShareColumn:
      return total > 0
                 ? percent(t.meanMs[static_cast<std::size_t>(index.column() - DataShareColumn)] /
                           total)
                 : QString();
    case ImagesPerSecondColumn: {
      const int batch = store_->hasRunInfo() ? store_->runInfo().per_rank_batch : 0;
      return total > 0 && batch > 0 ? QString::number(batch * 1000.0 / total, 'f', 1) : QString();
    }
    default:
      return {};
  }
}

QVariant RankTimingModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal) return {};
  if (role == Qt::ToolTipRole) {
    switch (section) {
      case DataColumn:
        return tr("Waiting for the next batch (loading, augmentation, copying to the device)");
      case ComputeColumn:
        return tr("Forward, loss and backward");
      case CommColumn:
        return tr("Waiting for the other ranks: gradient all-reduce and the step's exchange");
      case ImagesPerSecondColumn:
        return tr("Per-rank batch divided by the mean step time");
      default:
        return {};
    }
  }
  if (role != Qt::DisplayRole) return {};
  switch (section) {
    case RankColumn:
      return tr("Rank");
    case DataColumn:
      return tr("Data ms");
    case ComputeColumn:
      return tr("Compute ms");
    case CommColumn:
      return tr("Comm ms");
    case DataShareColumn:
      return tr("Data");
    case ComputeShareColumn:
      return tr("Compute");
    case CommShareColumn:
      return tr("Comm");
    case ImagesPerSecondColumn:
      return tr("Images/s");
    default:
      return {};
  }
}

ClassMetricsModel::ClassMetricsModel(QObject* parent) : QAbstractTableModel(parent) {}

void ClassMetricsModel::setStore(RunStore* store) {
  if (store_) store_->disconnect(this);
  beginResetModel();
  store_ = store;
  endResetModel();
  if (store_)
    connect(store_, &RunStore::validationAdded, this, [this] {
      beginResetModel();
      endResetModel();
    });
}

int ClassMetricsModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() || !store_ ? 0 : static_cast<int>(store_->latestClasses().size());
}

int ClassMetricsModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : ColumnCount;
}

QVariant ClassMetricsModel::data(const QModelIndex& index, int role) const {
  if (!store_ || !index.isValid() || index.row() >= rowCount()) return {};
  const auto& c = store_->latestClasses()[static_cast<std::size_t>(index.row())];
  if (role == Qt::TextAlignmentRole)
    return index.column() == ClassColumn ? QVariant() : rightAligned();
  if (role != Qt::DisplayRole) return {};
  switch (index.column()) {
    case ClassColumn:
      return toQString(c.name);
    case ImagesColumn:
      return c.images;
    case InstancesColumn:
      return c.instances;
    case PrecisionColumn:
      return metric(c.precision);
    case RecallColumn:
      return metric(c.recall);
    case Map50Column:
      return metric(c.map50);
    case Map50_95Column:
      return metric(c.map50_95);
    default:
      return {};
  }
}

QVariant ClassMetricsModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
  switch (section) {
    case ClassColumn:
      return tr("Class");
    case ImagesColumn:
      return tr("Images");
    case InstancesColumn:
      return tr("Instances");
    case PrecisionColumn:
      return tr("P");
    case RecallColumn:
      return tr("R");
    case Map50Column:
      return tr("mAP50");
    case Map50_95Column:
      return tr("mAP50-95");
    default:
      return {};
  }
}

}  // namespace studio
