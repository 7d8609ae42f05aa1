#include "stores/dataset_check.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFileInfo>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QSaveFile>
#include <QStandardPaths>

#include "stores/engine_task.h"

namespace studio {
DatasetCheck::DatasetCheck(QObject* parent)
    : QObject(parent),
      task_(new EngineTask(this)),
      cacheFolder_(QStandardPaths::writableLocation(QStandardPaths::CacheLocation) +
                   QLatin1String("/datasets")),
      workingDirectory_(QDir::currentPath()) {
  connect(task_, &EngineTask::outputLine, this, &DatasetCheck::onLine);
  connect(task_, &EngineTask::finished, this, &DatasetCheck::onFinished);
}

bool DatasetCheck::isRunning() const {
  return task_->isRunning();
}

bool DatasetCheck::verify(const QString& engine, const QString& dataFile, QString* error,
                          qint64 sample, qint64 maxImagePixels) {
  QStringList arguments{QStringLiteral("check-data"), dataFile, QStringLiteral("--json")};
  if (sample > 0) arguments << QStringLiteral("--sample") << QString::number(sample);
  if (maxImagePixels >= 0)
    arguments << QStringLiteral("--max-image-pixels") << QString::number(maxImagePixels);
  // Relative data.yaml paths are the configuration's, which the engine resolves from the
  // working directory the studio runs training in.
  if (!task_->start(engine, arguments, workingDirectory_, error)) return false;
  dataFile_ = dataFile;
  cancelled_ = false;
  emit runningChanged(true);
  return true;
}

void DatasetCheck::cancel() {
  if (task_->isRunning()) cancelled_ = true;
  task_->cancel();
}

void DatasetCheck::clear() {
  if (!hasReport_) return;
  hasReport_ = false;
  report_ = {};
  emit reportChanged();
}

void DatasetCheck::onLine(const QString& line) {
  // "progress: <split> <done>/<total>", one per ~0.5% of a split, on the engine's stderr.
  static const QRegularExpression progressLine(QStringLiteral("^progress: (\\S+) (\\d+)/(\\d+)$"));
  const QRegularExpressionMatch match = progressLine.match(line.trimmed());
  if (match.hasMatch())
    emit progress(match.captured(1), match.captured(2).toLongLong(),
                  match.captured(3).toLongLong());
}

void DatasetCheck::onFinished(int exitCode, const QString& message) {
  emit runningChanged(false);
  if (cancelled_) {
    emit failed(tr("Verification cancelled."), true);
    return;
  }
  // Exit 1 with a report: a split has no usable image, which the report shows; exit 1 without
  // one: the data.yaml itself was refused, and `message` says where.
  const QJsonObject object = task_->jsonReport();
  if (exitCode < 0 || object.isEmpty()) {
    emit failed(message.isEmpty() ? tr("The engine printed no report.") : message, false);
    return;
  }
  QString error;
  std::optional<DatasetReport> report = parseDatasetReport(object, &error);
  if (!report) {
    emit failed(error, false);
    return;
  }
  const QDateTime now = QDateTime::currentDateTime();
  if (report->sample == 0) {  // a sample is a quick look, not what to show next time
    QDir().mkpath(cacheFolder_);
    QSaveFile file(cacheFileFor(dataFile_));
    if (file.open(QIODevice::WriteOnly)) {
      file.write(QJsonDocument(object).toJson(QJsonDocument::Compact));
      file.commit();  // a failure only costs the next open a re-verification
    }
  }
  setReport(std::move(*report), now, false);
}

QString DatasetCheck::absoluteData(const QString& dataFile) const {
  return dataFile == QLatin1String("demo") ? dataFile
                                           : QDir(workingDirectory_).absoluteFilePath(dataFile);
}

QString DatasetCheck::cacheFileFor(const QString& dataFile) const {
  const QByteArray key =
      QCryptographicHash::hash(absoluteData(dataFile).toUtf8(), QCryptographicHash::Sha1).toHex();
  return cacheFolder_ + QLatin1Char('/') + QString::fromLatin1(key) + QLatin1String(".json");
}

bool DatasetCheck::loadCached(const QString& dataFile) {
  const QFileInfo cache(cacheFileFor(dataFile));
  if (!cache.exists()) return false;
  if (dataFile != QLatin1String("demo")) {
    const QFileInfo yaml(absoluteData(dataFile));
    if (!yaml.exists() || yaml.lastModified() > cache.lastModified()) return false;
  }
  QFile file(cache.absoluteFilePath());
  if (!file.open(QIODevice::ReadOnly)) return false;
  const QJsonObject object = QJsonDocument::fromJson(file.readAll()).object();
  std::optional<DatasetReport> report = parseDatasetReport(object, nullptr);
  if (!report) return false;  // damaged or from another release: verify afresh
  dataFile_ = dataFile;
  setReport(std::move(*report), cache.lastModified(), true);
  return true;
}

void DatasetCheck::setReport(DatasetReport report, const QDateTime& at, bool fromCache) {
  report_ = std::move(report);
  hasReport_ = true;
  fromCache_ = fromCache;
  verifiedAt_ = at;
  emit reportChanged();
}

}  // namespace studio
