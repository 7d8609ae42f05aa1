// A run's log: the engine's console output line by line (rank prefixes parsed), the run's `log`
// events where no console is attached, and the studio's own messages about the run. Bounded: the
// oldest lines go first once `capacity` is reached.
#pragma once

#include <QAbstractTableModel>
#include <QDateTime>
#include <QList>
#include <QString>

namespace studio {

enum class LogLevel { Debug, Info, Warning, Error };

struct LogLine {
  // Who said it: a rank (0, 1, ...), or one of these.
  static constexpr int kLauncher = -1;  // the engine's launcher ("[launcher] ...")
  static constexpr int kEngine = -2;    // a single-process engine, or text without a prefix
  static constexpr int kStudio = -3;    // this application (connection, protocol problems)

  qint64 msecsSinceEpoch = 0;
  int source = kEngine;
  LogLevel level = LogLevel::Info;
  QString text;  // without the "[rank N] " prefix
};

// One console line of the engine: "[rank 1] warning: ..." -> source 1, Warning, "warning: ...".
// The level comes from the engine's own "error:"/"warning:" words.
LogLine parseConsoleLine(const QString& line, qint64 msecsSinceEpoch);

QString logSourceName(int source);  // translated: "rank 1", "launcher", "engine", "studio"
QString logLevelName(LogLevel level);

class LogModel : public QAbstractTableModel {
  Q_OBJECT

 public:
  enum Column { TimeColumn, SourceColumn, MessageColumn, ColumnCount };
  enum Role { SourceRole = Qt::UserRole + 1, LevelRole, TimeRole };
  static constexpr int kDefaultCapacity = 50000;

  explicit LogModel(QObject* parent = nullptr, int capacity = kDefaultCapacity);

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant headerData(int section, Qt::Orientation orientation,
                      int role = Qt::DisplayRole) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;

  void append(const LogLine& line) { append(QList<LogLine>{line}); }
  void append(const QList<LogLine>& lines);
  const LogLine& line(int row) const { return lines_.at(row); }
  // Lines dropped to stay within capacity.
  qint64 droppedLines() const { return dropped_; }
  // "12:03:04 rank 1 | warning: ..." per line, as the Copy actions put it on the clipboard.
  static QString formatForCopy(const LogLine& line);

 private:
  QList<LogLine> lines_;
  int capacity_;
  qint64 dropped_ = 0;
};

}  // namespace studio
