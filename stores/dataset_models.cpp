#include "stores/dataset_models.h"

#include <QDir>
#include <QFileInfo>
#include <QHash>
#include <algorithm>

#include "stores/dataset_check.h"

namespace studio {

// ---- images ---------------------------------------------------------------------------------

DatasetImagesModel::DatasetImagesModel(const DatasetCheck* check, QObject* parent)
    : QAbstractListModel(parent), check_(check) {
  connect(check_, &DatasetCheck::reportChanged, this, &DatasetImagesModel::rebuild);
  rebuild();
}

void DatasetImagesModel::setFilter(const Filter& filter) {
  if (filter == filter_) return;
  filter_ = filter;
  rebuild();
}

void DatasetImagesModel::rebuild() {
  beginResetModel();
  entries_.clear();
  if (check_->hasReport()) {
    const auto& splits = check_->report().splits;
    for (int s = 0; s < splits.size(); ++s) {
      const DatasetSplit& split = splits[s];
      if (!filter_.split.isEmpty() && split.split != filter_.split) continue;
      // An image's first problem, by image path: warnings for usable images, and the skipped
      // images, which have no sample of their own.
      QHash<QString, int> problemOf;
      for (int p = static_cast<int>(split.problems.size()) - 1; p >= 0; --p)
        problemOf.insert(split.problems[p].image, p);  // backwards: the first problem wins
      const bool anyClassFilter = filter_.cls >= 0;
      if (!filter_.backgroundsOnly && !anyClassFilter) {
        for (int p = 0; p < split.problems.size(); ++p) {
          const DatasetProblem& problem = split.problems[p];
          if (problem.skipped && problemOf.value(problem.image) == p)
            entries_.push_back({s, -1, p});
        }
      }
      for (int i = 0; i < split.samples.size(); ++i) {
        const DatasetImage& image = split.samples[i];
        const int problem = problemOf.value(image.image, -1);
        if (filter_.problemsOnly && problem < 0) continue;
        if (filter_.backgroundsOnly && !image.boxes.isEmpty()) continue;
        if (anyClassFilter &&
            std::none_of(image.boxes.begin(), image.boxes.end(),
                         [this](const DatasetBox& b) { return b.cls == filter_.cls; }))
          continue;
        entries_.push_back({s, i, problem});
      }
    }
  }
  endResetModel();
}

int DatasetImagesModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(entries_.size());
}

const DatasetImage* DatasetImagesModel::imageAt(int row) const {
  if (row < 0 || row >= entries_.size() || !check_->hasReport()) return nullptr;
  const Entry& e = entries_[row];
  if (e.sample < 0) return nullptr;
  return &check_->report().splits[e.split].samples[e.sample];
}

int DatasetImagesModel::rowOfImage(const QString& imagePath) const {
  for (int row = 0; row < entries_.size(); ++row)
    if (data(index(row), ImagePathRole).toString() == imagePath) return row;
  return -1;
}

QVariant DatasetImagesModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.row() >= entries_.size() || !check_->hasReport()) return {};
  const Entry& e = entries_[index.row()];
  const DatasetSplit& split = check_->report().splits[e.split];
  const DatasetProblem* problem = e.problem >= 0 ? &split.problems[e.problem] : nullptr;
  const DatasetImage* image = e.sample >= 0 ? &split.samples[e.sample] : nullptr;
  const QString path = image ? image->image : problem->image;
  switch (role) {
    case Qt::DisplayRole:
      return QFileInfo(path).fileName();
    case Qt::ToolTipRole: {
      QString tip = QDir::toNativeSeparators(path);
      if (image)
        tip += tr("\n%1 x %2 px, %n box(es)", nullptr, static_cast<int>(image->boxes.size()))
                   .arg(image->width)
                   .arg(image->height);
      if (problem) tip += QLatin1Char('\n') + problem->reason;
      return tip;
    }
    case ImagePathRole:
      return path;
    case LabelPathRole:
      return image ? image->label : problem->label;
    case SplitRole:
      return split.split;
    case ProblemRole: {
      if (!problem) return QString();
      QStringList reasons;
      for (const DatasetProblem& p : split.problems)
        if (p.image == path) reasons << p.reason;
      return reasons.join(QLatin1String("; "));
    }
    case HasProblemRole:
      return problem != nullptr;
    case SkippedRole:
      return image == nullptr;
    default:
      return {};
  }
}

