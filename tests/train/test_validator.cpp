// Validator over W rank threads against a single-process oracle that evaluates every image itself
// the way Ultralytics does: one image at a time, detections and labels mapped back to the
// original image (so the letterbox, and the clipping to the original image, are checked too),
// and the loss over the same batches the ranks form. In float64 the two agree to 1e-12.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <mutex>
#include <ostream>
#include <string>
#include <vector>

#include "data/batch_loader.h"
#include "data/training_example.h"
#include "model/detection_loss.h"
#include "model/detection_metrics.h"
#include "model/detection_model.h"
#include "model/postprocess.h"
#include "rank_threads.h"
#include "tiny_detector.h"
#include "train/validator.h"

namespace syncbn::train {
namespace {

using syncbn::testing::runRanks;
using torch::Tensor;

constexpr int kSize = 64;  // input images are kSize x kSize
constexpr int64_t kClasses = 2;
constexpr double kTolerance = 1e-12;
constexpr auto kWatchdog = std::chrono::seconds(60);  // a hung collective fails the test

model::DetectionModel makeReferenceModel() {
  torch::manual_seed(7);
  model::DetectionModel net(testing::tinyDetectorDefinition(),
                            model::NormChoice{NormKind::BatchNorm, nullptr});
  net->to(torch::kDouble);
  const torch::NoGradGuard noGrad;
  // Class scores around 0.2 rather than Ultralytics' prior of 1e-5, which NMS at 0.001 drops.
  for (auto& item : net->named_parameters())
    if (item.key().find(".cv3.") != std::string::npos && item.key().ends_with(".2.bias"))
      item.value().copy_(torch::tensor({-1.0, -1.6}, torch::kDouble));
  // Running statistics other than 0 and 1, so eval mode is not the identity on the norms.
  double phase = 0;
  for (const auto& item : net->named_buffers()) {
    Tensor b = item.value();
    if (!b.is_floating_point()) continue;
    const Tensor wave = torch::sin(torch::arange(b.numel(), torch::kDouble) * 0.9 + (phase += 1));
    const bool variance = item.key().find("running_var") != std::string::npos;
    b.copy_((variance ? 0.6 + 0.4 * wave * wave : 0.05 * wave).view(b.sizes()));
  }
  return net;
}

// A rank's copy of the reference: its own norms (SyncBN on the rank's group), the same values.
model::DetectionModel copyOf(const model::DetectionModel& reference,
                             std::shared_ptr<dist::ProcessGroup> group) {
  model::DetectionModel net(testing::tinyDetectorDefinition(),
                            model::NormChoice{NormKind::SyncBatchNorm, std::move(group)});
  net->to(torch::kDouble);
  const torch::NoGradGuard noGrad;
  const auto parameters = reference->named_parameters();
  const auto buffers = reference->named_buffers();
  for (auto& item : net->named_parameters())
    item.value().copy_(parameters[item.key()]);
  for (auto& item : net->named_buffers())
    item.value().copy_(buffers[item.key()]);
  EXPECT_EQ(net->named_parameters().size(), parameters.size());
  EXPECT_EQ(net->named_buffers().size(), buffers.size());
  return net;
}

// How example i's original image sits in the input: three letterbox shapes in turn.
struct Geometry {
  double ratio, padX, padY;
  int originalWidth, originalHeight;  // 0: the input is its own original
};
Geometry geometryOf(std::size_t index) {
  switch (index % 3) {
    case 0:
      return {1.0, 0, 0, 0, 0};
    case 1:
      return {0.5, 0, 12, 128, 80};  // 128 x 80 halved to 64 x 40, 12 rows above and below
    default:
      return {1.0, 12, 0, 40, 64};  // 40 x 64 as is, 12 columns left and right
  }
}

struct Content {
  double x1, y1, x2, y2;
};
Content contentOf(const Geometry& g) {
  if (g.originalWidth == 0) return {0, 0, kSize, kSize};
  return {g.padX, g.padY, g.padX + g.originalWidth * g.ratio, g.padY + g.originalHeight * g.ratio};
}

double hashUnit(uint64_t x) {  // splitmix64 -> [0, 1)
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return static_cast<double>(x >> 11) / 9007199254740992.0;
}

Tensor floatImage(const data::TrainingExample& example) {  // as the loader: uint8 -> float -> /255
  const Tensor hwc = torch::from_blob(const_cast<uint8_t*>(example.rgb.data()),
                                      {example.height, example.width, 3}, torch::kUInt8);
  return hwc.permute({2, 0, 1}).unsqueeze(0).to(torch::kFloat32).div(255).to(torch::kDouble);
}

model::NmsOptions validationNms() {
  model::NmsOptions nms;
  nms.confThreshold = 0.001;
  nms.iouThreshold = 0.7;
  nms.maxDet = 300;
  nms.multiLabel = true;
  return nms;
}

// Random images (grey 114 outside the original's rectangle) with labels near the reference
// model's own best detections, so precision, recall and mAP are far from 0 and from 1.
std::vector<data::TrainingExample> makeExamples(std::size_t count,
                                                model::DetectionModelImpl& reference) {
  const torch::NoGradGuard noGrad;
  reference.eval();
  std::vector<data::TrainingExample> examples;
  for (std::size_t i = 0; i < count; ++i) {
    const Geometry g = geometryOf(i);
    const Content c = contentOf(g);
    data::TrainingExample e;
    e.index = i;
    e.height = e.width = kSize;
    e.ratio = g.ratio;
    e.padX = g.padX;
    e.padY = g.padY;
    e.originalWidth = g.originalWidth;
    e.originalHeight = g.originalHeight;
    e.rgb.resize(kSize * kSize * 3);
    for (int y = 0; y < kSize; ++y)
      for (int x = 0; x < kSize; ++x)
        for (int ch = 0; ch < 3; ++ch) {
          const bool inside = x >= c.x1 && x < c.x2 && y >= c.y1 && y < c.y2;
          const auto at = static_cast<std::size_t>((y * kSize + x) * 3 + ch);
          e.rgb[at] = inside ? static_cast<uint8_t>(256 * hashUnit(i * 100000 + at)) : 114;
        }
    const Tensor found =
        model::nonMaxSuppression(reference.predict(floatImage(e)), validationNms())[0];
    const auto add = [&](double x1, double y1, double x2, double y2, int cls) {
      x1 = std::clamp(x1, c.x1, c.x2 - 2);
      y1 = std::clamp(y1, c.y1, c.y2 - 2);
      x2 = std::clamp(x2, x1 + 2, c.x2);
      y2 = std::clamp(y2, y1 + 2, c.y2);
      e.labels.push_back({cls, static_cast<float>((x1 + x2) / 2 / kSize),
                          static_cast<float>((y1 + y2) / 2 / kSize),
                          static_cast<float>((x2 - x1) / kSize),
                          static_cast<float>((y2 - y1) / kSize)});
    };
    // Two of the top detections, shifted a little (one with the wrong class every third image),
    // and a box the model did not find.
    for (int64_t k = 0; k < std::min<int64_t>(2, found.size(0)); ++k) {
      const auto d = found[k];
      const double shift = 4 * (hashUnit(i * 7 + static_cast<uint64_t>(k)) - 0.5);
      int cls = static_cast<int>(d[5].item<double>());
      if (k == 1 && i % 3 == 2) cls = 1 - cls;
      add(d[0].item<double>() + shift, d[1].item<double>() - shift, d[2].item<double>() + shift,
          d[3].item<double>(), cls);
    }
    const double u = hashUnit(i * 13 + 5), v = hashUnit(i * 17 + 3);
    add(c.x1 + u * 30, c.y1 + v * 20, c.x1 + u * 30 + 14, c.y1 + v * 20 + 18,
        static_cast<int>(i % 2));
    examples.push_back(std::move(e));
  }
  return examples;
}

struct Oracle {
  model::DetectionSummary summary;
  double box = 0, cls = 0, dfl = 0;
  long long batches = 0;
};

// Every image alone, in dataset order, evaluated in original-image pixels as Ultralytics does;
// the loss over the batches that W ranks of batchPerRank form (rank r: r, r + W, ... in chunks).
Oracle evaluateAlone(model::DetectionModelImpl& reference,
                     const std::vector<data::TrainingExample>& examples, int world,
                     int batchPerRank) {
  const torch::NoGradGuard noGrad;
  reference.eval();
  model::DetectionMetrics metrics(kClasses);
  for (const data::TrainingExample& e : examples) {
    const Tensor found =
        model::nonMaxSuppression(reference.predict(floatImage(e)), validationNms())[0];
    model::Letterbox letterbox;
    letterbox.ratio = e.ratio;
    letterbox.padX = e.padX;
    letterbox.padY = e.padY;
    letterbox.input = {kSize, kSize};
    letterbox.original = e.originalWidth == 0 ? model::ImageSize{kSize, kSize}
                                              : model::ImageSize{e.originalHeight, e.originalWidth};
    std::vector<double> boxes;
    std::vector<int64_t> classes;
    for (const data::LabelRow& l : e.labels) {
      boxes.insert(boxes.end(), {(l.cx - l.w / 2.0) * kSize, (l.cy - l.h / 2.0) * kSize,
                                 (l.cx + l.w / 2.0) * kSize, (l.cy + l.h / 2.0) * kSize});
      classes.push_back(l.cls);
    }
    const Tensor labelBoxes =
        torch::tensor(boxes, torch::kDouble).view({static_cast<int64_t>(classes.size()), 4});
    metrics.addImage(
        torch::cat(
            {model::boxesToOriginal(found.narrow(1, 0, 4), letterbox), found.narrow(1, 4, 2)}, 1),
        model::boxesToOriginal(labelBoxes, letterbox), torch::tensor(classes, torch::kLong));
  }
  Oracle oracle;
  oracle.summary = metrics.compute();

  const model::DetectionLoss loss(reference.headLayout());
  int batches = 0;
  for (int r = 0; r < world; ++r) {
    std::vector<data::TrainingExample> mine;
    for (std::size_t g = static_cast<std::size_t>(r); g < examples.size();
         g += static_cast<std::size_t>(world))
      mine.push_back(examples[g]);
    for (std::size_t begin = 0; begin < mine.size();
         begin += static_cast<std::size_t>(batchPerRank)) {
      const std::size_t end = std::min(mine.size(), begin + static_cast<std::size_t>(batchPerRank));
      const data::Batch batch =
          data::collateExamples({mine.begin() + static_cast<std::ptrdiff_t>(begin),
                                 mine.begin() + static_cast<std::ptrdiff_t>(end)});
      const auto terms = loss(
          reference.forwardLevels(batch.images.to(torch::kFloat32).div(255).to(torch::kDouble)),
          batch.targets);
      oracle.box += terms.box.item<double>();
      oracle.cls += terms.cls.item<double>();
      oracle.dfl += terms.dfl.item<double>();
      ++batches;
    }
  }
  oracle.box /= batches;
  oracle.cls /= batches;
  oracle.dfl /= batches;
  oracle.batches = batches;
  return oracle;
}

void expectMatches(const ValidationResult& result, const Oracle& oracle, std::size_t count,
                   const std::string& where) {
  SCOPED_TRACE(where);
  const model::DetectionSummary& got = result.summary;
  const model::DetectionSummary& want = oracle.summary;
  EXPECT_EQ(result.images, static_cast<long long>(count));
  EXPECT_EQ(got.images, want.images);
  EXPECT_EQ(got.instances, want.instances);
  EXPECT_NEAR(got.precision, want.precision, kTolerance);
  EXPECT_NEAR(got.recall, want.recall, kTolerance);
  EXPECT_NEAR(got.map50, want.map50, kTolerance);
  EXPECT_NEAR(got.map50to95, want.map50to95, kTolerance);
  EXPECT_NEAR(got.fitness, want.fitness, kTolerance);
  ASSERT_EQ(got.classes.size(), want.classes.size());
  for (std::size_t c = 0; c < got.classes.size(); ++c) {
    EXPECT_EQ(got.classes[c].classId, want.classes[c].classId);
    EXPECT_EQ(got.classes[c].images, want.classes[c].images);
    EXPECT_EQ(got.classes[c].instances, want.classes[c].instances);
    EXPECT_NEAR(got.classes[c].precision, want.classes[c].precision, kTolerance);
    EXPECT_NEAR(got.classes[c].recall, want.classes[c].recall, kTolerance);
    for (int t = 0; t < model::kIouThresholdCount; ++t)
      EXPECT_NEAR(got.classes[c].ap[static_cast<std::size_t>(t)],
                  want.classes[c].ap[static_cast<std::size_t>(t)], kTolerance)
          << "class " << c << " threshold " << t;
  }
  EXPECT_EQ(result.batches, oracle.batches);
  EXPECT_NEAR(result.boxLoss, oracle.box, kTolerance);
  EXPECT_NEAR(result.clsLoss, oracle.cls, kTolerance);
  EXPECT_NEAR(result.dflLoss, oracle.dfl, kTolerance);
}

bool sameModes(torch::nn::Module& module, const std::vector<bool>& modes) {
  std::vector<bool> now{module.is_training()};
  for (const auto& child : module.modules(false))
    now.push_back(child->is_training());
  return now == modes;
}
std::vector<bool> modesOf(torch::nn::Module& module) {
  std::vector<bool> modes{module.is_training()};
  for (const auto& child : module.modules(false))
    modes.push_back(child->is_training());
  return modes;
}

struct Case {
  int world;
  std::size_t count;
  int batchPerRank;
};
void PrintTo(const Case& c, std::ostream* out) {
  *out << c.world << " ranks, " << c.count << " images, batch " << c.batchPerRank << " per rank";
}

class ShardedValidation : public ::testing::TestWithParam<Case> {};

TEST_P(ShardedValidation, EqualsEveryImageEvaluatedInOneProcess) {
  const Case param = GetParam();
  model::DetectionModel reference = makeReferenceModel();
  const std::vector<data::TrainingExample> examples = makeExamples(param.count, *reference);
  const Oracle oracle = evaluateAlone(*reference, examples, param.world, param.batchPerRank);
  // Not a degenerate case: detections match some labels and miss others.
  ASSERT_GT(oracle.summary.map50, 0.05);
  ASSERT_LT(oracle.summary.map50to95, 0.9);
  ASSERT_EQ(oracle.summary.classes.size(), 2u);

  const auto producer = [&examples](std::size_t index) { return examples.at(index); };
  ValidationOptions options;
  options.batchPerRank = param.batchPerRank;
  std::mutex mutex;
  std::vector<ValidationResult> results(static_cast<std::size_t>(param.world));
  runRanks(
      param.world,
      [&](int rank, std::shared_ptr<dist::ProcessGroup> group) {
        model::DetectionModel net = copyOf(reference, group);
        net->train();
        const std::vector<bool> modes = modesOf(*net);
        Validator validator(producer, param.count, group, torch::kCPU, options);
        ValidationResult result = validator.run(*net);
        EXPECT_TRUE(sameModes(*net, modes));
        EXPECT_TRUE(net->is_training());
        const std::lock_guard lock(mutex);
        results[static_cast<std::size_t>(rank)] = std::move(result);
      },
      kWatchdog);
  for (int rank = 0; rank < param.world; ++rank)
    expectMatches(results[static_cast<std::size_t>(rank)], oracle, param.count,
                  "rank " + std::to_string(rank));
  // Every rank holds the same numbers, to the bit.
  for (int rank = 1; rank < param.world; ++rank) {
    const auto& a = results[0];
    const auto& b = results[static_cast<std::size_t>(rank)];
    EXPECT_EQ(a.summary.map50to95, b.summary.map50to95);
    EXPECT_EQ(a.summary.precision, b.summary.precision);
    EXPECT_EQ(a.boxLoss, b.boxLoss);
    EXPECT_EQ(a.batches, b.batches);
  }
}

INSTANTIATE_TEST_SUITE_P(Ranks, ShardedValidation,
                         ::testing::Values(Case{1, 7, 2}, Case{2, 7, 2}, Case{3, 7, 2},
                                           Case{3, 2, 2},  // rank 2 has no image
                                           Case{2, 8, 3}),
                         [](const auto& info) {
                           return "W" + std::to_string(info.param.world) + "_n" +
                                  std::to_string(info.param.count) + "_b" +
                                  std::to_string(info.param.batchPerRank);
                         });

TEST(Validator, WithoutAGroupIsOneRankAndRestoresEachModulesMode) {
  model::DetectionModel reference = makeReferenceModel();
  const std::vector<data::TrainingExample> examples = makeExamples(5, *reference);
  const Oracle oracle = evaluateAlone(*reference, examples, 1, 4);
  model::DetectionModel net = copyOf(reference, nullptr);
  net->train();
  net->layer(0)->eval();  // a frozen layer stays frozen
  const std::vector<bool> modes = modesOf(*net);
  ValidationOptions options;
  options.batchPerRank = 4;
  options.workers = 0;
  Validator validator([&](std::size_t i) { return examples.at(i); }, examples.size(), nullptr,
                      torch::kCPU, options);
  const ValidationResult result = validator.run(*net);
  expectMatches(result, oracle, examples.size(), "no group");
  EXPECT_EQ(result.batches, 2);
  EXPECT_TRUE(sameModes(*net, modes));
  EXPECT_TRUE(net->is_training());
  EXPECT_FALSE(net->layer(0)->is_training());

  net->eval();
  validator.run(*net);
  EXPECT_FALSE(net->is_training());
}

TEST(Validator, AFailingProducerNamesTheIndexAndRestoresTheMode) {
  model::DetectionModel reference = makeReferenceModel();
  const std::vector<data::TrainingExample> examples = makeExamples(6, *reference);
  model::DetectionModel net = copyOf(reference, nullptr);
  net->train();
  ValidationOptions options;
  options.batchPerRank = 2;
  Validator validator(
      [&](std::size_t i) {
        if (i == 3) throw std::runtime_error("cannot read image.jpg");
        return examples.at(i);
      },
      examples.size(), nullptr, torch::kCPU, options);
  try {
    validator.run(*net);
    ADD_FAILURE() << "no exception";
  } catch (const data::LoaderError& e) {
    EXPECT_NE(std::string(e.what()).find("dataset index 3"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("cannot read image.jpg"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(net->is_training());
}

TEST(Validator, NoImagesGiveAnEmptyResult) {
  model::DetectionModel net = copyOf(makeReferenceModel(), nullptr);
  Validator validator([](std::size_t) -> data::TrainingExample { throw std::logic_error("none"); },
                      0, nullptr, torch::kCPU);
  const ValidationResult result = validator.run(*net);
  EXPECT_EQ(result.images, 0);
  EXPECT_EQ(result.batches, 0);
  EXPECT_EQ(result.boxLoss, 0.0);
  EXPECT_TRUE(result.summary.classes.empty());
}

TEST(Validator, RejectsBadOptions) {
  const auto producer = [](std::size_t) { return data::TrainingExample{}; };
  const auto make = [&](ValidationOptions options) {
    return Validator(producer, 1, nullptr, torch::kCPU, options);
  };
  EXPECT_THROW(Validator(nullptr, 1, nullptr, torch::kCPU), std::invalid_argument);
  EXPECT_THROW(make({.batchPerRank = 0}), std::invalid_argument);
  EXPECT_THROW(make({.workers = -1}), std::invalid_argument);
  EXPECT_THROW(make({.confThreshold = 1.5}), std::invalid_argument);
  EXPECT_THROW(make({.iouThreshold = -0.1}), std::invalid_argument);
  EXPECT_THROW(make({.maxDet = 0}), std::invalid_argument);
  try {
    make({.batchPerRank = 0});
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("batchPerRank"), std::string::npos) << e.what();
  }
}

TEST(Validator, ImagesOnRankSplitsEveryImageOnce) {
  EXPECT_EQ(Validator::imagesOnRank(7, 0, 3), 3u);  // 0, 3, 6
  EXPECT_EQ(Validator::imagesOnRank(7, 1, 3), 2u);  // 1, 4
  EXPECT_EQ(Validator::imagesOnRank(7, 2, 3), 2u);  // 2, 5
  EXPECT_EQ(Validator::imagesOnRank(2, 2, 3), 0u);
  EXPECT_EQ(Validator::imagesOnRank(0, 0, 1), 0u);
}

TEST(Validator, ValMessageNamesTheClasses) {
  ValidationResult result;
  result.summary.precision = 0.5;
  result.summary.recall = 0.25;
  result.summary.map50 = 0.4;
  result.summary.map50to95 = 0.2;
  result.summary.fitness = 0.1 * 0.4 + 0.9 * 0.2;
  model::ClassMetrics first;
  first.classId = 0;
  first.images = 3;
  first.instances = 5;
  first.precision = 0.75;
  first.recall = 0.5;
  first.ap.fill(0.1);
  first.ap[0] = 0.6;
  model::ClassMetrics third = first;
  third.classId = 2;
  result.summary.classes = {first, third};
  const protocol::Val message = toValMessage(4, result, {"cat", "dog"});
  EXPECT_EQ(message.epoch, 4);
  EXPECT_EQ(message.precision, 0.5);
  EXPECT_EQ(message.recall, 0.25);
  EXPECT_EQ(message.map50, 0.4);
  EXPECT_EQ(message.map50_95, 0.2);
  EXPECT_DOUBLE_EQ(message.fitness, 0.22);
  ASSERT_EQ(message.classes.size(), 2u);
  EXPECT_EQ(message.classes[0].name, "cat");
  EXPECT_EQ(message.classes[1].name, "2");  // no name given: the id
  EXPECT_EQ(message.classes[0].images, 3);
  EXPECT_EQ(message.classes[0].instances, 5);
  EXPECT_EQ(message.classes[0].precision, 0.75);
  EXPECT_EQ(message.classes[0].recall, 0.5);
  EXPECT_DOUBLE_EQ(message.classes[0].map50, 0.6);
  EXPECT_DOUBLE_EQ(message.classes[0].map50_95, (0.6 + 9 * 0.1) / 10);
}

}  // namespace
}  // namespace syncbn::train
