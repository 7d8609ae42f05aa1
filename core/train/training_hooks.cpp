#include "train/training_hooks.h"

#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <utility>

#include "common/version.h"
#include "data/distributed_sampler.h"
#include "nn/bn_statistics_probe.h"
#include "nn/precise_bn.h"
#include "train/bn_stats_message.h"
#include "train/checkpoint_writer.h"
#include "train/grad_scaler.h"
#include "train/gradient_synchronizer.h"
#include "train/lr_schedule.h"
#include "train/model_ema.h"
#include "train/optimizer_setup.h"
#include "train/results_csv.h"
#include "train/training_state.h"
#include "train/validator.h"

namespace syncbn::train {

// ---------------------------------------------------------------------------------------------

LearningRateHook::LearningRateHook() = default;
LearningRateHook::~LearningRateHook() = default;

void LearningRateHook::beforeTrain(Trainer& trainer) {
  const TrainConfig& train = trainer.options().config.train;
  LrScheduleOptions options;
  options.epochs = train.epochs;
  options.lrf = train.lrf;
  options.cosine = train.cos_lr;
  options.warmupEpochs = train.warmup_epochs;
  options.warmupMomentum = train.warmup_momentum;
  options.warmupBiasLr = trainer.optimizerChoice().warmupBiasLr;
  options.momentum =
      train.momentum;  // Ultralytics warms up to train.momentum whatever `auto` chose
  options.nbs = train.nbs;
  options.globalBatch = train.batch;
  options.iterationsPerEpoch = trainer.iterationsPerEpoch();
  schedule_ = std::make_unique<LrSchedule>(options);
}

void LearningRateHook::beforeStep(Trainer& trainer) {
  TrainerState& state = trainer.state();
  const OptimizerSettings settings =
      schedule_->at(state.iteration, state.epoch, trainer.initialLearningRates());
  applySettings(trainer.optimizer(), settings);
  state.accumulate = settings.accumulate;
}

// ---------------------------------------------------------------------------------------------

void BufferBroadcastHook::beforeStep(Trainer& trainer) {
  trainer.synchronizer().broadcastBuffers(*trainer.model());
}

// ---------------------------------------------------------------------------------------------

BnStatisticsHook::BnStatisticsHook(int every) : every_(every) {}
BnStatisticsHook::~BnStatisticsHook() = default;

void BnStatisticsHook::beforeTrain(Trainer& trainer) {
  probe_ = std::make_unique<nn::BnStatisticsProbe>(*trainer.model(), trainer.group());
  first_ = true;
}

void BnStatisticsHook::beforeStep(Trainer& trainer) {
  // Every rank takes the same decision: the collectives in collect() need all of them.
  armed_ = first_ || trainer.state().iteration % every_ == 0;
  first_ = false;
  if (armed_) probe_->arm();
}

void BnStatisticsHook::afterStep(Trainer& trainer) {
  if (!armed_) return;
  armed_ = false;
  const auto start = std::chrono::steady_clock::now();
  const std::vector<nn::LayerStatistics> layers = probe_->collect();  // collective
  if (trainer.rank() == 0 && !layers.empty())
    trainer.publish(makeBnStatsMessage(trainer.state().iteration - 1, layers));
  lastProbedIteration_ = trainer.state().iteration - 1;
  lastCollectMs_ =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

// ---------------------------------------------------------------------------------------------

void StepEventsHook::afterStep(Trainer& trainer) {
  if (trainer.rank() != 0) return;
  const TrainerState& state = trainer.state();
  protocol::Step step;
  step.epoch = state.epoch;
  step.iteration = state.iteration - 1;
  step.time = trainer.secondsSinceStart();
  double box = 0, cls = 0, dfl = 0;
  for (std::size_t r = 0; r < state.ranks.size(); ++r) {
    const RankStepReport& report = state.ranks[r];
    step.rank_losses.push_back({{"box", report.box}, {"cls", report.cls}, {"dfl", report.dfl}});
    step.ranks.push_back({static_cast<int>(r), report.dataMs, report.computeMs, report.commMs});
    box += report.box;
    cls += report.cls;
    dfl += report.dfl;
  }
  const auto ranks = static_cast<double>(std::max<std::size_t>(state.ranks.size(), 1));
  step.losses = {{"box", box / ranks}, {"cls", cls / ranks}, {"dfl", dfl / ranks}};
  step.lr = groupLearningRates(trainer.optimizer())[1];
  step.images_per_second =
      state.stepSeconds > 0 ? trainer.options().config.train.batch / state.stepSeconds : 0.0;
  trainer.publish(step);
}

// ---------------------------------------------------------------------------------------------

EmaHook::EmaHook(const model::DetectionModel& model)
    : ema_(std::make_unique<ModelEma>(makeModelEma(model))) {}
EmaHook::~EmaHook() = default;

void EmaHook::afterStep(Trainer& trainer) {
  if (trainer.state().steppedOptimizer) ema_->update(*trainer.model());
}

StateDict EmaHook::state() const {
  StateDict state;
  state.set("updates", std::int64_t{ema_->updates()});
  return state;
}

void EmaHook::restoreState(const StateDict& state) {
  ema_->setUpdates(state.get<std::int64_t>("updates"));
}

std::map<std::string, torch::nn::Module*> EmaHook::checkpointModules() {
  return {{"ema", &ema_->module()}};
}

std::shared_ptr<model::DetectionModelImpl> EmaHook::model() const {
  return std::dynamic_pointer_cast<model::DetectionModelImpl>(ema_->modulePtr());
}

// ---------------------------------------------------------------------------------------------

PreciseBnHook::PreciseBnHook(const EmaHook& ema) : ema_(ema) {}

void PreciseBnHook::afterEpoch(Trainer& trainer) {
  const TrainerOptions& options = trainer.options();
  const int batches = options.config.distributed.precise_bn;
  if (batches <= 0 || trainer.data().valCount == 0) return;
  // Training images without the epoch's sampler order: a fixed, seed-derived order.
  data::LoaderOptions loaderOptions;
  loaderOptions.workers = options.config.train.workers;
  data::BatchLoader loader(
      trainer.data().trainExamples,
      data::DistributedSampler(trainer.data().trainCount, trainer.worldSize(), trainer.rank(), true,
                               static_cast<uint64_t>(options.config.train.seed) + 7919, false),
      options.topology.perRankBatch, loaderOptions);
  loader.start(trainer.state().epoch);
  const auto ema = ema_.model();
  const auto forwardOne = [&] {
    std::optional<data::Batch> batch = loader.next();
    if (!batch) {  // fewer batches in an epoch than asked for: go round again
      loader.start(trainer.state().epoch + 1);
      batch = loader.next();
    }
    ema->forwardLevels(data::toFloatImages(batch->images, options.device));
  };
  const nn::PreciseBnReport report =
      nn::recalibrateBatchNorm(*ema, batches, forwardOne, trainer.group());
  loader.stop();
  if (trainer.rank() == 0)
    trainer.publish(protocol::Log{"info", 0,
                                  "PreciseBN: recalibrated " + std::to_string(report.layers) +
                                      " BatchNorm layers of the EMA over " +
                                      std::to_string(report.batches) + " batches"});
}

// ---------------------------------------------------------------------------------------------

ValidationHook::ValidationHook(const EmaHook& ema, std::shared_ptr<EpochRecord> record)
    : ema_(ema), record_(std::move(record)) {}
ValidationHook::~ValidationHook() = default;

void ValidationHook::beforeTrain(Trainer& trainer) {
  const TrainerOptions& options = trainer.options();
  ValidationOptions validation;
  validation.batchPerRank = std::max(1, options.topology.perRankBatch * 2);  // as Ultralytics
  validation.workers = options.config.train.workers;
  validator_ = std::make_unique<Validator>(trainer.data().valExamples, trainer.data().valCount,
                                           trainer.group(), options.device, validation);
}

void ValidationHook::beforeEpoch(Trainer& trainer) {
  record_->epoch = trainer.state().epoch;
  record_->validation.reset();
  record_->improved = false;
}

void ValidationHook::afterEpoch(Trainer& trainer) {
  if (trainer.data().valCount == 0) return;
  record_->validation = validator_->run(*ema_.model());
  record_->validationTime = trainer.secondsSinceStart();
  record_->latest = record_->validation;
}

// ---------------------------------------------------------------------------------------------

BestFitnessHook::BestFitnessHook(std::shared_ptr<EpochRecord> record)
    : record_(std::move(record)) {}

void BestFitnessHook::afterEpoch(Trainer& trainer) {
  if (!record_->validation) return;
  const int epoch = trainer.state().epoch;
  const double fitness = record_->validation->summary.fitness;
  record_->improved = fitness > bestFitness_;
  if (record_->improved) {
    bestFitness_ = fitness;
    bestEpoch_ = epoch;
    epochsWithoutImprovement_ = 0;
  } else {
    ++epochsWithoutImprovement_;
  }
  const int patience = trainer.options().config.train.patience;
  if (patience > 0 && epochsWithoutImprovement_ >= patience && epoch + 1 < trainer.epochs())
    trainer.requestStopAfterEpoch("no improvement in the last " + std::to_string(patience) +
                                  " epochs (train.patience); best epoch " +
                                  std::to_string(bestEpoch_ + 1));
}

StateDict BestFitnessHook::state() const {
  StateDict state;
  state.set("best_fitness", bestFitness_);
  state.set("best_epoch", std::int64_t{bestEpoch_});
  state.set("epochs_without_improvement", std::int64_t{epochsWithoutImprovement_});
  return state;
}

void BestFitnessHook::restoreState(const StateDict& state) {
  const double fitness = state.get<double>("best_fitness");
  const int epoch = state.getInt("best_epoch");
  const int without = state.getInt("epochs_without_improvement");
  bestFitness_ = fitness;
  bestEpoch_ = epoch;
  epochsWithoutImprovement_ = without;
}

// ---------------------------------------------------------------------------------------------

ValEventHook::ValEventHook(std::shared_ptr<const EpochRecord> record)
    : record_(std::move(record)) {}

void ValEventHook::afterEpoch(Trainer& trainer) {
  if (!record_->validation || trainer.rank() != 0) return;
  protocol::Val val =
      toValMessage(trainer.state().epoch, *record_->validation, trainer.data().classNames);
  val.time = record_->validationTime;
  trainer.publish(val);
}

// ---------------------------------------------------------------------------------------------

ResultsCsvHook::ResultsCsvHook(std::shared_ptr<const EpochRecord> record)
    : record_(std::move(record)) {}
ResultsCsvHook::~ResultsCsvHook() = default;

void ResultsCsvHook::beforeTrain(Trainer& trainer) {
  if (trainer.rank() != 0) return;
  results_ = std::make_unique<ResultsCsv>(trainer.options().runDir / "results.csv");
  results_->keepFirstEpochs(trainer.state().epochsCompleted);
}

void ResultsCsvHook::afterEpoch(Trainer& trainer) {
  if (!results_ || !record_->validation) return;
  const TrainerState& state = trainer.state();
  const ValidationResult& result = *record_->validation;
  const double steps = std::max(1, state.stepInEpoch);
  ResultsRow row;
  row.epoch = state.epoch + 1;
  row.time = record_->validationTime;
  row.trainBox = state.epochLossSums[0] / steps;
  row.trainCls = state.epochLossSums[1] / steps;
  row.trainDfl = state.epochLossSums[2] / steps;
  row.precision = result.summary.precision;
  row.recall = result.summary.recall;
  row.map50 = result.summary.map50;
  row.map50_95 = result.summary.map50to95;
  row.valBox = result.boxLoss;
  row.valCls = result.clsLoss;
  row.valDfl = result.dflLoss;
  row.lr = groupLearningRates(trainer.optimizer());
  results_->append(row);
}

// ---------------------------------------------------------------------------------------------

CheckpointHook::CheckpointHook(std::shared_ptr<const EpochRecord> record)
    : record_(std::move(record)) {}
CheckpointHook::~CheckpointHook() = default;

void CheckpointHook::save(Trainer& trainer, const std::string& kind, bool epochComplete,
                          const std::filesystem::path& file) {
  if (trainer.rank() != 0) return;
  StateDict metrics;
  if (kind == "best" && record_->validation) {
    const auto& summary = record_->validation->summary;
    metrics.set("epoch", std::int64_t{record_->epoch});
    metrics.set("map50", summary.map50);
    metrics.set("map50_95", summary.map50to95);
    metrics.set("precision", summary.precision);
    metrics.set("recall", summary.recall);
    metrics.set("fitness", summary.fitness);
  }
  if (!writer_) writer_ = std::make_unique<CheckpointWriter>();
  const TrainerState& state = trainer.state();
  CheckpointWriter::Written what;
  what.path = file;
  what.kind = kind;
  what.epoch = state.epoch;
  what.iteration = state.iteration;
  writer_->submit(trainer.snapshotCheckpoint(kind, epochComplete, metrics), std::move(what));
}

void CheckpointHook::publishWritten(Trainer& trainer) {
  if (!writer_) return;
  for (const CheckpointWriter::Written& written : writer_->takeWritten())
    trainer.publish(protocol::Checkpoint{written.path.string(), written.kind, written.epoch,
                                         written.iteration});
}

void CheckpointHook::afterStep(Trainer& trainer) {
  publishWritten(trainer);
  const TrainerState& state = trainer.state();
  const int interval = trainer.options().config.output.checkpoint_interval;
  const bool due = interval > 0 && state.iteration % interval == 0;
  const bool epochEnd = state.stepInEpoch == trainer.iterationsPerEpoch();
  // The epoch's end saves anyway (afterEpoch), unless a stop cuts it short here.
  if (state.stopAgreed || ((due || state.checkpointAgreed) && !epochEnd))
    save(trainer, state.stopAgreed ? "last" : "interval", false,
         trainer.options().runDir / "weights" / "last.pt");
}

void CheckpointHook::afterEpoch(Trainer& trainer) {
  const auto weights = trainer.options().runDir / "weights";
  save(trainer, "last", true, weights / "last.pt");
  if (record_->improved && record_->epoch == trainer.state().epoch)
    save(trainer, "best", true, weights / "best.pt");
  publishWritten(trainer);
}

void CheckpointHook::afterTrain(Trainer& trainer) {
  if (!writer_) return;
  writer_->waitIdle();
  publishWritten(trainer);
}

}  // namespace syncbn::train
