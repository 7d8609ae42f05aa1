// The YOLOv8 detection loss: each piece against its closed form, a whole loss small enough to
// work out by hand, and gradients against central finite differences.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "box_oracles.h"
#include "model/detection_loss.h"

namespace syncbn::model {
namespace {

using oracle::Box;
using torch::Tensor;

constexpr int64_t kRegMax = 16;

double value(const Tensor& t) {
  return t.item<double>();
}

// log sum_i exp(logits_i) - logits_bin: the cross entropy of one side's bins at `bin`.
double crossEntropy(const Tensor& sideLogits, int64_t bin) {
  const Tensor l = sideLogits.to(torch::kFloat64);
  const double peak = l.max().item<double>();
  double sum = 0;
  for (int64_t i = 0; i < l.size(0); ++i)
    sum += std::exp(l[i].item<double>() - peak);
  return peak + std::log(sum) - l[bin].item<double>();
}

// Two-bin DFL of one side, t clamped to [0, regMax - 1.01].
double dflOfSide(const Tensor& sideLogits, double t) {
  t = std::clamp(t, 0.0, kRegMax - 1.01);
  const auto left = static_cast<int64_t>(std::floor(t));
  const double leftWeight = static_cast<double>(left) + 1 - t;
  return crossEntropy(sideLogits, left) * leftWeight +
         crossEntropy(sideLogits, left + 1) * (1 - leftWeight);
}

TEST(DetectionLossPieces, ClassificationIsSummedBceOverTheNormaliser) {
  const std::vector<double> x{-30, -1.5, 0, 2, 30, 0.7}, y{0, 0.25, 1, 0.7, 0.5, 0};
  double expected = 0;
  for (std::size_t i = 0; i < x.size(); ++i)
    expected += oracle::bceWithLogits(x[i], y[i]);
  const Tensor loss = classificationLoss(torch::tensor(x, torch::kFloat64).view({2, 3}),
                                         torch::tensor(y, torch::kFloat64).view({2, 3}),
                                         torch::tensor(2.5, torch::kFloat64));
  EXPECT_NEAR(value(loss), expected / 2.5, 1e-12);
}

TEST(DetectionLossPieces, DistributionFocalLossIsTheTwoBinCrossEntropy) {
  torch::manual_seed(1);
  const Tensor logits = torch::randn({2, 4, kRegMax}, torch::kFloat64) * 2;
  // Fractional, on a bin, clamped above (20 -> 14.99, 14.995 -> 14.99) and at 0.
  const std::vector<std::vector<double>> targets{{3.3, 0.0, 7.5, 20.0}, {14.995, 9.0, 0.01, 5.25}};
  const Tensor loss = distributionFocalLoss(
      logits,
      torch::tensor({3.3, 0.0, 7.5, 20.0, 14.995, 9.0, 0.01, 5.25}, torch::kFloat64).view({2, 4}));
  ASSERT_EQ(loss.sizes(), (std::vector<int64_t>{2}));
  for (int64_t p = 0; p < 2; ++p) {
    double expected = 0;
    for (int64_t side = 0; side < 4; ++side)
      expected += dflOfSide(logits[p][side], targets[p][side]) / 4;
    EXPECT_NEAR(value(loss[p]), expected, 1e-10) << "positive " << p;
  }
  // A worked value: t = 3.3 weighs bin 3 by 0.7 and bin 4 by 0.3.
  EXPECT_NEAR(dflOfSide(logits[0][0], 3.3),
              0.7 * crossEntropy(logits[0][0], 3) + 0.3 * crossEntropy(logits[0][0], 4), 1e-12);
}

TEST(DetectionLossPieces, BoxTermsAreWeightedOneMinusCiouAndDfl) {
  torch::manual_seed(2);
  const Box predicted[2] = {{1.0, 2.0, 6.5, 5.0}, {3.2, 0.4, 7.0, 9.5}};
  const Box target[2] = {{1.5, 1.0, 7.0, 5.5}, {2.0, 1.0, 8.0, 7.0}};
  const double anchor[2][2] = {{3.5, 2.5}, {5.5, 4.5}};
  const double weight[2] = {0.8, 0.3}, normaliser = 1.7;
  auto boxes = [](const Box* b) {
    return torch::tensor({b[0].x1, b[0].y1, b[0].x2, b[0].y2, b[1].x1, b[1].y1, b[1].x2, b[1].y2},
                         torch::kFloat64)
        .view({2, 4});
  };
  const Tensor logits = torch::randn({2, 4, kRegMax}, torch::kFloat64);
  const BoxLossTerms terms = boxLosses(
      logits, boxes(predicted),
      torch::tensor({anchor[0][0], anchor[0][1], anchor[1][0], anchor[1][1]}, torch::kFloat64)
          .view({2, 2}),
      boxes(target), torch::tensor({weight[0], weight[1]}, torch::kFloat64),
      torch::tensor(normaliser, torch::kFloat64));
  double iouLoss = 0, dflLoss = 0;
  for (int p = 0; p < 2; ++p) {
    iouLoss += weight[p] * (1 - oracle::ciou(predicted[p], target[p])) / normaliser;
    const double distances[4] = {anchor[p][0] - target[p].x1, anchor[p][1] - target[p].y1,
                                 target[p].x2 - anchor[p][0], target[p].y2 - anchor[p][1]};
    double dfl = 0;
    for (int side = 0; side < 4; ++side)
      dfl += dflOfSide(logits[p][side], distances[side]) / 4;
    dflLoss += weight[p] * dfl / normaliser;
  }
  EXPECT_NEAR(value(terms.iou), iouLoss, 1e-6);
  EXPECT_NEAR(value(terms.dfl), dflLoss, 1e-10);
}

TEST(DetectionLossPieces, PadTargetsGroupsByImageInPixels) {
  // Unsorted by image; a 64 x 32 (W x H) input.
  const Tensor targets = torch::tensor({{1.0, 0.0, 0.5, 0.5, 0.25, 0.5},
                                        {0.0, 2.0, 0.25, 0.25, 0.5, 0.5},
                                        {1.0, 1.0, 0.75, 0.5, 0.5, 1.0}},
                                       torch::kFloat64);
  const PaddedTargets p = padTargets(targets, 3, 64, 32, 3, torch::zeros({}, torch::kFloat64));
  ASSERT_EQ(p.boxes.sizes(), (std::vector<int64_t>{3, 2, 4}));
  EXPECT_TRUE(torch::equal(p.mask, torch::tensor({{true, false}, {true, true}, {false, false}})));
  EXPECT_TRUE(torch::equal(p.labels.select(0, 1), torch::tensor({0, 1}, torch::kLong)));
  EXPECT_EQ(p.labels[0][0].item<int64_t>(), 2);
  EXPECT_TRUE(
      torch::allclose(p.boxes[0][0], torch::tensor({0.0, 0.0, 32.0, 16.0}, torch::kFloat64)));
  EXPECT_TRUE(
      torch::allclose(p.boxes[1][0], torch::tensor({24.0, 8.0, 40.0, 24.0}, torch::kFloat64)));
  EXPECT_TRUE(
      torch::allclose(p.boxes[1][1], torch::tensor({32.0, 0.0, 64.0, 32.0}, torch::kFloat64)));
}

// A whole loss worked out by hand: a 64 x 64 input, one class, strides 8/16/32 (grids 8x8, 4x4,
// 2x2: 84 anchors), two images. Every anchor's bins put all mass on bin 0 (a point box, CIoU
// < 0 with anything, so alignment 0), class logit -3, except in image 0 at level 0:
//   anchor P (cell x=3, y=3, centre 28,28 px) predicts distance 2 cells on each side, logit 1;
//   anchor Q (cell x=2, y=3, centre 20,28 px) also predicts 2 on each side, logit 2.
// The one GT, in image 0, is [12, 12, 44, 44] px: P predicts it exactly; Q predicts it shifted
// 8 px left (IoU 24/40). Image 1 has no GT.
struct HandCase {
  static constexpr int64_t kImages = 2, kChannels = 4 * kRegMax + 1, kAnchors = 64 + 16 + 4;
  static constexpr double kPeak = 30, kLogitP = 1, kLogitQ = 2, kLogitOther = -3;

