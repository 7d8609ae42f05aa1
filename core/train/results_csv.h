// The run's results.csv in Ultralytics' format (8.3): one row per epoch, the header below, numbers
// as Ultralytics' BaseTrainer.save_metrics writes them ("%.6g", the epoch 1-based), so tools that
// read Ultralytics runs (plots, comparisons) read ours. Plain C++, no LibTorch.
#pragma once

#include <array>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace syncbn::train {

// Ultralytics' column names, comma-separated with no padding.
inline constexpr std::string_view kResultsCsvHeader =
    "epoch,time,train/box_loss,train/cls_loss,train/dfl_loss,metrics/precision(B),"
    "metrics/recall(B),metrics/mAP50(B),metrics/mAP50-95(B),val/box_loss,val/cls_loss,"
    "val/dfl_loss,lr/pg0,lr/pg1,lr/pg2";
// The header of files written before the time column: still read on resume (time 0).
inline constexpr std::string_view kResultsCsvHeaderWithoutTime =
    "epoch,train/box_loss,train/cls_loss,train/dfl_loss,metrics/precision(B),metrics/recall(B),"
    "metrics/mAP50(B),metrics/mAP50-95(B),val/box_loss,val/cls_loss,val/dfl_loss,lr/pg0,lr/pg1,"
    "lr/pg2";

struct ResultsRow {
  int epoch = 0;    // 1-based in the file, as Ultralytics writes it
  double time = 0;  // seconds since the run's start at the end of the epoch's validation
  double trainBox = 0, trainCls = 0, trainDfl = 0;
  double precision = 0, recall = 0, map50 = 0, map50_95 = 0;
  double valBox = 0, valCls = 0, valDfl = 0;
  std::array<double, 3> lr{};  // lr/pg0..pg2
  bool operator==(const ResultsRow&) const = default;
};

// One line of the file (no newline): epoch, then time and the other values as "%.6g" in the C
// locale; a NaN or infinite value (a diverging loss) is written nan, inf or -inf, as Python
// writes it.
std::string formatResultsRow(const ResultsRow& row);

class ResultsCsv {
 public:
  // Holds no rows until keepFirstEpochs reads the file; the first append then replaces any file
  // already at `path` (a fresh run).
  explicit ResultsCsv(std::filesystem::path path);

  // Resume: reads the file, if there is one, and keeps its rows with epoch <= keepEpochs,
  // rewriting the file (atomically) when later rows were dropped or it has the header without
  // time (its rows then get time 0). Throws std::runtime_error naming file:line when the file
  // cannot be read, its header is neither kResultsCsvHeader nor kResultsCsvHeaderWithoutTime, a
  // line does not have a number per column, an epoch is not an integer >= 1, or epochs do not
  // increase.
  void keepFirstEpochs(int keepEpochs);

  // Adds a row and rewrites the whole file atomically (syncbn::writeFileAtomically), so a crash
  // leaves the previous file or the new one. rows() then holds the row as written, rounded to
  // "%.6g" as a later read would see it. Throws std::invalid_argument when row.epoch is not
  // above the last row's (or below 1), std::runtime_error naming the path when the write fails.
  void append(const ResultsRow& row);

  const std::vector<ResultsRow>& rows() const { return rows_; }
  const std::filesystem::path& path() const { return path_; }

 private:
  void write() const;

  std::filesystem::path path_;
  std::vector<ResultsRow> rows_;
};

}  // namespace syncbn::train
