// Validation sharded over the ranks and gathered: rank r evaluates dataset indices r, r + W,
// r + 2W, ... (every image exactly once, no padding), then the ranks all-gather their metric
// states and loss sums, so every rank ends with the result of one process that evaluated the
// whole set in dataset order. What is measured is Ultralytics' validator: the model in eval mode,
// NMS at conf 0.001 / IoU 0.7 / 300 detections with multiple labels per box, detections clipped
// to the original image, matching at IoU 0.50:0.95, and val/*_loss as the mean over batches of
// the loss terms.
#pragma once

#include <c10/core/Device.h>

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/protocol.h"
#include "data/training_example.h"
#include "model/detection_loss.h"
#include "model/detection_metrics.h"

namespace syncbn::dist {
class ProcessGroup;
}
namespace syncbn::model {
class DetectionModelImpl;
}

namespace syncbn::train {

struct ValidationOptions {
  int batchPerRank = 16;
  int workers = 2;               // threads making examples ahead of the model
  double confThreshold = 0.001;  // Ultralytics val defaults
  double iouThreshold = 0.7;
  int maxDet = 300;
  model::ApMethod apMethod = model::ApMethod::Ultralytics;
  bool multiLabel = true;    // Ultralytics' validator: one detection per (box, class) above conf
  bool agnosticNms = false;  // suppress across classes (Ultralytics' agnostic_nms, single_cls)
  model::LossGains lossGains{};  // the training run's box, cls and dfl gains
  int prefetchBatches = 4;       // batches made ahead of the model: bounds memory
};

struct ValidationResult {
  model::DetectionSummary summary;
  // Ultralytics' val/*_loss: DetectionLoss's per-term items (gain applied, not scaled by batch
  // size), summed over every batch of every rank and divided by the number of those batches: the
  // mean over batches that one process would report for the same batches. 0 when no images.
  double boxLoss = 0, clsLoss = 0, dflLoss = 0;
  long long images = 0;   // images evaluated over all ranks (== count)
  long long batches = 0;  // batches over all ranks: the loss means' denominator
  double seconds = 0;     // this rank's wall time in run(), the gather included
  // Where this rank's time went (seconds; docs/benchmarks.md, bench_validation): waiting for
  // batches, the model's forward pass, the loss terms, NMS, matching and metric accumulation, and
  // the gather with the final AP computation.
  struct Timings {
    double data = 0, forward = 0, loss = 0, nms = 0, matching = 0, gather = 0;
  } timings;
  long long detections = 0;  // after NMS, over this rank's images
};

// Makes the validation example of a dataset index (e.g. ExampleFactory::validation): the image
// letterboxed to the network's input, labels normalised in that frame, ratio/pad/original size
// describing the letterbox (original size 0 means the image is its own original). Called from
// several worker threads at once: it must be thread-safe. Every image must have the same size.
using ValidationExampleProducer = std::function<data::TrainingExample(std::size_t index)>;

class Validator {
 public:
  // group: nullptr (or a group of one rank) for a single process. Collectives run on `device`
  // when the group's backend is NCCL, else on the CPU. Throws std::invalid_argument naming the
  // option for a null producer or an option out of range.
  Validator(ValidationExampleProducer producer, std::size_t count,
            std::shared_ptr<dist::ProcessGroup> group, c10::Device device,
            ValidationOptions options = {});

  // Collective when the group has > 1 ranks: every rank calls it, also a rank with no images.
  // Runs `model` (on `device`, any floating dtype: images are cast to the parameters' dtype) in
  // eval mode under no_grad and restores its training mode after, even on an exception. Eval mode
  // means norms use running statistics and SyncBN does not communicate, so the only collectives
  // are the gathers at the end. Throws data::LoaderError naming the dataset index when the
  // producer fails; the other ranks then fail at the gather when the group's timeout expires.
  ValidationResult run(model::DetectionModelImpl& model);

  // The same for an exported file: `predict` maps float images [N, 3, H, W] in [0, 1] to the
  // decoded [N, 4 + nc, A]. Its losses are 0 (an export has no raw head output to score).
  using Predictor = std::function<at::Tensor(const at::Tensor& images)>;
  ValidationResult run(const Predictor& predict, int64_t nc);

  std::size_t count() const { return count_; }
  const ValidationOptions& options() const { return options_; }

  // How many of the `count` images rank `rank` of `worldSize` evaluates: ceil((count - rank) / W).
  static std::size_t imagesOnRank(std::size_t count, int rank, int worldSize);

 private:
  ValidationResult evaluate(model::DetectionModelImpl* model, const Predictor& predict, int64_t nc);
  ValidationExampleProducer producer_;
  std::size_t count_;
  std::shared_ptr<dist::ProcessGroup> group_;
  c10::Device device_;
  ValidationOptions options_;
};

// The progress message for a validation: summary metrics, the validation losses (box_loss,
// cls_loss, dfl_loss: ValidationResult's) and one entry per class with labels, named by
// classNames[id] (the id as text where the list has no name).
protocol::Val toValMessage(int epoch, const ValidationResult& result,
                           const std::vector<std::string>& classNames);

}  // namespace syncbn::train
