// TensorBoard event files, written by the engine so that `tensorboard --logdir runs/train` shows
// a run as it does an Ultralytics one. Two layers, one job each:
//   TensorBoardFile  the file format: TFRecord framing (length, masked CRC-32C of the length,
//                    data, masked CRC-32C of the data) around serialized `Event` protos, the
//                    first one `file_version: "brain.Event:2"`;
//   TensorBoardSink  which figures: the progress messages rank 0 publishes, as scalars.
// The two protos (tensorflow/core/util/event.proto, tensorflow/core/framework/summary.proto) are
// encoded by hand for the three fields a scalar needs: linking libprotobuf into the training
// core for them would add a dependency to every engine build, the GPU machine's included.
// tests/train/tensorboard/*.proto are the published definitions' subset the test decodes with.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>

#include "train/event_sink.h"

namespace syncbn::train {

// CRC-32C (Castagnoli), as TFRecord uses it; and TFRecord's mask of it.
std::uint32_t crc32c(std::string_view data);
std::uint32_t maskedCrc32c(std::string_view data);

// One serialized Event holding one scalar (Summary.Value{tag, simple_value}).
std::string scalarEvent(const std::string& tag, float value, std::int64_t step, double wallTime);

class TensorBoardFile {
 public:
  // Creates `folder` and events.out.tfevents.<seconds>.<host> in it. Throws std::runtime_error
  // naming the file when it cannot.
  TensorBoardFile(const std::filesystem::path& folder, double wallTime);

  void addScalar(const std::string& tag, double value, std::int64_t step, double wallTime);
  void flush();
  const std::filesystem::path& path() const { return path_; }

 private:
  void writeRecord(std::string_view data);

  std::filesystem::path path_;
  std::ofstream out_;
};

// Scalars, with Ultralytics' tag names where it has them:
//   step:     train/box_loss, train/cls_loss, train/dfl_loss, lr/pg0, speed/images_per_second,
//             rank<k>/data_ms, rank<k>/compute_ms, rank<k>/comm_ms (x: iteration)
//   val:      metrics/precision(B), metrics/recall(B), metrics/mAP50(B), metrics/mAP50-95(B),
//             metrics/fitness, val/box_loss, val/cls_loss, val/dfl_loss (x: epoch)
//   bn_stats: bn/noise_max, bn/noise_median, bn/disagreement_max, bn/disagreement_median
//             (x: iteration; docs/syncbn.md defines them)
// The file is opened in `folder` at run_started (whose start time the wall times count from);
// a resumed run keeps the first start time and so appends to the same file. A file that
// cannot be written stops the writing, once, with the reason in `error()` and on stderr: training
// never fails for it.
class TensorBoardSink final : public EventSink {
 public:
  explicit TensorBoardSink(std::filesystem::path folder);
  void publish(const protocol::Message& message) override;

  std::filesystem::path path() const { return file_ ? file_->path() : std::filesystem::path(); }
  const std::string& error() const { return error_; }

 private:
  void write(const protocol::Message& message);
  void scalar(const std::string& tag, double value, std::int64_t step, double time);

  std::filesystem::path folder_;
  std::unique_ptr<TensorBoardFile> file_;
  double startTime_ = 0;
  std::string error_;
};

}  // namespace syncbn::train
