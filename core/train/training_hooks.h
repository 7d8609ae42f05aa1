// The standard training hooks, one job each. The engine's run builder (engine/run_builder.h)
// chooses them and explains their order; tests and benchmarks pick the ones they need.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "train/trainer.h"

namespace syncbn::nn {
class BnStatisticsProbe;
}

namespace syncbn::train {

class CheckpointWriter;
class LrSchedule;
class ModelEma;
class ResultsCsv;
class Validator;

// What the end-of-epoch hooks share, as Detectron2's hooks share the trainer's storage: the
// validation hook writes this epoch's result, the best-fitness hook whether it improved, and the
// event, results.csv and checkpoint hooks read them. One per run, owned jointly by its hooks.
struct EpochRecord {
  int epoch = -1;                              // the epoch the fields below are of
  std::optional<ValidationResult> validation;  // none: no val images, or not validated
  double validationTime = 0;                   // Trainer::secondsSinceStart() when validated
  bool improved = false;                       // better fitness than every earlier epoch
  std::optional<ValidationResult> latest;      // the latest validation of this process's run
};

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

// The EMA of the model's weights (Ultralytics' ModelEMA), updated after every optimizer step.
// Validation, best.pt and export use it; checkpoints keep its weights ("ema") and update count.
class EmaHook final : public TrainerHook {
 public:
  explicit EmaHook(const model::DetectionModel& model);
  ~EmaHook() override;
  void afterStep(Trainer& trainer) override;
  std::string stateKey() const override { return "ema"; }
  StateDict state() const override;
  void restoreState(const StateDict& state) override;
  std::map<std::string, torch::nn::Module*> checkpointModules() override;

  ModelEma& ema() { return *ema_; }
  // The averaged detector, for the hooks that evaluate it.
  std::shared_ptr<model::DetectionModelImpl> model() const;

 private:
  std::unique_ptr<ModelEma> ema_;
};

// distributed.precise_bn > 0: before validation, the EMA's BatchNorm running statistics become
// the exact average over that many training batches (nn::recalibrateBatchNorm), in a fixed,
// seed-derived order.
class PreciseBnHook final : public TrainerHook {
 public:
  explicit PreciseBnHook(const EmaHook& ema);
  void afterEpoch(Trainer& trainer) override;

 private:
  const EmaHook& ema_;
};

// After each epoch: the EMA weights validated, sharded over the ranks, into the record.
class ValidationHook final : public TrainerHook {
 public:
  ValidationHook(const EmaHook& ema, std::shared_ptr<EpochRecord> record);
  ~ValidationHook() override;
  void beforeTrain(Trainer& trainer) override;
  void beforeEpoch(Trainer& trainer) override;
  void afterEpoch(Trainer& trainer) override;

 private:
  const EmaHook& ema_;
  std::shared_ptr<EpochRecord> record_;
  std::unique_ptr<Validator> validator_;
};

// The best fitness so far and its epoch, and patience: train.patience epochs without improvement
// end training after this epoch (every rank decides alike). Kept across resumes.
class BestFitnessHook final : public TrainerHook {
 public:
  explicit BestFitnessHook(std::shared_ptr<EpochRecord> record);
  void afterEpoch(Trainer& trainer) override;
  std::string stateKey() const override { return "best_fitness"; }
  StateDict state() const override;
  void restoreState(const StateDict& state) override;

  double bestFitness() const { return bestFitness_; }
  int bestEpoch() const { return bestEpoch_; }  // -1: none yet

 private:
  std::shared_ptr<EpochRecord> record_;
  double bestFitness_ = -1;
  int bestEpoch_ = -1;
  int epochsWithoutImprovement_ = 0;
};

// The `val` event of each validated epoch (rank 0).
class ValEventHook final : public TrainerHook {
 public:
  explicit ValEventHook(std::shared_ptr<const EpochRecord> record);
  void afterEpoch(Trainer& trainer) override;

 private:
  std::shared_ptr<const EpochRecord> record_;
};

// results.csv: a row per validated epoch (rank 0); a resumed run keeps the rows of the epochs
// its checkpoint completed and drops later ones.
class ResultsCsvHook final : public TrainerHook {
 public:
  explicit ResultsCsvHook(std::shared_ptr<const EpochRecord> record);
  ~ResultsCsvHook() override;
  void beforeTrain(Trainer& trainer) override;
  void afterEpoch(Trainer& trainer) override;

 private:
  std::shared_ptr<const EpochRecord> record_;
  std::unique_ptr<ResultsCsv> results_;
};

// weights/last.pt at every epoch end, every output.checkpoint_interval iterations, on the GUI's
// checkpoint_now and on stop; weights/best.pt (inference weights and the epoch's metrics) when
// the epoch improved. Rank 0 takes a snapshot where the loop is and writes it in the background
// (CheckpointWriter); each `checkpoint` event is published once its file is in place, and the
// end of training waits for every write. A failed write fails the run at the next step.
class CheckpointHook final : public TrainerHook {
 public:
  explicit CheckpointHook(std::shared_ptr<const EpochRecord> record);
  ~CheckpointHook() override;
  void afterStep(Trainer& trainer) override;
  void afterEpoch(Trainer& trainer) override;
  void afterTrain(Trainer& trainer) override;

 private:
  void save(Trainer& trainer, const std::string& kind, bool epochComplete,
            const std::filesystem::path& file);
  void publishWritten(Trainer& trainer);
  std::shared_ptr<const EpochRecord> record_;
  std::unique_ptr<CheckpointWriter> writer_;  // rank 0's, made at the first save
};

}  // namespace syncbn::train