  static std::vector<Tensor> levels(torch::Dtype dtype) {
    std::vector<Tensor> maps;
    for (int64_t size : {8, 4, 2}) {
      Tensor map = torch::zeros({kImages, kChannels, size, size}, torch::kFloat64);
      for (int64_t side = 0; side < 4; ++side)
        map.select(1, side * kRegMax).fill_(kPeak);
      map.select(1, 4 * kRegMax).fill_(kLogitOther);
      maps.push_back(map);
    }
    for (int64_t x : {3, 2}) {
      for (int64_t side = 0; side < 4; ++side) {
        maps[0][0][side * kRegMax][3][x] = 0.0;
        maps[0][0][side * kRegMax + 2][3][x] = kPeak;
      }
    }
    maps[0][0][4 * kRegMax][3][3] = kLogitP;
    maps[0][0][4 * kRegMax][3][2] = kLogitQ;
    for (Tensor& map : maps)
      map = map.to(dtype).requires_grad_(true);
    return maps;
  }

  static Tensor targets() {
    return torch::tensor({{0.0, 0.0, 28.0 / 64, 28.0 / 64, 0.5, 0.5}}, torch::kFloat64);
  }

  // One side's bins peaked at `peak`.
  static Tensor sideLogits(int64_t peak) {
    Tensor l = torch::zeros({kRegMax}, torch::kFloat64);
    l[peak] = kPeak;
    return l;
  }

