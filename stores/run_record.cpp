#include "stores/run_record.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QHash>
#include <cmath>
#include <limits>

#include "common/config_yaml.h"
#include "common/topology.h"
#include "stores/qt_text.h"

namespace studio {
namespace protocol = syncbn::protocol;

namespace {

constexpr qint64 kTailBytes = 256 << 10;  // enough for the last epoch's val and the finish
constexpr int kRunningWithinSeconds = 60;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

QString fileIn(const QString& directory, const char* name) {
  return QDir(directory).filePath(QString::fromLatin1(name));
}

std::optional<protocol::Message> decodeLine(const QByteArray& line) {
  protocol::DecodeResult result = protocol::decode(std::string_view(line.constData(), line.size()));
  if (!result.ok()) return std::nullopt;
  return std::move(result).value();
}

// The first line of events.jsonl: run_started (the engine writes it first).
std::optional<protocol::RunStarted> readRunStarted(QFile& file) {
  const QByteArray line = file.readLine(static_cast<qint64>(protocol::kMaxLineBytes) + 2);
  const auto message = decodeLine(line.trimmed());
  if (!message) return std::nullopt;
  if (const auto* started = std::get_if<protocol::RunStarted>(&*message)) return *started;
  return std::nullopt;
}

// The complete lines of the file's last kTailBytes, decoded.
std::vector<protocol::Message> readTail(QFile& file) {
  const qint64 size = file.size();
  const qint64 from = std::max<qint64>(0, size - kTailBytes);
  file.seek(from);
  QByteArray bytes = file.read(size - from);
  if (from > 0) {
    const qsizetype firstNewline = bytes.indexOf('\n');
    bytes = firstNewline < 0 ? QByteArray() : bytes.mid(firstNewline + 1);
  }
  std::vector<protocol::Message> messages;
  for (const QByteArray& line : bytes.split('\n'))
    if (!line.trimmed().isEmpty())
      if (auto message = decodeLine(line)) messages.push_back(std::move(*message));
  return messages;
}

}  // namespace

bool RunRecord::isRunDirectory(const QString& directory) {
  return QFileInfo(fileIn(directory, "events.jsonl")).isFile() ||
         QFileInfo(fileIn(directory, "results.csv")).isFile() ||
         QFileInfo(fileIn(directory, "args.yaml")).isFile();
}

RunSummary RunRecord::summarize(const QString& directory) {
  RunSummary summary;
  const QFileInfo dirInfo(directory);
  summary.directory = dirInfo.absoluteFilePath();
  summary.name = dirInfo.fileName();
  summary.started = dirInfo.lastModified();
  const QString args = fileIn(directory, "args.yaml");
  summary.resumable =
      QFileInfo(fileIn(directory, "weights/last.pt")).isFile() && QFileInfo(args).isFile();

  std::optional<protocol::Finished> finished;
  const QFileInfo eventsInfo(fileIn(directory, "events.jsonl"));
  QFile events(eventsInfo.filePath());
  if (eventsInfo.isFile() && events.open(QIODevice::ReadOnly)) {
    summary.hasEvents = true;
    if (const auto started = readRunStarted(events)) {
      if (started->start_time > 0)
        summary.started = QDateTime::fromMSecsSinceEpoch(
            static_cast<qint64>(std::llround(started->start_time * 1000)));
      summary.norm = toQString(started->norm);
      summary.worldSize = started->world_size;
      summary.epochs = started->epochs;
    }
    for (const protocol::Message& message : readTail(events)) {
      if (const auto* f = std::get_if<protocol::Finished>(&message)) finished = *f;
      if (const auto* s = std::get_if<protocol::RunStarted>(&message)) {
        finished.reset();  // resumed after that finish
        summary.epochs = s->epochs;
      }
      if (const auto* v = std::get_if<protocol::Val>(&message))
        summary.epochsDone = std::max(summary.epochsDone, v->epoch + 1);
    }
  }
  if (summary.norm.isEmpty() && QFileInfo(args).isFile()) {
    const syncbn::LoadedConfig loaded = syncbn::loadConfigFile(toFsPath(args));
    summary.norm = toQString(syncbn::toString(loaded.config.distributed.norm));
    summary.epochs = loaded.config.train.epochs;
    summary.worldSize = syncbn::resolveTopology(loaded.config, syncbn::HostFacts{}).worldSize;
  }
  QString ignored;
  if (const auto rows = readResultsCsv(fileIn(directory, "results.csv"), &ignored)) {
    for (const ResultsCsvRow& row : *rows) {
      summary.epochsDone = std::max(summary.epochsDone, row.epoch);
      if (std::isfinite(row.map50_95))
        summary.bestMap50_95 = std::max(summary.bestMap50_95.value_or(0.0), row.map50_95);
    }
  }
  if (finished) {
    summary.status = toQString(finished->status);
    if (finished->status == "completed") summary.resumable = false;
  } else if (summary.hasEvents && eventsInfo.lastModified().secsTo(QDateTime::currentDateTime()) <
                                      kRunningWithinSeconds) {
    summary.status = QStringLiteral("running");
  } else {
    summary.status = QStringLiteral("interrupted");
  }
  return summary;
}

std::optional<std::vector<ResultsCsvRow>> RunRecord::readResultsCsv(const QString& path,
                                                                    QString* error) {
  QFile file(path);
  if (!QFileInfo(path).isFile() || !file.open(QIODevice::ReadOnly | QIODevice::Text)) {
    if (error) *error = tr("Cannot open %1.").arg(QDir::toNativeSeparators(path));
    return std::nullopt;
  }
  const QList<QByteArray> lines = file.readAll().split('\n');
  if (lines.isEmpty() || lines.first().trimmed().isEmpty()) {
    if (error) *error = tr("%1:1: no header").arg(QDir::toNativeSeparators(path));
    return std::nullopt;
  }
  QHash<QString, int> column;
  const QList<QByteArray> header = lines.first().split(',');
  for (int i = 0; i < header.size(); ++i)
    column.insert(QString::fromUtf8(header[i].trimmed()), i);
  if (!column.contains(QStringLiteral("epoch"))) {
    if (error) *error = tr("%1:1: no 'epoch' column").arg(QDir::toNativeSeparators(path));
    return std::nullopt;
  }
  std::vector<ResultsCsvRow> rows;
  for (int n = 1; n < lines.size(); ++n) {
    if (lines[n].trimmed().isEmpty()) continue;
    const QList<QByteArray> cells = lines[n].split(',');
    const auto value = [&](const char* name) {
      const int i = column.value(QString::fromLatin1(name), -1);
      if (i < 0 || i >= cells.size()) return kNaN;
      bool ok = false;
      const double v = cells[i].trimmed().toDouble(&ok);
      return ok ? v : kNaN;
    };
    ResultsCsvRow row;
    const double epoch = value("epoch");
    if (!std::isfinite(epoch) || epoch < 1 || epoch != std::floor(epoch)) {
      if (error)
        *error = tr("%1:%2: the epoch is not a whole number >= 1")
                     .arg(QDir::toNativeSeparators(path))
                     .arg(n + 1);
      return std::nullopt;
    }
    row.epoch = static_cast<int>(epoch);
    row.time = value("time");
    row.trainBox = value("train/box_loss");
    row.trainCls = value("train/cls_loss");
    row.trainDfl = value("train/dfl_loss");
    row.precision = value("metrics/precision(B)");
    row.recall = value("metrics/recall(B)");
    row.map50 = value("metrics/mAP50(B)");
    row.map50_95 = value("metrics/mAP50-95(B)");
    row.lr = value("lr/pg0");
    rows.push_back(row);
  }
  return rows;
}

std::vector<protocol::Message> RunRecord::eventsFromResults(
    const QString& directory, const std::vector<ResultsCsvRow>& rows) {
  std::vector<protocol::Message> events;
  protocol::RunStarted started;
  started.run_dir = toStdString(QFileInfo(directory).absoluteFilePath());
  started.device = "cpu";
  started.iterations_per_epoch = 1;
  started.epochs = rows.empty() ? 1 : rows.back().epoch;
  const QString args = fileIn(directory, "args.yaml");
  if (QFileInfo(args).isFile()) {
    const syncbn::LoadedConfig loaded = syncbn::loadConfigFile(toFsPath(args));
    started.norm = std::string(syncbn::toString(loaded.config.distributed.norm));
    started.epochs = std::max(started.epochs, loaded.config.train.epochs);
    started.world_size = syncbn::resolveTopology(loaded.config, syncbn::HostFacts{}).worldSize;
    started.config_yaml = syncbn::toYaml(loaded.config);
  }
  events.emplace_back(started);
  for (const ResultsCsvRow& row : rows) {
    protocol::Step step;
    step.epoch = row.epoch - 1;
    step.iteration = row.epoch - 1;
    step.losses = {{"box", row.trainBox}, {"cls", row.trainCls}, {"dfl", row.trainDfl}};
    step.lr = row.lr;
    step.time = std::isfinite(row.time) ? row.time : 0;
    events.emplace_back(step);
    protocol::Val val;
    val.epoch = row.epoch - 1;
    val.time = step.time;
    val.precision = row.precision;
    val.recall = row.recall;
    val.map50 = row.map50;
    val.map50_95 = row.map50_95;
    val.fitness = 0.1 * row.map50 + 0.9 * row.map50_95;
    events.emplace_back(val);
  }
  return events;
}

}  // namespace studio
