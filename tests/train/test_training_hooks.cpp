// The standard hooks one at a time, on a real Trainer of the tiny detector and synthetic data,
// with a sink that records every event: what each hook publishes, writes and keeps across a
// resume, checked against the recorded events and files rather than against the hooks' code.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstring>
#include <fstream>
#include <memory>
#include <mutex>
#include <vector>

#include "checkpoint_payload_reader.h"
#include "data/portable_random.h"
#include "temp_dir.h"
#include "tiny_detector.h"
#include "train/checkpoint_file.h"
#include "train/model_ema.h"
#include "train/trainer.h"
#include "train/training_hooks.h"

namespace syncbn::train {
namespace {

namespace fs = std::filesystem;

using data::testing::TempDir;

class RecordingSink final : public EventSink {
 public:
  void publish(const protocol::Message& message) override {
    const std::lock_guard lock(mutex_);
    messages_.push_back(message);
  }
  template <typename T>
  std::vector<T> all() const {
    const std::lock_guard lock(mutex_);
    std::vector<T> found;
    for (const auto& message : messages_)
      if (const T* typed = std::get_if<T>(&message)) found.push_back(*typed);
    return found;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<protocol::Message> messages_;
};

constexpr int kImgsz = 64;

// A grey image with one dark or light box (class seed % 2), labelled; `index` is what the
// loader asked for.
data::TrainingExample example(std::size_t index, std::size_t seed) {
  data::TrainingExample out;
  out.index = index;
  out.height = out.width = out.originalHeight = out.originalWidth = kImgsz;
  out.rgb.assign(static_cast<std::size_t>(kImgsz * kImgsz * 3), 114);
  data::PortableRandom random(seed * 7919 + 1);
  const int w = random.between(12, 30), h = random.between(12, 30);
  const int x0 = random.between(0, kImgsz - w), y0 = random.between(0, kImgsz - h);
  const std::uint8_t shade = seed % 2 ? 30 : 220;
  for (int y = y0; y < y0 + h; ++y)
    for (int x = x0; x < x0 + w; ++x)
      std::memset(out.rgb.data() + (static_cast<std::size_t>(y) * kImgsz + x) * 3, shade, 3);
  data::LabelRow row;
  row.cls = static_cast<int>(seed % 2);
  row.cx = static_cast<float>((x0 + w / 2.0) / kImgsz);
  row.cy = static_cast<float>((y0 + h / 2.0) / kImgsz);
  row.w = static_cast<float>(w) / kImgsz;
  row.h = static_cast<float>(h) / kImgsz;
  out.labels.push_back(row);
  return out;
}

// One rank, the tiny detector, 4 training images in batches of 2, 2 validation images.
struct TinyRun {
  TempDir dir;
  RecordingSink sink;
  TrainerOptions options;
  TrainingData data;

