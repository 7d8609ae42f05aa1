// A run's log (LogModel) with what a user needs to find a line in it: filters by source (rank,
// launcher, studio) and level, a search field, copy of the selection or of everything shown.
// Follows the newest line while scrolled to the bottom.
#pragma once

#include <QPointer>
#include <QSortFilterProxyModel>
#include <QWidget>

class QComboBox;
class QLineEdit;
class QTableView;

namespace studio {

class LogModel;
enum class LogLevel;

// Keeps the lines of one source (or all), at or above a level, containing a text.
class LogFilter : public QSortFilterProxyModel {
  Q_OBJECT

 public:
  static constexpr int kAllSources = -100;

  explicit LogFilter(QObject* parent = nullptr);
  void setSource(int source);         // kAllSources, LogLine::kLauncher, a rank ...
  void setMinimumLevel(int level);    // a LogLevel as int
  void setText(const QString& text);  // case-insensitive substring; empty: any

 protected:
  bool filterAcceptsRow(int row, const QModelIndex& parent) const override;

 private:
  int source_ = kAllSources;
  int minimumLevel_ = 0;
  QString text_;
};

class LogView : public QWidget {
  Q_OBJECT

 public:
  explicit LogView(QWidget* parent = nullptr);

  void setModel(LogModel* model);
  LogFilter* filter() const { return filter_; }
  QTableView* table() const { return table_; }
  QLineEdit* searchField() const { return search_; }
  // The shown lines (all, or only the selected ones) as the clipboard gets them.
  QString shownText(bool selectedOnly) const;

 public slots:
  void copySelection();
  void copyAll();

 private:
  void addSources(int firstRow, int lastRow);
  void scrollIfFollowing();

  QPointer<LogModel> model_;
  LogFilter* filter_;
  QTableView* table_;
  QComboBox* source_;
  QComboBox* level_;
  QLineEdit* search_;
  bool following_ = true;
};

}  // namespace studio
