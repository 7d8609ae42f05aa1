#include "stores/log_model.h"

#include <QCoreApplication>
#include <QRegularExpression>

namespace studio {

LogLine parseConsoleLine(const QString& line, qint64 msecsSinceEpoch) {
  static const QRegularExpression prefix(QStringLiteral("^\\[(rank (\\d+)|launcher)\\] ?"));
  LogLine parsed;
  parsed.msecsSinceEpoch = msecsSinceEpoch;
  parsed.text = line;
  const QRegularExpressionMatch match = prefix.match(line);
  if (match.hasMatch()) {
    parsed.source = match.captured(2).isEmpty() ? LogLine::kLauncher : match.captured(2).toInt();
    parsed.text = line.mid(match.capturedLength());
  }
  // The engine writes "error: ..." and "warning: ..." (also after "rank N: " or a file name).
  static const QRegularExpression error(QStringLiteral("(^|: |\\] )error: "));
  static const QRegularExpression warning(QStringLiteral("(^|: |\\] )warning: "));
  if (error.match(parsed.text).hasMatch())
    parsed.level = LogLevel::Error;
  else if (warning.match(parsed.text).hasMatch())
    parsed.level = LogLevel::Warning;
  return parsed;
}

QString logSourceName(int source) {
  switch (source) {
    case LogLine::kLauncher:
      return QCoreApplication::translate("Log", "launcher");
    case LogLine::kEngine:
      return QCoreApplication::translate("Log", "engine");
    case LogLine::kStudio:
      return QCoreApplication::translate("Log", "studio");
    default:
      return QCoreApplication::translate("Log", "rank %1").arg(source);
  }
}

QString logLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::Debug:
      return QCoreApplication::translate("Log", "debug");
    case LogLevel::Info:
      return QCoreApplication::translate("Log", "info");
    case LogLevel::Warning:
      return QCoreApplication::translate("Log", "warning");
    case LogLevel::Error:
      return QCoreApplication::translate("Log", "error");
  }
  return {};
}

LogModel::LogModel(QObject* parent, int capacity)
    : QAbstractTableModel(parent), capacity_(std::max(capacity, 10)) {}

int LogModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(lines_.size());
}

int LogModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : ColumnCount;
}

QVariant LogModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
  switch (section) {
    case TimeColumn:
      return tr("Time");
    case SourceColumn:
      return tr("Source");
    case MessageColumn:
      return tr("Message");
    default:
      return {};
  }
}

QVariant LogModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.row() >= lines_.size()) return {};
  const LogLine& l = lines_.at(index.row());
  switch (role) {
    case Qt::DisplayRole:
      switch (index.column()) {
        case TimeColumn:
          return QDateTime::fromMSecsSinceEpoch(l.msecsSinceEpoch)
              .toString(QStringLiteral("HH:mm:ss"));
        case SourceColumn:
          return logSourceName(l.source);
        default:
          return l.text;
      }
    case Qt::ToolTipRole:
      return formatForCopy(l);
    case SourceRole:
      return l.source;
    case LevelRole:
      return static_cast<int>(l.level);
    case TimeRole:
      return QDateTime::fromMSecsSinceEpoch(l.msecsSinceEpoch);
    default:
      return {};
  }
}

void LogModel::append(const QList<LogLine>& lines) {
  if (lines.isEmpty()) return;
  // Drop a tenth at a time, so a long run does not pay a removal per line.
  const qsizetype overflow = lines_.size() + lines.size() - capacity_;
  if (overflow > 0) {
    const qsizetype drop = std::min(lines_.size(), std::max(overflow, qsizetype(capacity_ / 10)));
    if (drop > 0) {
      beginRemoveRows({}, 0, static_cast<int>(drop - 1));
      lines_.remove(0, drop);
      endRemoveRows();
      dropped_ += drop;
    }
  }
  const QList<LogLine> kept =
      lines.size() > capacity_ ? lines.mid(lines.size() - capacity_) : lines;
  dropped_ += lines.size() - kept.size();
  const int first = static_cast<int>(lines_.size());
  beginInsertRows({}, first, first + static_cast<int>(kept.size()) - 1);
  lines_.append(kept);
  endInsertRows();
}

QString LogModel::formatForCopy(const LogLine& line) {
  return QStringLiteral("%1 %2 | %3")
      .arg(
          QDateTime::fromMSecsSinceEpoch(line.msecsSinceEpoch).toString(QStringLiteral("HH:mm:ss")),
          logSourceName(line.source), line.text);
}

}  // namespace studio
