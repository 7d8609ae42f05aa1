// What a run directory holds, read without training code: its summary for the Runs list, and
// for a run recorded before events.jsonl existed, its results.csv turned into events.
//
// A run directory is what `syncbn-engine train` writes: args.yaml, events.jsonl, results.csv,
// weights/last.pt and weights/best.pt (README, "Training").
#pragma once

#include <QCoreApplication>
#include <QDateTime>
#include <QString>
#include <optional>
#include <vector>

#include "common/protocol.h"

namespace studio {

struct RunSummary {
  QString directory;  // absolute
  QString name;       // the directory's name
  QDateTime started;  // run_started's start time, else the directory's modification time
  QString norm;
  int worldSize = 0;
  int epochsDone = 0;
  int epochs = 0;
  std::optional<double> bestMap50_95;
  // "completed", "stopped", "failed" (from `finished`), "running" (no finish record, written to
  // in the last minute), "interrupted" (no finish record, not written to lately).
  QString status;
  bool resumable = false;  // weights/last.pt exists (and args.yaml, which resume reads)
  bool hasEvents = false;  // events.jsonl exists
};

// One row of results.csv, by Ultralytics' column names (any order; missing columns are NaN).
struct ResultsCsvRow {
  int epoch = 0;  // 1-based, as in the file
  double time = 0;
  double trainBox = 0, trainCls = 0, trainDfl = 0;
  double precision = 0, recall = 0, map50 = 0, map50_95 = 0;
  double lr = 0;  // lr/pg0
};

class RunRecord {
  Q_DECLARE_TR_FUNCTIONS(RunRecord)

 public:
  static bool isRunDirectory(const QString& directory);
  static RunSummary summarize(const QString& directory);
  // Reads results.csv; nullopt with `error` naming file:line when it cannot be read.
  static std::optional<std::vector<ResultsCsvRow>> readResultsCsv(const QString& path,
                                                                  QString* error);
  // The events an older run's results.csv stands for: run_started, then per epoch a step (the
  // epoch's mean training losses, at iteration epoch - 1, one iteration per epoch) and a val.
  static std::vector<syncbn::protocol::Message> eventsFromResults(
      const QString& directory, const std::vector<ResultsCsvRow>& rows);
};

}  // namespace studio
