// The Trainer's standard hooks (Trainer::addStandardHooks installs them in this order).
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "train/trainer.h"

namespace syncbn::nn {
class BnStatisticsProbe;
}

namespace syncbn::train {

class LrSchedule;
class ResultsCsv;
class Validator;
struct CheckpointMeta;

// Ultralytics' warmup (lr, momentum, accumulation) and linear/cosine decay, before each step.
class LearningRateHook final : public TrainerHook {
 public:
  LearningRateHook();
  ~LearningRateHook() override;
  void beforeTrain(Trainer& trainer) override;
  void beforeStep(Trainer& trainer) override;

 private:
  std::unique_ptr<LrSchedule> schedule_;
};

// norm=bn: rank 0's BatchNorm running statistics to every rank before each step, as DDP's
// broadcast_buffers, so the ranks' models stay identical.
class BufferBroadcastHook final : public TrainerHook {
 public:
  void beforeStep(Trainer& trainer) override;
};

// The BN statistics probe (bn_stats event) on the first iteration that train() runs (iteration
// 0, or the first after a resume) and then on every iteration whose index is a multiple of
// `every`.
class BnStatisticsHook final : public TrainerHook {
 public:
  explicit BnStatisticsHook(int every);
  ~BnStatisticsHook() override;
  void beforeTrain(Trainer& trainer) override;
  void beforeStep(Trainer& trainer) override;
  void afterStep(Trainer& trainer) override;

  // The last probed iteration's index (-1: none yet) and the wall time its collect() took (the
  // collectives, the summary and the message), for benchmarks.
  long long lastProbedIteration() const { return lastProbedIteration_; }
  double lastCollectMs() const { return lastCollectMs_; }

 private:
  int every_;
  bool armed_ = false;
  bool first_ = true;
  long long lastProbedIteration_ = -1;
  double lastCollectMs_ = 0;
  std::unique_ptr<nn::BnStatisticsProbe> probe_;
};

// A `step` event per iteration: loss terms averaged over ranks and per rank, lr, throughput,
// per-rank data/compute/communication times.
class StepEventsHook final : public TrainerHook {
 public:
  void afterStep(Trainer& trainer) override;
};

// After each epoch: optional PreciseBN on the EMA, then validation of the EMA weights sharded
// over the ranks; `val` event, results.csv row, best fitness and patience.
class ValidationHook final : public TrainerHook {
 public:
  ValidationHook();
  ~ValidationHook() override;
  void beforeTrain(Trainer& trainer) override;
  void afterEpoch(Trainer& trainer) override;

 private:
  void recalibrate(Trainer& trainer);
  std::unique_ptr<Validator> validator_;
  std::unique_ptr<ResultsCsv> results_;  // rank 0
};

// weights/last.pt at every epoch end, every output.checkpoint_interval iterations, on the GUI's
// checkpoint_now and on stop; weights/best.pt when validation improved. Rank 0 writes.
class CheckpointHook final : public TrainerHook {
 public:
  void afterStep(Trainer& trainer) override;
  void afterEpoch(Trainer& trainer) override;

 private:
  void save(Trainer& trainer, const std::string& kind, bool epochComplete,
            const std::filesystem::path& file) const;
};

}  // namespace syncbn::train