// ---- problems -------------------------------------------------------------------------------

DatasetProblemsModel::DatasetProblemsModel(const DatasetCheck* check, QObject* parent)
    : QAbstractTableModel(parent), check_(check) {
  connect(check_, &DatasetCheck::reportChanged, this, &DatasetProblemsModel::rebuild);
  rebuild();
}

void DatasetProblemsModel::rebuild() {
  beginResetModel();
  problems_.clear();
  if (check_->hasReport())
    for (const DatasetSplit& split : check_->report().splits)
      for (const DatasetProblem& problem : split.problems)
        problems_ << &problem;
  endResetModel();
}

int DatasetProblemsModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(problems_.size());
}

int DatasetProblemsModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : ColumnCount;
}

const DatasetProblem* DatasetProblemsModel::problemAt(int row) const {
  return row >= 0 && row < problems_.size() ? problems_[row] : nullptr;
}

QVariant DatasetProblemsModel::data(const QModelIndex& index, int role) const {
  const DatasetProblem* p = index.isValid() ? problemAt(index.row()) : nullptr;
  if (!p) return {};
  if (role == Qt::DisplayRole) {
    switch (index.column()) {
      case Severity:
        return p->skipped ? tr("skipped") : tr("warning");
      case Split:
        return p->split;
      case File: {
        // Beside the data.yaml the relative path says it all; the tooltip has the rest.
        const QString yaml = check_->report().dataFile;
        const QString base = yaml == QLatin1String("demo") || yaml.isEmpty()
                                 ? check_->report().root
                                 : QFileInfo(yaml).absolutePath();
        const QString relative = QDir(base).relativeFilePath(p->file);
        return QDir::toNativeSeparators(relative.startsWith(QLatin1String("..")) ? p->file
                                                                                 : relative);
      }
      case Line:
        return p->line > 0 ? QVariant(p->line) : QVariant();
      case Reason:
        return p->reason;
      default:
        return {};
    }
  }
  if (role == Qt::ToolTipRole)
    return tr("%1\n%2\nDouble-click to see the image and its label file.")
        .arg(QDir::toNativeSeparators(p->file), p->reason);
  if (role == Qt::UserRole) return p->skipped;
  return {};
}

QVariant DatasetProblemsModel::headerData(int section, Qt::Orientation orientation,
                                          int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
  switch (section) {
    case Severity:
      return tr("Kind");
    case Split:
      return tr("Split");
    case File:
      return tr("File");
    case Line:
      return tr("Line");
    case Reason:
      return tr("Reason");
    default:
      return {};
  }
}

// ---- classes --------------------------------------------------------------------------------

DatasetClassesModel::DatasetClassesModel(const DatasetCheck* check, QObject* parent)
    : QAbstractTableModel(parent), check_(check) {
  connect(check_, &DatasetCheck::reportChanged, this, [this] {
    beginResetModel();
    endResetModel();
  });
}

int DatasetClassesModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() || !check_->hasReport() ? 0
                                                  : static_cast<int>(check_->report().names.size());
}

int DatasetClassesModel::columnCount(const QModelIndex& parent) const {
  if (parent.isValid() || !check_->hasReport()) return 0;
  return 1 + 2 * static_cast<int>(check_->report().splits.size());
}

QVariant DatasetClassesModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || !check_->hasReport()) return {};
  const DatasetReport& report = check_->report();
  if (index.column() == 0) {
    if (role == Qt::DisplayRole) return report.names.value(index.row());
    if (role == Qt::ToolTipRole) return tr("Class %1").arg(index.row());
    return {};
  }
  const int split = (index.column() - 1) / 2;
  const bool instances = (index.column() - 1) % 2 == 1;
  const QVector<qint64>& counts =
      instances ? report.splits[split].classInstances : report.splits[split].classImages;
  if (role == Qt::DisplayRole) return counts.value(index.row());
  if (role == Qt::TextAlignmentRole) return int(Qt::AlignRight | Qt::AlignVCenter);
  return {};
}

QVariant DatasetClassesModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole || !check_->hasReport()) return {};
  if (section == 0) return tr("Class");
  const QString split = check_->report().splits.value((section - 1) / 2).split;
  return (section - 1) % 2 == 0 ? tr("%1 images").arg(split) : tr("%1 instances").arg(split);
}

}  // namespace studio
