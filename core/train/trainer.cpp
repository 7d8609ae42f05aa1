#include "train/trainer.h"

#include <ATen/autocast_mode.h>
#include <torch/torch.h>
#include <torch/version.h>

#include <chrono>
#include <stdexcept>
#include <utility>

#include "common/version.h"
#include "dist/process_group.h"
#include "model/detection_loss.h"
#include "train/grad_scaler.h"
#include "train/gradient_synchronizer.h"
#include "train/optimizer_setup.h"
#include "train/pretrained_weights.h"
#include "train/training_state.h"

namespace syncbn::train {
namespace {

using Clock = std::chrono::steady_clock;

double millisecondsSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// Seconds since 1970-01-01 UTC (C++20 fixes system_clock's epoch to Unix time).
double unixTime() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Mixed precision for the forward pass on CUDA; LibTorch renamed the switch in 2.4.
class AutocastScope {
 public:
  explicit AutocastScope(bool enabled) : enabled_(enabled) {
    if (enabled_) set(true);
  }
  ~AutocastScope() {
    if (!enabled_) return;
    set(false);
    at::autocast::clear_cache();
  }
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  static void set(bool on) {
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
    at::autocast::set_autocast_enabled(at::kCUDA, on);
#else
    at::autocast::set_enabled(on);
#endif
  }
  bool enabled_;
};

// Each rank's loss normaliser: max(global sum of target scores, 1) / W (see DetectionLoss).
model::DetectionLoss::NormaliserReduction globalNormaliser(
    std::shared_ptr<dist::ProcessGroup> group) {
  return [group = std::move(group)](const at::Tensor& localSum) {
    at::Tensor sum = localSum.reshape({1}).to(torch::kFloat64).clone();
    group->allReduceSum(sum);
    const double world = group->worldSize();
    return (sum.clamp_min(1) / world).to(localSum.scalar_type()).reshape({});
  };
}

}  // namespace

struct Trainer::Parts {
  model::DetectionModel model{nullptr};
  OptimizerChoice choice;
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  std::unique_ptr<GradScaler> scaler;
  std::unique_ptr<GradientSynchronizer> sync;
  std::unique_ptr<model::DetectionLoss> loss;
  std::unique_ptr<data::BatchLoader> loader;
  std::vector<at::Tensor> trainable;  // what gradient clipping sees
  std::optional<TransferReport> transfer;
  int frozen = 0;
};

Trainer::Trainer(TrainerOptions options, TrainingData data,
                 std::shared_ptr<dist::ProcessGroup> group, EventSink* events,
                 RequestSource requests)
    : options_(std::move(options)),
      data_(std::move(data)),
      group_(std::move(group)),
      events_(options_.rank == 0 ? events : nullptr),
      requests_(std::move(requests)),
      parts_(std::make_unique<Parts>()) {
  const Config& config = options_.config;
  const Topology& topology = options_.topology;
  if (data_.trainCount == 0) throw std::invalid_argument("the training split has no images");
  if (data_.classNames.empty()) throw std::invalid_argument("the dataset names no classes");
  if (topology.perRankBatch < 1)
    throw std::invalid_argument("train.batch " + std::to_string(config.train.batch) +
                                " does not split evenly over " +
                                std::to_string(topology.worldSize) + " ranks");
  if (group_ && group_->worldSize() != topology.worldSize)
    throw std::invalid_argument("the process group has " + std::to_string(group_->worldSize()) +
                                " ranks, the topology " + std::to_string(topology.worldSize));
  const bool distributed = group_ && group_->worldSize() > 1;

  if (config.train.deterministic) {
    at::globalContext().setDeterministicAlgorithms(true, /*warn_only=*/true);
    at::globalContext().setDeterministicCuDNN(true);
    at::globalContext().setBenchmarkCuDNN(false);
  }
  torch::manual_seed(static_cast<uint64_t>(config.train.seed));

  Parts& p = *parts_;
  const model::NormChoice norm{
      config.distributed.norm,
      config.distributed.norm == NormKind::SyncBatchNorm ? group_ : nullptr};
  const auto nc = static_cast<int64_t>(data_.classNames.size());
  // Fine-tuning (model.model names weights): the model is theirs, and what fits of them replaces
  // the initialisation before anything copies the model (the EMA, the optimizer's parameter
  // groups). A resumed run's weights come from its last.pt instead: only the definition is read.
  if (isWeightsFile(config.model.model) && !config.output.resume) {
    const PretrainedWeights weights = readPretrainedWeights(config.model.model);
    p.model = model::DetectionModel(pretrainedDefinition(weights, nc, config.model.scale), norm);
    p.transfer = transferWeights(*p.model, weights);
  } else {
    p.model =
        model::DetectionModel(modelDefinitionFor(config.model.model, config.model.scale, nc), norm);
  }
  // Frozen before the synchroniser and the optimizer collect the trainable parameters.
  if (config.train.freeze > 0) p.frozen = freezeLayers(*p.model, config.train.freeze);
  p.model->to(options_.device);
  if (options_.channelsLastOnCpu && options_.device.is_cpu())
    p.model->setMemoryFormat(c10::MemoryFormat::ChannelsLast);
  p.sync = std::make_unique<GradientSynchronizer>(*p.model, group_);
  p.sync->broadcastFromRank0(*p.model);

  p.choice = chooseOptimizer(config.train, static_cast<int64_t>(data_.classNames.size()),
                             static_cast<int64_t>(data_.trainCount));
  p.optimizer =
      buildOptimizer(*p.model, p.choice, scaledWeightDecay(config.train, config.train.batch));
  for (const auto& parameter : p.model->parameters())
    if (parameter.requires_grad()) p.trainable.push_back(parameter);
  p.scaler = std::make_unique<GradScaler>(config.train.amp && options_.device.is_cuda());

  p.loss = std::make_unique<model::DetectionLoss>(p.model->headLayout());
  if (distributed) p.loss->setNormaliserReduction(globalNormaliser(group_));

  data::LoaderOptions loader;
  loader.workers = config.train.workers;
  loader.pinMemory = options_.device.is_cuda();
  p.loader = std::make_unique<data::BatchLoader>(
      data_.trainExamples,
      data::DistributedSampler(data_.trainCount, topology.worldSize, options_.rank,
                               /*shuffle=*/true, static_cast<uint64_t>(config.train.seed),
                               /*dropLast=*/false),
      topology.perRankBatch, loader);
  state_.accumulate = topology.accumulate;
}

Trainer::~Trainer() = default;

void Trainer::addHook(std::unique_ptr<TrainerHook> hook) {
  hooks_.push_back(std::move(hook));
}

int Trainer::iterationsPerEpoch() const {
  return parts_->loader->stepsPerEpoch();
}
model::DetectionModel& Trainer::model() {
  return parts_->model;
}
torch::optim::Optimizer& Trainer::optimizer() {
  return *parts_->optimizer;
}
GradScaler& Trainer::scaler() {
  return *parts_->scaler;
}
GradientSynchronizer& Trainer::synchronizer() {
  return *parts_->sync;
}

const std::optional<TransferReport>& Trainer::transferReport() const {
  return parts_->transfer;
}

int Trainer::frozenParameters() const {
  return parts_->frozen;
}

const OptimizerChoice& Trainer::optimizerChoice() const {
  return parts_->choice;
}

std::array<double, 3> Trainer::initialLearningRates() const {
  const double lr = parts_->choice.lr0;
  return {lr, lr, lr};
}

std::string Trainer::modelFingerprint() const {
  return train::modelFingerprint(*parts_->model, options_.config.distributed.norm);
}

void Trainer::publish(const protocol::Message& message) const {
  if (events_ != nullptr) events_->publish(message);
}

double Trainer::secondsSinceStart() const {
  return secondsAtTrainStart_ + std::chrono::duration<double>(Clock::now() - trainStart_).count();
}

void Trainer::requestStopAfterEpoch(std::string reason) {
  if (!stopAfterEpoch_) stopAfterEpoch_ = std::move(reason);
}

template <typename F>
void Trainer::forEachHook(F&& call) {
  for (const auto& hook : hooks_)
    call(*hook);
}

namespace {

// Norms whose layers hold the same parameters and buffers (weight, bias, running_mean,
// running_var, num_batches_tracked), so a checkpoint of one restores into the other.
bool sharesTensorsWithBatchNorm(NormKind kind) {
  return kind == NormKind::BatchNorm || kind == NormKind::SyncBatchNorm;
}

std::string whyNotSwitchable(NormKind from, NormKind to) {
  const NormKind other = sharesTensorsWithBatchNorm(from) ? to : from;
  if (other == NormKind::GroupNorm)
    return "GroupNorm normalises each image over groups of channels and has no running "
           "statistics, so weights trained with one do not fit the other";
  return "frozen BatchNorm's weight and bias are fixed buffers, not trained parameters, so the "
         "model and the optimizer state do not fit";
}

}  // namespace

ResumeReport Trainer::resumeFrom(const std::filesystem::path& checkpoint) {
  Parts& p = *parts_;
  const CheckpointParts targets = checkpointParts();
  // Refuse data it was not made on before anything is loaded.
  const CheckpointMeta saved = readCheckpointMeta(checkpoint);
  const std::string hash = saved.datasetHash;
  if (hash != data_.datasetHash)
    throw CheckpointError(checkpoint, "it was made on other training data (dataset hash " + hash +
                                          ", this run's " + data_.datasetHash + ")");
  ResumeReport report;
  report.norm = report.checkpointNorm = options_.config.distributed.norm;
  std::string expected = modelFingerprint();
  if (saved.modelFingerprint != expected) {
    // The same architecture with another norm? (Otherwise restoreCheckpoint names both models.)
    for (const NormKind kind : {NormKind::BatchNorm, NormKind::SyncBatchNorm, NormKind::GroupNorm,
                                NormKind::FrozenBatchNorm}) {
      if (kind == report.norm || train::modelFingerprint(*p.model, kind) != saved.modelFingerprint)
        continue;
      report.checkpointNorm = kind;
      if (!sharesTensorsWithBatchNorm(kind) || !sharesTensorsWithBatchNorm(report.norm))
        throw CheckpointError(
            checkpoint,
            std::string("it was trained with norm=") + std::string(toString(kind)) +
                " and this run asks for distributed.norm=" + std::string(toString(report.norm)) +
                ": on resume the norm can only switch between bn and syncbn; " +
                whyNotSwitchable(kind, report.norm) +
                ". Resume with norm=" + std::string(toString(kind)) + ", or start a new run");
      expected = saved.modelFingerprint;
    }
  }
  const auto stateError = [&checkpoint](const std::string& where, const StateError& e) {
    return CheckpointError(checkpoint, "malformed payload: 'meta." + where + "': " + e.what());
  };
  LoopSnapshot loop;
  try {
    loop = decodeLoopState(saved.loop);  // checked before anything changes
  } catch (const StateError& e) {
    throw stateError("loop", e);
  }
  const CheckpointMeta meta = restoreCheckpoint(checkpoint, targets, expected);
  applyLoopSnapshot(loop);
  for (const auto& hook : hooks_) {
    const std::string key = hook->stateKey();
    const auto found = meta.hooks.find(key);
    if (key.empty() || found == meta.hooks.end()) continue;
    try {
      hook->restoreState(found->second);
    } catch (const StateError& e) {
      throw stateError("hooks." + key, e);
    }
  }
  return report;
}

CheckpointParts Trainer::checkpointParts() {
  CheckpointParts parts{parts_->model.get(), nullptr, parts_->optimizer.get(), /*gradients=*/true};
  for (const auto& hook : hooks_)
    for (const auto& [section, module] : hook->checkpointModules()) {
      if (section != "ema" || parts.ema != nullptr)
        throw std::logic_error("checkpoints keep one extra module, \"ema\"; a hook offers \"" +
                               section + "\"");
      parts.ema = module;
    }
  return parts;
}

void Trainer::saveCheckpoint(const std::filesystem::path& file, const std::string& kind,
                             bool epochComplete) {
  writeCheckpoint(file, snapshotCheckpoint(kind, epochComplete));
}

CheckpointSnapshot Trainer::snapshotCheckpoint(const std::string& kind, bool epochComplete,
                                               const StateDict& metrics) {
  CheckpointMeta meta;
  meta.kind = kind;
  meta.worldSize = worldSize();
  meta.configYaml = options_.configYaml;
  meta.datasetHash = data_.datasetHash;
  meta.modelFingerprint = modelFingerprint();
  meta.engineVersion = kVersion;
  meta.names = data_.classNames;
  const model::ModelDefinition& definition = parts_->model->definition();
  meta.modelYaml = definition.yamlText;
  meta.modelSource = definition.source;
  meta.modelName = definition.name;
  meta.modelScale = definition.scale;
  meta.imgsz = options_.config.data.imgsz;
  meta.loop = loopState(epochComplete);
  for (const auto& hook : hooks_)
    if (const std::string key = hook->stateKey(); !key.empty()) meta.hooks[key] = hook->state();
  meta.metrics = metrics;
  CheckpointParts parts = checkpointParts();
  if (kind == "best") {
    const bool half = options_.config.output.best_fp16;
    const bool ema = parts.ema != nullptr;
    return snapshotInferenceCheckpoint(ema ? *parts.ema : *parts.model, ema, meta,
                                       half ? WeightPrecision::Float16 : WeightPrecision::Float32);
  }
  // After an optimizer step the gradients are zero (or none): a resumed run starts from none,
  // which sums the same. Only between steps (nbs accumulation) do they carry information.
  parts.gradients = state_.iteration - 1 != state_.lastOptimizerIteration;
  return snapshotTrainingCheckpoint(parts, meta);
}

StateDict Trainer::loopState(bool epochComplete) const {
  StateDict state;
  state.set("epoch", std::int64_t{state_.epoch});
  state.set("step_in_epoch", std::int64_t{state_.stepInEpoch});
  state.set("epoch_complete", epochComplete);
  state.set("iteration", std::int64_t{state_.iteration});
  state.set("optimizer_steps", std::int64_t{state_.optimizerSteps});
  state.set("last_optimizer_iteration", std::int64_t{state_.lastOptimizerIteration});
  state.set("epoch_loss_sums",
            std::vector<double>(state_.epochLossSums.begin(), state_.epochLossSums.end()));
  state.set("start_time", state_.startTime);
  state.set("scaler_scale", parts_->scaler->scaleValue());
  state.set("scaler_growth_tracker", std::int64_t{parts_->scaler->growthTracker()});
  return state;
}

Trainer::LoopSnapshot Trainer::decodeLoopState(const StateDict& state) {
  LoopSnapshot loop;
  const bool complete = state.get<bool>("epoch_complete");
  const int epoch = state.getInt("epoch");
  loop.epoch = complete ? epoch + 1 : epoch;
  loop.stepInEpoch = complete ? 0 : state.getInt("step_in_epoch");
  loop.epochsCompleted = complete ? epoch + 1 : epoch;
  loop.iteration = state.get<std::int64_t>("iteration");
  loop.optimizerSteps = state.get<std::int64_t>("optimizer_steps");
  loop.lastOptimizerIteration = state.get<std::int64_t>("last_optimizer_iteration");
  const auto& sums = state.get<std::vector<double>>("epoch_loss_sums");
  if (sums.size() != loop.epochLossSums.size())
    throw StateError("'epoch_loss_sums' is not 3 numbers");
  std::copy(sums.begin(), sums.end(), loop.epochLossSums.begin());
  // Unknown in older checkpoints: train() then counts from this start.
  loop.startTime = state.getOr<double>("start_time", 0.0);
  loop.scalerScale = state.get<double>("scaler_scale");
  loop.scalerGrowthTracker = state.getInt("scaler_growth_tracker");
  return loop;
}

void Trainer::applyLoopSnapshot(const LoopSnapshot& loop) {
  state_.epoch = loop.epoch;
  state_.stepInEpoch = loop.stepInEpoch;
  state_.epochsCompleted = loop.epochsCompleted;
  state_.iteration = loop.iteration;
  state_.optimizerSteps = loop.optimizerSteps;
  state_.lastOptimizerIteration = loop.lastOptimizerIteration;
  state_.epochLossSums = loop.epochLossSums;
  state_.startTime = loop.startTime;
  parts_->scaler->restore(loop.scalerScale, loop.scalerGrowthTracker);
}

void Trainer::restoreLoopState(const StateDict& state) {
  applyLoopSnapshot(decodeLoopState(state));
}

TrainOutcome Trainer::train() {
  const double now = unixTime();
  if (state_.startTime <= 0) state_.startTime = now;
  secondsAtTrainStart_ = std::max(0.0, now - state_.startTime);
  trainStart_ = Clock::now();
  publish(protocol::RunStarted{.run_dir = options_.runDir.string(),
                               .start_time = state_.startTime,
                               .world_size = worldSize(),
                               .device = options_.device.is_cuda() ? "cuda" : "cpu",
                               .norm = std::string(toString(options_.config.distributed.norm)),
                               .epochs = epochs(),
                               .iterations_per_epoch = iterationsPerEpoch(),
                               .global_batch = options_.config.train.batch,
                               .per_rank_batch = options_.topology.perRankBatch,
                               .config_yaml = options_.configYaml});
  forEachHook([&](TrainerHook& hook) { hook.beforeTrain(*this); });
  while (state_.epoch < epochs() && !state_.stopAgreed && !stopAfterEpoch_) {
    runEpoch();
    if (state_.stopAgreed) break;
    forEachHook([&](TrainerHook& hook) { hook.afterEpoch(*this); });
    state_.epochsCompleted = state_.epoch + 1;
    ++state_.epoch;
    state_.stepInEpoch = 0;
    state_.epochLossSums = {};
  }
  forEachHook([&](TrainerHook& hook) { hook.afterTrain(*this); });

  TrainOutcome outcome;
  // Early stopping by patience is a normal end of training, as in Ultralytics.
  outcome.status = state_.stopAgreed ? "stopped" : "completed";
  outcome.stopReason = state_.stopAgreed ? state_.stopReason : stopAfterEpoch_.value_or("");
  outcome.epochsCompleted = state_.epochsCompleted;
  return outcome;
}

void Trainer::runEpoch() {
  data::BatchLoader& loader = *parts_->loader;
  loader.start(state_.epoch, state_.stepInEpoch);
  forEachHook([&](TrainerHook& hook) { hook.beforeEpoch(*this); });
  parts_->model->train();
  while (std::optional<data::Batch> batch = loader.next()) {
    forEachHook([&](TrainerHook& hook) { hook.beforeStep(*this); });
    runStep(*batch);
    forEachHook([&](TrainerHook& hook) { hook.afterStep(*this); });
    if (state_.stopAgreed) break;
  }
  loader.stop();
}

void Trainer::runStep(const data::Batch& batch) {
  Parts& p = *parts_;
  const auto start = Clock::now();
  const at::Tensor images = data::toFloatImages(batch.images, options_.device);
  const at::Tensor targets = batch.targets.to(options_.device);
  std::vector<at::Tensor> levels;
  {
    const AutocastScope autocast(p.scaler->enabled());
    levels = p.model->forwardLevels(images);
  }
  for (auto& level : levels)
    level = level.to(torch::kFloat32);  // the loss runs in float32
  const model::DetectionLossResult loss = (*p.loss)(levels, targets);
  // Ultralytics multiplies by the world size; with the synchronizer's average, W ranks step
  // like one rank holding the global batch.
  p.scaler->scale(loss.total * static_cast<double>(worldSize())).backward();
  p.sync->finish();

  const long long index = state_.iteration;  // 0-based index of this iteration
  ++state_.iteration;
  ++state_.stepInEpoch;
  state_.steppedOptimizer = index - state_.lastOptimizerIteration >= state_.accumulate;
  if (state_.steppedOptimizer) {
    optimizerStep();
    state_.lastOptimizerIteration = index;
  }

  RankStepReport mine;
  mine.box = loss.box.item<double>();
  mine.cls = loss.cls.item<double>();
  mine.dfl = loss.dfl.item<double>();
  mine.dataMs = batch.waitMs;
  mine.commMs = p.sync->lastStepCommMs();
  mine.computeMs = std::max(0.0, millisecondsSince(start) - mine.commMs);
  exchangeReports(mine, requests_ ? requests_() : LocalRequests{});
  state_.stepSeconds = (millisecondsSince(start) + batch.waitMs) / 1000.0;
}

void Trainer::optimizerStep() {
  Parts& p = *parts_;
  p.scaler->unscale(*p.optimizer);
  torch::nn::utils::clip_grad_norm_(p.trainable, 10.0);
  p.scaler->step(*p.optimizer);
  p.scaler->update();
  p.optimizer->zero_grad();
  ++state_.optimizerSteps;
}

void Trainer::exchangeReports(const RankStepReport& mine, const LocalRequests& requests) {
  constexpr int kFields = 8;
  const std::vector<double> local{mine.box,
                                  mine.cls,
                                  mine.dfl,
                                  mine.dataMs,
                                  mine.computeMs,
                                  mine.commMs,
                                  requests.stop ? 1.0 : 0.0,
                                  requests.checkpointNow ? 1.0 : 0.0};
  std::vector<std::vector<double>> all;
  if (group_ && group_->worldSize() > 1) {
    // NCCL needs device tensors; Gloo host ones.
    const at::Tensor tensor = torch::tensor(local, torch::kFloat64).to(options_.device);
    for (const at::Tensor& rank : group_->allGather(tensor)) {
      const at::Tensor host = rank.cpu().contiguous();
      all.emplace_back(host.data_ptr<double>(), host.data_ptr<double>() + kFields);
    }
  } else {
    all.push_back(local);
  }
  state_.ranks.clear();
  bool stop = false, checkpoint = false;
  int stopRank = -1;
  for (std::size_t r = 0; r < all.size(); ++r) {
    const auto& v = all[r];
    state_.ranks.push_back({v[0], v[1], v[2], v[3], v[4], v[5]});
    if (v[6] > 0 && !stop) stopRank = static_cast<int>(r);
    stop = stop || v[6] > 0;
    checkpoint = checkpoint || v[7] > 0;
  }
  for (int term = 0; term < 3; ++term) {
    double sum = 0;
    for (const auto& rank : state_.ranks)
      sum += term == 0 ? rank.box : term == 1 ? rank.cls : rank.dfl;
    state_.epochLossSums[static_cast<std::size_t>(term)] += sum / static_cast<double>(all.size());
  }
  state_.checkpointAgreed = checkpoint;
  if (stop && !state_.stopAgreed) {
    state_.stopAgreed = true;
    state_.stopReason = requests.stop && !requests.stopReason.empty()
                            ? requests.stopReason
                            : "stop requested on rank " + std::to_string(stopRank);
  }
}

}  // namespace syncbn::train