  struct Expected {
    double box, cls, dfl;
  };

  // Component losses before gains.
  static Expected expected() {
    const Box gt{12, 12, 44, 44}, q{4, 12, 36, 44};
    const double overlapP = 1, overlapQ = oracle::ciou(q, gt);  // 0.6 - 64/2624
    const double alignP = std::sqrt(oracle::sigmoid(kLogitP)) * std::pow(overlapP, 6);
    const double alignQ = std::sqrt(oracle::sigmoid(kLogitQ)) * std::pow(overlapQ, 6);
    // Normalised by the best alignment (P's) and scaled by the best IoU (P's, 1).
    const double targetP = alignP * overlapP / (alignP + 1e-9);
    const double targetQ = alignQ * overlapP / (alignP + 1e-9);
    const double normaliser = std::max(targetP + targetQ, 1.0);

    const double cls =
        (oracle::bceWithLogits(kLogitP, targetP) + oracle::bceWithLogits(kLogitQ, targetQ) +
         (kImages * kAnchors - 2) * oracle::bceWithLogits(kLogitOther, 0)) /
        normaliser;
    const double box = (targetP * (1 - overlapP) + targetQ * (1 - overlapQ)) / normaliser;
    // Target distances in cells: P (2, 2, 2, 2); Q, centre (2.5, 3.5), GT [1.5, 1.5, 5.5, 5.5]:
    // (1, 2, 3, 2). Both predict bins peaked at 2.
    const double dflP = dflOfSide(sideLogits(2), 2);
    const double dflQ = (dflOfSide(sideLogits(2), 1) + dflOfSide(sideLogits(2), 2) * 2 +
                         dflOfSide(sideLogits(2), 3)) /
                        4;
    const double dfl = (targetP * dflP + targetQ * dflQ) / normaliser;
    return {box, cls, dfl};
  }
};

// Built once: GCC 12 warns a false -Wdangling-pointer when HeadLayout's default strides are
// inlined into some tests.
const HeadLayout& oneClassLayout() {
  static const HeadLayout layout = [] {
    HeadLayout l;
    l.nc = 1;
    return l;
  }();
  return layout;
}

TEST(DetectionLoss, HandWorkedCaseMatchesEveryComponent) {
  const LossGains gains;
  const DetectionLoss loss(oneClassLayout(), gains);
  const DetectionLossResult r = loss(HandCase::levels(torch::kFloat64), HandCase::targets());
  const HandCase::Expected e = HandCase::expected();
  ASSERT_GT(e.box, 0.01);  // Q's box is off: the case exercises every term
  // CIoU's eps (1e-7 on widths, heights and the union) of 4-cell boxes leaves P's 1 - CIoU at
  // about 6e-8 instead of 0.
  EXPECT_NEAR(value(r.box) / gains.box, e.box, 2e-7);
  EXPECT_NEAR(value(r.cls), gains.cls * e.cls, 1e-8 * gains.cls * e.cls);
  EXPECT_NEAR(value(r.dfl), gains.dfl * e.dfl, 1e-6 * gains.dfl * e.dfl);
  // Ultralytics returns loss.sum() * batch size.
  EXPECT_NEAR(value(r.total), (value(r.box) + value(r.cls) + value(r.dfl)) * HandCase::kImages,
              1e-10);
  EXPECT_TRUE(r.total.requires_grad());
  EXPECT_FALSE(r.box.requires_grad() || r.cls.requires_grad() || r.dfl.requires_grad());

  // The assignment behind it: P and Q are positives of class 0, with targets as worked out.
  const Assignment a = loss.assign(HandCase::levels(torch::kFloat64), HandCase::targets());
  const int64_t p = 3 * 8 + 3, q = 3 * 8 + 2;
  EXPECT_TRUE(a.foreground[0][p].item<bool>() && a.foreground[0][q].item<bool>());
  EXPECT_FALSE(a.foreground[1].any().item<bool>());
  EXPECT_NEAR(a.scores.sum().item<double>(),
              a.scores[0][p][0].item<double>() + a.scores[0][q][0].item<double>(), 1e-12);
}

TEST(DetectionLoss, GainsScaleTheirComponentOnly) {
  const DetectionLoss plain(oneClassLayout());
  const DetectionLoss custom(oneClassLayout(), LossGains{.box = 1, .cls = 2, .dfl = 3});
  const auto levels = HandCase::levels(torch::kFloat64);
  const DetectionLossResult a = plain(levels, HandCase::targets());
  const DetectionLossResult b = custom(levels, HandCase::targets());
  EXPECT_NEAR(value(b.box), value(a.box) / 7.5, 1e-12);
  EXPECT_NEAR(value(b.cls), value(a.cls) / 0.5 * 2, 1e-10);
  EXPECT_NEAR(value(b.dfl), value(a.dfl) / 1.5 * 3, 1e-12);
}

TEST(DetectionLoss, Float32AgreesWithFloat64) {
  const DetectionLoss loss(oneClassLayout());
  const DetectionLossResult d = loss(HandCase::levels(torch::kFloat64), HandCase::targets());
  const DetectionLossResult f = loss(HandCase::levels(torch::kFloat32), HandCase::targets());
  EXPECT_EQ(f.total.scalar_type(), torch::kFloat32);
  const std::vector<std::pair<Tensor, Tensor>> components{
      {f.box, d.box}, {f.cls, d.cls}, {f.dfl, d.dfl}};
  for (const auto& [single, twice] : components)
    EXPECT_NEAR(value(single), value(twice), 1e-4 * value(twice));
}

TEST(DetectionLoss, HalfPrecisionOutputsAreScoredInFloat32) {
  const DetectionLoss loss(oneClassLayout());
  const DetectionLossResult d = loss(HandCase::levels(torch::kFloat64), HandCase::targets());
  const auto levels = HandCase::levels(torch::kBFloat16);  // the logits are exact in bfloat16
  const DetectionLossResult b = loss(levels, HandCase::targets());
  EXPECT_EQ(b.total.scalar_type(), torch::kFloat32);
  EXPECT_NEAR(value(b.total), value(d.total), 1e-4 * value(d.total));
  b.total.backward();
  EXPECT_EQ(levels[0].grad().scalar_type(), torch::kBFloat16);
  EXPECT_TRUE(levels[0].grad().isfinite().all().item<bool>());
}

TEST(DetectionLoss, NoTargetsGivesBackgroundOnlyLossWithGradients) {
  torch::manual_seed(3);
  HeadLayout layout;
  layout.nc = 3;
  const DetectionLoss loss(layout);
  std::vector<Tensor> levels;
  for (int64_t size : {8, 4, 2})
    levels.push_back(
        torch::randn({2, 4 * kRegMax + 3, size, size}, torch::kFloat64).requires_grad_(true));
  const DetectionLossResult r = loss(levels, torch::zeros({0, 6}, torch::kFloat64));
  EXPECT_EQ(value(r.box), 0.0);
  EXPECT_EQ(value(r.dfl), 0.0);

  // All targets 0, normaliser 1: cls = gain * sum -log(1 - s(x)); d total / dx = N * gain * s(x).
  double expected = 0;
  for (const Tensor& level : levels) {
    const Tensor logits = level.detach().narrow(1, 4 * kRegMax, 3).flatten();
    for (int64_t i = 0; i < logits.size(0); ++i)
      expected += oracle::bceWithLogits(logits[i].item<double>(), 0);
  }
  EXPECT_NEAR(value(r.cls), 0.5 * expected, 1e-9 * expected);
  r.total.backward();
  for (const Tensor& level : levels) {
    ASSERT_TRUE(level.grad().defined());
    EXPECT_TRUE(level.grad().isfinite().all().item<bool>());
    const Tensor logits = level.detach().narrow(1, 4 * kRegMax, 3);
    EXPECT_TRUE(torch::allclose(level.grad().narrow(1, 4 * kRegMax, 3),
                                2 * 0.5 * torch::sigmoid(logits), 1e-12, 1e-14));
    EXPECT_EQ(level.grad().narrow(1, 0, 4 * kRegMax).abs().sum().item<double>(), 0.0);
  }
}

TEST(DetectionLoss, RejectsMalformedInputs) {
  const DetectionLoss loss(oneClassLayout());
  const auto levels = HandCase::levels(torch::kFloat64);
  EXPECT_THROW(loss(levels, torch::zeros({2, 5})), std::invalid_argument);
  EXPECT_THROW(loss(levels, torch::zeros({6})), std::invalid_argument);
  EXPECT_THROW(loss({levels[0], levels[1]}, HandCase::targets()), std::invalid_argument);
  EXPECT_THROW(loss({levels[0], levels[1], levels[2].narrow(1, 0, 64)}, HandCase::targets()),
               std::invalid_argument);
  // Class 1 with one class; image 2 of a batch of two.
  EXPECT_THROW(loss(levels, torch::tensor({{0.0, 1.0, 0.5, 0.5, 0.2, 0.2}})),
               std::invalid_argument);
  EXPECT_THROW(loss(levels, torch::tensor({{2.0, 0.0, 0.5, 0.5, 0.2, 0.2}})),
               std::invalid_argument);
  HeadLayout noDfl;
  noDfl.regMax = 1;
  EXPECT_THROW(DetectionLoss{noDfl}, std::invalid_argument);
}

// A tiny float64 "model": one 1x1 convolution per level on fixed random features. Side t's
// parameters copy side l's and side b's copy side r's, so every predicted box is a square
// (t = l, b = r). With square GTs the CIoU aspect term v is 0, and so is the gradient that
// Ultralytics leaves out by holding CIoU's alpha = v / (v - IoU + 1) constant; elsewhere that
// missing term would make the true derivative differ from the loss's gradient by design.
struct TinyHead {
  static constexpr int64_t kIn = 3, kClasses = 2, kOut = 4 * kRegMax + kClasses;
  std::vector<Tensor> features, weights, biases;

