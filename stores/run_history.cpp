#include "stores/run_history.h"

#include <QDir>
#include <QLocale>
#include <algorithm>

namespace studio {

RunHistory::RunHistory(QObject* parent) : QAbstractTableModel(parent) {
  refreshSoon_.setSingleShot(true);
  refreshSoon_.setInterval(300);
  connect(&refreshSoon_, &QTimer::timeout, this, &RunHistory::refresh);
  connect(&watcher_, &QFileSystemWatcher::directoryChanged, &refreshSoon_,
          qOverload<>(&QTimer::start));
}

void RunHistory::setProjectDirectory(const QString& directory) {
  const QString cleaned = QDir::cleanPath(directory);
  if (cleaned == project_) return;
  if (!watcher_.directories().isEmpty()) watcher_.removePaths(watcher_.directories());
  project_ = cleaned;
  refresh();
}

void RunHistory::refresh() {
  std::vector<RunSummary> runs;
  const QDir project(project_);
  if (!project_.isEmpty() && project.exists()) {
    if (!watcher_.directories().contains(project_)) watcher_.addPath(project_);
    const QFileInfoList entries = project.entryInfoList(QDir::Dirs | QDir::NoDotAndDotDot);
    for (const QFileInfo& entry : entries)
      if (RunRecord::isRunDirectory(entry.absoluteFilePath()))
        runs.push_back(RunRecord::summarize(entry.absoluteFilePath()));
  }
  std::sort(runs.begin(), runs.end(),
            [](const RunSummary& a, const RunSummary& b) { return a.started > b.started; });
  beginResetModel();
  runs_ = std::move(runs);
  endResetModel();
}

int RunHistory::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(runs_.size());
}

int RunHistory::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : ColumnCount;
}

int RunHistory::rowOf(const QString& directory) const {
  const QString cleaned = QDir::cleanPath(directory);
  for (std::size_t i = 0; i < runs_.size(); ++i)
    if (runs_[i].directory == cleaned) return static_cast<int>(i);
  return -1;
}

QString RunHistory::statusName(const QString& status) {
  if (status == QLatin1String("completed")) return tr("completed");
  if (status == QLatin1String("stopped")) return tr("stopped");
  if (status == QLatin1String("failed")) return tr("failed");
  if (status == QLatin1String("running")) return tr("running");
  if (status == QLatin1String("interrupted")) return tr("interrupted");
  return status;
}

QVariant RunHistory::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.row() >= rowCount()) return {};
  const RunSummary& run = runs_[static_cast<std::size_t>(index.row())];
  switch (role) {
    case DirectoryRole:
      return run.directory;
    case ResumableRole:
      return run.resumable;
    case StatusRole:
      return run.status;
    case Qt::ToolTipRole:
      return QDir::toNativeSeparators(run.directory);
    case Qt::TextAlignmentRole:
      if (index.column() == RanksColumn || index.column() == EpochsColumn ||
          index.column() == BestMapColumn)
        return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
      return {};
    case SortRole:
      switch (index.column()) {
        case StartedColumn:
          return run.started;
        case RanksColumn:
          return run.worldSize;
        case EpochsColumn:
          return run.epochsDone;
        case BestMapColumn:
          return run.bestMap50_95.value_or(-1.0);
        default:
          return data(index, Qt::DisplayRole);
      }
    case Qt::DisplayRole:
      switch (index.column()) {
        case NameColumn:
          return run.name;
        case StartedColumn:
          return QLocale().toString(run.started, QLocale::ShortFormat);
        case NormColumn:
          return run.norm;
        case RanksColumn:
          return run.worldSize > 0 ? QVariant(run.worldSize) : QVariant();
        case EpochsColumn:
          return run.epochs > 0 ? tr("%1/%2").arg(run.epochsDone).arg(run.epochs)
                                : QString::number(run.epochsDone);
        case BestMapColumn:
          return run.bestMap50_95 ? QString::number(*run.bestMap50_95, 'f', 3) : QString();
        case StatusColumn:
          return statusName(run.status);
        default:
          return {};
      }
    default:
      return {};
  }
}

QVariant RunHistory::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
  switch (section) {
    case NameColumn:
      return tr("Run");
    case StartedColumn:
      return tr("Started");
    case NormColumn:
      return tr("Norm");
    case RanksColumn:
      return tr("Ranks");
    case EpochsColumn:
      return tr("Epochs");
    case BestMapColumn:
      return tr("Best mAP50-95");
    case StatusColumn:
      return tr("Status");
    default:
      return {};
  }
}

}  // namespace studio