  explicit TinyRun(int epochs) {
    const fs::path yaml = dir.path() / "tiny.yaml";
    std::ofstream(yaml) << testing::tinyDetectorDefinition().yamlText;
    options.config.model.model = yaml.string();
    options.config.data.imgsz = kImgsz;
    options.config.train.epochs = epochs;
    options.config.train.batch = 2;
    options.config.train.workers = 0;
    options.config.train.warmup_epochs = 0;
    options.config.train.seed = 3;
    options.topology.worldSize = 1;
    options.topology.ranksPerNode = 1;
    options.topology.perRankBatch = 2;
    options.topology.bnBatch = 2;
    options.topology.accumulate = 1;
    options.runDir = dir.path() / "run";
    fs::create_directories(options.runDir / "weights");
    options.bnStatsEvery = 0;
    data.trainExamples = [](std::size_t index, int) { return example(index, index); };
    data.trainCount = 4;
    data.valExamples = [](std::size_t index) { return example(index, 100 + index); };
    data.valCount = 2;
    data.classNames = {"dark", "light"};
    data.datasetHash = "tiny";
  }
  std::unique_ptr<Trainer> trainer(RequestSource requests = {}) {
    return std::make_unique<Trainer>(options, data, nullptr, &sink, std::move(requests));
  }
};

// The validation hooks in the engine's order, with the record they share.
struct ValidationHooks {
  std::shared_ptr<EpochRecord> record = std::make_shared<EpochRecord>();
  EmaHook* ema = nullptr;
  BestFitnessHook* best = nullptr;
};
ValidationHooks addValidationHooks(Trainer& trainer) {
  ValidationHooks hooks;
  trainer.addHook(std::make_unique<LearningRateHook>());
  auto ema = std::make_unique<EmaHook>(trainer.model());
  hooks.ema = ema.get();
  trainer.addHook(std::move(ema));
  trainer.addHook(std::make_unique<ValidationHook>(*hooks.ema, hooks.record));
  auto best = std::make_unique<BestFitnessHook>(hooks.record);
  hooks.best = best.get();
  trainer.addHook(std::move(best));
  trainer.addHook(std::make_unique<ValEventHook>(hooks.record));
  trainer.addHook(std::make_unique<ResultsCsvHook>(hooks.record));
  trainer.addHook(std::make_unique<CheckpointHook>(hooks.record));
  return hooks;
}

std::vector<std::string> csvRows(const fs::path& file) {
  std::ifstream in(file);
  std::vector<std::string> rows;
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) rows.push_back(line);
  return rows;
}

TEST(StepEventsHook, PublishesOneStepPerIterationWithItsIndex) {
  TinyRun run(2);
  auto trainer = run.trainer();
  trainer->addHook(std::make_unique<LearningRateHook>());
  trainer->addHook(std::make_unique<StepEventsHook>());
  trainer->train();
  const auto steps = run.sink.all<protocol::Step>();
  ASSERT_EQ(steps.size(), 4u) << "2 epochs of 4 images in batches of 2";
  for (std::size_t i = 0; i < steps.size(); ++i) {
    EXPECT_EQ(steps[i].iteration, static_cast<long long>(i));
    EXPECT_EQ(steps[i].epoch, static_cast<int>(i / 2));
    ASSERT_EQ(steps[i].rank_losses.size(), 1u);
    EXPECT_EQ(steps[i].losses.at("box"), steps[i].rank_losses[0].at("box")) << "one rank's mean";
    EXPECT_GT(steps[i].lr, 0.0);
  }
  EXPECT_TRUE(run.sink.all<protocol::Val>().empty()) << "no validation hook, no val";
}

// On the CPU the trainer lays the model out channels-last (TrainerOptions::channelsLastOnCpu), and
// the EMA copy that validation and best.pt use follows it; asked not to, everything stays NCHW.
TEST(EmaHook, TheEmaFollowsTheModelsChannelsLastLayoutOnTheCpu) {
  const auto convWeightsAre = [](const torch::nn::Module& module, c10::MemoryFormat format) {
    int convs = 0;
    for (const at::Tensor& parameter : module.parameters()) {
      if (parameter.dim() != 4 || parameter.size(1) * parameter.size(2) * parameter.size(3) == 1)
        continue;
      ++convs;
      if (!parameter.is_contiguous(format)) return false;
    }
    return convs > 0;
  };
  for (const bool channelsLast : {true, false}) {
    TinyRun run(1);
    run.options.channelsLastOnCpu = channelsLast;
    auto trainer = run.trainer();
    const auto format =
        channelsLast ? c10::MemoryFormat::ChannelsLast : c10::MemoryFormat::Contiguous;
    EXPECT_EQ(trainer->model()->memoryFormat(), format);
    trainer->addHook(std::make_unique<LearningRateHook>());
    auto ema = std::make_unique<EmaHook>(trainer->model());
    EmaHook& hook = *ema;
    trainer->addHook(std::move(ema));
    trainer->train();
    EXPECT_TRUE(convWeightsAre(*trainer->model(), format)) << channelsLast;
    EXPECT_TRUE(convWeightsAre(hook.ema().module(), format)) << channelsLast;
  }
}

TEST(EmaHook, AveragesOncePerOptimizerStepAndIsTheCheckpointsEma) {
  TinyRun run(1);
  run.options.config.train.nbs = 4;  // accumulate 2 iterations per optimizer step
  run.options.topology.accumulate = 2;
  auto trainer = run.trainer();
  trainer->addHook(std::make_unique<LearningRateHook>());
  auto ema = std::make_unique<EmaHook>(trainer->model());
  EmaHook& hook = *ema;
  trainer->addHook(std::move(ema));
  trainer->train();
  EXPECT_EQ(trainer->state().iteration, 2);
  EXPECT_EQ(hook.ema().updates(), trainer->state().optimizerSteps);
  EXPECT_EQ(hook.state().get<std::int64_t>("updates"), trainer->state().optimizerSteps);
  ASSERT_EQ(hook.checkpointModules().count("ema"), 1u);
  EXPECT_EQ(hook.checkpointModules().at("ema"), &hook.ema().module());

  EmaHook restored(trainer->model());
  StateDict state;
  state.set("updates", std::int64_t{41});
  restored.restoreState(state);
  EXPECT_EQ(restored.ema().updates(), 41);
  EXPECT_THROW(restored.restoreState(StateDict{}), StateError);
}

TEST(ValidationHooks, EveryEpochsValEventResultsRowAndBestAgree) {
  TinyRun run(3);
  auto trainer = run.trainer();
  const ValidationHooks hooks = addValidationHooks(*trainer);
  trainer->train();

  const auto vals = run.sink.all<protocol::Val>();
  ASSERT_EQ(vals.size(), 3u);
  const auto rows = csvRows(run.options.runDir / "results.csv");
  ASSERT_EQ(rows.size(), 4u) << "a header and a row per epoch";
  int bestEpoch = -1;
  double best = -1;
  for (int epoch = 0; epoch < 3; ++epoch) {
    const protocol::Val& val = vals[static_cast<std::size_t>(epoch)];
    EXPECT_EQ(val.epoch, epoch);
    EXPECT_EQ(rows[static_cast<std::size_t>(epoch) + 1].rfind(std::to_string(epoch + 1) + ",", 0),
              0u)
        << rows[static_cast<std::size_t>(epoch) + 1];
    if (val.fitness > best) {
      best = val.fitness;
      bestEpoch = epoch;
    }
  }
  EXPECT_EQ(hooks.best->bestEpoch(), bestEpoch);
  EXPECT_DOUBLE_EQ(hooks.best->bestFitness(), best);
  ASSERT_TRUE(hooks.record->latest);
  EXPECT_DOUBLE_EQ(hooks.record->latest->summary.fitness, vals.back().fitness);

  // The checkpoints: last.pt at each epoch end, best.pt at each improvement.
  const auto checkpoints = run.sink.all<protocol::Checkpoint>();
  int lasts = 0, bests = 0;
  for (const auto& checkpoint : checkpoints)
    (checkpoint.kind == "last" ? lasts : bests) += 1;
  EXPECT_EQ(lasts, 3);
  EXPECT_GE(bests, 1);
  const CheckpointMeta bestMeta = readCheckpointMeta(run.options.runDir / "weights" / "best.pt");
  EXPECT_EQ(bestMeta.loop.get<std::int64_t>("epoch"), bestEpoch);
  EXPECT_EQ(bestMeta.names, run.data.classNames);
  EXPECT_EQ(bestMeta.imgsz, kImgsz);
  const CheckpointMeta last = readCheckpointMeta(run.options.runDir / "weights" / "last.pt");
  EXPECT_EQ(last.hooks.at("ema").get<std::int64_t>("updates"), trainer->state().optimizerSteps);
  EXPECT_EQ(last.hooks.at("best_fitness").get<std::int64_t>("best_epoch"), bestEpoch);
  EXPECT_DOUBLE_EQ(last.hooks.at("best_fitness").get<double>("best_fitness"), best);
}

// last.pt holds the training state, and the accumulated gradients only when it falls between two
// optimizer steps; best.pt the EMA and its epoch's metrics, nothing to resume with.
TEST(CheckpointHook, LastHoldsGradientsOnlyBetweenStepsAndBestTheEmaWithItsMetrics) {
  for (const int nbs : {2, 64}) {  // accumulate 1: a step every iteration; 32: none in 2 epochs
    TinyRun run(2);
    run.options.config.train.nbs = nbs;
    auto trainer = run.trainer();
    const ValidationHooks hooks = addValidationHooks(*trainer);
    trainer->train();
    const fs::path weights = run.options.runDir / "weights";
    const bool pending = trainer->state().iteration - 1 != trainer->state().lastOptimizerIteration;
    EXPECT_EQ(pending, nbs == 64);
    const auto last = testing::checkpointPayload(weights / "last.pt");
    EXPECT_EQ(last.contains("gradients"), pending) << "nbs " << nbs;
    if (pending) {
      // The saved gradients are the live ones.
      const auto saved = last.at("gradients").toGenericDict();
      int compared = 0;
      for (const auto& item : trainer->model()->named_parameters()) {
        if (!item.value().grad().defined()) continue;
        ASSERT_TRUE(saved.contains(item.key())) << item.key();
        EXPECT_TRUE(torch::equal(saved.at(item.key()).toTensor(), item.value().grad()));
        ++compared;
      }
      EXPECT_GT(compared, 0);
    }
    EXPECT_TRUE(last.contains("optimizer") && last.contains("rng") && last.contains("model") &&
                last.contains("ema"));

    const auto best = testing::payloadKeys(weights / "best.pt");
    EXPECT_EQ(best, (std::set<std::string>{"meta", "ema"}));
    const CheckpointMeta meta = readCheckpointMeta(weights / "best.pt");
    const auto vals = run.sink.all<protocol::Val>();
    const auto bestEpoch = static_cast<std::size_t>(hooks.best->bestEpoch());
    ASSERT_LT(bestEpoch, vals.size());
    EXPECT_EQ(meta.metrics.get<std::int64_t>("epoch"), hooks.best->bestEpoch());
    EXPECT_DOUBLE_EQ(meta.metrics.get<double>("map50"), vals[bestEpoch].map50);
    EXPECT_DOUBLE_EQ(meta.metrics.get<double>("fitness"), vals[bestEpoch].fitness);
    // One event per checkpoint written, the last.pt of each epoch among them.
    int lasts = 0;
    for (const auto& checkpoint : run.sink.all<protocol::Checkpoint>()) {
      EXPECT_TRUE(fs::exists(checkpoint.path)) << checkpoint.path;
      lasts += checkpoint.kind == "last";
    }
    EXPECT_EQ(lasts, 2);
  }
}

TEST(BestFitnessHook, CountsEpochsWithoutImprovementAndStopsAfterPatience) {
  TinyRun run(10);
  run.options.config.train.patience = 2;
  auto trainer = run.trainer();
  auto record = std::make_shared<EpochRecord>();
  BestFitnessHook hook(record);
  const double fitness[] = {0.2, 0.5, 0.4, 0.5, 0.3};  // equal is not better
  const bool improved[] = {true, true, false, false, false};
  for (int epoch = 0; epoch < 4; ++epoch) {
    trainer->state().epoch = epoch;
    record->validation = ValidationResult{};
    record->validation->summary.fitness = fitness[epoch];
    hook.afterEpoch(*trainer);
    EXPECT_EQ(record->improved, improved[epoch]) << "epoch " << epoch;
    EXPECT_EQ(trainer->stopAfterEpochRequested(), epoch == 3) << "patience 2, epoch " << epoch;
  }
  EXPECT_EQ(hook.bestEpoch(), 1);
  EXPECT_EQ(hook.bestFitness(), 0.5);
  EXPECT_EQ(hook.state().get<std::int64_t>("epochs_without_improvement"), 2);

  BestFitnessHook resumed(record);
  resumed.restoreState(hook.state());
  EXPECT_EQ(resumed.bestEpoch(), 1);
  EXPECT_EQ(resumed.bestFitness(), 0.5);
  StateDict wrong = hook.state();
  wrong.set("best_epoch", std::string("one"));
  EXPECT_THROW(resumed.restoreState(wrong), StateError);
  EXPECT_EQ(resumed.bestEpoch(), 1) << "a refused state changes nothing";
}

TEST(TrainerHooks, AResumeHandsEveryHookItsStateBackAndTheLoopGoesOn) {
  TinyRun run(2);
  {
    int polled = 0;  // stop at the second epoch's first iteration (the first was validated)
    auto trainer = run.trainer([&polled] {
      LocalRequests local;
      local.stop = ++polled == 3;
      local.stopReason = "test";
      return local;
    });
    const ValidationHooks hooks = addValidationHooks(*trainer);
    const TrainOutcome outcome = trainer->train();
    EXPECT_EQ(outcome.status, "stopped");
    EXPECT_EQ(trainer->state().iteration, 3);
  }
  const fs::path last = run.options.runDir / "weights" / "last.pt";
  const CheckpointMeta saved = readCheckpointMeta(last);
  EXPECT_EQ(saved.loop.get<std::int64_t>("iteration"), 3);
  EXPECT_FALSE(saved.loop.get<bool>("epoch_complete"));

  auto trainer = run.trainer();
  const ValidationHooks hooks = addValidationHooks(*trainer);
  trainer->resumeFrom(last);
  EXPECT_EQ(trainer->state().epoch, 1);
  EXPECT_EQ(trainer->state().stepInEpoch, 1);
  EXPECT_EQ(trainer->state().iteration, 3);
  EXPECT_EQ(hooks.ema->ema().updates(), saved.hooks.at("ema").get<std::int64_t>("updates"));
  EXPECT_EQ(hooks.best->bestEpoch(),
            saved.hooks.at("best_fitness").get<std::int64_t>("best_epoch"));
  const TrainOutcome outcome = trainer->train();
  EXPECT_EQ(outcome.status, "completed");
  EXPECT_EQ(trainer->state().iteration, 4);
  EXPECT_EQ(outcome.epochsCompleted, 2);
}

}  // namespace
}  // namespace syncbn::train
