// The Runs mode: the runs under the project folder (RunHistory), newest first, sortable by any
// column. Open (double-click or Enter) shows a run's curves in the Train mode; Resume continues
// one that has weights/last.pt; Compare overlays two or more selected runs (Ctrl+click,
// Shift+click); the folder can be changed or opened in the file manager.
#pragma once

#include <QWidget>

class QLabel;
class QPushButton;
class QSortFilterProxyModel;
class QTableView;

namespace studio {

class RunHistory;

class RunsView : public QWidget {
  Q_OBJECT

 public:
  explicit RunsView(RunHistory* history, QWidget* parent = nullptr);

  QTableView* table() const { return table_; }
  QString selectedDirectory() const;  // the current row's when selected; empty when none is
  QStringList selectedDirectories() const;  // every selected run, in the table's order
  bool selectIfListed(const QString& directory);
  // Whether the selected run may be resumed (its weights/last.pt exists, it did not complete);
  // the shell enables its Resume action from this.
  bool selectedIsResumable() const;

 signals:
  void openRequested(const QString& directory);
  void resumeRequested(const QString& directory);
  void compareRequested(const QStringList& directories);
  void exportRequested(const QString& directory);   // the context menu's Export Weights
  void predictRequested(const QString& directory);  // and Predict Preview
  void fineTuneRequested(const QString& directory);  // a new run from its weights/best.pt
  void selectionChanged();

 private:
  void chooseFolder();
  void updateHeader();
  void updateButtons();

  RunHistory* history_;
  QSortFilterProxyModel* sorted_;
  QTableView* table_;
  QLabel* folder_;
  QLabel* empty_;
  QPushButton* open_;
  QPushButton* resume_;
  QPushButton* fineTune_;
  QPushButton* reveal_;
  QPushButton* compare_;
};

}  // namespace studio
