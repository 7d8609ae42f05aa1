// Item models over a DatasetCheck's report, for the Dataset page's views: the images (with their
// boxes, filtered by split, class, backgrounds or problems), the problems, and the per-class
// counts. They hold indices into the report, never copies of it, and reset when it changes.
#pragma once

#include <QAbstractListModel>
#include <QAbstractTableModel>
#include <QVector>

namespace studio {

class DatasetCheck;
struct DatasetImage;
struct DatasetProblem;

class DatasetImagesModel : public QAbstractListModel {
  Q_OBJECT

 public:
  enum Role {
    ImagePathRole = Qt::UserRole + 1,
    LabelPathRole,
    SplitRole,
    ProblemRole,     // the image's problems' reasons, "; "-joined; empty when none
    HasProblemRole,  // bool: it has one (cheap, for painting)
    SkippedRole,     // bool: verification skipped the image (it has no boxes)
  };
  // Every image matches a filter left at its default.
  struct Filter {
    QString split = {};  // empty: every split
    int cls = -1;        // only images with an instance of this class; -1: any
    bool backgroundsOnly = false;
    bool problemsOnly = false;  // images with a problem, skipped ones included
    bool operator==(const Filter&) const = default;
  };

  explicit DatasetImagesModel(const DatasetCheck* check, QObject* parent = nullptr);

  void setFilter(const Filter& filter);
  const Filter& filter() const { return filter_; }

  int rowCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  // The image's boxes and class names for a delegate: nullptr for skipped images.
  const DatasetImage* imageAt(int row) const;
  int rowOfImage(const QString& imagePath) const;  // -1 when filtered out

 private:
  struct Entry {
    int split = 0;
    int sample = -1;   // index into the split's samples; -1: a skipped image
    int problem = -1;  // its first problem; -1: none
  };
  void rebuild();

  const DatasetCheck* check_;
  Filter filter_;
  QVector<Entry> entries_;
};

class DatasetProblemsModel : public QAbstractTableModel {
  Q_OBJECT

 public:
  enum Column { Severity, Split, File, Line, Reason, ColumnCount };
  explicit DatasetProblemsModel(const DatasetCheck* check, QObject* parent = nullptr);

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role) const override;
  const DatasetProblem* problemAt(int row) const;

 private:
  void rebuild();

  const DatasetCheck* check_;
  QVector<const DatasetProblem*> problems_;
};

// One row per class: its name, then images and instances of each split, then in all splits.
class DatasetClassesModel : public QAbstractTableModel {
  Q_OBJECT

 public:
  explicit DatasetClassesModel(const DatasetCheck* check, QObject* parent = nullptr);

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

 private:
  const DatasetCheck* check_;
};

}  // namespace studio
