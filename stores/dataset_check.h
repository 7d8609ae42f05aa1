// The Dataset page's store: runs `syncbn-engine check-data --json` in the background (the engine
// owns the verification code, which needs OpenCV; the GUI links neither it nor OpenCV), reports
// its progress, can be cancelled, and keeps the last report. Each finished report is also kept
// on disk under the cache folder, keyed by the data.yaml's path, so that re-opening a verified
// dataset shows its report at once; the engine's own label cache then makes re-verifying cheap.
#pragma once

#include <QDateTime>
#include <QObject>
#include <QString>

#include "stores/dataset_report.h"

namespace studio {

class EngineTask;

class DatasetCheck : public QObject {
  Q_OBJECT

 public:
  explicit DatasetCheck(QObject* parent = nullptr);

  // Where finished reports are kept; default: <QStandardPaths::CacheLocation>/datasets.
  void setCacheFolder(const QString& folder) { cacheFolder_ = folder; }
  QString cacheFolder() const { return cacheFolder_; }
  // Where a relative data.yaml path is found: the folder training runs in. Default: the current.
  void setWorkingDirectory(const QString& folder) { workingDirectory_ = folder; }

  // Verifies `dataFile` (a data.yaml, or `demo`) with the engine at `engine`. False (with
  // `error`) when a check is already running or the engine cannot be started. `sample`: images per
  // split at random (0: all).
  // `maxImagePixels`: the configuration's data.max_image_pixels (-1: the engine's default).
  bool verify(const QString& engine, const QString& dataFile, QString* error, qint64 sample = 0,
              qint64 maxImagePixels = -1);
  void cancel();
  bool isRunning() const;

  // Shows the report kept on disk for `dataFile` when there is one and neither the data.yaml nor
  // the cache's own copy changed since; true when it did. Demo data is never stale.
  bool loadCached(const QString& dataFile);

  bool hasReport() const { return hasReport_; }
  const DatasetReport& report() const { return report_; }
  QString dataFile() const { return dataFile_; }  // what the report (or the running check) is of
  QDateTime verifiedAt() const { return verifiedAt_; }
  bool reportFromCache() const { return fromCache_; }
  void clear();  // forgets the report (a different data.yaml was chosen)
  // Shows a report made elsewhere (a file the user opened, a benchmark's generated set).
  void showReport(DatasetReport report) {
    setReport(std::move(report), QDateTime::currentDateTime(), false);
  }

 signals:
  void runningChanged(bool running);
  void progress(const QString& split, qint64 done, qint64 total);
  void reportChanged();
  // The check could not produce a report: the engine refused the data.yaml (`message` is its
  // reason, naming the file and line), failed, or was cancelled (`cancelled`).
  void failed(const QString& message, bool cancelled);

 private:
  void onLine(const QString& line);
  void onFinished(int exitCode, const QString& message);
  QString cacheFileFor(const QString& dataFile) const;
  QString absoluteData(const QString& dataFile) const;
  void setReport(DatasetReport report, const QDateTime& at, bool fromCache);

  EngineTask* task_;
  QString cacheFolder_;
  QString workingDirectory_;
  QString dataFile_;
  DatasetReport report_;
  bool hasReport_ = false;
  bool fromCache_ = false;
  bool cancelled_ = false;
  QDateTime verifiedAt_;
};

}  // namespace studio
