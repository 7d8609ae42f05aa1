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
#include "train/checkpoint.h"
#include "train/grad_scaler.h"
#include "train/gradient_synchronizer.h"
#include "train/lr_schedule.h"
#include "train/model_ema.h"
#include "train/optimizer_setup.h"
#include "train/results_csv.h"
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

ValidationHook::ValidationHook() = default;
ValidationHook::~ValidationHook() = default;

void ValidationHook::beforeTrain(Trainer& trainer) {
  const TrainerOptions& options = trainer.options();
  ValidationOptions validation;
  validation.batchPerRank = std::max(1, options.topology.perRankBatch * 2);  // as Ultralytics
  validation.workers = options.config.train.workers;
  validator_ = std::make_unique<Validator>(trainer.data().valExamples, trainer.data().valCount,
                                           trainer.group(), options.device, validation);
  if (trainer.rank() == 0) {
    results_ = std::make_unique<ResultsCsv>(options.runDir / "results.csv");
    results_->keepFirstEpochs(trainer.state().epochsCompleted);
  }
}

void ValidationHook::recalibrate(Trainer& trainer) {
  const TrainerOptions& options = trainer.options();
  const int batches = options.config.distributed.precise_bn;
  // Training images without the epoch's sampler order: a fixed, seed-derived order.
  data::LoaderOptions loaderOptions;
  loaderOptions.workers = options.config.train.workers;
  data::BatchLoader loader(
      trainer.data().trainExamples,
      data::DistributedSampler(trainer.data().trainCount, trainer.worldSize(), trainer.rank(), true,
                               static_cast<uint64_t>(options.config.train.seed) + 7919, false),
      options.topology.perRankBatch, loaderOptions);
  loader.start(trainer.state().epoch);
  auto ema = std::dynamic_pointer_cast<model::DetectionModelImpl>(trainer.ema().modulePtr());
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

void ValidationHook::afterEpoch(Trainer& trainer) {
  TrainerState& state = trainer.state();
  if (trainer.data().valCount == 0) return;
  if (trainer.options().config.distributed.precise_bn > 0) recalibrate(trainer);
  auto ema = std::dynamic_pointer_cast<model::DetectionModelImpl>(trainer.ema().modulePtr());
  ValidationResult result = validator_->run(*ema);
  const double fitness = result.summary.fitness;
  if (fitness > state.bestFitness) {
    state.bestFitness = fitness;
    state.bestEpoch = state.epoch;
    state.epochsWithoutImprovement = 0;
  } else {
    ++state.epochsWithoutImprovement;
  }
  const int patience = trainer.options().config.train.patience;
  if (patience > 0 && state.epochsWithoutImprovement >= patience &&
      state.epoch + 1 < trainer.epochs())
    trainer.requestStopAfterEpoch("no improvement in the last " + std::to_string(patience) +
                                  " epochs (train.patience); best epoch " +
                                  std::to_string(state.bestEpoch + 1));
  const double time = trainer.secondsSinceStart();
  protocol::Val val = toValMessage(state.epoch, result, trainer.data().classNames);
  val.time = time;
  trainer.publish(val);
  if (results_) {
    const double steps = std::max(1, state.stepInEpoch);
    ResultsRow row;
    row.epoch = state.epoch + 1;
    row.time = time;
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
  state.lastValidation = std::move(result);
}

// ---------------------------------------------------------------------------------------------

void CheckpointHook::save(Trainer& trainer, const std::string& kind, bool epochComplete,
                          const std::filesystem::path& file) const {
  if (trainer.rank() != 0) return;
  const TrainerState& state = trainer.state();
  CheckpointMeta meta;
  meta.kind = kind;
  meta.epoch = state.epoch;
  meta.stepInEpoch = state.stepInEpoch;
  meta.epochComplete = epochComplete;
  meta.iteration = state.iteration;
  meta.optimizerSteps = state.optimizerSteps;
  meta.lastOptimizerIteration = state.lastOptimizerIteration;
  meta.emaUpdates = trainer.ema().updates();
  meta.bestFitness = state.bestFitness;
  meta.bestEpoch = state.bestEpoch;
  meta.epochsWithoutImprovement = state.epochsWithoutImprovement;
  meta.epochLossSums = state.epochLossSums;
  meta.scalerScale = trainer.scaler().scaleValue();
  meta.scalerGrowthTracker = trainer.scaler().growthTracker();
  meta.worldSize = trainer.worldSize();
  meta.startTime = state.startTime;
  meta.configYaml = trainer.options().configYaml;
  meta.datasetHash = trainer.data().datasetHash;
  meta.modelFingerprint = trainer.modelFingerprint();
  meta.engineVersion = kVersion;
  const CheckpointParts parts{trainer.model().get(), &trainer.ema().module(), &trainer.optimizer(),
                              /*gradients=*/true};
  saveCheckpoint(file, parts, meta);
  trainer.publish(protocol::Checkpoint{file.string(), kind, state.epoch, state.iteration});
}

void CheckpointHook::afterStep(Trainer& trainer) {
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
  const TrainerState& state = trainer.state();
  const auto weights = trainer.options().runDir / "weights";
  save(trainer, "last", true, weights / "last.pt");
  if (state.bestEpoch == state.epoch) save(trainer, "best", true, weights / "best.pt");
}

}  // namespace syncbn::train