  TinyHead() {
    torch::manual_seed(4);
    for (int64_t size : {8, 4, 2}) {
      features.push_back(torch::randn({2, kIn, size, size}, torch::kFloat64));
      Tensor weight = torch::randn({kOut, kIn, 1, 1}, torch::kFloat64) * 0.3;
      weight.narrow(0, kRegMax, kRegMax).copy_(weight.narrow(0, 0, kRegMax));
      weight.narrow(0, 3 * kRegMax, kRegMax).copy_(weight.narrow(0, 2 * kRegMax, kRegMax));
      weights.push_back(weight.requires_grad_());
      // Bins peaked near 2 cells, so boxes at level 0 are about the GTs' size; classes unlikely.
      Tensor bias = torch::full({kOut}, -2.0, torch::kFloat64);
      for (int64_t side = 0; side < 4; ++side)
        for (int64_t bin = 0; bin < kRegMax; ++bin)
          bias[side * kRegMax + bin] = -0.5 * static_cast<double>((bin - 2) * (bin - 2));
      biases.push_back(bias.requires_grad_());
    }
  }

  std::vector<Tensor> forward() const {
    std::vector<Tensor> levels;
    for (std::size_t l = 0; l < features.size(); ++l)
      levels.push_back(torch::conv2d(features[l], weights[l], biases[l]));
    return levels;
  }
};

TEST(DetectionLoss, GradientsMatchCentralFiniteDifferences) {
  TinyHead head;
  HeadLayout layout;
  layout.nc = TinyHead::kClasses;
  const DetectionLoss loss(layout);
  // 64 x 64 input; two overlapping square GTs in image 0, one in image 1.
  const Tensor targets = torch::tensor({{0.0, 0.0, 24.0 / 64, 22.0 / 64, 30.0 / 64, 30.0 / 64},
                                        {0.0, 1.0, 44.0 / 64, 40.0 / 64, 32.0 / 64, 32.0 / 64},
                                        {1.0, 1.0, 32.0 / 64, 32.0 / 64, 28.0 / 64, 28.0 / 64}},
                                       torch::kFloat64);
  // The assignment is held fixed: its target scores depend on the predictions, but detached.
  const Assignment assignment = loss.assign(head.forward(), targets);
  ASSERT_GE(assignment.foreground.sum().item<int64_t>(), 3);

  const DetectionLossResult r = loss(head.forward(), targets);
  ASSERT_GT(value(r.box), 0.0);
  ASSERT_GT(value(r.dfl), 0.0);
  EXPECT_NEAR(value(loss.lossFor(head.forward(), assignment).total), value(r.total), 1e-12);
  r.total.backward();

  auto totalNow = [&] {
    torch::NoGradGuard noGrad;
    return value(loss.lossFor(head.forward(), assignment).total);
  };
  const double h = 1e-6;
  int checked = 0;
  auto checkEntry = [&](const Tensor& parameter, int64_t flatIndex, const std::string& name) {
    const Tensor entry = parameter.view(-1).narrow(0, flatIndex, 1);
    const double analytic = parameter.grad().view(-1)[flatIndex].item<double>();
    double plus = 0, minus = 0;
    {
      torch::NoGradGuard noGrad;
      entry.add_(h);
      plus = totalNow();
      entry.sub_(2 * h);
      minus = totalNow();
      entry.add_(h);
    }
    const double numeric = (plus - minus) / (2 * h);
    EXPECT_LE(std::abs(numeric - analytic) / std::max(std::abs(analytic), 1e-2), 1e-5)
        << name << "[" << flatIndex << "]: analytic " << analytic << ", numeric " << numeric;
    ++checked;
  };
  for (std::size_t l = 0; l < 3; ++l) {
    const std::string level = "level " + std::to_string(l);
    // Box bins of every side, then both classes.
    for (int64_t channel : {0, 2, 5, 18, 33, 47, 50, 64, 65}) {
      checkEntry(head.biases[l], channel, level + " bias");
      checkEntry(head.weights[l], channel * TinyHead::kIn + channel % TinyHead::kIn,
                 level + " weight");
    }
  }
  EXPECT_EQ(checked, 54);
}

TEST(DetectionLoss, CudaAgreesWithCpu) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  TinyHead head;
  HeadLayout layout;
  layout.nc = TinyHead::kClasses;
  const DetectionLoss loss(layout);
  const Tensor targets = torch::tensor(
      {{0.0, 0.0, 0.4, 0.35, 0.5, 0.45}, {1.0, 1.0, 0.5, 0.5, 0.45, 0.4}}, torch::kFloat64);
  const DetectionLossResult cpu = loss(head.forward(), targets);
  std::vector<Tensor> onDevice;
  for (const Tensor& level : head.forward())
    onDevice.push_back(level.detach().to(torch::kCUDA));
  const DetectionLossResult cuda = loss(onDevice, targets);
  EXPECT_TRUE(cuda.total.is_cuda());
  EXPECT_NEAR(value(cuda.total.cpu()), value(cpu.total), 1e-9 * value(cpu.total));
  EXPECT_NEAR(value(cuda.box.cpu()), value(cpu.box), 1e-9 * (value(cpu.box) + 1));
}

}  // namespace
}  // namespace syncbn::model
